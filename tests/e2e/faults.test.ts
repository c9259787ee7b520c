/**
 * Faults and security through the real Pulumi CLI, on this suite's OWN two 9.x clusters (it stops
 * and restarts them; they are stopped by PID in `after`):
 *
 * - the local cluster stops in the middle of `pulumi up` (a chain of links): a clear error naming
 *   the cluster; the exported state claims nothing that is not on the cluster and the cluster holds
 *   nothing the state does not know; after the restart `pulumi up` converges by itself;
 * - the remote is down at create with skipUnavailable and waitForConnection off: created, and the
 *   CLI says it is not connected yet;
 * - an interrupted `destroy` — the CLI hard-interrupted (^C ^C) or killed (SIGKILL), the cluster
 *   stopped — is finished by running `destroy` again (after SIGKILL, Pulumi's own stack lock needs
 *   `pulumi cancel` first: Pulumi's behaviour, shown here and noted in the report);
 * - a secrets audit of a full up/preview/refresh/destroy cycle at `-v=9 --logflow --logtostderr`;
 *   key files 0600; insecure connections warn on every run.
 *
 * To hold deletes long enough to interrupt them, a TEST DOUBLE (tests/support/flakyProxy.ts) sits
 * between the provider and the real local cluster and delays the delete writes; everything else
 * passes through to the real node.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { generateCa, IssuedCa } from "../../provider/certs/pem";
import { ClusterInfo, descendants, ES_VERSIONS, startCluster } from "../../rig/elasticsearch";
import { pulumi, pulumiBinDir, RunResult, runPulumi } from "../../rig/pulumi";
import { connectionTo, remoteKeys, withClient } from "../support/connections";
import { Double, startDouble } from "../support/flakyProxy";
import { HaltablePair, waitFor } from "../support/haltable";
import { tempProject, TempProject } from "../support/project";

const figures: string[] = [];
function figure(line: string): void {
    figures.push(line);
    process.stderr.write(`[e2e-faults] ${line}\n`);
}

/** Aliases of every remote cluster on `c` (from its persistent settings). */
async function aliasesOn(c: ClusterInfo, prefix: string): Promise<string[]> {
    return [...new Set(Object.keys(await remoteKeys(c)).map((k) => k.split(".")[2]))].filter((a) => a.startsWith(`${prefix}_`)).sort();
}

interface StateLink {
    alias: string;
    initErrors?: string[];
}

/** The RemoteClusterLinks the exported state claims. */
async function linksInState(p: TempProject): Promise<StateLink[]> {
    const exported = JSON.parse((await pulumi(p.ws, ["stack", "export"])).stdout);
    return (exported.deployment.resources ?? [])
        .filter((r: any) => String(r.urn).includes("RemoteClusterLink"))
        .map((r: any) => ({ alias: r.outputs?.alias ?? r.inputs?.alias, initErrors: r.initErrors }))
        .sort((a: StateLink, b: StateLink) => a.alias.localeCompare(b.alias));
}

/** Starts `pulumi <args>` without waiting; `done` resolves with its result. */
function startPulumi(p: TempProject, args: string[]): { child: ChildProcess; done: Promise<RunResult> } {
    const child = spawn(path.join(pulumiBinDir(), "pulumi"), [...args, "--non-interactive", "--color", "never"], { cwd: p.ws.projectDir, env: p.ws.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout!.on("data", (d) => { stdout += d; output += d; });
    child.stderr!.on("data", (d) => { stderr += d; output += d; });
    const done = new Promise<RunResult>((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, output })));
    return { child, done };
}


/** The lines of the CLI output that are errors, for messages and the report. */
function errorLines(out: string): string {
    const lines = out.split("\n");
    const from = Math.max(0, lines.findIndex((l) => /^Diagnostics:/.test(l)));
    const shown: string[] = [];
    for (let i = from; i < lines.length; i++) {
        if (/^\s*error:/.test(lines[i]) || (shown.length && /^\s*\*/.test(lines[i]) && /error/.test(lines[i - 1]))) shown.push(lines[i].trim());
    }
    return shown.slice(0, 8).join("\n");
}

