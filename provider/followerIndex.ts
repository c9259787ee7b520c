/**
 * Hooks of `FollowerIndex` (cross-cluster replication, on the local cluster).
 *
 * - check: validates every input (no network); then, when all inputs are known, the preview checks
 *   of provider/ccr/preflight.ts (read-only), each failure naming the property and the fix;
 * - diff: alias, leaderIndex and followerIndex are the follower's identity: a change replaces it;
 *   status, tuning and settings update in place;
 * - create: refuses a taken follower name unless `adoptExisting` and it already follows this leader
 *   through this alias; `PUT /<follower>/_ccr/follow` with the tuning and settings (then pauses it
 *   when `status: "paused"`);
 * - read: `_ccr/info` and `_ccr/stats`; a follower Elasticsearch paused by itself (a shard's
 *   `fatal_exception`) reads as `status: "paused"` with `fatalError`, in `inputs` too, so the
 *   preview shows `paused => active` and the next up resumes it; no follower left = gone;
 * - update: pause → settings and tuning → resume (with the declared tuning);
 * - delete: `unfollow` (default) pauses, closes, unfollows and reopens: a regular index with the data
 *   stays; `delete` deletes the index.
 */
import * as pulumi from "@pulumi/pulumi";
import type { FollowerIndexArgs } from "../sdk/followerIndex";
import { callCluster, ClusterConnection, insecureWarnings } from "./core/client";
import { containsUnknown, HookModule, plain } from "./core/dynamic";
import { ConflictError, EsRemoteError } from "./core/errors";
import { failOnInvalid } from "./core/validation";
import type { CrossClusterAccess } from "./apikey/keyBody";
import * as api from "./ccr/api";
import { ccrError, client, commonPreflight, indexNameProblem, refuse, validateCommon } from "./ccr/common";
import { sameTuning, TUNING_KEYS, tuningBody } from "./ccr/params";
import { indexFacts } from "./ccr/preflight";

/** Inputs as the hooks receive them: the sdk's arguments, resolved. */
export type FollowerInputs = Omit<pulumi.Unwrap<FollowerIndexArgs>, "local" | "remote" | "keyAccess" | "settings"> & {
    local: ClusterConnection;
    remote?: ClusterConnection;
    keyAccess?: CrossClusterAccess;
    settings?: Record<string, string | number | boolean>;
};

/** Outputs: the inputs (status as found) plus what a user watches. */
export interface FollowerOutputs extends FollowerInputs {
    status: "active" | "paused";
    pausedByElasticsearch: boolean;
    fatalError: string | null;
    leaderGlobalCheckpoint: number | null;
    followerGlobalCheckpoint: number | null;
    lagOperations: number | null;
    /** True when the follower was taken over (`adoptExisting`): destroy still unfollows or deletes it. */
    adopted?: boolean;
}

const INPUT_KEYS = ["local", "remote", "alias", "leaderIndex", "followerIndex", "settings", "status", "onDestroy", "adoptExisting", "keyAccess", ...TUNING_KEYS];

/** Validation without the network. @internal */
export function validateFollowerInputs(n: Record<string, unknown>): Array<{ property: string; reason: string }> {
    const f = validateCommon(n);
    const l = indexNameProblem("leaderIndex", n.leaderIndex);
    if (l) f.push(l);
    const fi = indexNameProblem("followerIndex", n.followerIndex);
    if (fi) f.push(fi);
    if (n.onDestroy !== undefined && !containsUnknown(n.onDestroy) && n.onDestroy !== "unfollow" && n.onDestroy !== "delete") {
        f.push({ property: "onDestroy", reason: `must be "unfollow" (keep a regular index with the data) or "delete", not ${JSON.stringify(n.onDestroy)}` });
    }
    if (n.adoptExisting !== undefined && !containsUnknown(n.adoptExisting) && typeof n.adoptExisting !== "boolean") {
        f.push({ property: "adoptExisting", reason: "must be true or false" });
    }
    return f;
}

const label = (i: { followerIndex?: unknown }) => `follower index '${String(i.followerIndex)}'`;

