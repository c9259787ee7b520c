/**
 * `npm run bench [-- <benchmark ...>] [--runs N] [--sizes 3,4] [--out file.md]`: the benchmarks of
 * issue #8, printed as figures (markdown on stdout, progress on stderr), never as pass/fail.
 *
 *   certs        100 node certificates in-process vs the openssl CLI (no clusters)
 *   api          API calls per hook and operation, through the real CLI (2 clusters)
 *   unreachable  time to a clear error when a cluster does not answer, every hook (+1 cluster)
 *   mesh         full mesh of 3 and 4 clusters vs a plain script, with peak memory, and a refresh
 *                with one cluster stopped
 *   nodecerts    a stack of N NodeCertificates (generated, not delivered) vs N no-op resources (no clusters)
 *   delivery     a node certificate onto each of N isolated hosts over SSH: pulumi (ssh2) vs a bash
 *                loop of scp + ssh sudo install vs ansible's copy module (no clusters; root)
 *
 * `--baseline DIR`: also run the mesh with the package as built in DIR (a checkout of an earlier
 * commit with its own node_modules, `npm ci && npm run build` done there), one after the other in
 * each run against the same clusters: before/after figures side by side.
 *
 * Default: all of them, 3 runs each. Clusters are started once for the benchmarks that need them
 * and stopped by PID at the end; every temporary folder is removed, also on failure or Ctrl-C.
 */
import * as fs from "fs";
import { benchApiCalls } from "./apiCalls";
import { benchCerts } from "./certs";
import { BenchClusters, startBenchClusters } from "./clusters";
import { benchMesh, Variant } from "./mesh";
import { benchNodeCerts } from "./nodeCerts";
import { benchDelivery, MAX_HOSTS } from "./remoteDelivery";
import * as path from "path";
import { execFileSync } from "child_process";
import { repoRoot } from "../rig/paths";
import { Cleanup, loadavg, machineReport, progress } from "./support";
import { benchUnreachable } from "./unreachable";

const ALL = ["certs", "api", "unreachable", "mesh", "nodecerts", "delivery"] as const;
/** Benchmarks that need no cluster. */
const NO_CLUSTERS: readonly string[] = ["certs", "nodecerts", "delivery"];
type Bench = (typeof ALL)[number];

interface Options {
    benches: Bench[];
    runs: number;
    sizes: number[];
    counts: number[];
    /** Host counts of the delivery benchmark. */
    hosts: number[];
    baseline?: string;
    out?: string;
}

function parse(argv: string[]): Options {
    const o: Options = { benches: [], runs: 3, sizes: [3, 4], counts: [25, 100], hosts: [6, 12] };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--runs") o.runs = Number(argv[++i]);
        else if (a === "--sizes") o.sizes = argv[++i].split(",").map(Number);
        else if (a === "--out") o.out = argv[++i];
        else if (a === "--counts") o.counts = argv[++i].split(",").map(Number);
        else if (a === "--hosts") o.hosts = argv[++i].split(",").map(Number);
        else if (a === "--baseline") o.baseline = path.resolve(argv[++i]);
        else if ((ALL as readonly string[]).includes(a)) o.benches.push(a as Bench);
        else throw new Error(`unknown argument '${a}'; usage: npm run bench -- [${ALL.join("|")} ...] [--runs N] [--sizes 3,4] [--counts 25,100] [--hosts 6,12] [--baseline DIR] [--out file.md]`);
    }
    if (!o.benches.length) o.benches = [...ALL];
    if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error("--runs must be a whole number ≥ 1");
    if (!o.sizes.every((n) => Number.isInteger(n) && n >= 2 && n <= 8)) throw new Error("--sizes: cluster counts from 2 to 8, e.g. 3,4");
    if (!o.hosts.length || !o.hosts.every((n) => Number.isInteger(n) && n >= 1 && n <= MAX_HOSTS)) throw new Error(`--hosts: host counts from 1 to ${MAX_HOSTS}, e.g. 6,12`);
    return o;
}

