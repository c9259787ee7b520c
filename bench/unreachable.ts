/**
 * Unreachable cluster: how long every hook takes to give a clear error when the cluster it talks to
 * does not answer, with the connection's requestTimeoutSeconds/maxRetries. Three ways of not
 * answering, each a local endpoint the benchmark starts and stops itself:
 * - "TCP accepts, silent": a TCP server that accepts connections and never sends a byte (a hung
 *   node, a firewall that lets SYNs through): the TLS handshake never completes;
 * - "TLS ok, HTTP silent": a TLS server (certificate from a CA the connection trusts) that completes
 *   the handshake and never answers the request (a node stuck in GC, an overloaded proxy);
 * - "closed port": nothing listens (a stopped node).
 * The hooks run in-process, all hooks of one target at once (they wait on timers and sockets, not
 * on the CPU), each with its own connection so no probe memo is shared. A second part runs
 * `pulumi preview` through the real CLI against the same targets.
 */
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as tls from "tls";
import * as pulumi from "@pulumi/pulumi";
import { generateCa, issueNodeCertificate } from "../provider/certs/pem";
import { ClusterConnection } from "../provider/core/client";
import * as link from "../provider/remoteClusterLink";
import * as role from "../provider/crossClusterRole";
import * as user from "../provider/crossClusterUser";
import * as nodeCert from "../provider/nodeCertificate";
import { describeError } from "../provider/core/errors";
import { freePort } from "../rig/elasticsearch";
import { BenchClusters } from "./clusters";
import { benchProject, Cleanup, loadavg, median, progress, runCli, secs, table } from "./support";

interface Target {
    name: string;
    /** Two endpoints of this kind: the local and the remote side of a two-cluster resource must differ. */
    urls: [string, string];
    caPem: string;
}

/** Starts the targets, two endpoints each; all are stopped (servers closed, sockets destroyed) by `cleanup`. */
async function startTargets(cleanup: Cleanup): Promise<Target[]> {
    const ca = await generateCa({ commonName: "bench unreachable CA" });
    const cert = await issueNodeCertificate(ca, { commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
    const sockets = new Set<net.Socket>();
    const hold = (s: net.Socket) => {
        sockets.add(s);
        s.on("error", () => undefined);
        s.on("close", () => sockets.delete(s));
    };
    const servers: net.Server[] = [];
    const listen = (srv: net.Server) => new Promise<string>((resolve) => {
        servers.push(srv);
        srv.listen(0, "127.0.0.1", () => resolve(`https://127.0.0.1:${(srv.address() as net.AddressInfo).port}`));
    });
    const silentTls = () => {
        const srv = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, hold);
        srv.on("tlsClientError", () => undefined);
        return srv;
    };
    cleanup.add("stop the silent servers", () => {
        sockets.forEach((s) => s.destroy());
        return Promise.all(servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve())))).then(() => undefined);
    });
    const tcp: [string, string] = [await listen(net.createServer(hold)), await listen(net.createServer(hold))];
    const tlsUrls: [string, string] = [await listen(silentTls()), await listen(silentTls())];
    const closed: [string, string] = [`https://127.0.0.1:${await freePort()}`, `https://127.0.0.1:${await freePort()}`];
    return [
        { name: "TCP accepts, silent", urls: tcp, caPem: ca.certPem },
        { name: "TLS ok, HTTP silent", urls: tlsUrls, caPem: ca.certPem },
        { name: "closed port", urls: closed, caPem: ca.certPem },
    ];
}

/** One hook call to time: `fn` resolves with the clear error (or what it returned instead). */
interface Case {
    hook: string;
    /** How long the hook may take for the goal: timeout + 2 s, or a longer documented wait. */
    goalMs: (c: Settings) => number;
    fn: (dead: (tag: string) => ClusterConnection) => Promise<string>;
}

/** The connection settings under test. */
interface Settings {
    label: string;
    requestTimeoutSeconds?: number;
    maxRetries?: number;
}

const VERIFY_TIMEOUT_SECONDS = 10;
const timeoutMs = (s: Settings) => (s.requestTimeoutSeconds ?? 30) * 1000;

function firstLine(msg: string): string {
    const one = msg.replace(/\s+/g, " ").trim();
    return one.length > 150 ? `${one.slice(0, 150)}…` : one;
}