/**
 * The preview checks of a follower (read-only). `creating`: the follower name must be free (or an
 * adoptable follower). @internal
 */
export async function preflight(n: FollowerInputs, creating: boolean): Promise<Array<{ property: string; reason: string }>> {
    const f = await commonPreflight(label(n), n as unknown as Record<string, unknown>, [n.leaderIndex], [n.followerIndex]);
    if (creating) {
        const here = await indexFacts(client(n.local), "local", n.local, n.followerIndex);
        if (here.exists) {
            const info = here.follower ? await api.followerInfo(client(n.local), n.followerIndex).catch(() => undefined) : undefined;
            const same = info && info.remote_cluster === n.alias && info.leader_index === n.leaderIndex;
            if (!(n.adoptExisting && same)) {
                f.push({
                    property: "followerIndex",
                    reason: `an index named '${n.followerIndex}' already exists on the local cluster` +
                        (same ? ` and follows ${n.alias}:${n.leaderIndex}: set adoptExisting: true to take it over` :
                            info ? ` and follows ${info.remote_cluster}:${info.leader_index}, not ${n.alias}:${n.leaderIndex}: choose another followerIndex` :
                                `: it is not a follower, so it cannot be adopted; choose another followerIndex (or delete that index)`),
                });
            }
        }
    }
    if (n.remote && !containsUnknown(n.remote)) {
        const leader = await indexFacts(client(n.remote), "remote", n.remote, n.leaderIndex);
        if (!leader.exists) {
            f.push({ property: "leaderIndex", reason: `no index '${n.leaderIndex}' on the remote (leader) cluster: create it first, or check the name (a data stream's backing index is named .ds-…)` });
        } else if (leader.softDeletes === false) {
            f.push({ property: "leaderIndex", reason: `'${n.leaderIndex}' has index.soft_deletes.enabled false: CCR reads the leader's history from soft deletes; reindex it into an index with soft deletes (the default since 7.0)` });
        }
    }
    return f;
}

/** What the cluster says of the follower now, in output words; undefined when it is no follower. */
async function observe(i: FollowerInputs): Promise<Omit<FollowerOutputs, keyof FollowerInputs> & { status: "active" | "paused"; parameters?: Record<string, unknown>; remoteCluster: string; leader: string } | undefined> {
    const c = client(i.local);
    const info = await callCluster("local", i.local, `read ${label(i)} (GET _ccr/info)`, () => api.followerInfo(c, i.followerIndex)).catch((e) => { throw ccrError(label(i), e); });
    if (!info) return undefined;
    const shards = info.status === "active" ? await callCluster("local", i.local, `read ${label(i)} (GET _ccr/stats)`, () => api.followStats(c, i.followerIndex)) : undefined;
    const fatal = (shards ?? []).map((s) => api.exceptionText(s.fatal_exception)).find(Boolean) ?? null;
    const min = (k: "leader_global_checkpoint" | "follower_global_checkpoint") => shards?.length ? Math.min(...shards.map((s) => s[k])) : null;
    const lag = shards?.length ? shards.reduce((a, s) => a + Math.max(0, s.leader_global_checkpoint - s.follower_global_checkpoint), 0) : null;
    return {
        status: info.status === "paused" || fatal ? "paused" : "active",
        pausedByElasticsearch: !!fatal,
        fatalError: fatal,
        leaderGlobalCheckpoint: min("leader_global_checkpoint"),
        followerGlobalCheckpoint: min("follower_global_checkpoint"),
        lagOperations: lag,
        parameters: info.parameters,
        remoteCluster: info.remote_cluster,
        leader: info.leader_index,
    };
}

function outputs(i: FollowerInputs, o: NonNullable<Awaited<ReturnType<typeof observe>>>, extra: Partial<FollowerOutputs> = {}): FollowerOutputs {
    const { parameters: _p, remoteCluster: _r, leader: _l, ...seen } = o;
    return plain({ ...i, ...seen, ...extra });
}

function inputsOf(o: FollowerOutputs): FollowerInputs {
    const out: Record<string, unknown> = {};
    for (const k of INPUT_KEYS) out[k] = (o as unknown as Record<string, unknown>)[k];
    return plain(out) as FollowerInputs;
}

