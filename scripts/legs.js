#!/usr/bin/env node
// The test legs `npm test` runs: the same suites on the oldest and on the current Node.js /
// @pulumi/pulumi / Pulumi CLI this package supports (docs/supported-versions.md).
//
//   node scripts/legs.js                      both legs (in parallel unless PULUMI_ES_REMOTE_LEGS_SERIAL=1)
//   node scripts/legs.js current              one leg
//   node scripts/legs.js current -- --grep X  extra mocha arguments for every leg run
//
// oldest:  Node.js 20 + @pulumi/pulumi 3.248.0 + CLI 3.248.0, in the repository itself (the tree
//          `npm ci` installed and `npm run build` compiled).
// current: Node.js 26 + @pulumi/pulumi 3.276.0 + CLI 3.276.0, in a copy of the repository's files
//          under the cache (node_modules kept warm between runs) installed with @pulumi/pulumi
//          pinned, compiled by its own tsc.
// Both: unit tests, the shared-pool integration suites, the core e2e cycle; each suite with clusters
// of its own on one leg (ONE_LEG below).
//
// Node.js binaries come from the npm registry (scripts/node.sh), the CLIs from the Go module proxy
// (scripts/pulumi-cli.sh), both cached by version. Each leg runs mocha with its own `node`, with
// that node and its CLI first on PATH (the language host and `npm pack` pick `node` from PATH), and
// PULUMI_VERSION set so rig/pulumi.ts uses exactly that CLI. Prints each leg's setup and test
// times and, last, one "<n> passed, <n> failed" line over all legs.
"use strict";
const { execFileSync, spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const REPO = path.resolve(__dirname, "..");
const env = (k, d) => process.env[k] || d;

const E2E_CORE = ["smoke", "stack", "package", "link"].map((n) => `dist/tests/e2e/${n}.test.js`);
// Which leg runs what. Unit tests, the integration suites on the shared cluster pool and the core
// e2e cycle run on both legs: they are what a toolchain change can break. Every suite that starts
// clusters of its own (multi-node topologies, hosts, proxies, nodes it stops, restarts or re-certifies)
// runs on ONE leg: it tests Elasticsearch behaviour through the same provider code on either leg,
// and running it twice would only double the machine's work. They are shared out so that the legs,
// which run side by side, take about as long as each other; the API-key model (what Elasticsearch 9
// recommends) and the CLI fault suites go to the current toolchain, the one users install today.
const ONE_LEG = {
    // The suites on the pooled separate-host clusters (tests/support/remoteHosts.ts: 3 + 3 isolated
    // nodes, each with its own filesystem and sshd) share one leg, so the six nodes start once.
    oldest: [
        "integration/topology", "integration/remoteHosts", "e2e/remoteHosts",
        "integration/certificates", "integration/faults",
        "e2e/examples", "e2e/load", "e2e/topology-drift", "integration/signing",
    ],
    current: [
        "integration/rig-topology", "integration/rig-isolation", "integration/apiKey",
        // Shares the pooled API-key clusters (ak9local, ak9remote, ak819local) with integration/apiKey.
        "integration/remoteClusterPrivileges",
        "e2e/apiKey", "e2e/faults", "e2e/topology-partition",
        // Shares the pooled API-key clusters (ak9remote, ak9local, ak819local) with integration/apiKey.
        "integration/replication", "e2e/replication",
    ],
};
const spec = (s) => `dist/tests/${s}.test.js`;
const ignore = (leg) => ONE_LEG[leg === "oldest" ? "current" : "oldest"].flatMap((s) => ["--ignore", spec(s)]);
const LEGS = {
    oldest: {
        node: env("PULUMI_ES_REMOTE_OLDEST_NODE", "20.20.2"),
        pulumi: env("PULUMI_ES_REMOTE_OLDEST_PULUMI", "3.248.0"),
        inPlace: true,
        specs: ["dist/tests/unit/**/*.test.js", "dist/tests/integration/**/*.test.js", "dist/tests/e2e/**/*.test.js", ...ignore("oldest")],
    },
    current: {
        // 26: the Active LTS line today (since October 2026), what a user installing Node.js now
        // gets; 22 and 24 (maintenance LTS) lie between the legs. Override with
        // PULUMI_ES_REMOTE_CURRENT_NODE to try another release (e.g. 24.22.3, 22.23.5).
        node: env("PULUMI_ES_REMOTE_CURRENT_NODE", "26.12.1"),
        pulumi: env("PULUMI_ES_REMOTE_CURRENT_PULUMI", "3.276.0"),
        inPlace: false,
        specs: ["dist/tests/unit/**/*.test.js", "dist/tests/integration/**/*.test.js", ...E2E_CORE, ...ONE_LEG.current.filter((s) => s.startsWith("e2e/")).map(spec), ...ignore("current")],
    },
};

function cacheRoot() {
    if (process.env.PULUMI_ES_REMOTE_CACHE) return path.resolve(process.env.PULUMI_ES_REMOTE_CACHE);
    if (process.getuid && process.getuid() === 0) return "/var/cache/pulumi-es-remote";
    return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "pulumi-es-remote");
}

