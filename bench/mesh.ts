/**
 * Full mesh: n real clusters, every one registered as a remote of every other (n·(n-1) links with
 * RemoteClusterMesh) plus a CrossClusterRole per ordered pair, through the real Pulumi CLI, against
 * the plain script in meshScript.ts making the same REST calls with the same client. Also measured,
 * to show where the difference goes: an empty Pulumi program (the CLI's fixed cost: process start,
 * language host, state) and a program of as many no-op dynamic resources (the engine's cost per
 * resource: registration, serialization of the provider, gRPC, state), and from the request log
 * how long the hooks kept the provider busy. Peak memory of every process is sampled meanwhile.
 */
import { Client } from "@elastic/elasticsearch";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { busyMs, Repeat, repeats, totals } from "./analysis";
import { BenchClusters, programConfig } from "./clusters";
import { ProcessRole, RolePeak, sampleTree } from "./memory";
import { readLog } from "./requestLog";
import { benchProject, BenchProject, cli, Cleanup, killTree, loadavg, median, progress, requestLogEnv, runCli, secs, spread, table } from "./support";
import { noopProgram } from "./noop";

const MESH_PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { RemoteClusterMesh, CrossClusterRole } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const clusters = cfg.requireObject("clusters");
const password = cfg.requireSecret("password");
// 10 s and 1 retry: what the one-cluster-down refresh waits for (5 s was too short for writes on a machine at load 30).
const conn = (c) => ({ urls: [c.url], username: "elastic", password, caPem: c.caPem, requestTimeoutSeconds: 10, maxRetries: 1 });
const mesh = new RemoteClusterMesh("mesh", {
    members: clusters.map((c) => ({ alias: c.alias, connection: conn(c), seeds: [c.transport] })),
    linkOptions: { skipUnavailable: true, connectionTimeoutSeconds: 60 },
});
for (const a of clusters) {
    for (const b of clusters) {
        if (a === b) continue;
        new CrossClusterRole("role-" + a.alias + "-" + b.alias, {
            local: conn(a), remote: conn(b), name: "mesh_search_" + a.alias + "_" + b.alias, preset: "search", indices: ["logs-*"],
        });
    }
}
exports.connected = Object.values(mesh.links).map((l) => l.connected);
`;

const EMPTY_PROGRAM = `module.exports = {};\n`;

type Op = "up" | "preview" | "refresh" | "destroy" | "up (skip preview)" | "destroy (after skip)";
const CLI_ARGS: Record<Op, string[]> = {
    "up": ["up", "--yes"],
    "preview": ["preview", "--expect-no-changes"],
    "refresh": ["refresh", "--yes", "--skip-preview"],
    "destroy": ["destroy", "--yes", "--skip-preview"],
    "up (skip preview)": ["up", "--yes", "--skip-preview"],
    "destroy (after skip)": ["destroy", "--yes", "--skip-preview"],
};
const SCRIPT_OP: Partial<Record<Op, string>> = { "up": "up", "preview": "preview", "refresh": "refresh", "destroy": "destroy", "up (skip preview)": "up" };
const OPS: Op[] = ["up", "preview", "refresh", "destroy", "up (skip preview)", "destroy (after skip)"];

interface Sample {
    ms: number;
    /** TLS handshakes (the client's HTTPS connections + the hooks' own). */
    tls?: number;
    /** Hooks that failed. */
    failedHooks?: number;
    /** Requests sent to / TLS handshakes started with the stopped cluster (one-cluster-down refresh). */
    toDown?: { requests: number; tls: number };
    code?: number;
    requests?: number;
    writes?: number;
    checksMs?: number;
    writesMs?: number;
    /** Wall time during which any hook ran. */
    hooksMs?: number;
    polls?: number;
    repeats?: Repeat[];
    memory?: Record<ProcessRole, RolePeak>;
    load: string;
}

async function runPulumi(cleanup: Cleanup, p: BenchProject, args: string[], logFile?: string, name?: (origin: string) => string, mayFail = false): Promise<Sample> {
    const load = loadavg();
    let sampler: ReturnType<typeof sampleTree> | undefined;
    const opts = { env: logFile ? requestLogEnv(logFile) : {}, onStart: (pid: number) => (sampler = sampleTree(pid, 100)) };
    let r: Awaited<ReturnType<typeof runCli>>;
    let memory: Sample["memory"];
    try {
        r = mayFail ? await runCli(cleanup, p.ws, args, opts) : await cli(cleanup, p.ws, args, opts);
    } finally {
        // Also when the CLI failed: a sampler left running kept the benchmark from exiting.
        memory = sampler?.stop();
    }
    const s: Sample = { ms: r.ms, memory, load, code: r.code };
    if (logFile) {
        const events = readLog(logFile);
        const t = totals(events);
        s.requests = t.requests;
        s.writes = t.writes;
        s.checksMs = busyMs(events, (h) => h.hook === "check" || h.hook === "diff");
        s.writesMs = busyMs(events, (h) => ["create", "read", "update", "delete"].includes(h.hook));
        s.hooksMs = busyMs(events);
        s.polls = t.polls;
        s.tls = t.rawTls + t.httpsConnections;
        s.failedHooks = events.filter((e) => e.k === "hook" && !e.ok).length;
        s.repeats = name ? repeats(events, name) : undefined;
    }
    return s;
}

/** Runs the plain script as its own process (start-up included), counting its requests the same way. */
function runScript(cleanup: Cleanup, op: string, configFile: string, logFile: string): Promise<Sample> {
    return new Promise((resolve, reject) => {
        const load = loadavg();
        const t0 = process.hrtime.bigint();
        const child = spawn(process.execPath, [path.join(__dirname, "meshScript.js"), op, configFile], {
            env: { ...process.env, ...requestLogEnv(logFile) },
            stdio: ["ignore", "pipe", "pipe"],
        });
        const pid = child.pid!;
        const stop = cleanup.add(`stop mesh script (pid ${pid})`, () => killTree(pid, "SIGKILL"));
        const sampler = sampleTree(pid, 100);
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        child.on("error", reject);
        child.on("close", (code) => {
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            const memory = sampler.stop();
            stop.forget();
            if (code !== 0) return reject(new Error(`mesh script ${op} exited with ${code}: ${output.slice(-2000)}`));
            const t = totals(readLog(logFile));
            resolve({ ms, requests: t.requests, writes: t.writes, tls: t.rawTls + t.httpsConnections, memory, load });
        });
    });
}

/** The package as built from another checkout, run side by side with the working tree's. */
export interface Variant {
    /** e.g. `now` or `before (1fed088)`. */
    name: string;
    /** The checkout whose node_modules (and so whose `pulumi-es-remote`) the program uses. */
    root: string;
}

interface SizeFigures {
    n: number;
    resources: number;
    variants: string[];
    /** Per variant. */
    pulumi: Map<string, Map<Op, Sample[]>>;
    /** `refresh` with the last cluster stopped (SIGSTOP: it accepts TCP, never answers), per variant. */
    down: Map<string, Sample[]>;
    downCluster: string;
    script: Map<Op, Sample[]>;
    empty: Map<Op, Sample[]>;
    noop: Map<Op, Sample[]>;
}

function push<K>(m: Map<K, Sample[]>, k: K, s: Sample): void {
    m.set(k, [...(m.get(k) ?? []), s]);
}

/** Waits until the cluster answers again (after SIGCONT). */
async function answers(c: { url: string; caPem: string }, password: string): Promise<void> {
    const client = new Client({ node: c.url, auth: { username: "elastic", password }, tls: { ca: c.caPem }, requestTimeout: 5000 });
    try {
        const deadline = Date.now() + 180_000;
        for (;;) {
            try {
                await client.cluster.health({ timeout: "5s" });
                return;
            } catch (e) {
                if (Date.now() > deadline) throw new Error(`${c.url} did not answer again within 180 s: ${(e as Error).message}`);
                await new Promise((r) => setTimeout(r, 500));
            }
        }
    } finally {
        await client.close();
    }
}

async function oneSize(cleanup: Cleanup, bc: BenchClusters, n: number, runs: number, variants: Variant[]): Promise<SizeFigures> {
    const members = bc.clusters.slice(0, n);
    const resources = 2 * n * (n - 1);
    const stopped = members[members.length - 1];
    const f: SizeFigures = { n, resources, variants: variants.map((v) => v.name), pulumi: new Map(variants.map((v) => [v.name, new Map()])), down: new Map(), downCluster: stopped.alias, script: new Map(), empty: new Map(), noop: new Map() };
    const dir = cleanup.tempDir(`mesh${n}`);
    const configFile = path.join(dir, "script-config.json");
    fs.writeFileSync(configFile, JSON.stringify({ password: bc.password, clusters: members.map(programConfig) }), { mode: 0o600 });
    const meshes = new Map<string, BenchProject>();
    for (const v of variants) {
        const mesh = await benchProject(cleanup, `mesh-${n}`, MESH_PROGRAM, v.root);
        await mesh.config("clusters", JSON.stringify(members.map(programConfig)));
        await mesh.config("password", bc.password, true);
        meshes.set(v.name, mesh);
    }
    const empty = await benchProject(cleanup, `empty-${n}`, EMPTY_PROGRAM);
    const noop = await benchProject(cleanup, `noop-${n}`, noopProgram(resources, `connection: pulumi.secret({ urls: ["https://x:9200"], password: "p" })`));
    let logNo = 0;
    const log = () => path.join(dir, `log-${logNo++}.jsonl`);
    const name = (origin: string) => members.find((c) => c.url === origin)?.alias ?? origin;
    const stoppedPort = Number(new URL(stopped.url).port);
    const serverPid = stopped.info.serverPid ?? stopped.info.pid;
    // One untimed cycle first: the clusters' first links and roles pay JVM warm-up, which no run should carry.
    await runScript(cleanup, "up", configFile, log());
    await runScript(cleanup, "destroy", configFile, log());
    for (let r = 1; r <= runs; r++) {
        // Alternate which package goes first: the load of a shared machine drifts within a run.
        for (const v of r % 2 === 1 ? variants : [...variants].reverse()) {
            const mesh = meshes.get(v.name)!;
            for (const op of OPS) {
                const s = await runPulumi(cleanup, mesh, CLI_ARGS[op], log(), name);
                push(f.pulumi.get(v.name)!, op, s);
                progress(`mesh ${n} run ${r} [${v.name}]: pulumi ${op} ${secs(s.ms)} s, ${s.requests} requests, ${s.tls} TLS handshakes, provider peak ${s.memory!["dynamic-provider"].peakMb.toFixed(0)} MB (load ${s.load})`);
                if (op === "refresh") {
                    // The same refresh with one cluster stopped: it accepts TCP (the kernel does) and never
                    // completes a TLS handshake, the slowest way a cluster can be down.
                    const file = log();
                    process.kill(serverPid, "SIGSTOP");
                    const resume = cleanup.add(`resume ${stopped.alias} (pid ${serverPid})`, () => void process.kill(serverPid, "SIGCONT"));
                    let d: Sample;
                    try {
                        d = await runPulumi(cleanup, mesh, CLI_ARGS.refresh, file, name, true);
                    } finally {
                        await resume.now();
                    }
                    const events = readLog(file);
                    d.toDown = {
                        requests: events.filter((e) => e.k === "req" && e.node === stopped.url).length,
                        tls: events.filter((e) => e.k === "tls" && e.port === stoppedPort).length,
                    };
                    push(f.down, v.name, d);
                    progress(`mesh ${n} run ${r} [${v.name}]: refresh with ${stopped.alias} stopped ${secs(d.ms)} s (exit ${d.code}), ${d.failedHooks} hooks failed, ${d.toDown.requests} requests / ${d.toDown.tls} TLS handshakes to it`);
                    await answers(stopped, bc.password);
                    // The stack is as before: the failed refresh changed nothing (the next refresh or up reads again).
                }
            }
        }
        for (const op of ["up", "preview", "refresh", "destroy"] as Op[]) {
            const s = await runScript(cleanup, SCRIPT_OP[op]!, configFile, log());
            push(f.script, op, s);
            progress(`mesh ${n} run ${r}: script ${op} ${secs(s.ms)} s, ${s.requests} requests, ${s.tls} TLS handshakes`);
        }
        for (const op of OPS) {
            push(f.empty, op, await runPulumi(cleanup, empty, CLI_ARGS[op]));
            push(f.noop, op, await runPulumi(cleanup, noop, CLI_ARGS[op]));
        }
        progress(`mesh ${n} run ${r}: empty program up ${secs(f.empty.get("up")![r - 1].ms)} s, ${resources} no-op resources up ${secs(f.noop.get("up")![r - 1].ms)} s`);
    }
    return f;
}

const med = (xs: Array<number | undefined>) => median(xs.filter((x): x is number => typeof x === "number"));

function timeTable(f: SizeFigures): string {
    const rows: Array<Array<string | number>> = [];
    for (const op of OPS.filter((o) => o !== "destroy (after skip)")) {
        for (const v of f.variants) {
            const p = f.pulumi.get(v)!.get(op)!;
            const s = f.script.get(op) ?? (op === "up (skip preview)" ? f.script.get("up") : undefined);
            const e = f.empty.get(op)!;
            const nop = f.noop.get(op)!;
            const pm = med(p.map((x) => x.ms));
            const sm = s ? med(s.map((x) => x.ms)) : NaN;
            const hooks = med(p.map((x) => x.hooksMs));
            rows.push([
                op, v, spread(p.map((x) => x.ms)), s ? spread(s.map((x) => x.ms)) : "–", s ? `${(pm / sm).toFixed(2)}×` : "–",
                secs(med(e.map((x) => x.ms))), secs(med(nop.map((x) => x.ms))),
                secs(hooks), s ? `${(hooks / sm).toFixed(2)}×` : "–", secs(med(p.map((x) => x.checksMs))), secs(med(p.map((x) => x.writesMs))),
                secs(med(p.map((x) => x.ms - (x.hooksMs ?? 0)))),
                `${med(p.map((x) => x.requests))} / ${s ? med(s.map((x) => x.requests)) : "–"}`,
                `${med(p.map((x) => x.tls))} / ${s ? med(s.map((x) => x.tls)) : "–"}`,
                `${med(p.map((x) => x.writes))} / ${s ? med(s.map((x) => x.writes)) : "–"}`,
                String(med(p.map((x) => x.polls))),
            ]);
        }
    }
    return table(["operation", "package", "pulumi s", "script s", "pulumi / script", "empty program s", `${f.resources} no-op resources s`,
        "hooks busy s", "hooks busy / script", "of which check/diff s", "of which create/read/update/delete s", "pulumi outside hooks s", "requests pulumi / script", "TLS handshakes pulumi / script", "writes pulumi / script", "_remote/info polls (pulumi)"], rows);
}

function downTable(f: SizeFigures): string {
    const rows = f.variants.map((v) => {
        const d = f.down.get(v) ?? [];
        const healthy = f.pulumi.get(v)!.get("refresh")!;
        return [v, spread(d.map((x) => x.ms)), spread(healthy.map((x) => x.ms)), secs(med(d.map((x) => x.hooksMs))),
            String(med(d.map((x) => x.failedHooks))), String(med(d.map((x) => x.toDown?.requests))), String(med(d.map((x) => x.toDown?.tls))),
            d.map((x) => x.code).join(", "), d.map((x) => x.load).join("; ")];
    });
    return table(["package", `refresh, ${f.downCluster} stopped, s`, "refresh, all up, s", "hooks busy s", "hooks failed", `requests sent to ${f.downCluster}`, `TLS handshakes started with ${f.downCluster}`, "exit codes", "load average before"], rows);
}

function repeatTable(f: SizeFigures): string {
    const rows: Array<Array<string | number>> = [];
    for (const v of f.variants) {
        for (const op of ["up", "up (skip preview)", "preview"] as Op[]) {
            for (const r of f.pulumi.get(v)!.get(op)![0].repeats ?? []) {
                rows.push([v, op, r.request, r.total, r.maxInOneProcess, r.hooks.join(", ")]);
            }
        }
    }
    return rows.length ? table(["package", "operation", "request", "times", "most in one provider process", "sent by"], rows) : "none";
}

function memoryTable(figs: SizeFigures[]): string {
    const rows: Array<Array<string | number>> = [];
    for (const f of figs) {
        const now = f.pulumi.get(f.variants[0])!;
        for (const [what, samples] of [["mesh up", now.get("up")!], ["mesh up (skip preview)", now.get("up (skip preview)")!], [`${f.resources} no-op resources up`, f.noop.get("up")!], ["plain script up", f.script.get("up")!]] as const) {
            const peak = (role: ProcessRole) => med(samples.map((s) => s.memory?.[role].peakMb));
            const procs = med(samples.map((s) => s.memory?.["dynamic-provider"].processes));
            rows.push([`${f.n} clusters`, what, f.resources, what === "plain script up" ? "–" : peak("dynamic-provider").toFixed(0), what === "plain script up" ? "–" : String(procs),
                what === "plain script up" ? `${peak("pulumi").toFixed(0)} (the script)` : peak("pulumi").toFixed(0), what === "plain script up" ? "–" : peak("program").toFixed(0), what === "plain script up" ? "–" : peak("language-host").toFixed(0)]);
        }
    }
    return table(["mesh", "run", "dynamic resources", "dynamic-provider peak MB", "provider processes", "pulumi CLI peak MB", "program (node) peak MB", "language host peak MB"], rows);
}

/** Runs the full-mesh benchmark for each size and returns the markdown section. */
export async function benchMesh(cleanup: Cleanup, bc: BenchClusters, sizes: number[], runs: number, variants: Variant[]): Promise<string> {
    const figs: SizeFigures[] = [];
    for (const n of sizes) {
        figs.push(await oneSize(cleanup, bc, n, runs, variants));
    }
    const out: string[] = [];
    out.push(`Elasticsearch ${bc.version}, one node per cluster, 512 MB heap each, transport certificates from one CA. ${runs} runs, median (min–max) seconds. ` +
        "pulumi: `up --yes` (with its preview), `preview --expect-no-changes`, `refresh --yes --skip-preview`, `destroy --yes --skip-preview`, and `up --yes --skip-preview`; " +
        "script: bench/meshScript.ts as its own node process (compared with `up` either way). Before the runs, one untimed script up + destroy warms the clusters. " +
        "\"hooks busy\": wall time during which at least one hook ran (from the request log); \"outside hooks\": the rest of the CLI's wall time (process start, program, engine, state). " +
        "The empty program and the no-op resources (a dynamic provider whose hooks return at once, one secret input each) run the same CLI commands. " +
        "\"TLS handshakes\": `tls.connect` calls in the provider process(es) (the client's HTTPS connections and the hooks' own handshakes) or in the script. " +
        (variants.length > 1 ? `"package": ${variants.map((v) => `\`${v.name}\``).join(" and ")}, run one after the other in each run against the same clusters (odd runs in this order, even runs the other way round). ` : "") +
        "Connections carry `requestTimeoutSeconds: 10, maxRetries: 1`. After the healthy `refresh`, the same `refresh` runs with the last cluster's JVM stopped (SIGSTOP: " +
        "the kernel still accepts TCP, no TLS handshake completes), then it is resumed (SIGCONT) and the runs go on.");
    for (const f of figs) {
        out.push("");
        out.push(`**${f.n} clusters: ${f.n * (f.n - 1)} links + ${f.n * (f.n - 1)} roles** (load average before each run's up: ${f.variants.map((v) => `${v}: ${f.pulumi.get(v)!.get("up")!.map((s) => s.load).join("; ")}`).join("; ")}):`);
        out.push("");
        out.push(timeTable(f));
        out.push("");
        out.push(`Refresh with ${f.downCluster} stopped (${f.n - 1} links whose local cluster it is and ${2 * (f.n - 1)} roles touching it must fail; the rest refresh):`);
        out.push("");
        out.push(downTable(f));
        out.push("");
        out.push(`Reads sent more than once in one operation (run 1; the script sends each of these once per cluster or link):`);
        out.push("");
        out.push(repeatTable(f));
    }
    out.push("");
    out.push("**Memory** (peak resident set, VmHWM sampled every 100 ms; median of the runs):");
    out.push("");
    out.push(memoryTable(figs));
    if (figs.length >= 2) {
        const [a, b] = [figs[0], figs[figs.length - 1]];
        const ua = a.pulumi.get(a.variants[0])!.get("up")!;
        const ub = b.pulumi.get(b.variants[0])!.get("up")!;
        const pa = med(ua.map((s) => s.memory?.["dynamic-provider"].peakMb));
        const pb = med(ub.map((s) => s.memory?.["dynamic-provider"].peakMb));
        const ca = med(ua.map((s) => s.memory?.pulumi.peakMb));
        const cb = med(ub.map((s) => s.memory?.pulumi.peakMb));
        out.push("");
        out.push(`Growth from ${a.resources} to ${b.resources} dynamic resources (mesh up): dynamic-provider ${((pb - pa) / (b.resources - a.resources)).toFixed(2)} MB per resource, ` +
            `pulumi CLI ${((cb - ca) / (b.resources - a.resources)).toFixed(2)} MB per resource.`);
    }
    return out.join("\n");
}
