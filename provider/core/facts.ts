/**
 * What this provider process already knows about a cluster, so no hook asks a cluster twice for a
 * fact that cannot have changed, and no hook waits again for a cluster already found unreachable.
 *
 * - {@link cachedFact}: a per-process cache of facts (a cluster's UUID, its nodes and versions, its
 *   certificates, a remote cluster's settings …), keyed by a hash of the connection (URLs,
 *   credentials, TLS settings; never stored in clear) and the fact's name. Concurrent callers share
 *   one request. A fact that may change is read with a `maxAgeMs`, and whoever changes it (a link's
 *   settings write, a certificate delivery) forgets it: {@link forgetFact}, {@link forgetFacts}.
 *   A failed read is never cached.
 * - The "cluster is down" memo, used by `callCluster` for every request: once a cluster failed as
 *   unreachable (no connection could be made: refused, no route, connect timeout, after the
 *   retries; a request timing out on an open connection is a busy cluster, not a down one), later requests
 *   to it fail at once for {@link DOWN_MEMO_MS}, naming the first failure, and requests that start
 *   while a first failure is still being retried wait for its outcome instead of running their own
 *   retries. So a `refresh` of 30 links with one remote down costs one timeout (with retries) for
 *   that cluster, not one per resource.
 *
 * One process is one `pulumi preview`/`up`/`refresh`/`destroy` (the dynamic-provider process): the
 * cache dies with it.
 */
import * as crypto from "crypto";
import type { ClusterConnection } from "./client";
import { ClusterUnreachableError } from "./errors";

// ------------------------------------------------------------------------------------ the keys

/**
 * The key of a connection: URLs, credentials and TLS settings, hashed (credentials are part of it:
 * another user may be shown other answers; the hash keeps them out of memory dumps and logs).
 * @internal
 */
export function connectionKey(conn: ClusterConnection): string {
    return crypto.createHash("sha256").update(JSON.stringify([
        conn.urls, conn.username ?? null, conn.password ?? null, conn.apiKey ?? null, conn.caPem ?? null,
        conn.caFingerprint ?? null, conn.insecure ?? null,
    ])).digest("hex");
}

/** The key of a cluster for the down memo: its URLs only (a cluster down is down for every user). */
function clusterKey(conn: ClusterConnection): string {
    const urls = Array.isArray(conn.urls) ? [...conn.urls].map(String).sort() : [];
    return crypto.createHash("sha256").update(JSON.stringify(urls)).digest("hex");
}

// ----------------------------------------------------------------------------------- the facts

interface Entry {
    at: number;
    value: Promise<unknown>;
    conn: string;
    tags: readonly string[];
}

const facts = new Map<string, Entry>();
let reads = 0;

/**
 * The tag of facts a certificate or trust-file delivery can change (what a node presents and
 * trusts): a process that delivered one forgets them all, on every cluster (a file path does not say
 * which cluster reads it). @internal
 */
export const CERTIFICATE_FACTS = "certificates";

/** Options of {@link cachedFact}. */
export interface FactOptions {
    /** Reuse a value at most this old (ms); default: for the life of the process (facts that never change, e.g. a cluster's UUID). */
    maxAgeMs?: number;
    /** Groups to forget together, e.g. `certificates` after a delivery. */
    tags?: readonly string[];
    /**
     * `connection` (default): the fact is per URLs + credentials + TLS settings (what a user may
     * see). `cluster`: per URLs only, for facts no credential changes (the cluster's UUID).
     */
    scope?: "connection" | "cluster";
    /** Keep a value read only if this says so (e.g. not a UUID the cluster has not made yet). */
    keepIf?: (value: unknown) => boolean;
}

function factKey(conn: ClusterConnection, name: string, scope: FactOptions["scope"]): { key: string; conn: string } {
    const ck = scope === "cluster" ? `cluster:${clusterKey(conn)}` : connectionKey(conn);
    return { key: `${ck}\u0000${name}`, conn: ck };
}

/**
 * The fact `name` of the cluster behind `conn`: the value read before in this process (shared while
 * the first read is in flight), or `read()`'s. A read that fails is not kept.
 * @internal
 */
export function cachedFact<T>(conn: ClusterConnection, name: string, read: () => Promise<T>, opts: FactOptions = {}): Promise<T> {
    const { key, conn: ck } = factKey(conn, name, opts.scope);
    const hit = facts.get(key);
    if (hit && (opts.maxAgeMs === undefined || Date.now() - hit.at <= opts.maxAgeMs)) {
        return hit.value as Promise<T>;
    }
    reads++;
    const value = read();
    const entry: Entry = { at: Date.now(), value, conn: ck, tags: opts.tags ?? [] };
    facts.set(key, entry);
    value.then((v) => {
        if (opts.keepIf && !opts.keepIf(v) && facts.get(key) === entry) facts.delete(key);
    }, () => {
        if (facts.get(key) === entry) facts.delete(key);
    });
    return value;
}

/**
 * Records a fact learnt on the way (e.g. a probe that read the UUID with other things), so a later
 * {@link cachedFact} of the same name does not ask again.
 * @internal
 */