async function outcome(p: Promise<unknown>): Promise<string> {
    try {
        const r = (await p) as { failures?: Array<{ property: string; reason: string }> } | undefined;
        if (r && Array.isArray(r.failures) && r.failures.length) {
            return `check failure on '${r.failures[0].property}': ${firstLine(r.failures[0].reason)}`;
        }
        const props = (r as { props?: { servedByNode?: boolean } } | undefined)?.props;
        if (props && props.servedByNode === false) {
            return "no error, by design: servedByNode false and a warning (read never fails because a node is down)";
        }
        return `returned without error: ${firstLine(JSON.stringify(r ?? null))}`;
    } catch (e) {
        return `${(e as Error).name}: ${firstLine(describeError(e))}`;
    }
}

function cases(tmp: string, ca: { certPem: string; keyPem: string }, real?: ClusterConnection): Case[] {
    const goal = (s: Settings) => timeoutMs(s) + 2000;
    const linkIn = (local: ClusterConnection, remote: ClusterConnection, alias: string): link.LinkInputs =>
        ({ local, remote, alias, mode: "sniff", seeds: ["127.0.0.1:9"], connectionTimeoutSeconds: 10 });
    const linkOut = (i: link.LinkInputs): link.LinkOutputs => ({ ...i, connected: true, numNodesConnected: 1, localVersion: "9.5.4", remoteVersion: "9.5.4" });
    const roleIn = (local: ClusterConnection, remote: ClusterConnection, name: string): role.RoleInputs => ({ local, remote, name, preset: "search", indices: ["logs-*"] });
    const roleOut = (i: role.RoleInputs): role.RoleOutputs => ({ ...i, localRole: {}, remoteRole: {}, localExists: true, remoteExists: true });
    const userIn = (local: ClusterConnection, username: string): user.UserInputs => ({ local, username, roles: ["bench"], password: "bench-user-pw" });
    const userOut = (i: user.UserInputs): user.UserOutputs => ({ ...i, password: "bench-user-pw", passwordGenerated: false });
    const certIn = (conn: ClusterConnection, tag: string): nodeCert.NodeCertificateInputs => {
        const dir = path.join(tmp, tag);
        fs.mkdirSync(dir, { recursive: true });
        return {
            caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: "node-0", dnsNames: ["localhost"],
            delivery: { directory: dir }, verifyOn: { connection: conn, nodeName: "node-0", timeoutSeconds: VERIFY_TIMEOUT_SECONDS },
        };
    };
    const certOut = async (i: nodeCert.NodeCertificateInputs): Promise<nodeCert.NodeCertificateOutputs> => {
        const issued = await issueNodeCertificate({ certPem: i.caCertPem, keyPem: i.caKeyPem }, { commonName: i.commonName, dnsNames: i.dnsNames });
        const { caCertPem: _c, caKeyPem: _k, ...rest } = i;
        return { ...rest, ...issued, caFingerprintSha256: "" };
    };
    const list: Case[] = [
        { hook: "RemoteClusterLink.check", goalMs: goal, fn: (d) => outcome(link.check({}, linkIn(d("lc-l"), d("lc-r"), "bench_x"))) },
        { hook: "RemoteClusterLink.create", goalMs: goal, fn: (d) => outcome(link.create(linkIn(d("lcr"), d("lcr-r"), "bench_x"))) },
        { hook: "RemoteClusterLink.read", goalMs: goal, fn: (d) => { const i = linkIn(d("lr"), d("lr-r"), "bench_x"); return outcome(link.read("bench_x", linkOut(i))); } },
        { hook: "RemoteClusterLink.update", goalMs: goal, fn: (d) => { const i = linkIn(d("lu"), d("lu-r"), "bench_x"); return outcome(link.update("bench_x", linkOut(i), { ...i, skipUnavailable: false })); } },
        { hook: "RemoteClusterLink.delete", goalMs: goal, fn: (d) => { const i = linkIn(d("ld"), d("ld-r"), "bench_x"); return outcome(link.delete("bench_x", linkOut(i))); } },
        { hook: "CrossClusterRole.create", goalMs: goal, fn: (d) => outcome(role.create(roleIn(d("rc-l"), d("rc-r"), "bench_r"))) },
        { hook: "CrossClusterRole.read", goalMs: goal, fn: (d) => { const i = roleIn(d("rr-l"), d("rr-r"), "bench_r"); return outcome(role.read("bench_r", roleOut(i))); } },
        { hook: "CrossClusterRole.update", goalMs: goal, fn: (d) => { const i = roleIn(d("ru-l"), d("ru-r"), "bench_r"); return outcome(role.update("bench_r", roleOut(i), { ...i, indices: ["other-*"] })); } },
        { hook: "CrossClusterRole.delete", goalMs: goal, fn: (d) => { const i = roleIn(d("rd-l"), d("rd-r"), "bench_r"); return outcome(role.delete("bench_r", roleOut(i))); } },
        { hook: "CrossClusterUser.create", goalMs: goal, fn: (d) => outcome(user.create(userIn(d("uc"), "bench_u"))) },
        { hook: "CrossClusterUser.read", goalMs: goal, fn: (d) => { const i = userIn(d("ur"), "bench_u"); return outcome(user.read("bench_u", userOut(i))); } },
        { hook: "CrossClusterUser.update", goalMs: goal, fn: (d) => { const i = userIn(d("uu"), "bench_u"); return outcome(user.update("bench_u", userOut(i), { ...i, fullName: "x" })); } },
        { hook: "CrossClusterUser.delete", goalMs: goal, fn: (d) => { const i = userIn(d("ud"), "bench_u"); return outcome(user.delete("bench_u", userOut(i))); } },
        // verifyOn waits up to its own timeoutSeconds for the node by design; the goal is that wait plus one request.
        { hook: `NodeCertificate.create (verifyOn ${VERIFY_TIMEOUT_SECONDS} s)`, goalMs: (s) => VERIFY_TIMEOUT_SECONDS * 1000 + goal(s), fn: (d) => outcome(nodeCert.create(certIn(d("nc"), "nc"))) },
        { hook: "NodeCertificate.read", goalMs: goal, fn: async (d) => outcome(nodeCert.read("x", await certOut(certIn(d("nr"), "nr")))) },
        { hook: `NodeCertificate.update (verifyOn ${VERIFY_TIMEOUT_SECONDS} s)`, goalMs: (s) => VERIFY_TIMEOUT_SECONDS * 1000 + goal(s), fn: async (d) => { const i = certIn(d("nu"), "nu"); return outcome(nodeCert.update("x", await certOut(i), { ...i, renewBeforeDays: 31 })); } },
    ];
    if (real) {
        list.push(
            { hook: "RemoteClusterLink.check (local up, remote down)", goalMs: goal, fn: (d) => outcome(link.check({}, linkIn(real, d("lc2"), "bench_x"))) },
            { hook: "CrossClusterRole.create (local up, remote down)", goalMs: goal, fn: (d) => outcome(role.create(roleIn(real, d("rc2"), "bench_r2"))) },
            { hook: "CrossClusterRole.read (local up, remote down)", goalMs: goal, fn: (d) => { const i = roleIn(real, d("rr2"), "bench_r2"); return outcome(role.read("bench_r2", roleOut(i))); } },
        );
    }
    return list;
}

