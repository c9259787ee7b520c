/**
 * The one place an Elasticsearch client is built. Every hook that talks to a cluster goes through
 * {@link createClient}, so TLS verification, credentials, timeouts and retries are decided here.
 */
import { Client, ClientOptions, errors } from "@elastic/elasticsearch";
import * as crypto from "crypto";
import * as net from "net";
import * as tls from "tls";
import { ClusterUnreachableError } from "./errors";
import { peerCertificates } from "./tls";
import { knownDown, markDown, markUp, Suspect, suspectDown, unreachableAgain } from "./facts";
import type { CheckFailure } from "./validation";

export type { CheckFailure } from "./validation";

/**
 * How to reach one Elasticsearch cluster over HTTPS. Plain interface, unwrapped: the shape the
 * provider receives after the engine resolved the user's inputs.
 */
export interface ClusterConnection {
    /** One or more URLs of the cluster's HTTP layer, e.g. `https://es1.example:9200`. */
    urls: string[];
    /** Basic-auth user name; with `password`. Excludes `apiKey`. */
    username?: string;
    /** Basic-auth password (secret). */
    password?: string;
    /** An Elasticsearch API key, the base64 `id:api_key` form (secret). Excludes `username`/`password`. */
    apiKey?: string;
    /** PEM of the CA that signed the cluster's HTTP certificate. */
    caPem?: string;
    /** SHA-256 fingerprint of the cluster's HTTP CA (hex, colons optional), instead of `caPem`. */
    caFingerprint?: string;
    /** Skip TLS verification of the HTTP layer. Never the default; warns on every run. */
    insecure?: boolean;
    /** Per-request timeout in seconds. Default 30. */
    requestTimeoutSeconds?: number;
    /** Retries of a request that failed with 429/502/503/504 or a connection error. Default 3. */
    maxRetries?: number;
}


/**
 * Validates a connection. Returns failures naming `<prefix>.<property>`; never throws, never
 * touches the network.
 * @internal
 */