const secs = (t0) => ((Date.now() - t0) / 1000).toFixed(1);

/** Runs a command, streaming its output with a `[leg]` prefix on each line; resolves with the exit code and the output. */
function run(leg, cmd, args, opts) {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        const prefix = (stream) => {
            let partial = "";
            return (d) => {
                output += d;
                const lines = (partial + d).split("\n");
                partial = lines.pop();
                for (const l of lines) stream.write(`[${leg}] ${l}\n`);
            };
        };
        child.stdout.on("data", prefix(process.stdout));
        child.stderr.on("data", prefix(process.stderr));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code === null ? 1 : code, output }));
    });
}

async function must(leg, cmd, args, opts) {
    const r = await run(leg, cmd, args, opts);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${r.code}`);
    return r;
}

/** Files of the checkout: tracked plus untracked-but-not-ignored (git), else everything but build output. */
function checkoutFiles() {
    try {
        const out = execFileSync("git", ["-C", REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
        return [...new Set(out.split("\0").filter(Boolean))].filter((f) => fs.existsSync(path.join(REPO, f)));
    } catch {
        const skip = new Set(["node_modules", "dist", ".git", ".rig", ".pulumi-home"]);
        const out = [];
        const walk = (rel) => {
            for (const e of fs.readdirSync(path.join(REPO, rel), { withFileTypes: true })) {
                const r = path.join(rel, e.name);
                if (skip.has(e.name) || e.name.endsWith(".tgz")) continue;
                if (e.isDirectory()) walk(r);
                else out.push(r);
            }
        };
        walk("");
        return out;
    }
}

/** Copies the checkout into `dir`, keeping only `dir/node_modules` from the previous run. */
function copyCheckout(dir) {
    fs.mkdirSync(dir, { recursive: true });
    for (const e of fs.readdirSync(dir)) {
        if (e !== "node_modules") fs.rmSync(path.join(dir, e), { recursive: true, force: true });
    }
    for (const f of checkoutFiles()) {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
    }
}

/** Holds `<dir>.lock` (a PID file) for the life of this process; waits for a live holder. */
async function lock(dir) {
    const file = `${dir}.lock`;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    for (;;) {
        try {
            fs.writeFileSync(file, String(process.pid), { flag: "wx" });
            process.on("exit", () => fs.rmSync(file, { force: true }));
            return;
        } catch {
            const pid = Number(fs.readFileSync(file, "utf8"));
            let alive = false;
            try { process.kill(pid, 0); alive = pid > 0; } catch { /* gone */ }
            if (!alive) fs.rmSync(file, { force: true });
            else await new Promise((r) => setTimeout(r, 2000));
        }
    }
}

async function runLeg(name, mochaArgs) {
    const leg = LEGS[name];
    const t0 = Date.now();
    const nodeBin = execFileSync("bash", [path.join(REPO, "scripts", "node.sh"), leg.node], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop();
    const cliBin = execFileSync("bash", [path.join(REPO, "scripts", "pulumi-cli.sh")], {
        encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, PULUMI_VERSION: leg.pulumi },
    }).trim().split("\n").pop();
    const legEnv = {
        ...process.env,
        PATH: [nodeBin, cliBin, process.env.PATH].join(path.delimiter),
        PULUMI_VERSION: leg.pulumi,
        PULUMI_ES_REMOTE_LEG: name,
        PULUMI_ES_REMOTE_LEG_NODE: leg.node,
        PULUMI_ES_REMOTE_LEG_PULUMI: leg.pulumi,
        // Each leg's clusters in their own folder (legs may run at the same time).
        PULUMI_ES_REMOTE_RUN: path.join(process.env.PULUMI_ES_REMOTE_RUN || path.join(os.tmpdir(), "pulumi-es-remote-rig"), name),
    };
    let dir = REPO;
    if (!leg.inPlace) {
        dir = path.join(cacheRoot(), "legs", name);
        await lock(dir);
        copyCheckout(dir);
        // Install with @pulumi/pulumi pinned to the leg's release (starting from the repository's
        // lock for everything else), then put the real package.json back: `npm pack` in the
        // package test must ship the range users get, not the pin.
        const pkgFile = path.join(dir, "package.json");
        const original = fs.readFileSync(pkgFile, "utf8");
        const pinned = JSON.parse(original);
        pinned.dependencies["@pulumi/pulumi"] = leg.pulumi;
        pinned.overrides = { ...(pinned.overrides || {}), "@pulumi/pulumi": leg.pulumi };
        fs.writeFileSync(pkgFile, JSON.stringify(pinned, null, 2));
        try {
            await must(name, "npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], { cwd: dir, env: legEnv });
        } finally {
            fs.writeFileSync(pkgFile, original);
        }
        await must(name, path.join(nodeBin, "node"), [path.join(dir, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: dir, env: legEnv });
    }
    const sdk = JSON.parse(fs.readFileSync(path.join(dir, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")).version;
    if (sdk !== leg.pulumi) throw new Error(`leg ${name}: node_modules holds @pulumi/pulumi ${sdk}, not ${leg.pulumi}`);
    const setup = secs(t0);
    console.log(`[${name}] setup ${setup}s: Node.js ${leg.node}, @pulumi/pulumi ${sdk}, Pulumi CLI ${leg.pulumi} (${cliBin}), in ${dir}`);

    const t1 = Date.now();
    const r = await run(name, path.join(nodeBin, "node"), [path.join(dir, "node_modules", "mocha", "bin", "mocha.js"), ...leg.specs, ...mochaArgs], { cwd: dir, env: legEnv });
    const count = (re) => Number((r.output.match(re) || [])[1] || 0);
    return {
        name, node: leg.node, sdk, cli: leg.pulumi, code: r.code, setup, tests: secs(t1),
        passed: count(/^\s*(\d+) passing/m), failed: count(/^\s*(\d+) failing/m), pending: count(/^\s*(\d+) pending/m),
    };
}

async function main() {
    const dash = process.argv.indexOf("--");
    const names = (dash < 0 ? process.argv.slice(2) : process.argv.slice(2, dash));
    const mochaArgs = dash < 0 ? [] : process.argv.slice(dash + 1);
    const chosen = names.length ? names : Object.keys(LEGS);
    for (const n of chosen) if (!LEGS[n]) throw new Error(`unknown leg "${n}" (legs: ${Object.keys(LEGS).join(", ")})`);
    const t0 = Date.now();
    const serial = process.env.PULUMI_ES_REMOTE_LEGS_SERIAL === "1";
    const settle = (n) => runLeg(n, mochaArgs).catch((e) => ({ name: n, code: 1, error: e.message, passed: 0, failed: 1, pending: 0 }));
    const results = [];
    if (serial) for (const n of chosen) results.push(await settle(n));
    else results.push(...(await Promise.all(chosen.map(settle))));

    console.log(`\nlegs (${chosen.length < 2 ? "one leg" : serial ? "one after the other" : "in parallel"}, ${secs(t0)}s in all):`);
    for (const r of results) {
        console.log(r.error
            ? `  ${r.name}: FAILED before its tests: ${r.error}`
            : `  ${r.name}: Node.js ${r.node}, @pulumi/pulumi ${r.sdk}, CLI ${r.cli}: setup ${r.setup}s, tests ${r.tests}s, ${r.passed} passing, ${r.failed} failing, ${r.pending} pending, exit ${r.code}`);
    }
    const sum = (k) => results.reduce((a, r) => a + r[k], 0);
    console.log(`legs: ${sum("passed")} passed, ${sum("failed")} failed, ${sum("pending")} skipped`);
    process.exitCode = results.every((r) => r.code === 0) ? 0 : 1;
}

main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
});
