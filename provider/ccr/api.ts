/**
 * The cross-cluster replication calls this package makes, on the follower (local) cluster. Plain
 * `transport.request`s: the paths are the same on 8.x and 9.x, and one shape serves every caller
 * (the FollowerIndex and AutoFollowPattern hooks, the link's migration).
 */
import { Client } from "@elastic/elasticsearch";

/** One follower index as `GET /<index>/_ccr/info` lists it. */
export interface FollowerInfo {
    follower_index: string;
    remote_cluster: string;
    leader_index: string;
    status: "active" | "paused";
    /** The follow parameters in force (absent while paused on some versions). */
    parameters?: Record<string, unknown>;
}

/** One auto-follow pattern as `GET /_ccr/auto_follow` lists it. */
export interface PatternInfo {
    name: string;
    pattern: {
        remote_cluster: string;
        leader_index_patterns: string[];
        leader_index_exclusion_patterns?: string[];
        follow_index_pattern?: string;
        active?: boolean;
        settings?: Record<string, unknown>;
        [k: string]: unknown;
    };
}

async function req<T>(client: Client, method: string, path: string, body?: unknown): Promise<T> {
    return (await client.transport.request({ method, path, ...(body === undefined ? {} : { body: body as Record<string, unknown> }) })) as T;
}

/** `GET path`, or undefined when Elasticsearch's refusal is one that `absent` reads as "nothing there". */
async function getUnless<T>(client: Client, path: string, absent: (err: unknown) => boolean): Promise<T | undefined> {
    try {
        return await req<T>(client, "GET", path);
    } catch (e) {
        if (absent(e)) return undefined;
        throw e;
    }
}

/** No CCR here (module missing, license) or nothing of that name: an empty answer, not a failure. */
const noCcrOr = (missing: (err: unknown) => boolean) => (e: unknown) => ccrMissing(e) || ccrUnlicensed(e) || missing(e);

/** HTTP status of an Elasticsearch refusal, if `err` is one. */
export function statusOf(err: unknown): number | undefined {
    return (err as { statusCode?: number })?.statusCode;
}

/** Elasticsearch's error type of a refusal (`index_not_found_exception`, …). */
export function errorTypeOf(err: unknown): string | undefined {
    const b = (err as { meta?: { body?: { error?: { type?: string } | string } } })?.meta?.body?.error;
    return typeof b === "string" ? undefined : b?.type;
}

/** The text of a refusal (reason, or the body when it is a string). */
function textOf(err: unknown): string {
    const b = (err as { meta?: { body?: unknown } })?.meta?.body as { error?: unknown } | string | undefined;
    if (typeof b === "string") return b;
    const e = b?.error;
    if (typeof e === "string") return e;
    return JSON.stringify(e ?? "") + " " + String((err as Error)?.message ?? "");
}

/**
 * True when the cluster has no CCR endpoints at all: a distribution without the `x-pack-ccr` module
 * (Elastic's integ-test-zip, an OSS build) answers "no handler found for uri [...]" (HTTP 400 or 405).
 */
export function ccrMissing(err: unknown): boolean {
    const s = statusOf(err);
    return (s === 400 || s === 404 || s === 405) && /no handler found for uri|Incorrect HTTP method for uri/i.test(textOf(err));
}

/** True when the license does not allow CCR ("current license is non-compliant for [ccr]", HTTP 403). */
export function ccrUnlicensed(err: unknown): boolean {
    return statusOf(err) === 403 && /non-compliant for \[ccr\]/i.test(textOf(err));
}

/** True when the index named does not exist (HTTP 404 `index_not_found_exception`). */
export function indexMissing(err: unknown): boolean {
    return statusOf(err) === 404 && (errorTypeOf(err) === "index_not_found_exception" || /no such index/i.test(textOf(err)));
}

/** True when the resource named does not exist (any HTTP 404). */
export function notFound(err: unknown): boolean {
    return statusOf(err) === 404;
}

/** Every follower index of the local cluster (`GET /_all/_ccr/info`); none when CCR is missing or unlicensed. */
export async function allFollowers(client: Client): Promise<FollowerInfo[]> {
    const r = await getUnless<{ follower_indices?: FollowerInfo[] }>(client, "/_all/_ccr/info", noCcrOr(indexMissing));
    return r?.follower_indices ?? [];
}

/** The follower info of one index: undefined when the index is absent or not a follower. */
export async function followerInfo(client: Client, index: string): Promise<FollowerInfo | undefined> {
    const r = await getUnless<{ follower_indices?: FollowerInfo[] }>(client, `/${encodeURIComponent(index)}/_ccr/info`, indexMissing);
    return (r?.follower_indices ?? []).find((f) => f.follower_index === index);
}

/** Every auto-follow pattern (`GET /_ccr/auto_follow`); none when CCR is missing or unlicensed. */
export async function allPatterns(client: Client): Promise<PatternInfo[]> {
    const r = await getUnless<{ patterns?: PatternInfo[] }>(client, "/_ccr/auto_follow", noCcrOr(notFound));
    return r?.patterns ?? [];
}

/** One auto-follow pattern, or undefined when there is none of that name. */
export async function getPattern(client: Client, name: string): Promise<PatternInfo | undefined> {
    const r = await getUnless<{ patterns?: PatternInfo[] }>(client, `/_ccr/auto_follow/${encodeURIComponent(name)}`, notFound);
    return (r?.patterns ?? []).find((p) => p.name === name);
}