export function validateConnection(prefix: string, c: unknown): CheckFailure[] {
    const f: CheckFailure[] = [];
    if (c === undefined || c === null || typeof c !== "object" || Array.isArray(c)) {
        return [{ property: prefix, reason: "a cluster connection is required: { urls, username/password or apiKey, caPem }" }];
    }
    const conn = c as Record<string, unknown>;
    const urls = conn.urls;
    if (!Array.isArray(urls) || urls.length === 0) {
        f.push({ property: `${prefix}.urls`, reason: "give at least one URL of the cluster's HTTP layer, e.g. https://localhost:9200" });
    } else {
        urls.forEach((u, i) => {
            let parsed: URL | undefined;
            try {
                parsed = typeof u === "string" ? new URL(u) : undefined;
            } catch {
                parsed = undefined;
            }
            if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
                f.push({ property: `${prefix}.urls[${i}]`, reason: `${typeof u === "string" ? JSON.stringify(redactUrl(u)) : JSON.stringify(u) ?? String(u)} is not an http(s) URL; write it like https://host:9200` });
            } else if (parsed.username !== "" || parsed.password !== "") {
                // A password in a URL is printed wherever the URL is (messages, logs, the state's
                // plain inputs): refuse it, and never echo it.
                f.push({ property: `${prefix}.urls[${i}]`, reason: `${JSON.stringify(redactUrl(u as string))} carries credentials in the URL, where they would be printed in messages; give them as ${prefix}.username/password (or ${prefix}.apiKey) instead` });
            }
        });
    }
    for (const k of ["username", "password", "apiKey"] as const) {
        const v = conn[k];
        if (v !== undefined && (typeof v !== "string" || v === "")) {
            f.push({ property: `${prefix}.${k}`, reason: `must be a non-empty string${k === "username" ? "" : " (it is never shown)"}` });
        }
    }
    if (conn.apiKey !== undefined && (conn.username !== undefined || conn.password !== undefined)) {
        f.push({ property: `${prefix}.apiKey`, reason: "give either apiKey or username/password, not both" });
    }
    if ((conn.username === undefined) !== (conn.password === undefined)) {
        f.push({ property: conn.username === undefined ? `${prefix}.username` : `${prefix}.password`, reason: "username and password go together" });
    }
    if (conn.caPem !== undefined && conn.caFingerprint !== undefined) {
        f.push({ property: `${prefix}.caFingerprint`, reason: "give either caPem or caFingerprint, not both" });
    }
    if (conn.caPem !== undefined) {
        try {
            if (typeof conn.caPem !== "string") {
                throw new Error("not a string");
            }
            new crypto.X509Certificate(conn.caPem);
            if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(conn.caPem)) {
                f.push({ property: `${prefix}.caPem`, reason: "also holds a private key: give only the CA certificate (-----BEGIN CERTIFICATE-----); a client never needs the CA's key" });
            }
        } catch {
            f.push({ property: `${prefix}.caPem`, reason: "is not a PEM certificate (expected -----BEGIN CERTIFICATE-----)" });
        }
    }
    if (conn.caFingerprint !== undefined && (typeof conn.caFingerprint !== "string" || !/^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/.test(conn.caFingerprint))) {
        f.push({ property: `${prefix}.caFingerprint`, reason: "expected a SHA-256 fingerprint: 64 hex digits, colons optional" });
    }
    // Only a real boolean: a string such as "false" (what Config.get returns) is truthy and would
    // silently turn verification off.
    if (conn.insecure !== undefined && typeof conn.insecure !== "boolean") {
        f.push({ property: `${prefix}.insecure`, reason: `must be true or false, not ${JSON.stringify(conn.insecure)} (use config.getBoolean for a config value)` });
    }
    const t = conn.requestTimeoutSeconds;
    if (t !== undefined && (typeof t !== "number" || !Number.isFinite(t) || t <= 0)) {
        // 0 would mean no timeout at all in the transport: a stuck node would hang the update.
        f.push({ property: `${prefix}.requestTimeoutSeconds`, reason: `must be a number of seconds > 0, not ${JSON.stringify(t)}` });
    }
    const r = conn.maxRetries;
    if (r !== undefined && (typeof r !== "number" || !Number.isInteger(r) || r < 0 || r > MAX_RETRIES_LIMIT)) {
        f.push({ property: `${prefix}.maxRetries`, reason: `must be a whole number from 0 to ${MAX_RETRIES_LIMIT}, not ${JSON.stringify(r)}` });
    }
    return f;
}

/** @internal The most retries a connection may ask for: with the backoff capped at 8 s, about a minute of retrying. */
export const MAX_RETRIES_LIMIT = 10;

/** @internal `url` with any user name and password replaced by `***`. */
export function redactUrl(url: string): string {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, "$1***@");
}

/**
 * Warnings for a connection that does not verify who it talks to: `insecure: true`, or a plain
 * `http://` URL (no TLS at all: the credentials cross the network in clear text). The hooks log
 * them on every run (in `check`, which runs for every preview and update).
 * @internal
 */