/** Resumes with the declared tuning; a refusal names the cause (a leader gone, the link down). */
async function resume(i: FollowerInputs, fatal: string | null): Promise<void> {
    try {
        await api.resumeFollow(client(i.local), i.followerIndex, tuningBody(i as unknown as Record<string, unknown>));
    } catch (e) {
        const err = ccrError(`${label(i)}: could not resume following ${i.alias}:${i.leaderIndex}` + (fatal ? ` (Elasticsearch had paused it: ${fatal})` : ""), e, { followerIndex: i.followerIndex });
        if (api.indexMissing(e)) {
            throw new EsRemoteError(`${label(i)}: the leader index ${i.alias}:${i.leaderIndex} is gone, so following cannot resume` + (fatal ? ` (Elasticsearch paused it: ${fatal})` : "") +
                `. Restore or recreate the leader and run up again, or set status: "paused", or destroy the follower (onDestroy "unfollow" keeps its data)`, { followerIndex: i.followerIndex }, { cause: e });
        }
        throw err;
    }
}

async function pause(i: FollowerInputs): Promise<void> {
    await api.pauseFollow(client(i.local), i.followerIndex).catch((e) => { throw ccrError(`${label(i)}: pause`, e); });
}

// ---------------------------------------------------------------------------------------- hooks

export async function check(olds: Partial<FollowerInputs>, news: FollowerInputs): Promise<pulumi.dynamic.CheckResult<FollowerInputs>> {
    const n = (news ?? {}) as unknown as Record<string, unknown>;
    const failures = validateFollowerInputs(n);
    for (const side of ["local", "remote"] as const) if (n[side] && !containsUnknown(n[side])) insecureWarnings(side, n[side]).forEach((m) => pulumi.log.warn(m));
    if (failures.length) return { inputs: news, failures };
    if (containsUnknown(n)) {
        pulumi.log.info(`${label(news)}: some inputs are not known yet; the cluster checks run at update time`);
        return { inputs: news, failures: [] };
    }
    const creating = !(olds && olds.followerIndex === news.followerIndex && olds.alias === news.alias && olds.leaderIndex === news.leaderIndex);
    return { inputs: news, failures: await preflight(news, creating) };
}

export async function diff(_id: string, olds: FollowerOutputs, news: FollowerInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces = (["alias", "leaderIndex", "followerIndex"] as const).filter((k) => !containsUnknown(news[k]) && olds[k] !== news[k]);
    const changed = replaces.length > 0 || (news.status ?? "active") !== olds.status || !sameTuning(olds as unknown as Record<string, unknown>, news as unknown as Record<string, unknown>) ||
        (news.onDestroy ?? "unfollow") !== (olds.onDestroy ?? "unfollow") || containsUnknown(news);
    // The follower name is the index: the old one must go before a new one of the same name follows.
    return { changes: changed, replaces, deleteBeforeReplace: replaces.length > 0 && olds.followerIndex === news.followerIndex };
}

export async function create(inputs: FollowerInputs): Promise<pulumi.dynamic.CreateResult<FollowerOutputs>> {
    const i = plain(inputs);
    failOnInvalid(validateFollowerInputs(i as unknown as Record<string, unknown>));
    refuse(label(i), await preflight(i, true));
    const c = client(i.local);
    const existing = await observe(i);
    if (existing) {
        if (!i.adoptExisting || existing.remoteCluster !== i.alias || existing.leader !== i.leaderIndex) {
            throw new ConflictError(`${label(i)} already exists on the local cluster (following ${existing.remoteCluster}:${existing.leader}); set adoptExisting: true to take it over. Nothing was written.`, { kind: "follower index", name: i.followerIndex });
        }
        const state = outputs(i, existing, { adopted: true });
        return { id: i.followerIndex, outs: (await apply(state, i)) };
    }
    await callCluster("local", i.local, `follow ${i.alias}:${i.leaderIndex} (PUT /${i.followerIndex}/_ccr/follow)`, () =>
        api.follow(c, i.followerIndex, { remote_cluster: i.alias, leader_index: i.leaderIndex, ...tuningBody(i as unknown as Record<string, unknown>), ...(i.settings ? { settings: i.settings } : {}) }))
        .catch((e) => { throw ccrError(label(i), e); });
    if (i.status === "paused") await pause(i);
    const now = await observe(i);
    if (!now) throw new EsRemoteError(`${label(i)}: Elasticsearch accepted the follow but _ccr/info does not list the index`, { followerIndex: i.followerIndex });
    return { id: i.followerIndex, outs: outputs(i, now) };
}