export const pauseFollow = (c: Client, index: string) => req(c, "POST", `/${encodeURIComponent(index)}/_ccr/pause_follow`);
/** Resume with `parameters` (the ones in force before the pause): without them Elasticsearch resumes with its defaults. */
export const resumeFollow = (c: Client, index: string, parameters?: Record<string, unknown>) =>
    req(c, "POST", `/${encodeURIComponent(index)}/_ccr/resume_follow`, parameters && Object.keys(parameters).length ? parameters : undefined);
export const pausePattern = (c: Client, name: string) => req(c, "POST", `/_ccr/auto_follow/${encodeURIComponent(name)}/pause`);
export const resumePattern = (c: Client, name: string) => req(c, "POST", `/_ccr/auto_follow/${encodeURIComponent(name)}/resume`);

/**
 * Whether this cluster can replicate: `"missing"` when its distribution has no CCR endpoints (no
 * `x-pack-ccr` module: Elastic's integ-test-zip, an OSS build), `"unlicensed"` when the license does
 * not allow CCR, `"yes"` otherwise. One cheap read (`GET /_ccr/stats`).
 */
export async function ccrAvailable(client: Client): Promise<"yes" | "missing" | "unlicensed"> {
    try {
        await req(client, "GET", "/_ccr/stats");
        return "yes";
    } catch (e) {
        if (ccrMissing(e)) return "missing";
        if (ccrUnlicensed(e)) return "unlicensed";
        throw e;
    }
}

/** The body of `PUT /<follower>/_ccr/follow` (Elastic's ccr.follow). */
export interface FollowBody extends Record<string, unknown> {
    remote_cluster: string;
    leader_index: string;
    settings?: Record<string, unknown>;
}

/** `PUT /<follower>/_ccr/follow?wait_for_active_shards=1`: creates the follower (a restore from the leader) and starts following. */
export const follow = (c: Client, index: string, body: FollowBody) =>
    req<{ follow_index_created: boolean; follow_index_shards_acked: boolean; index_following_started: boolean }>(
        c, "PUT", `/${encodeURIComponent(index)}/_ccr/follow?wait_for_active_shards=1`, body);
/** `POST /<follower>/_ccr/unfollow`: the follower (paused and closed) becomes a regular index. */
export const unfollow = (c: Client, index: string) => req(c, "POST", `/${encodeURIComponent(index)}/_ccr/unfollow`);
export const closeIndex = (c: Client, index: string) => req(c, "POST", `/${encodeURIComponent(index)}/_close`);
export const openIndex = (c: Client, index: string) => req(c, "POST", `/${encodeURIComponent(index)}/_open`);
export const deleteIndex = (c: Client, index: string) => req(c, "DELETE", `/${encodeURIComponent(index)}`);

/** One shard of `GET /<follower>/_ccr/stats` (Elastic's ccr.follow_stats), the fields this package reads. */
export interface ShardFollowStats {
    shard_id: number;
    leader_global_checkpoint: number;
    follower_global_checkpoint: number;
    fatal_exception?: { type?: string; reason?: string; [k: string]: unknown };
    read_exceptions?: Array<{ from_seq_no: number; retries: number; exception: { type?: string; reason?: string } }>;
    [k: string]: unknown;
}

/** `GET /<follower>/_ccr/stats`: the shards' stats, or undefined when the index is not a follower. */
export async function followStats(client: Client, index: string): Promise<ShardFollowStats[] | undefined> {
    const r = await getUnless<{ indices?: Array<{ index: string; shards: ShardFollowStats[] }> }>(client, `/${encodeURIComponent(index)}/_ccr/stats`, indexMissing);
    return (r?.indices ?? []).find((i) => i.index === index)?.shards;
}

/** The body of `PUT /_ccr/auto_follow/<name>` (Elastic's ccr.put_auto_follow_pattern). */
export interface PatternBody extends Record<string, unknown> {
    remote_cluster: string;
    leader_index_patterns: string[];
    leader_index_exclusion_patterns?: string[];
    follow_index_pattern?: string;
    settings?: Record<string, unknown>;
}

export const putPattern = (c: Client, name: string, body: PatternBody) => req(c, "PUT", `/_ccr/auto_follow/${encodeURIComponent(name)}`, body);
export const deletePattern = (c: Client, name: string) => req(c, "DELETE", `/_ccr/auto_follow/${encodeURIComponent(name)}`);

/** `GET /_ccr/stats`'s `auto_follow_stats` (Elastic's ccr.stats), the fields this package reads. */
export interface AutoFollowStats {
    number_of_failed_follow_indices: number;
    number_of_failed_remote_cluster_state_requests: number;
    number_of_successful_follow_indices: number;
    recent_auto_follow_errors: Array<{ leader_index: string; timestamp?: number; auto_follow_exception: { type?: string; reason?: string } }>;
    auto_followed_clusters?: unknown[];
}

/** The auto-follow part of `GET /_ccr/stats`. */
export async function autoFollowStats(client: Client): Promise<AutoFollowStats> {
    const r = await req<{ auto_follow_stats: AutoFollowStats }>(client, "GET", "/_ccr/stats");
    return r.auto_follow_stats;
}

/** One line for an Elasticsearch exception object (`type: reason`). */
export function exceptionText(e: { type?: string; reason?: string } | undefined): string | undefined {
    if (!e) return undefined;
    return [e.type, e.reason].filter(Boolean).join(": ") || JSON.stringify(e);
}