export function insecureWarnings(prefix: string, c: unknown): string[] {
    if (c === null || typeof c !== "object") {
        return [];
    }
    const conn = c as Partial<ClusterConnection>;
    const out: string[] = [];
    if (conn.insecure === true) {
        out.push(`${prefix}.insecure is set: the cluster's HTTP certificate is NOT verified, so its credentials could be sent to an impostor. Set ${prefix}.caPem or ${prefix}.caFingerprint instead`);
    }
    const plain = (Array.isArray(conn.urls) ? conn.urls : []).filter((u) => typeof u === "string" && /^http:\/\//i.test(u));
    if (plain.length) {
        out.push(`${prefix}.urls ${plain.map((u) => redactUrl(u)).join(", ")} use plain http: no TLS, the credentials cross the network in clear text. Use https`);
    }
    return out;
}

/** @internal Counts requests per client, for the benchmarks and tests of API-call economy. */
export interface RequestLog {
    method: string;
    path: string;
}

/** @internal Options for {@link createClient}. */
export interface CreateClientOptions {
    /** Name of the cluster in messages, e.g. `local` or `remote`. */
    label: string;
    /** Called for every request sent (after retries count separately). */
    onRequest?: (r: RequestLog) => void;
}

/**
 * Builds a client for one cluster. TLS verification is on unless `insecure` is set explicitly.
 * @internal
 */
export function createClient(conn: ClusterConnection, opts: CreateClientOptions): Client {
    const requestTimeout = (conn.requestTimeoutSeconds ?? 30) * 1000;
    const options: ClientOptions = {
        nodes: conn.urls,
        requestTimeout,
        // callCluster retries (429 too, and with backoff); retrying in the transport as well would
        // multiply the bound.
        maxRetries: 0,
        sniffOnStart: false,
        compression: false,
    };
    // `timeout` in the TLS options is undici's connect timeout (default 10 s, retried as a connection
    // error): without it a peer that accepts TCP and never answers took (maxRetries + 1) × 10 s,
    // whatever requestTimeoutSeconds said (measured by bench/unreachable.ts).
    if (conn.insecure === true) {
        options.tls = { rejectUnauthorized: false, timeout: requestTimeout } as ClientOptions["tls"];
    } else if (conn.caFingerprint) {
        // Not the transport's caFingerprint option: it only works with verification off (a private
        // CA fails the handshake first) and then checks the fingerprint of the top of the chain the
        // server sends, without checking that the server's certificate was signed by it.
        options.agent = { connect: fingerprintConnector(conn.caFingerprint, requestTimeout) } as ClientOptions["agent"];
    } else {
        options.tls = (conn.caPem ? { ca: conn.caPem, rejectUnauthorized: true, timeout: requestTimeout } : { rejectUnauthorized: true, timeout: requestTimeout }) as ClientOptions["tls"];
    }
    if (conn.apiKey) {
        options.auth = { apiKey: conn.apiKey };
    } else if (conn.username) {
        options.auth = { username: conn.username, password: conn.password ?? "" };
    }
    const client = new Client(options);
    if (opts.onRequest) {
        const onRequest = opts.onRequest;
        client.diagnostic.on("request", (_err, ev) => {
            const p = ev?.meta?.request?.params;
            if (p) {
                onRequest({ method: p.method, path: p.path });
            }
        });
    }
    return client;
}

/**
 * The clients of this process, one per cluster connection: every hook that talks to the same
 * cluster with the same credentials shares one client, i.e. one pool of keep-alive connections,
 * so a `pulumi up` of many resources makes one TLS handshake per cluster instead of one per hook.
 * Keys hash the credentials (never stored in clear). Closed when the process ends.
 */
const pool = new Map<string, Client>();
let closeOnExit = false;

function poolKey(conn: ClusterConnection): string {
    return crypto.createHash("sha256").update(JSON.stringify([
        conn.urls, conn.username ?? null, conn.password ?? null, conn.apiKey ?? null, conn.caPem ?? null,
        conn.caFingerprint ?? null, conn.insecure ?? null, conn.requestTimeoutSeconds ?? null,
    ])).digest("hex");
}

/**
 * The shared client for `conn` (built on first use). Callers never close it: {@link closeClients}
 * does, once, when the process ends.
 * @internal
 */
export function clientFor(conn: ClusterConnection): Client {
    const key = poolKey(conn);
    let client = pool.get(key);
    if (!client) {
        client = createClient(conn, { label: "pooled" });
        pool.set(key, client);
        if (!closeOnExit) {
            // Once per process (tests empty the pool many times; a listener per refill piled up).
            closeOnExit = true;
            process.on("beforeExit", () => void closeClients());
        }
    }
    return client;
}

/** Closes every pooled client (their sockets); the next {@link clientFor} builds new ones. @internal */
export async function closeClients(): Promise<void> {
    const all = [...pool.values()];
    pool.clear();
    await Promise.allSettled(all.map((c) => c.close()));
}

/** How many pooled clients this process holds (tests, benchmarks). @internal */
export function pooledClientCount(): number {
    return pool.size;
}

/** What undici hands a custom connector. */
interface ConnectOptions {
    hostname: string;
    port: string | number;
    servername?: string;
}

/** `AB:cd:...` or `abcd...` → `ABCD...`. */
function normalizeFingerprint(fp: string): string {
    return fp.replace(/:/g, "").toUpperCase();
}

/**
 * A connector that trusts exactly the CA whose SHA-256 fingerprint is `fingerprint`. The first
 * connection reads the chain the server presents (no request is sent on it) and takes the CA
 * certificate with that fingerprint out of it; every connection is then made with that CA as the
 * only trust anchor and full verification (signatures, validity, host name), as with `caPem`.
 * A server that does not send its CA (an HTTP certificate file with the leaf alone) cannot be
 * verified by fingerprint: that fails with a message saying to give `caPem`.
 */
function fingerprintConnector(fingerprint: string, timeoutMs: number) {
    const want = normalizeFingerprint(fingerprint);
    let caPem: Promise<string> | undefined;
    return (opts: ConnectOptions, callback: (err: Error | null, socket: tls.TLSSocket | null) => void): void => {
        const host = opts.hostname.replace(/^\[|\]$/g, "");
        const port = Number(opts.port) || 443;
        const servername = opts.servername || (net.isIP(host) ? undefined : host);
        caPem ??= caFromChain(host, port, servername, want, timeoutMs);
        caPem.then((ca) => {
            let done = false;
            const socket = tls.connect({ host, port, servername, ca, rejectUnauthorized: true, ALPNProtocols: ["http/1.1"] });
            socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`TLS handshake with ${host}:${port} timed out`)));
            socket.once("secureConnect", () => {
                socket.setTimeout(0);
                if (!done) {
                    done = true;
                    callback(null, socket);
                }
            });
            socket.once("error", (e) => {
                if (!done) {
                    done = true;
                    callback(e, null);
                }
            });
        }, (e: Error) => {
            caPem = undefined;
            callback(e, null);
        });
    };
}