/** Collects pulumi.log output of the in-process hooks instead of printing it among the figures. */
function muteLog(): () => void {
    const log = pulumi.log as unknown as Record<string, unknown>;
    const saved = { info: log.info, warn: log.warn, error: log.error, debug: log.debug };
    for (const k of Object.keys(saved)) log[k] = () => Promise.resolve();
    return () => Object.assign(log, saved);
}

/** Runs the in-process part and the CLI part; returns the markdown section. */
export async function benchUnreachable(cleanup: Cleanup, runs: number, bc?: BenchClusters): Promise<string> {
    const targets = await startTargets(cleanup);
    const tmp = cleanup.tempDir("unreachable");
    const ca = await generateCa({ commonName: "bench node CA" });
    const real: ClusterConnection | undefined = bc ? { urls: [bc.clusters[0].url], username: "elastic", password: bc.password, caPem: bc.clusters[0].caPem } : undefined;
    const settings: Settings[] = [
        { label: "requestTimeoutSeconds 5, maxRetries 1", requestTimeoutSeconds: 5, maxRetries: 1 },
        { label: "defaults (requestTimeoutSeconds 30, maxRetries 3)" },
    ];
    const out: string[] = [];
    out.push(`In-process hooks, ${runs} runs, median (min–max) seconds from the call to the error; "goal" = requestTimeoutSeconds + 2 s ` +
        `(NodeCertificate create/update: plus verifyOn.timeoutSeconds = ${VERIFY_TIMEOUT_SECONDS}, the documented wait for the node). ` +
        "Each hook gets its own connection (user name), so no probe result is shared between hooks.");
    const restoreLog = muteLog();
    try {
        for (const s of settings) {
            const list = cases(tmp, ca, real);
            const times = new Map<string, number[]>();
            const messages = new Map<string, string>();
            for (let r = 0; r < runs; r++) {
                for (const t of targets) {
                    const load = loadavg();
                    const t0 = Date.now();
                    await Promise.all(list.map(async (c) => {
                        // Tags ending in "-r" are the remote side of a two-cluster resource: the other endpoint.
                        const dead = (tag: string): ClusterConnection => ({
                            urls: [tag.endsWith("-r") ? t.urls[1] : t.urls[0]], username: `bench-${tag}-${r}`, password: "bench-pw", caPem: t.caPem,
                            requestTimeoutSeconds: s.requestTimeoutSeconds, maxRetries: s.maxRetries,
                        });
                        const started = Date.now();
                        const msg = await c.fn(dead);
                        const key = `${t.name}|${c.hook}`;
                        times.set(key, [...(times.get(key) ?? []), Date.now() - started]);
                        if (r === 0) messages.set(key, msg);
                    }));
                    progress(`unreachable (${s.label}) run ${r + 1}, ${t.name}: all hooks done in ${secs(Date.now() - t0)} s (load ${load})`);
                }
            }
            out.push("");
            out.push(`**${s.label}** (load average now ${loadavg()}):`);
            out.push("");
            const rows: Array<Array<string | number>> = [];
            for (const t of targets) {
                for (const c of list) {
                    const key = `${t.name}|${c.hook}`;
                    const ms = times.get(key)!;
                    const g = c.goalMs(s);
                    rows.push([t.name, c.hook, spreadS(ms), secs(g), median(ms) <= g ? "yes" : "no", messages.get(key) ?? ""]);
                }
            }
            out.push(table(["target", "hook", "time to error, s", "goal, s", "within goal", "what the user sees (run 1)"], rows));
        }
    } finally {
        restoreLog();
    }
    out.push("");
    out.push(await cliPart(cleanup, runs, targets));
    return out.join("\n");
}

