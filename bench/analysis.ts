/**
 * Reading the request logs (requestLog.ts): requests per hook split into reads, writes and
 * connection polls, requests repeated within one operation, and how long hooks kept the provider busy.
 */
import { LogEvent } from "./requestLog";

type Req = Extract<LogEvent, { k: "req" }>;
type Tls = Extract<LogEvent, { k: "tls" }>;
type Hook = Extract<LogEvent, { k: "hook" }>;

/** Display names of the provider modules. */
export const RESOURCE_NAMES: Record<string, string> = {
    sharedCa: "SharedCa",
    nodeCertificate: "NodeCertificate",
    remoteClusterLink: "RemoteClusterLink",
    crossClusterRole: "CrossClusterRole",
    crossClusterUser: "CrossClusterUser",
};

/** PUT, POST, DELETE and PATCH change something; GET and HEAD only read. */
export function isWrite(method: string): boolean {
    return !["GET", "HEAD"].includes(method.toUpperCase());
}

/** `GET _remote/info` while a link waits for its connection (create/update) is a connection poll, not a check. */
export function isPoll(e: Req): boolean {
    return e.res === "remoteClusterLink" && (e.hook === "create" || e.hook === "update") && e.p === "/_remote/info";
}

/** Counts of one hook within one operation. */
export interface HookCounts {
    /** Invocations of the hook (one per resource it ran for). */
    calls: number;
    /** GET/HEAD requests, connection polls excluded. */
    reads: number;
    /** PUT/POST/DELETE requests. */
    writes: number;
    /** `GET _remote/info` polls of link create/update. */
    polls: number;
    /** TLS handshakes the hooks made themselves (not the client's HTTPS connections). */
    rawTls: number;
    /** HTTPS connections the Elasticsearch client opened. */
    httpsConnections: number;
    /** Sum of the hook invocations' durations, ms. */
    hookMs: number;
}

const HOOK_ORDER = ["check", "diff", "create", "read", "update", "delete"];

/** Counts per `Resource.hook` (only hooks that ran), in a stable order. */
export function perHook(events: LogEvent[]): Map<string, HookCounts> {
    const out = new Map<string, HookCounts>();
    const get = (res: string, hook: string): HookCounts => {
        const key = `${RESOURCE_NAMES[res] ?? res}.${hook}`;
        let c = out.get(key);
        if (!c) {
            c = { calls: 0, reads: 0, writes: 0, polls: 0, rawTls: 0, httpsConnections: 0, hookMs: 0 };
            out.set(key, c);
        }
        return c;
    };
    for (const e of events) {
        if (e.k === "hook") {
            const c = get(e.res, e.hook);
            c.calls++;
            c.hookMs += e.ms;
        } else if (e.k === "req") {
            const c = get(e.res, e.hook);
            if (isPoll(e)) c.polls++;
            else if (isWrite(e.m)) c.writes++;
            else c.reads++;
        } else if (e.k === "tls") {
            const c = get(e.res, e.hook);
            if (e.raw) c.rawTls++;
            else c.httpsConnections++;
        }
    }
    const rank = (k: string) => {
        const [res, hook] = k.split(".");
        return Object.values(RESOURCE_NAMES).indexOf(res) * 10 + HOOK_ORDER.indexOf(hook);
    };
    return new Map([...out.entries()].sort((a, b) => rank(a[0]) - rank(b[0])));
}

/** A read sent more than once in one operation (polls excluded). */
export interface Repeat {
    /** e.g. `GET /_nodes/settings?filter_path @bench_a`. */
    request: string;
    /** How often it was sent in the operation. */
    total: number;
    /** The most times it was sent by one provider process (repeats across processes cannot share a memo). */
    maxInOneProcess: number;
    /** Which hooks sent it. */
    hooks: string[];
}

/** Reads (not polls) sent more than once within the events of one operation, per cluster. */
export function repeats(events: LogEvent[], clusterName: (origin: string) => string): Repeat[] {
    const groups = new Map<string, Req[]>();
    for (const e of events) {
        if (e.k !== "req" || isWrite(e.m) || isPoll(e)) continue;
        const key = `${e.m} ${e.p}${e.q ? `?${e.q}` : ""} @${clusterName(e.node)}`;
        groups.set(key, [...(groups.get(key) ?? []), e]);
    }
    const out: Repeat[] = [];
    for (const [request, list] of groups) {
        if (list.length < 2) continue;
        const perPid = new Map<number, number>();
        list.forEach((e) => perPid.set(e.pid, (perPid.get(e.pid) ?? 0) + 1));
        out.push({
            request,
            total: list.length,
            maxInOneProcess: Math.max(...perPid.values()),
            hooks: [...new Set(list.map((e) => `${RESOURCE_NAMES[e.res] ?? e.res}.${e.hook}`))],
        });
    }
    return out.sort((a, b) => b.total - a.total);
}

/** Total requests and writes of an operation, and the provider processes that served it. */
export function totals(events: LogEvent[]): { requests: number; reads: number; writes: number; polls: number; rawTls: number; httpsConnections: number; providerProcesses: number } {
    const reqs = events.filter((e): e is Req => e.k === "req");
    const tls = events.filter((e): e is Tls => e.k === "tls");
    return {
        requests: reqs.length,
        reads: reqs.filter((e) => !isWrite(e.m) && !isPoll(e)).length,
        writes: reqs.filter((e) => isWrite(e.m)).length,
        polls: reqs.filter(isPoll).length,
        rawTls: tls.filter((e) => e.raw).length,
        httpsConnections: tls.filter((e) => !e.raw).length,
        providerProcesses: new Set(events.filter((e) => e.k === "hook").map((e) => e.pid)).size,
    };
}

/** Wall time during which at least one hook matching `filter` ran (union of their intervals), ms. */
export function busyMs(events: LogEvent[], filter: (h: Hook) => boolean = () => true): number {
    const spans = events.filter((e): e is Hook => e.k === "hook" && filter(e)).map((e) => [e.t0, e.t0 + e.ms] as const).sort((a, b) => a[0] - b[0]);
    let total = 0;
    let end = -Infinity;
    let start = -Infinity;
    for (const [s, e] of spans) {
        if (s > end) {
            if (end > start) total += end - start;
            start = s;
            end = e;
        } else {
            end = Math.max(end, e);
        }
    }
    if (end > start) total += end - start;
    return total;
}

/** First hook start to last hook end, ms (0 without hooks). */
export function hookWindowMs(events: LogEvent[]): number {
    const hooks = events.filter((e): e is Hook => e.k === "hook");
    if (!hooks.length) return 0;
    return Math.max(...hooks.map((h) => h.t0 + h.ms)) - Math.min(...hooks.map((h) => h.t0));
}