/** The CA certificate (PEM) with SHA-256 fingerprint `want` from the chain `host:port` presents. */
async function caFromChain(host: string, port: number, servername: string | undefined, want: string, timeoutMs: number): Promise<string> {
    // Verification off for this one handshake only: it reads the chain, sends nothing, and
    // what it finds is trusted only if its fingerprint is the one given.
    const r = await peerCertificates(host, port, { servername, timeoutMs });
    if (!r.secure) throw r.error ?? new Error(`no TLS handshake with ${host}:${port}`);
    const chain = r.chain.map((c) => new crypto.X509Certificate(c.raw));
    const ca = chain.find((x) => normalizeFingerprint(x.fingerprint256) === want);
    if (!ca) {
        throw new Error(`the certificate chain ${host}:${port} presents (${chain.map((x) => `"${x.subject.replace(/\n/g, ", ")}"`).join(" ← ") || "empty"}) holds no certificate with the caFingerprint given; ` +
            `Elasticsearch sends its CA only when its HTTP certificate file holds the whole chain: give caPem (the CA's certificate) instead`);
    }
    if (!ca.ca) {
        throw new Error(`the certificate with the caFingerprint given ("${ca.subject.replace(/\n/g, ", ")}") is not a CA certificate; give the fingerprint of the CA that signed the HTTP certificate`);
    }
    return ca.toString();
}

/** @internal How {@link callCluster} retries a request that failed on the way, not on its merits. */
export interface RetryPolicy {
    /** Retries after the first attempt (the connection's `maxRetries`). */
    maxRetries: number;
    /** The first backoff in ms; each next one doubles, up to `maxDelayMs`. */
    baseDelayMs: number;
    /** The longest single backoff in ms (a `Retry-After` longer than this is cut to it). */
    maxDelayMs: number;
    /** Waits `ms`; tests replace it to record the backoffs instead of sleeping. */
    sleep: (ms: number) => Promise<void>;
    /** A number in [0, 1) for the jitter. */
    random: () => number;
    /**
     * Fail at once when the cluster was found unreachable in this process moments ago (see
     * provider/core/facts.ts), instead of waiting for the timeout again. Default true; a caller
     * that polls a node it expects to come back (a restart) passes false.
     */
    failFastWhenDown: boolean;
}

/**
 * Statuses retried with backoff. 429 is Elasticsearch's back-pressure (a full thread pool queue,
 * `es_rejected_execution_exception`, or a tripped circuit breaker): the request was not executed
 * and is safe to repeat. 502/503/504 come from a node that is starting or has no master yet
 * (`master_not_discovered_exception`, cluster blocks) or from a proxy in front of it. The
 * transport's own retries cover 502/503/504 but not 429, and without any pause in between, so we
 * turn them off in {@link createClient} and retry here. Every request this package sends is
 * idempotent (GETs and PUTs of whole documents/settings), so a repeat never does anything twice.
 * @internal
 */