function spreadS(ms: number[]): string {
    const m = median(ms);
    return ms.length > 1 ? `${secs(m)} (${secs(Math.min(...ms))}–${secs(Math.max(...ms))})` : secs(m);
}

const CLI_PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { RemoteClusterLink } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const t = cfg.requireObject("target");
const conn = (url) => ({ urls: [url], username: "elastic", password: cfg.requireSecret("password"), caPem: t.caPem, requestTimeoutSeconds: 5, maxRetries: 1 });
new RemoteClusterLink("link", { local: conn(t.urls[0]), remote: conn(t.urls[1]), alias: "bench_x", seeds: ["127.0.0.1:9"] });
`;

/** `pulumi preview` of one link whose clusters do not answer, through the real CLI. */
async function cliPart(cleanup: Cleanup, runs: number, targets: Target[]): Promise<string> {
    const password = "bench-secret-Pw-7731";
    const p = await benchProject(cleanup, "unreachable-cli", CLI_PROGRAM);
    await p.config("password", password, true);
    const empty = await benchProject(cleanup, "unreachable-empty", "module.exports = {};\n");
    const fixed: number[] = [];
    for (let r = 0; r < runs; r++) fixed.push((await runCli(cleanup, empty.ws, ["preview"])).ms);
    const fixedMs = median(fixed);
    const rows: Array<Array<string | number>> = [];
    for (const t of targets) {
        await p.config("target", JSON.stringify({ urls: t.urls, caPem: t.caPem }));
        const ms: number[] = [];
        let output = "";
        for (let r = 0; r < runs; r++) {
            const res = await runCli(cleanup, p.ws, ["preview"]);
            ms.push(res.ms);
            output ||= res.output;
            if (res.code === 0) throw new Error(`pulumi preview against '${t.name}' succeeded: ${res.output.slice(-2000)}`);
        }
        // The engine prefixes a check failure with the property's whole value; what the hook said follows "has a problem:".
        const err = /has a problem: (.*)/.exec(output)?.[1] ?? output.split("\n").find((l) => l.includes("error:")) ?? "";
        rows.push([t.name, spreadS(ms), secs(median(ms) - fixedMs), "7.00", median(ms) - fixedMs <= 7000 ? "yes" : "no", output.includes(password) ? "**yes**" : "no", firstLine(err)]);
        progress(`unreachable CLI preview, ${t.name}: ${spreadS(ms)} s`);
    }
    return [
        `**Through the CLI**: \`pulumi preview\` of one RemoteClusterLink (requestTimeoutSeconds 5, maxRetries 1) whose local and remote clusters are the target; ${runs} runs, whole CLI run. ` +
        `The CLI's own cost, \`pulumi preview\` of an empty program: ${spreadS(fixed)} s; goal: 5 + 2 s beyond that.`,
        "",
        table(["target", "pulumi preview, s", "minus the empty program's preview, s", "goal, s", "within goal", "password printed", "error shown"], rows),
    ].join("\n");
}