async function main(): Promise<void> {
    const o = parse(process.argv.slice(2));
    const cleanup = new Cleanup();
    let interrupted = false;
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
        process.on(sig, () => {
            if (interrupted) return;
            interrupted = true;
            progress(`${sig}: stopping what the benchmark started`);
            void cleanup.run().finally(() => process.exit(130));
        });
    }
    const command = `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim();
    // The machine as it was when the run began (the load average changes while it runs).
    let machine = machineReport();
    const sections: string[] = [];
    const failures: string[] = [];
    const started = Date.now();
    try {
        const needClusters = o.benches.some((b) => !NO_CLUSTERS.includes(b));
        let bc: BenchClusters | undefined;
        const count = Math.max(2, ...(o.benches.includes("mesh") ? o.sizes : [2]));
        for (const b of o.benches) {
            const t0 = Date.now();
            try {
                if (needClusters && !NO_CLUSTERS.includes(b) && !bc) {
                    bc = await startBenchClusters(cleanup, count);
                }
                let body: string;
                switch (b) {
                    case "certs":
                        body = await benchCerts(cleanup, o.runs);
                        break;
                    case "api":
                        body = await benchApiCalls(cleanup, bc!, o.runs);
                        break;
                    case "unreachable":
                        body = await benchUnreachable(cleanup, o.runs, bc);
                        break;
                    case "mesh":
                        body = await benchMesh(cleanup, bc!, o.sizes, o.runs, variants(o));
                        break;
                    case "nodecerts":
                        body = await benchNodeCerts(cleanup, o.counts, o.runs);
                        break;
                    case "delivery":
                        body = await benchDelivery(cleanup, o.hosts, o.runs);
                        break;
                }
                sections.push(`### ${TITLES[b]}\n\n${body}\n\n_${((Date.now() - t0) / 1000).toFixed(0)} s; load average at the end: ${loadavg()}._`);
            } catch (e) {
                const msg = `${b}: ${(e as Error).stack ?? e}`;
                failures.push(msg);
                progress(`benchmark ${msg}`);
                sections.push(`### ${TITLES[b]}\n\nFAILED: ${(e as Error).message.split("\n").slice(0, 20).join("\n")}`);
                if (!bc && !NO_CLUSTERS.includes(b)) break;
            }
        }
        if (bc) machine += `\n| elasticsearch | ${bc.version} |`;
        const doc = [
            `## Results — ${new Date().toISOString().slice(0, 10)}`,
            "",
            `Command: \`${command}\` (${((Date.now() - started) / 60000).toFixed(1)} min in all).`,
            "",
            machine,
            "",
            ...sections.flatMap((s) => [s, ""]),
        ].join("\n");
        process.stdout.write(doc);
        if (o.out) fs.writeFileSync(o.out, doc);
    } finally {
        await cleanup.run();
    }
    if (failures.length) process.exitCode = 1;
}

/** The working tree's package, and the baseline's if given (named by its commit). */
function variants(o: Options): Variant[] {
    const out: Variant[] = [{ name: "now", root: repoRoot() }];
    if (o.baseline) {
        let commit = "?";
        try {
            commit = execFileSync("git", ["-C", o.baseline, "rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
        } catch {
            // an exported tree: name it by its folder
            commit = path.basename(o.baseline);
        }
        out.push({ name: `before (${commit})`, root: o.baseline });
    }
    return out;
}

const TITLES: Record<Bench, string> = {
    certs: "Certificates: 100 node certificates",
    api: "API calls per operation",
    unreachable: "Unreachable cluster: time to a clear error",
    mesh: "Full mesh: pulumi vs a plain script, and memory",
    nodecerts: "A stack of NodeCertificates vs the engine's floor",
    delivery: "Certificate delivery over SSH: pulumi vs a bash loop vs Ansible",
};

main().catch((e) => {
    console.error((e as Error).stack ?? e);
    process.exitCode = 1;
});