export const RETRIED_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);
/** @internal Default of {@link ClusterConnection.maxRetries}. */
export const DEFAULT_MAX_RETRIES = 3;
/** @internal The first backoff; with 3 retries the waits are about 0.5, 1 and 2 s (with jitter: 0.25–0.5, 0.5–1, 1–2 s). */
export const RETRY_BASE_DELAY_MS = 500;
/** @internal The longest single backoff. */
export const RETRY_MAX_DELAY_MS = 8000;

/** @internal The retry policy of a connection. */
export function retryPolicy(conn: ClusterConnection, overrides: Partial<RetryPolicy> = {}): RetryPolicy {
    return {
        maxRetries: typeof conn.maxRetries === "number" && Number.isFinite(conn.maxRetries) && conn.maxRetries >= 0 ? Math.floor(conn.maxRetries) : DEFAULT_MAX_RETRIES,
        baseDelayMs: RETRY_BASE_DELAY_MS,
        maxDelayMs: RETRY_MAX_DELAY_MS,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        random: Math.random,
        failFastWhenDown: true,
        ...overrides,
    };
}

/**
 * The wait before retry number `retry` (1-based): exponential with "equal jitter" (half fixed, half
 * random, the transport's own formula), i.e. within [c/2, c) for c = min(maxDelayMs, baseDelayMs ·
 * 2^(retry-1)). A server's `Retry-After` (seconds) is honoured when longer, up to `maxDelayMs`.
 * @internal
 */
export function backoffMs(retry: number, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs" | "random">, retryAfterSeconds?: number): number {
    const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
    const jittered = ceiling / 2 + policy.random() * (ceiling / 2);
    const asked = retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0
        ? Math.min(policy.maxDelayMs, retryAfterSeconds * 1000)
        : 0;
    return Math.round(Math.max(jittered, asked));
}

/** Why `err` is worth another attempt, or `undefined`. */
function retryReason(err: unknown): { status?: number; connection?: boolean; retryAfter?: number } | undefined {
    if (err instanceof errors.ResponseError && RETRIED_STATUSES.has(err.statusCode ?? 0)) {
        const h = (err.headers ?? {}) as Record<string, string | string[] | undefined>;
        const ra = Number(Array.isArray(h["retry-after"]) ? h["retry-after"][0] : h["retry-after"]);
        return { status: err.statusCode, retryAfter: Number.isFinite(ra) ? ra : undefined };
    }
    // A refused or reset connection (a node restarting) is retried; a certificate the client does
    // not trust is not: it would fail the same way every time.
    if (err instanceof errors.ConnectionError && !TLS_ERROR.test(err.message)) {
        return { connection: true };
    }
    return undefined;
}

/** Messages of TLS verification failures (Node's and the transport's fingerprint check). */
const TLS_ERROR = /certificate|self[- ]signed|unable to verify|fingerprint|CERT_|DEPTH_ZERO/i;

/** @internal What {@link asClusterError} knows about the attempts made. */
export interface Attempts {
    /** Requests sent, the first one included. */
    count: number;
    /** Time from the first request to the last answer, in ms. */
    elapsedMs: number;
    /** Some attempt may have reached the cluster without an answer coming back (reset, timeout). */
    outcomeUnknown?: boolean;
}

/** Connection errors that prove the request never reached a node. */
const NEVER_SENT = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH/;

/**
 * True if `err` leaves open whether the cluster executed the request: the connection broke or
 * timed out after the request was sent. A refused connection, a TLS failure or an HTTP answer
 * settle the question.
 */
function outcomeUnknown(err: unknown): boolean {
    if (err instanceof errors.TimeoutError) {
        return true;
    }
    return err instanceof errors.ConnectionError && !NEVER_SENT.test(err.message) && !TLS_ERROR.test(err.message);
}