const CHAIN = `
const pulumi = require("@pulumi/pulumi");
const { RemoteClusterLink } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const local = cfg.requireSecretObject("local");
const remote = cfg.getSecretObject("remote");
let prev;
for (let i = 0; i < Number(cfg.require("count")); i++) {
    // A chain (each link waits for the previous one), so the cluster can be stopped in the middle.
    prev = new RemoteClusterLink("chain-" + i, {
        local, remote, alias: cfg.require("prefix") + "_" + i, seeds: [cfg.require("seed")],
        skipUnavailable: i % 2 === 0, nodeConnections: 1 + (i % 3), connectionTimeoutSeconds: 30,
        waitForConnection: cfg.getBoolean("wait") ?? true,
    }, prev ? { dependsOn: [prev] } : undefined);
}
exports.aliases = Number(cfg.require("count"));
`;

describe("e2e: faults and security with the real Pulumi CLI (own clusters)", function () {
    this.timeout(30 * 60 * 1000);
    let ca: IssuedCa;
    let pair: HaltablePair;
    const halt = (which: "local" | "remote") => pair.halt(which);
    const restart = (which: "local" | "remote") => pair.restart(which);
    const projects: TempProject[] = [];

    async function configure(p: TempProject, extra: Record<string, string> = {}, opts: { remote?: boolean; localConn?: object } = {}): Promise<void> {
        await pulumi(p.ws, ["config", "set", "--secret", "local", JSON.stringify(opts.localConn ?? connectionTo(pair.local))]);
        if (opts.remote !== false) await pulumi(p.ws, ["config", "set", "--secret", "remote", JSON.stringify(connectionTo(pair.remote))]);
        await pulumi(p.ws, ["config", "set", "seed", pair.remote.transportAddress]);
        for (const [k, v] of Object.entries(extra)) await pulumi(p.ws, ["config", "set", k, v]);
    }

    before(async function () {
        ca = await generateCa({ commonName: "e2e faults transport CA" });
        const t0 = Date.now();
        const [local, remote] = await Promise.all([
            startCluster({ name: "e-local", version: ES_VERSIONS.v9, transportCa: ca, heapMb: 512 }),
            startCluster({ name: "e-remote", version: ES_VERSIONS.v9, transportCa: ca, heapMb: 512 }),
        ]);
        pair = new HaltablePair({ local, remote });
        figure(`two clusters (${ES_VERSIONS.v9}) started in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    });
    after(async function () {
        this.timeout(180000);
        await pair?.stopAll();
        projects.forEach((p) => p.remove());
        process.stderr.write(`[e2e-faults] summary:\n${figures.map((f) => `  - ${f}`).join("\n")}\n`);
    });

    it("the local cluster stops in the middle of `pulumi up`: clear error, honest state, and the next up converges", async () => {
        const count = 6;
        const p = await tempProject("e2e-fault-up", CHAIN);
        projects.push(p);
        await configure(p, { count: String(count), prefix: "up" });
        const t0 = Date.now();
        const run = startPulumi(p, ["up", "--yes"]);
        let finished = false;
        run.done.then(() => { finished = true; });
        await waitFor("the second link of the chain to be written", 5 * 60 * 1000, async () => (await aliasesOn(pair.local, "up")).includes("up_1"));
        assert.ok(!finished, "the up must still be running when the cluster stops");
        const haltAfter = (Date.now() - t0) / 1000;
        const haltTook = await halt("local");
        const res = await run.done;
        figure(`up of a ${count}-link chain: local cluster halted ${haltAfter.toFixed(1)} s into the up (halt took ${haltTook.toFixed(1)} s); the CLI exited ${res.code} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        figure(`its errors:\n${errorLines(res.output).replace(/^/gm, "      ")}`);
        assert.notStrictEqual(res.code, 0);
        assert.ok(res.output.includes(`local cluster (${pair.local.url})`), `the error names the local cluster:\n${res.output.slice(-3000)}`);
        assert.ok(!res.output.includes(pair.local.password), "no password in the output");

        const claimed = await linksInState(p);
        figure(`state after the fault: ${claimed.map((l) => `${l.alias}${l.initErrors ? " (unfinished)" : ""}`).join(", ") || "no links"}`);
        figure(`local cluster restarted in ${(await restart("local")).toFixed(1)} s`);
        const onCluster = await aliasesOn(pair.local, "up");
        figure(`aliases on the cluster after the restart: ${onCluster.join(", ") || "none"}`);
        for (const l of claimed) {
            // A link whose write went out just as the node stopped may or may not have been applied:
            // the state records it as unfinished (initErrors), not as existing, and the next up
            // writes it in full.
            if (!l.initErrors) assert.ok(onCluster.includes(l.alias), `the state claims ${l.alias} as created, and it is not on the cluster`);
        }
        for (const a of onCluster) {
            assert.ok(claimed.some((l) => l.alias === a), `${a} is on the cluster but not in the state (left behind)`);
        }

        const t1 = Date.now();
        const again = await runPulumi(p.ws, ["up", "--yes"]);
        figure(`the next up (no manual repair) exited ${again.code} after ${((Date.now() - t1) / 1000).toFixed(1)} s`);
        assert.strictEqual(again.code, 0, again.output.slice(-4000));
        assert.deepStrictEqual(await aliasesOn(pair.local, "up"), Array.from({ length: count }, (_, i) => `up_${i}`));
        for (let i = 0; i < count; i++) {
            assert.deepStrictEqual(await remoteKeys(pair.local, `up_${i}`), {
                [`cluster.remote.up_${i}.mode`]: "sniff",
                [`cluster.remote.up_${i}.seeds`]: [pair.remote.transportAddress],
                [`cluster.remote.up_${i}.node_connections`]: String(1 + (i % 3)),
                [`cluster.remote.up_${i}.skip_unavailable`]: String(i % 2 === 0),
            });
        }
        assert.deepStrictEqual((await linksInState(p)).filter((l) => l.initErrors), [], "nothing left unfinished");
        const pre = await runPulumi(p.ws, ["preview", "--expect-no-changes"]);
        assert.strictEqual(pre.code, 0, pre.output.slice(-3000));

        // The local cluster stopped at destroy: a clear error, nothing dropped from the state; once
        // it is back, destroy again finishes.
        figure(`local cluster halted for destroy in ${(await halt("local")).toFixed(1)} s`);
        const t2 = Date.now();
        const failed = await runPulumi(p.ws, ["destroy", "--yes"]);
        figure(`destroy with the local cluster down exited ${failed.code} after ${((Date.now() - t2) / 1000).toFixed(1)} s: ${errorLines(failed.output).split("\n")[0]}`);
        assert.notStrictEqual(failed.code, 0);
        assert.ok(failed.output.includes(`local cluster (${pair.local.url}) could not be reached`), failed.output.slice(-3000));
        // Pulumi's dynamic provider host prints `${err}: ${err.stack}` for a failed delete (and
        // read, check, diff): the error must read as a report, not as a crash.
        assert.ok(!/^\s+at .*\(.*:\d+:\d+\)$/m.test(failed.output), `a stack trace in the output:\n${failed.output.slice(-3000)}`);
        assert.strictEqual((await linksInState(p)).length, count, "the state still holds every link it could not delete");
        await restart("local");
        const done = await runPulumi(p.ws, ["destroy", "--yes"]);
        assert.strictEqual(done.code, 0, done.output.slice(-3000));
        assert.deepStrictEqual(await aliasesOn(pair.local, "up"), []);
        assert.deepStrictEqual(await linksInState(p), []);
    });

    it("remote down at create, skipUnavailable and waitForConnection off: created, and the CLI says it is not connected yet", async () => {
        const p = await tempProject("e2e-fault-remote-down", CHAIN);
        projects.push(p);
        await configure(p, { count: "1", wait: "false", prefix: "down" }, { remote: false });
        figure(`remote halted in ${(await halt("remote")).toFixed(1)} s`);
        try {
            const res = await runPulumi(p.ws, ["up", "--yes"]);
            assert.strictEqual(res.code, 0, res.output.slice(-3000));
            assert.match(res.output, /remote cluster 'down_0' is registered but not connected yet \(waitForConnection: false\)/);
            assert.deepStrictEqual(await aliasesOn(pair.local, "down"), ["down_0"]);
            const exported = JSON.parse((await pulumi(p.ws, ["stack", "export"])).stdout);
            const linkState = exported.deployment.resources.find((r: any) => String(r.urn).includes("RemoteClusterLink"));
            assert.strictEqual(linkState.outputs.connected, false);
        } finally {
            await restart("remote");
        }
        assert.strictEqual((await runPulumi(p.ws, ["destroy", "--yes"])).code, 0);
        assert.deepStrictEqual(await aliasesOn(pair.local, "down"), []);
    });

    describe("an interrupted destroy is finished by running destroy again", () => {
        // The TEST DOUBLE in front of the real local cluster holds the delete writes (PUTs of null
        // settings) so the CLI can be interrupted while they are in flight.
        let proxy: Double;
        before(async () => {
            proxy = await startDouble({ upstream: { url: pair.local.url, caPem: fs.readFileSync(pair.local.httpCaFile, "utf8") } });
        });
        after(async () => proxy.close());
        const isDeleteWrite = (r: { method: string; path: string; body: string }) => r.method === "PUT" && r.path.startsWith("/_cluster/settings") && /:null/.test(r.body.replace(/\s/g, ""));

        for (const how of ["^C ^C (terminate now)", "SIGKILL"] as const) {
            it(`interrupted with ${how}`, async () => {
                const count = 4;
                const p = await tempProject(`e2e-fault-destroy-${how === "SIGKILL" ? "kill" : "int"}`, CHAIN.replace(/dependsOn: \[prev\]/, "dependsOn: []"));
                projects.push(p);
                const viaProxy = { ...connectionTo(pair.local), urls: [proxy.url], caPem: proxy.caPem };
                const prefix = how === "SIGKILL" ? "dkill" : "dint";
                await configure(p, { count: String(count), prefix }, { remote: false, localConn: viaProxy });
                assert.strictEqual((await runPulumi(p.ws, ["up", "--yes"])).code, 0);
                assert.strictEqual((await aliasesOn(pair.local, prefix)).length, count);

                proxy.script.push({ when: isDeleteWrite, times: 1000, reply: { delayMs: 20000 } });
                const run = startPulumi(p, ["destroy", "--yes"]);
                await waitFor("a delete write in flight", 120000, async () => proxy.requests.some(isDeleteWrite));
                const plugins = descendants(run.child.pid!);
                if (how === "SIGKILL") {
                    run.child.kill("SIGKILL");
                } else {
                    run.child.kill("SIGINT");
                    await new Promise((r) => setTimeout(r, 300));
                    run.child.kill("SIGINT");
                }
                const res = await run.done;
                // The CLI's plugins (the dynamic provider) are this test's processes too: stop them by PID.
                for (const pid of plugins) {
                    try { process.kill(pid, "SIGKILL"); } catch { /* already gone */ }
                }
                proxy.script.length = 0;
                const left = await linksInState(p);
                figure(`destroy interrupted with ${how}: CLI exit ${res.code}; the state still holds ${left.length}/${count} links; ${(await aliasesOn(pair.local, prefix)).length} aliases on the cluster`);
                assert.ok(left.length > 0, "the destroy really was interrupted");

                let again = await runPulumi(p.ws, ["destroy", "--yes"]);
                if (how === "SIGKILL" && again.code !== 0 && /the stack is currently locked/.test(again.output)) {
                    // Pulumi's own lock on the stack can outlive a killed CLI (diy backend): the second
                    // destroy says so and names `pulumi cancel`, which removes it. Pulumi's behaviour,
                    // not this package's; seen in some runs, not all.
                    assert.match(again.output, /pulumi cancel/);
                    figure("after SIGKILL the stack was still locked by Pulumi: `pulumi cancel`, then destroy finished");
                    assert.strictEqual((await runPulumi(p.ws, ["cancel", "--yes"])).code, 0);
                    again = await runPulumi(p.ws, ["destroy", "--yes"]);
                } else if (how === "SIGKILL") {
                    figure("after SIGKILL the second destroy ran at once (no stale lock this time)");
                }
                assert.strictEqual(again.code, 0, again.output.slice(-3000));
                assert.deepStrictEqual(await linksInState(p), []);
                assert.deepStrictEqual(await aliasesOn(pair.local, prefix), []);
            });
        }
    });

    it("secrets audit over up/preview/refresh/destroy at -v=9; key files 0600; insecure warns on every run", async () => {
        const certDir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-secrets-certs-"));
        try {
            const apiKey = await withClient(pair.local, (c) => c.security.createApiKey({ name: "e2e-secrets-audit", expiration: "1h" }));
            const program = `
const pulumi = require("@pulumi/pulumi");
const { SharedCa, NodeCertificate, RemoteClusterLink, CrossClusterRole, CrossClusterUser } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const local = cfg.requireSecretObject("local");
const remote = cfg.requireSecretObject("remote");
const localByKey = cfg.requireSecretObject("localByKey");
const insecureLocal = cfg.requireSecretObject("insecureLocal");
const ca = new SharedCa("audit-ca", { commonName: "audit CA" });
const cert = new NodeCertificate("audit-node", { caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: "audit-node", dnsNames: ["localhost"], delivery: { directory: cfg.require("certDir") } });
new RemoteClusterLink("audit-link", { local, remote, alias: "audit_pw", seeds: [cfg.require("seed")] });
new RemoteClusterLink("audit-link-key", { local: localByKey, alias: "audit_key", seeds: [cfg.require("seed")] });
new RemoteClusterLink("audit-link-insecure", { local: insecureLocal, alias: "audit_insecure", seeds: [cfg.require("seed")] });
const role = new CrossClusterRole("audit-role", { local, remote, name: "audit_reader", preset: "search", indices: ["audit-*"] });
const user = new CrossClusterUser("audit-user", { local, username: "audit_analyst", roles: [role.name] });
exports.caKey = ca.keyPem;
exports.nodeKey = cert.keyPem;
exports.userPassword = user.password;
`;
            const p = await tempProject("e2e-secrets", program);
            projects.push(p);
            await configure(p, { certDir });
            await pulumi(p.ws, ["config", "set", "--secret", "localByKey", JSON.stringify({ urls: [pair.local.url], apiKey: apiKey.encoded, caPem: fs.readFileSync(pair.local.httpCaFile, "utf8") })]);
            await pulumi(p.ws, ["config", "set", "--secret", "insecureLocal", JSON.stringify({ urls: [pair.local.url], username: pair.local.username, password: pair.local.password, insecure: true })]);

            const verbose = ["--logflow", "-v=9", "--logtostderr"];
            const transcript: Array<[string, RunResult]> = [];
            for (const args of [["up", "--yes"], ["preview"], ["refresh", "--yes"], ["up", "--yes"]]) {
                const r = await runPulumi(p.ws, [...args, ...verbose]);
                assert.strictEqual(r.code, 0, `${args.join(" ")}: ${r.stdout.slice(-3000)}`);
                transcript.push([args.join(" "), r]);
            }
            // Insecure warns every run that checks inputs (up and preview; refresh does not check).
            for (const [cmd, r] of transcript.filter(([c]) => c !== "refresh --yes")) {
                assert.match(r.stdout, /local\.insecure is set: the cluster's HTTP certificate is NOT verified/, `${cmd} did not warn`);
            }
            const keyFile = path.join(certDir, "transport.key");
            assert.strictEqual(fs.statSync(keyFile).mode & 0o777, 0o600);
            assert.strictEqual(fs.statSync(path.join(certDir, "transport.crt")).mode & 0o777, 0o644);

            // What must never appear: the test reads the secrets itself (--show-secrets), then searches.
            const outs = JSON.parse((await pulumi(p.ws, ["stack", "output", "--json", "--show-secrets"])).stdout);
            const exported = (await pulumi(p.ws, ["stack", "export"])).stdout;
            const destroy = await runPulumi(p.ws, ["destroy", "--yes", ...verbose]);
            assert.strictEqual(destroy.code, 0, destroy.stdout.slice(-3000));
            transcript.push(["destroy --yes", destroy]);
            assert.ok(!fs.existsSync(keyFile), "destroy removed the key file");

            const keyBody = (pem: string) => pem.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
            const secrets: Array<[string, string]> = [
                ["the elastic password", pair.local.password],
                ["the API key (encoded)", apiKey.encoded],
                ["the API key (secret part)", apiKey.api_key],
                ["the generated user password", outs.userPassword],
                ["the CA private key (first line)", keyBody(outs.caKey).slice(0, 64)],
                ["the node private key (first line)", keyBody(outs.nodeKey).slice(0, 64)],
            ];
            const texts: Array<[string, string]> = [
                ["stack export", exported],
                ...transcript.map(([cmd, r]) => [`pulumi ${cmd} (stdout)`, r.stdout] as [string, string]),
                ...transcript.map(([cmd, r]) => [`pulumi ${cmd} (stderr, -v=9 logs)`, r.stderr] as [string, string]),
            ];
            // At -v=9 Pulumi's engine and SDK trace their own internals with secrets decrypted (RPC
            // properties, planner decisions, debug events; Pulumi's docs warn that verbose logs hold
            // secrets). Those records are Pulumi's, not this package's: they are counted and
            // reported. What this package says — its diagnostics (eventSink Info/Warning/Error, i.e.
            // pulumi.log from the hooks) and anything its plugin prints — must be clean, as must the
            // CLI's normal output and the exported state.
            const mask = (line: string) => secrets.reduce((l, [what, sec]) => l.split(sec).join(`<${what}>`), line)
                .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, "<PEM key>");
            const pulumiTrace = (line: string): string | undefined => {
                if (!line.startsWith("{")) return undefined;
                let msg: string;
                try {
                    msg = String(JSON.parse(line).msg ?? "");
                } catch {
                    return undefined;
                }
                if (/^eventSink::(Info|Infoerr|Warning|Error)\(/.test(msg)) return undefined;
                return mask(msg.replace(/^(eventSink::Debug)\([\s\S]*$/, "$1").replace(/[(\[:'][\s\S]*$/, "").trim()).slice(0, 60) || "?";
            };
            const leaks: string[] = [];
            const traced = new Map<string, number>();
            let bytes = 0;
            let lines = 0;
            for (const [where, text] of texts) {
                bytes += text.length;
                for (const line of text.split("\n")) {
                    lines++;
                    const found = secrets.filter(([, sec]) => line.includes(sec)).map(([what]) => what);
                    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(line)) found.push("a PEM private key");
                    if (!found.length) continue;
                    const kind = where.includes("-v=9") ? pulumiTrace(line) : undefined;
                    if (kind !== undefined) {
                        traced.set(kind, (traced.get(kind) ?? 0) + 1);
                        continue;
                    }
                    leaks.push(`${where}: ${found.join(", ")} in: ${mask(line).slice(0, 300)}`);
                }
            }
            figure(`secrets audit: ${secrets.length} secrets searched in ${texts.length} texts (${lines} lines, ${(bytes / 1e6).toFixed(1)} MB: stack export, CLI output, -v=9 --logflow logs): ` +
                `${leaks.length} in this package's diagnostics, the CLI's output or the state; Pulumi's own -v=9 tracing printed them in ${[...traced.values()].reduce((a, b) => a + b, 0)} records ` +
                `(${[...traced].sort((a, b) => b[1] - a[1]).map(([k, n]) => `"${k}" ×${n}`).join(", ")})`);
            assert.deepStrictEqual(leaks, []);
        } finally {
            fs.rmSync(certDir, { recursive: true, force: true });
        }
    });
});
