/**
 * API calls per operation, through the real Pulumi CLI: one stack holding every resource of the
 * package (SharedCa, two NodeCertificates delivered to and verified on the nodes, a
 * RemoteClusterLink, a CrossClusterRole, a CrossClusterUser) goes through preview (create), up
 * (create), a no-change preview, a no-change refresh, up (update: one setting of each resource
 * changed) and destroy. The dynamic-provider process logs every request and which hook sent it
 * (requestLog.ts); the counts are split into reads, writes and connection polls per hook.
 */
import * as fs from "fs";
import * as path from "path";
import { HookCounts, perHook, Repeat, repeats, totals } from "./analysis";
import { BenchClusters, programConfig } from "./clusters";
import { readLog } from "./requestLog";
import { benchProject, cli, Cleanup, loadavg, median, progress, requestLogEnv, secs, table } from "./support";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { SharedCa, NodeCertificate, RemoteClusterLink, CrossClusterRole, CrossClusterUser } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const a = cfg.requireObject("a");
const b = cfg.requireObject("b");
const password = cfg.requireSecret("password");
const v2 = cfg.require("variant") === "v2";
const suffix = cfg.require("suffix");
const conn = (c) => ({ urls: [c.url], username: "elastic", password, caPem: c.caPem });
const ca = new SharedCa("ca", { certPem: cfg.require("caCertPem"), keyPem: cfg.requireSecret("caKeyPem") });
const certs = [a, b].map((c) => new NodeCertificate("cert-" + c.alias, {
    caCertPem: ca.certPem, caKeyPem: ca.keyPem,
    commonName: c.nodeName, dnsNames: ["localhost", c.nodeName], ipAddresses: ["127.0.0.1"],
    renewBeforeDays: v2 ? 31 : 30,
    delivery: { directory: c.certsDir },
    verifyOn: { connection: conn(c), nodeName: c.nodeName },
}));
const link = new RemoteClusterLink("link", {
    local: conn(a), remote: conn(b), alias: "api_" + suffix, seeds: [b.transport],
    skipUnavailable: !v2, connectionTimeoutSeconds: 60,
}, { dependsOn: certs });
const role = new CrossClusterRole("role", {
    local: conn(a), remote: conn(b), name: "api_search_" + suffix, preset: "search",
    indices: v2 ? ["logs-*", "metrics-*"] : ["logs-*"],
});
new CrossClusterUser("user", { local: conn(a), username: "api_analyst_" + suffix, roles: [role.name], fullName: v2 ? "Analyst (v2)" : "Analyst" });
exports.connected = link.connected;
`;

/** The operations, in order; `variant` is set before the operation runs. */
const OPS: Array<{ name: string; args: string[]; variant?: "v1" | "v2" }> = [
    { name: "preview (create)", args: ["preview"], variant: "v1" },
    { name: "up (create)", args: ["up", "--yes", "--skip-preview"] },
    { name: "preview (no change)", args: ["preview", "--expect-no-changes"] },
    { name: "refresh (no change)", args: ["refresh", "--yes", "--skip-preview"] },
    { name: "up (update)", args: ["up", "--yes", "--skip-preview"], variant: "v2" },
    { name: "destroy", args: ["destroy", "--yes", "--skip-preview"] },
];

const CERT_FILES = ["transport.crt", "transport.key", "transport-ca.crt"];

/** Saves a node's transport files (content, owner, mode); NodeCertificate's delete removes the files it delivered. */
function backupCerts(dir: string): () => void {
    const saved = CERT_FILES.map((f) => {
        const p = path.join(dir, f);
        const st = fs.statSync(p);
        return { p, data: fs.readFileSync(p), uid: st.uid, gid: st.gid, mode: st.mode & 0o777 };
    });
    return () => {
        for (const s of saved) {
            fs.writeFileSync(s.p, s.data, { mode: s.mode });
            fs.chownSync(s.p, s.uid, s.gid);
            fs.chmodSync(s.p, s.mode);
        }
    };
}

interface RunFigures {
    ops: Map<string, { ms: number; hooks: Map<string, HookCounts>; totals: ReturnType<typeof totals>; repeats: Repeat[]; load: string }>;
}

async function oneRun(cleanup: Cleanup, bc: BenchClusters, run: number): Promise<RunFigures> {
    const [a, b] = bc.clusters;
    const name = (o: string) => bc.clusters.find((c) => c.url === o)?.alias ?? o;
    const restores = [a, b].map((c) => backupCerts(c.certsDir));
    const restore = cleanup.add("restore the nodes' transport certificate files", () => restores.forEach((r) => r()));
    const p = await benchProject(cleanup, `api-calls-${run}`, PROGRAM);
    await p.config("a", JSON.stringify(programConfig(a)));
    await p.config("b", JSON.stringify(programConfig(b)));
    await p.config("password", bc.password, true);
    await p.config("caCertPem", bc.transportCa.certPem);
    await p.config("caKeyPem", bc.transportCa.keyPem, true);
    await p.config("suffix", `${run}_${Date.now().toString(36)}`);
    const logs = path.join(path.dirname(p.ws.projectDir), "logs");
    fs.mkdirSync(logs);
    const figures: RunFigures = { ops: new Map() };
    try {
        for (const [i, op] of OPS.entries()) {
            if (op.variant) await p.config("variant", op.variant);
            const log = path.join(logs, `${i}.jsonl`);
            const load = loadavg();
            const r = await cli(cleanup, p.ws, op.args, { env: requestLogEnv(log) });
            const events = readLog(log);
            figures.ops.set(op.name, { ms: r.ms, hooks: perHook(events), totals: totals(events), repeats: repeats(events, name), load });
            progress(`api calls run ${run}: ${op.name} in ${secs(r.ms)} s, ${totals(events).requests} requests`);
        }
    } finally {
        // After destroy (or a failure) the nodes get their original files back; they reload them within ~5 s.
        await restore.now();
    }
    return figures;
}

function med(xs: number[]): string {
    const m = median(xs);
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    return lo === hi ? String(m) : `${m} (${lo}–${hi})`;
}

/** Runs the cycle `runs` times and returns the markdown section. */
export async function benchApiCalls(cleanup: Cleanup, bc: BenchClusters, runs: number): Promise<string> {
    const all: RunFigures[] = [];
    for (let r = 1; r <= runs; r++) {
        all.push(await oneRun(cleanup, bc, r));
    }
    const out: string[] = [];
    out.push(`Clusters: ${bc.clusters[0].alias} (local) and ${bc.clusters[1].alias} (remote), Elasticsearch ${bc.version}. ` +
        `${runs} runs; each cell is the median (min–max when runs differ). Load average before each operation of run 1: ` +
        OPS.map((o) => `${o.name} ${all[0].ops.get(o.name)?.load}`).join("; ") + ".");
    out.push("");
    out.push("**Per operation** (all hooks of all six resources):");
    out.push("");
    out.push(table(["operation", "CLI wall s", "provider processes", "requests", "reads", "writes", "connection polls", "raw TLS handshakes", "HTTPS connections opened"],
        OPS.map((o) => {
            const t = all.map((f) => f.ops.get(o.name)!.totals);
            return [o.name, secs(median(all.map((f) => f.ops.get(o.name)!.ms))), med(t.map((x) => x.providerProcesses)), med(t.map((x) => x.requests)),
                med(t.map((x) => x.reads)), med(t.map((x) => x.writes)), med(t.map((x) => x.polls)), med(t.map((x) => x.rawTls)), med(t.map((x) => x.httpsConnections))];
        })));
    out.push("");
    out.push("**Per hook** (calls = invocations; reads exclude the connection polls):");
    out.push("");
    const rows: Array<Array<string | number>> = [];
    for (const o of OPS) {
        const keys = [...new Set(all.flatMap((f) => [...f.ops.get(o.name)!.hooks.keys()]))];
        for (const k of keys) {
            const cs = all.map((f) => f.ops.get(o.name)!.hooks.get(k) ?? { calls: 0, reads: 0, writes: 0, polls: 0, rawTls: 0, httpsConnections: 0, hookMs: 0 });
            rows.push([o.name, k, med(cs.map((c) => c.calls)), med(cs.map((c) => c.reads)), med(cs.map((c) => c.writes)), med(cs.map((c) => c.polls)),
                med(cs.map((c) => c.rawTls)), med(cs.map((c) => c.httpsConnections)), secs(median(cs.map((c) => c.hookMs)))]);
        }
    }
    out.push(table(["operation", "hook", "calls", "reads", "writes", "polls", "raw TLS", "HTTPS conns", "hook time s (sum)"], rows));
    out.push("");
    out.push("**Reads repeated within one operation** (same request to the same cluster; run 1):");
    out.push("");
    const rep: Array<Array<string | number>> = [];
    for (const o of OPS) {
        for (const r of all[0].ops.get(o.name)!.repeats) {
            rep.push([o.name, r.request, r.total, r.maxInOneProcess, r.hooks.join(", ")]);
        }
    }
    out.push(rep.length ? table(["operation", "request", "times", "most in one provider process", "sent by"], rep) : "none");
    out.push("");
    const linkCreate = all.map((f) => f.ops.get("up (create)")!.hooks.get("RemoteClusterLink.create"));
    const linkCheck = all.map((f) => f.ops.get("up (create)")!.hooks.get("RemoteClusterLink.check"));
    const noChangeWrites = all.map((f) => f.ops.get("preview (no change)")!.totals.writes + f.ops.get("refresh (no change)")!.totals.writes);
    out.push("**Goals:**");
    out.push("");
    out.push(table(["goal", "measured", "met"], [
        ["link create hook ≤ 1 write", med(linkCreate.map((c) => c?.writes ?? NaN)), linkCreate.every((c) => c && c.writes <= 1) ? "yes" : "no"],
        ["link create hook ≤ 3 reads besides connection polls", med(linkCreate.map((c) => c?.reads ?? NaN)), linkCreate.every((c) => c && c.reads <= 3) ? "yes" : "no"],
        ["link check + create together (one `up --skip-preview`, one provider process) ≤ 3 reads besides polls",
            med(all.map((_, i) => (linkCheck[i]?.reads ?? NaN) + (linkCreate[i]?.reads ?? NaN))),
            all.every((_, i) => (linkCheck[i]?.reads ?? 99) + (linkCreate[i]?.reads ?? 99) <= 3) ? "yes" : "no"],
        ["no-change preview + refresh: 0 writes", med(noChangeWrites), noChangeWrites.every((w) => w === 0) ? "yes" : "no"],
    ]));
    return out.join("\n");
}