/**
 * Runs `fn` (one request of `conn`'s client), retrying with backoff what failed on the way (HTTP
 * 429/502/503/504, a refused or reset connection) up to `maxRetries` times, and turns what still
 * fails into a {@link ClusterUnreachableError} that names the cluster, its URLs and what was being
 * done. An answer that is not JSON (an HTML page from a proxy, a wrong URL) is refused the same
 * way. Elasticsearch's own refusals (4xx with an Elasticsearch error body) pass through unchanged.
 * `policy` overrides parts of the retry policy (tests).
 * @internal
 */
export async function callCluster<T>(label: string, conn: ClusterConnection, what: string, fn: () => Promise<T>, policy?: Partial<RetryPolicy>): Promise<T> {
    const p = retryPolicy(conn, policy);
    if (p.failFastWhenDown) {
        const d = await knownDown(conn);
        if (d) {
            throw unreachableAgain(label, where(label, conn), what, d);
        }
    }
    const urlCount = Math.max(1, (conn.urls ?? []).length);
    const started = Date.now();
    let unknown = false;
    // Set while this request's first failure on the way is retried: requests to the same cluster
    // failing or starting meanwhile wait for the outcome (facts.ts) instead of retrying on their own.
    let suspect: Suspect | undefined;
    let endedDown = false;
    try {
        for (let retry = 0; ; retry++) {
            let result: T;
            try {
                result = await fn();
            } catch (err) {
                unknown ||= outcomeUnknown(err);
                const why = retryReason(err);
                if (why === undefined || retry >= p.maxRetries) {
                    const e = asClusterError(label, conn, what, err, { count: retry + 1, elapsedMs: Date.now() - started, outcomeUnknown: unknown });
                    if (unreachable(err)) {
                        endedDown = true;
                        markDown(conn, e);
                    }
                    throw e;
                }
                if (why.connection && unreachable(err) && p.failFastWhenDown && !suspect?.owner) {
                    const s = suspectDown(conn);
                    if (s.owner) {
                        suspect = s;
                    } else if (await s.outcome) {
                        // Another request to this cluster retried until it gave up: so do we.
                        throw asClusterError(label, conn, what, err, { count: retry + 1, elapsedMs: Date.now() - started, outcomeUnknown: unknown });
                    } else {
                        continue; // it answered again meanwhile
                    }
                }
                // Like the transport: the other URLs are tried at once, backoff starts when all failed.
                const wait = why.connection && retry + 1 < urlCount ? 0 : backoffMs(retry + 1, p, why.retryAfter);
                if (wait > 0) {
                    await p.sleep(wait);
                }
                continue;
            }
            markUp(conn);
            // With `meta: true` the answer is a TransportResult around the body.
            const body = isTransportResult(result) ? result.body : result;
            if (typeof body === "string") {
                throw new ClusterUnreachableError(
                    `${where(label, conn)} gave an answer that is not Elasticsearch's JSON while trying to ${what}: ${snippet(body)}. ` +
                    `Check that ${label}.urls point at the cluster's HTTP layer (not a proxy's, load balancer's or another service's page)`,
                    { cluster: label });
            }
            return result;
        }
    } finally {
        suspect?.settle(endedDown);
    }
}

/**
 * True if `err` says the cluster cannot be reached at all: no connection could be made (refused,
 * no route, unknown host, connect timeout). Not a request that timed out on an open connection (a
 * busy cluster, seen with writes under load: the next request may well be answered), not a
 * connection reset (the node is there; one request may be the problem), not a certificate the
 * client refuses (a setting to fix, not an outage), not an HTTP answer.
 */
function unreachable(err: unknown): boolean {
    return err instanceof errors.ConnectionError && !TLS_ERROR.test(err.message) && (NEVER_SENT.test(err.message) || CONNECT_TIMEOUT.test(err.message));
}

/** undici's connect timeout (a peer that accepts TCP and never completes TLS, a dropped SYN). */
const CONNECT_TIMEOUT = /Connect Timeout|UND_ERR_CONNECT_TIMEOUT|ETIMEDOUT|TLS handshake with .* timed out/i;

function isTransportResult(r: unknown): r is { body: unknown } {
    return r !== null && typeof r === "object" && "body" in r && "statusCode" in r && "meta" in r;
}