/** Brings a follower as found (`o`) to the inputs: pause → settings, tuning → resume. */
async function apply(o: FollowerOutputs, i: FollowerInputs): Promise<FollowerOutputs> {
    const want = i.status ?? "active";
    const tuningChanged = !sameTuning(o as unknown as Record<string, unknown>, i as unknown as Record<string, unknown>);
    const wasActive = o.status === "active" || o.pausedByElasticsearch;
    if ((tuningChanged || want === "paused" || o.pausedByElasticsearch) && wasActive) await pause(i);
    if (JSON.stringify(o.settings ?? {}) !== JSON.stringify(i.settings ?? {}) && i.settings && Object.keys(i.settings).length) {
        await callCluster("local", i.local, `update the settings of ${label(i)} (PUT /${i.followerIndex}/_settings)`, () =>
            client(i.local).transport.request({ method: "PUT", path: `/${encodeURIComponent(i.followerIndex)}/_settings`, body: { settings: i.settings } }));
    }
    if (want === "active" && (tuningChanged || o.status === "paused" || o.pausedByElasticsearch)) await resume(i, o.fatalError);
    const now = await observe(i);
    if (!now) throw new EsRemoteError(`${label(i)}: the index is no longer a follower (unfollowed or deleted by hand). Run pulumi refresh, then up to follow it again`, { followerIndex: i.followerIndex });
    return outputs(i, now, o.adopted ? { adopted: true } : {});
}

export async function read(id: string, props: FollowerOutputs): Promise<pulumi.dynamic.ReadResult<FollowerOutputs>> {
    const o = plain(props);
    const now = await observe(o);
    if (!now) return {};
    if (now.pausedByElasticsearch) pulumi.log.warn(`${label(o)}: Elasticsearch paused following by itself: ${now.fatalError}. The next up resumes it (or fails naming why it cannot)`);
    const state = outputs(inputsOf(o), now, o.adopted ? { adopted: true } : {});
    return { id, props: state, inputs: { ...inputsOf(state), status: state.status } as FollowerOutputs };
}

export async function update(_id: string, olds: FollowerOutputs, news: FollowerInputs): Promise<pulumi.dynamic.UpdateResult<FollowerOutputs>> {
    const i = plain(news);
    failOnInvalid(validateFollowerInputs(i as unknown as Record<string, unknown>));
    const found = await observe(i);
    if (!found) throw new EsRemoteError(`${label(i)}: the index is no longer a follower (unfollowed or deleted by hand). Run pulumi refresh, then up to follow it again`, { followerIndex: i.followerIndex });
    return { outs: await apply({ ...plain(olds), ...outputs(olds, found) }, i) };
}

async function delete_(_id: string, props: FollowerOutputs): Promise<void> {
    const o = plain(props);
    const c = client(o.local);
    const ignore404 = (e: unknown) => { if (!api.notFound(e)) throw e; };
    if (o.onDestroy === "delete") {
        await api.deleteIndex(c, o.followerIndex).catch(ignore404);
        return;
    }
    const now = await observe(o).catch((e) => { if (api.indexMissing(e)) return undefined; throw e; });
    if (!now) return;
    if (now.status === "active" || now.pausedByElasticsearch) await pause(o);
    await api.closeIndex(c, o.followerIndex);
    try {
        await api.unfollow(c, o.followerIndex);
    } finally {
        // Whatever unfollow answered, the index is opened again: a closed index left behind looks like lost data.
        await api.openIndex(c, o.followerIndex);
    }
}
export { delete_ as delete };

const _hooks: HookModule<FollowerInputs, FollowerOutputs> = { check, diff, create, read, update, delete: delete_ };
void _hooks;