export function rememberFact<T>(conn: ClusterConnection, name: string, value: T, opts: Pick<FactOptions, "tags" | "scope"> = {}): void {
    const { key, conn: ck } = factKey(conn, name, opts.scope);
    facts.set(key, { at: Date.now(), value: Promise.resolve(value), conn: ck, tags: opts.tags ?? [] });
}

/** Forgets one fact of one connection (its owner just changed it). @internal */
export function forgetFact(conn: ClusterConnection, name: string, scope?: FactOptions["scope"]): void {
    facts.delete(factKey(conn, name, scope).key);
}

/**
 * Forgets facts: of one connection, or with one tag (e.g. every cluster's `certificates` after a
 * certificate was delivered anywhere), or all of them.
 * @internal
 */
export function forgetFacts(filter: { conn?: ClusterConnection; tag?: string } = {}): void {
    const cks = filter.conn ? [connectionKey(filter.conn), `cluster:${clusterKey(filter.conn)}`] : undefined;
    for (const [k, e] of facts) {
        if ((cks === undefined || cks.includes(e.conn)) && (filter.tag === undefined || e.tags.includes(filter.tag))) {
            facts.delete(k);
        }
    }
}

/** How many reads {@link cachedFact} let through so far (tests, benchmarks). @internal */
export function factReads(): number {
    return reads;
}

// ------------------------------------------------------------------------ the down memo

/** How long a cluster found unreachable is failed at once, ms. Short, so a node back from a restart is reached again within one operation. */
export const DOWN_MEMO_MS = 30_000;

interface Down {
    at: number;
    /** The failure that found it unreachable. */
    error: Error;
}

const down = new Map<string, Down>();
/** Clusters whose first failure is being retried right now: resolves true if it ended unreachable. */
const suspects = new Map<string, Promise<boolean>>();

/**
 * The failure that found the cluster of `conn` unreachable, if that was less than
 * {@link DOWN_MEMO_MS} ago. Waits first for a failure of it being retried right now.
 * @internal
 */
export async function knownDown(conn: ClusterConnection): Promise<Down | undefined> {
    const key = clusterKey(conn);
    const pending = suspects.get(key);
    if (pending) {
        await pending;
    }
    const d = down.get(key);
    if (d && Date.now() - d.at > DOWN_MEMO_MS) {
        down.delete(key);
        return undefined;
    }
    return d;
}

/** What {@link suspectDown} gives: the owner retries and settles; the others wait for `outcome`. */
export interface Suspect {
    /** True for the first request that failed: it goes on retrying and must call `settle`. */
    owner: boolean;
    /** Resolves true if the owner's retries ended with the cluster unreachable. */
    outcome: Promise<boolean>;
    /** The owner's verdict (a no-op for the others). */
    settle(endedDown: boolean): void;
}

/**
 * Says that a request to the cluster of `conn` failed on the way (refused, reset, connect timeout)
 * and would be retried. The first such request owns the suspicion and retries; requests failing
 * meanwhile wait for its outcome instead of retrying too, and so do requests starting meanwhile
 * ({@link knownDown}).
 * @internal
 */
export function suspectDown(conn: ClusterConnection): Suspect {
    const key = clusterKey(conn);
    const pending = suspects.get(key);
    if (pending) {
        return { owner: false, outcome: pending, settle: () => undefined };
    }
    let resolve!: (b: boolean) => void;
    const outcome = new Promise<boolean>((r) => (resolve = r));
    suspects.set(key, outcome);
    return {
        owner: true,
        outcome,
        settle: (endedDown: boolean) => {
            if (suspects.get(key) === outcome) suspects.delete(key);
            resolve(endedDown);
        },
    };
}

/** Remembers that the cluster of `conn` is unreachable, found by `error`. @internal */
export function markDown(conn: ClusterConnection, error: Error): void {
    const key = clusterKey(conn);
    if (!down.has(key)) {
        down.set(key, { at: Date.now(), error });
    }
}

/** The cluster of `conn` answered: it is not down. @internal */
export function markUp(conn: ClusterConnection): void {
    down.delete(clusterKey(conn));
}

/** Forgets every cluster found unreachable (tests that restart a node within one process). @internal */
export function forgetUnreachable(): void {
    down.clear();
}

/**
 * The error of a request not sent because its cluster was found unreachable `d.at`: the same class
 * as the first failure's (a {@link ClusterUnreachableError}), that failure as its `cause`, and
 * `outcomeUnknown: false` (nothing was sent).
 * @internal
 */
export function unreachableAgain(label: string, where: string, what: string, d: Down): ClusterUnreachableError {
    const ago = ((Date.now() - d.at) / 1000).toFixed(1);
    return new ClusterUnreachableError(
        `${where} could not be reached while trying to ${what}: it was found unreachable ${ago} s ago in this run, so nothing was sent this time ` +
        `(first failure: ${d.error.message})`,
        { cluster: label, outcomeUnknown: false, knownDown: true }, { cause: d.error });
}

/** @internal Forgets every fact and every unreachable cluster (tests). */
export function clearFacts(): void {
    facts.clear();
    down.clear();
    reads = 0;
}