function where(label: string, conn: ClusterConnection): string {
    return `${label} cluster (${(Array.isArray(conn.urls) ? conn.urls : []).map((u) => redactUrl(String(u))).join(", ")})`;
}

/** The first words of a text answer (tags and whitespace removed), quoted, for a message. */
function snippet(body: string): string {
    const text = body.replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ").replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
    return text.length === 0 ? "an empty body" : JSON.stringify(text.length > 160 ? `${text.slice(0, 160)}…` : text);
}

function tries(a: Attempts | undefined): string {
    return a && a.count > 1 ? ` (${a.count} attempts over ${(a.elapsedMs / 1000).toFixed(1)} s)` : "";
}

/** @internal */
export function asClusterError(label: string, conn: ClusterConnection, what: string, err: unknown, attempts?: Attempts): Error {
    const at = where(label, conn);
    if (err instanceof errors.ResponseError) {
        const status = err.statusCode;
        const body = err.body as unknown;
        if (status === 401) {
            return new ClusterUnreachableError(
                `${at} refused the credentials while trying to ${what} (HTTP 401): check ${label}.username/password or ${label}.apiKey`,
                { cluster: label, status }, { cause: err });
        }
        if (typeof body === "string" || body === undefined || body === null) {
            return new ClusterUnreachableError(
                `${at} answered HTTP ${status} with ${typeof body === "string" ? `a page that is not from Elasticsearch: ${snippet(body)}` : "no body"} while trying to ${what}${tries(attempts)}. ` +
                (RETRIED_STATUSES.has(status ?? 0)
                    ? "The cluster (or a proxy in front of it) is overloaded or restarting: run the command again later, or raise the connection's maxRetries"
                    : `Check that ${label}.urls point at the cluster's HTTP layer`),
                { cluster: label, status, attempts: attempts?.count }, { cause: err });
        }
        if (status === 403) {
            const reason = (body as { error?: { reason?: string } } | undefined)?.error?.reason ?? err.message;
            return new ClusterUnreachableError(
                `${at} denied the request to ${what} (HTTP 403): ${reason}. The user needs the 'manage' cluster privilege (and 'manage_security' for roles and users)`,
                { cluster: label, status }, { cause: err });
        }
        if (RETRIED_STATUSES.has(status ?? 0)) {
            const e = (body as { error?: { type?: string; reason?: string } | string }).error;
            const reason = typeof e === "string" ? e : e?.reason ?? e?.type ?? err.message;
            return new ClusterUnreachableError(
                `${at} answered HTTP ${status} (${status === 429 ? "too many requests" : "unavailable"}) while trying to ${what}${tries(attempts)}: ${reason}. ` +
                `The cluster is overloaded or restarting: run the command again later, or raise the connection's maxRetries`,
                { cluster: label, status, attempts: attempts?.count }, { cause: err });
        }
        return err;
    }
    if (err instanceof errors.ProductNotSupportedError) {
        return new ClusterUnreachableError(`${at} did not answer as Elasticsearch while trying to ${what} (no 'X-Elastic-Product: Elasticsearch' header): ` +
            `check that ${label}.urls point at the cluster's HTTP layer`,
            { cluster: label }, { cause: err });
    }
    if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError || err instanceof errors.NoLivingConnectionsError) {
        const tlsHint = TLS_ERROR.test(err.message)
            ? ` — the cluster's HTTP certificate is not trusted: set ${label}.caPem (or ${label}.caFingerprint) to the CA that signed it`
            : " — check that the cluster is running and the URL is right";
        return new ClusterUnreachableError(`${at} could not be reached while trying to ${what}${tries(attempts)}: ${err.message}${tlsHint}`,
            { cluster: label, attempts: attempts?.count, outcomeUnknown: attempts?.outcomeUnknown ?? outcomeUnknown(err) }, { cause: err });
    }
    if (err instanceof errors.DeserializationError || err instanceof errors.ElasticsearchClientError) {
        return new ClusterUnreachableError(`${at} gave an unexpected answer while trying to ${what}: ${err.message}`,
            { cluster: label }, { cause: err });
    }
    return err instanceof Error ? err : new Error(String(err));
}
