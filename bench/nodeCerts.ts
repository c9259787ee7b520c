/**
 * A stack of N NodeCertificates from one SharedCa, generated and not delivered (no cluster, no
 * files): `up` (with its preview), a no-change `preview`, `refresh` and `destroy` through the real
 * CLI, for several N, beside the engine's floor (a stack of as many no-op dynamic resources running
 * the same commands) and an empty program. The growth per added resource comes from the two sizes.
 */
import * as path from "path";
import { busyMs } from "./analysis";
import { readLog } from "./requestLog";
import { benchProject, BenchProject, cli, Cleanup, loadavg, median, progress, requestLogEnv, secs, spread, table } from "./support";
import { noopProgram } from "./noop";

const certProgram = (n: number) => `
const { SharedCa, NodeCertificate } = require("pulumi-es-remote");
const ca = new SharedCa("ca", { commonName: "bench CA" });
for (let i = 0; i < ${n}; i++) {
    new NodeCertificate("node-" + i, {
        caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: "node-" + i,
        dnsNames: ["node-" + i + ".bench", "localhost"], ipAddresses: ["127.0.0.1"],
    });
}
`;

const OPS = ["up", "preview", "refresh", "destroy"] as const;
type Op = (typeof OPS)[number];
const ARGS: Record<Op, string[]> = {
    up: ["up", "--yes"],
    preview: ["preview", "--expect-no-changes"],
    refresh: ["refresh", "--yes", "--skip-preview"],
    destroy: ["destroy", "--yes", "--skip-preview"],
};

interface Row {
    ms: number[];
    hooksMs: number[];
    createMs: number[];
    loads: string[];
}

const row = (): Row => ({ ms: [], hooksMs: [], createMs: [], loads: [] });

/** Runs the NodeCertificate stack benchmark for each count and returns the markdown section. */
export async function benchNodeCerts(cleanup: Cleanup, counts: number[], runs: number): Promise<string> {
    const figs = new Map<number, { certs: Map<Op, Row>; noop: Map<Op, Row>; empty: Map<Op, Row> }>();
    const dir = cleanup.tempDir("nodecerts");
    let logNo = 0;
    const empty = await benchProject(cleanup, "empty", "module.exports = {};\n");
    for (const n of counts) {
        const certs = await benchProject(cleanup, `certs-${n}`, certProgram(n));
        // n certificates + their CA: n + 1 resources on each side.
        const noop = await benchProject(cleanup, `noop-${n}`, noopProgram(n + 1, `secret: pulumi.secret("k")`));
        const f = { certs: new Map<Op, Row>(OPS.map((o) => [o, row()])), noop: new Map<Op, Row>(OPS.map((o) => [o, row()])), empty: new Map<Op, Row>(OPS.map((o) => [o, row()])) };
        figs.set(n, f);
        const one = async (p: BenchProject, op: Op, into: Row, log: boolean) => {
            const file = path.join(dir, `log-${logNo++}.jsonl`);
            into.loads.push(loadavg());
            const r = await cli(cleanup, p.ws, ARGS[op], { env: log ? requestLogEnv(file) : {} });
            into.ms.push(r.ms);
            if (log) {
                const events = readLog(file);
                into.hooksMs.push(busyMs(events));
                into.createMs.push(busyMs(events, (h) => h.hook === "create"));
            }
        };
        for (let r = 1; r <= runs; r++) {
            for (const op of OPS) {
                await one(certs, op, f.certs.get(op)!, true);
                await one(noop, op, f.noop.get(op)!, false);
                await one(empty, op, f.empty.get(op)!, false);
                progress(`${n} NodeCertificates run ${r}: ${op} ${secs(f.certs.get(op)!.ms[r - 1])} s, ${n + 1} no-op ${secs(f.noop.get(op)!.ms[r - 1])} s, empty ${secs(f.empty.get(op)!.ms[r - 1])} s (load ${loadavg()})`);
            }
        }
    }
    const rows: Array<Array<string | number>> = [];
    for (const [n, f] of figs) {
        for (const op of OPS) {
            const c = f.certs.get(op)!;
            const nop = f.noop.get(op)!;
            const e = f.empty.get(op)!;
            const cm = median(c.ms);
            const nm = median(nop.ms);
            rows.push([n, op, spread(c.ms), spread(nop.ms), secs(median(e.ms)), `${(cm / nm).toFixed(2)}×`, secs(cm - nm), secs(median(c.hooksMs)), secs(median(c.createMs)), c.loads.join("; ")]);
        }
    }
    const out: string[] = [];
    out.push(`A stack of one SharedCa + N NodeCertificates (ecdsa-p256, generated in the provider, not delivered: no cluster involved) through the real CLI, ${runs} run(s), median (min–max) seconds, ` +
        "beside N + 1 no-op dynamic resources (the engine's floor: hooks that return at once, one secret input each) and an empty program. " +
        "\"hooks busy\": wall time during which at least one hook ran, from the request log.");
    out.push("");
    out.push(table(["N", "operation", "certificates s", "N + 1 no-op resources s", "empty program s", "certificates / no-op", "certificates − no-op s", "hooks busy s", "of which create s", "load average before"], rows));
    if (counts.length >= 2) {
        const [a, b] = [Math.min(...counts), Math.max(...counts)];
        const per = (which: "certs" | "noop", op: Op) => (median(figs.get(b)![which].get(op)!.ms) - median(figs.get(a)![which].get(op)!.ms)) / (b - a);
        const g = OPS.map((op) => [op, `${per("certs", op).toFixed(1)} ms`, `${per("noop", op).toFixed(1)} ms`, `${(per("certs", op) - per("noop", op)).toFixed(1)} ms`]);
        out.push("");
        out.push(`Growth per added resource, from ${a} to ${b} certificates (medians):`);
        out.push("");
        out.push(table(["operation", "per NodeCertificate", "per no-op resource", "difference"], g));
    }
    return out.join("\n");
}
