/**
 * Counts the requests the hooks send, without touching provider code.
 *
 * Preloaded into the dynamic-provider process (`NODE_OPTIONS=--require <this file>`, set by the
 * benchmarks on the Pulumi CLI's environment, which every plugin inherits), it:
 * - wraps the hook functions of every `pulumi-es-remote/provider/<name>` module when the dispatching
 *   provider first `require`s it, so each request knows which resource and hook sent it
 *   (AsyncLocalStorage), and records each hook's start and duration;
 * - wraps `Transport.prototype.request` of `@elastic/transport` (every API call of
 *   `@elastic/elasticsearch` goes through it: one call per attempt, since `createClient` turns the
 *   transport's own retries off);
 * - wraps `tls.connect`: HTTPS connections the client opens, and the raw TLS handshakes the
 *   hooks make themselves (probe's HTTP certificate serial, NodeCertificate's transport handshake).
 *
 * One JSON line per event is appended to `$PULUMI_ES_REMOTE_BENCH_LOG`: method, path, query keys,
 * node URL, duration and status. Never bodies, headers or credentials.
 *
 * Only the benchmarks load this file; it does nothing unless the variable is set.
 */
import { AsyncLocalStorage } from "async_hooks";
import * as fs from "fs";
import Module = require("module");
import tls = require("tls");

/** One line of the log. */
export type LogEvent =
    | { k: "req"; pid: number; res: string; hook: string; m: string; p: string; q: string; node: string; t0: number; ms: number; st: string }
    | { k: "tls"; pid: number; res: string; hook: string; host: string; port: number; raw: boolean; t0: number }
    | { k: "hook"; pid: number; res: string; hook: string; t0: number; ms: number; ok: boolean };

interface Ctx {
    res: string;
    hook: string;
    inTransport?: boolean;
}

const als = new AsyncLocalStorage<Ctx>();
const HOOKS = ["check", "diff", "create", "read", "update", "delete"] as const;
const WRAPPED = Symbol.for("pulumi-es-remote.bench.wrapped");
let logFile: string | undefined;

function write(e: LogEvent): void {
    if (!logFile) return;
    try {
        fs.appendFileSync(logFile, JSON.stringify(e) + "\n");
    } catch {
        // a benchmark's log must never break the operation it measures
    }
}

/** Wraps the hooks of a provider module `name` in place (once). */
export function wrapHooks(name: string, mod: Record<string | symbol, unknown>): void {
    if (!mod || mod[WRAPPED]) return;
    for (const hook of HOOKS) {
        const fn = mod[hook];
        if (typeof fn !== "function") continue;
        mod[hook] = function (this: unknown, ...args: unknown[]) {
            const t0 = Date.now();
            const done = (ok: boolean) => write({ k: "hook", pid: process.pid, res: name, hook, t0, ms: Date.now() - t0, ok });
            return als.run({ res: name, hook }, async () => {
                try {
                    const r = await (fn as (...a: unknown[]) => Promise<unknown>).apply(this, args);
                    done(true);
                    return r;
                } catch (e) {
                    done(false);
                    throw e;
                }
            });
        };
    }
    mod[WRAPPED] = true;
}

/** Wraps `Transport.prototype.request` of the given `@elastic/transport` module (once). */
export function patchTransport(mod: { Transport?: { prototype: Record<string | symbol, unknown> } }): void {
    const proto = mod?.Transport?.prototype;
    if (!proto || proto[WRAPPED]) return;
    const orig = proto.request as (this: { connectionPool?: { connections?: Array<{ url?: URL }> } }, params: any, options?: any) => Promise<any>;
    proto.request = function (this: { connectionPool?: { connections?: Array<{ url?: URL }> } }, params: any, options?: any) {
        const ctx = als.getStore() ?? { res: "-", hook: "-" };
        const node = (this.connectionPool?.connections ?? []).map((c) => c.url?.origin ?? "?").join(",");
        const q = Object.keys(params?.querystring ?? {}).sort().join(",");
        const t0 = Date.now();
        const log = (st: string) => write({ k: "req", pid: process.pid, res: ctx.res, hook: ctx.hook, m: String(params?.method ?? "?"), p: String(params?.path ?? "?"), q, node, t0, ms: Date.now() - t0, st });
        return als.run({ ...ctx, inTransport: true }, () => orig.call(this, params, options)).then(
            (r: any) => {
                log(String(r?.statusCode ?? 200));
                return r;
            },
            (e: any) => {
                log(e?.meta?.statusCode ? String(e.meta.statusCode) : String(e?.name ?? "error"));
                throw e;
            });
    };
    proto[WRAPPED] = true;
}

function patchTls(): void {
    const t = tls as unknown as Record<string | symbol, unknown>;
    if (t[WRAPPED]) return;
    const orig = tls.connect;
    (t as { connect: unknown }).connect = function (this: unknown, ...args: unknown[]) {
        const ctx = als.getStore();
        const o = (typeof args[0] === "object" && args[0] !== null ? args[0] : {}) as { host?: string; port?: number };
        write({ k: "tls", pid: process.pid, res: ctx?.res ?? "-", hook: ctx?.hook ?? "-", host: String(o.host ?? "?"), port: Number(o.port ?? 0), raw: !ctx?.inTransport, t0: Date.now() });
        return (orig as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
    };
    t[WRAPPED] = true;
}

/**
 * Starts logging to `file`: patches the transport and `tls`, and wraps hook modules as they are
 * required by package name. Called on preload when `$PULUMI_ES_REMOTE_BENCH_LOG` is set.
 */
export function install(file: string): void {
    logFile = file;
    patchTls();
    const M = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown; [WRAPPED]?: boolean };
    if (M[WRAPPED]) return;
    const load = M._load;
    M._load = function (this: unknown, request: string, parent: unknown, isMain: boolean) {
        const mod = load.call(this, request, parent, isMain);
        if (request === "@elastic/transport") {
            patchTransport(mod as { Transport?: { prototype: Record<string, unknown> } });
        } else {
            const m = /^pulumi-es-remote\/provider\/([A-Za-z]+)$/.exec(request);
            if (m) wrapHooks(m[1], mod as Record<string, unknown>);
        }
        return mod;
    };
    M[WRAPPED] = true;
}

/** Reads a log written by {@link install} (missing file: no events). */
export function readLog(file: string): LogEvent[] {
    let text = "";
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        return [];
    }
    return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as LogEvent);
}

if (process.env.PULUMI_ES_REMOTE_BENCH_LOG) {
    install(process.env.PULUMI_ES_REMOTE_BENCH_LOG);
}
