/**
 * Hooks of `AutoFollowPattern` (cross-cluster replication, on the local cluster).
 *
 * - check: validates every input (no network); then, with every input known, the preview checks of
 *   provider/ccr/preflight.ts (read-only) and, at create, the name free;
 * - diff: name and alias replace; patterns, exclusions, follow pattern, settings, tuning and status
 *   update in place;
 * - create: `PUT /_ccr/auto_follow/<name>` (then pause when `status: "paused"`);
 * - read: the pattern (`GET /_ccr/auto_follow/<name>`), its followed indices and its recent errors
 *   (`GET /_ccr/stats`); changed by hand → drift in `inputs`; gone → gone;
 * - update: pause → put → resume (a put re-activates nothing the user paused);
 * - delete: deletes the pattern; the followers it made stay.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AutoFollowPatternArgs } from "../sdk/autoFollowPattern";
import { callCluster, ClusterConnection, insecureWarnings } from "./core/client";
import { containsUnknown, HookModule, plain } from "./core/dynamic";
import { ConflictError } from "./core/errors";
import { failOnInvalid } from "./core/validation";
import type { CrossClusterAccess } from "./apikey/keyBody";
import { patternCovers } from "./apikey/coverage";
import * as api from "./ccr/api";
import { ccrError, client, commonPreflight, indexNameProblem, refuse, validateCommon } from "./ccr/common";
import { TUNING, TUNING_KEYS, tuningBody } from "./ccr/params";

/** Inputs as the hooks receive them. */
export type PatternInputs = Omit<pulumi.Unwrap<AutoFollowPatternArgs>, "local" | "remote" | "keyAccess" | "settings"> & {
    local: ClusterConnection;
    remote?: ClusterConnection;
    keyAccess?: CrossClusterAccess;
    settings?: Record<string, string | number | boolean>;
};

/** Outputs: the inputs (as found) plus the followed indices and recent errors. */
export interface PatternOutputs extends PatternInputs {
    status: "active" | "paused";
    followedIndices: string[];
    recentErrors: string[];
    adopted?: boolean;
}

const INPUT_KEYS = ["local", "remote", "name", "alias", "leaderIndexPatterns", "leaderIndexExclusionPatterns", "followIndexPattern", "settings", "status", "adoptExisting", "keyAccess", ...TUNING_KEYS];

const label = (i: { name?: unknown }) => `auto-follow pattern '${String(i.name)}'`;

function patternList(property: string, v: unknown, required: boolean): Array<{ property: string; reason: string }> {
    if (containsUnknown(v) || (v === undefined && !required)) return [];
    if (!Array.isArray(v) || (required && v.length === 0)) return [{ property, reason: required ? "give at least one leader index pattern, e.g. [\"logs-*\"]" : "must be a list of index patterns" }];
    return v.flatMap((p, k) => { const x = indexNameProblem(`${property}[${k}]`, p, true); return x ? [x] : []; });
}

/** Validation without the network. @internal */
export function validatePatternInputs(n: Record<string, unknown>): Array<{ property: string; reason: string }> {
    const f = validateCommon(n);
    if (!containsUnknown(n.name) && (typeof n.name !== "string" || !/^[^\s,*"<>|\\/?#:_-][^\s,*"<>|\\/?#:]{0,254}$/.test(n.name))) {
        f.push({ property: "name", reason: `must be a pattern name of 1–255 characters without spaces, commas or any of * " < > | \\ / ? # :, not starting with _ or -; not ${JSON.stringify(n.name)}` });
    }
    f.push(...patternList("leaderIndexPatterns", n.leaderIndexPatterns, true));
    f.push(...patternList("leaderIndexExclusionPatterns", n.leaderIndexExclusionPatterns, false));
    if (n.followIndexPattern !== undefined && !containsUnknown(n.followIndexPattern)) {
        const p = n.followIndexPattern;
        if (typeof p !== "string" || !p.includes("{{leader_index}}")) {
            f.push({ property: "followIndexPattern", reason: `must contain {{leader_index}} (each leader gets its own follower), e.g. "{{leader_index}}-copy"; not ${JSON.stringify(p)}` });
        } else {
            const x = indexNameProblem("followIndexPattern", p.replace(/\{\{leader_index\}\}/g, "x"));
            if (x) f.push(x);
        }
    }
    if (n.adoptExisting !== undefined && !containsUnknown(n.adoptExisting) && typeof n.adoptExisting !== "boolean") f.push({ property: "adoptExisting", reason: "must be true or false" });
    return f;
}

/** The pattern's body in Elasticsearch's words. @internal */
export function patternBody(i: PatternInputs): api.PatternBody {
    return plain({
        remote_cluster: i.alias,
        leader_index_patterns: i.leaderIndexPatterns,
        ...(i.leaderIndexExclusionPatterns?.length ? { leader_index_exclusion_patterns: i.leaderIndexExclusionPatterns } : {}),
        ...(i.followIndexPattern ? { follow_index_pattern: i.followIndexPattern } : {}),
        ...(i.settings ? { settings: i.settings } : {}),
        ...tuningBody(i as unknown as Record<string, unknown>),
    });
}

/** The preview checks of a pattern (read-only). @internal */
export async function preflight(n: PatternInputs, creating: boolean): Promise<Array<{ property: string; reason: string }>> {
    const f = await commonPreflight(label(n), n as unknown as Record<string, unknown>, n.leaderIndexPatterns,
        [(n.followIndexPattern ?? "{{leader_index}}").replace(/\{\{leader_index\}\}/g, "*")]);
    if (creating && !n.adoptExisting && !f.some((x) => /module x-pack-ccr|license/.test(x.reason))) {
        const existing = await api.getPattern(client(n.local), n.name).catch(() => undefined);
        if (existing) f.push({ property: "name", reason: `an auto-follow pattern named '${n.name}' already exists on the local cluster (leader patterns ${existing.pattern.leader_index_patterns.join(", ")} through '${existing.pattern.remote_cluster}'): set adoptExisting: true to take it over, or choose another name` });
    }
    return f;
}

/** The pattern as found, in input words; undefined when there is none of that name. */
async function observe(i: PatternInputs): Promise<PatternOutputs | undefined> {
    const c = client(i.local);
    const p = await callCluster("local", i.local, `read ${label(i)} (GET _ccr/auto_follow)`, () => api.getPattern(c, i.name)).catch((e) => { throw ccrError(label(i), e); });
    if (!p) return undefined;
    const b = p.pattern;
    const tuning: Record<string, unknown> = {};
    for (const [k, [es]] of Object.entries(TUNING)) if (b[es] !== undefined && (i as unknown as Record<string, unknown>)[k] !== undefined) tuning[k] = (i as unknown as Record<string, unknown>)[k];
    const [followers, stats] = await Promise.all([
        callCluster("local", i.local, "read the follower indices (GET _ccr/info)", () => api.allFollowers(c)),
        callCluster("local", i.local, "read the auto-follow stats (GET _ccr/stats)", () => api.autoFollowStats(c)),
    ]);
    const matches = (leader: string) => b.leader_index_patterns.some((x) => patternCovers(x, leader) === true) &&
        !(b.leader_index_exclusion_patterns ?? []).some((x) => patternCovers(x, leader) === true);
    return plain({
        ...i,
        alias: b.remote_cluster,
        leaderIndexPatterns: b.leader_index_patterns,
        leaderIndexExclusionPatterns: b.leader_index_exclusion_patterns?.length ? b.leader_index_exclusion_patterns : i.leaderIndexExclusionPatterns,
        followIndexPattern: b.follow_index_pattern ?? i.followIndexPattern,
        status: b.active === false ? "paused" : "active",
        followedIndices: followers.filter((f) => f.remote_cluster === b.remote_cluster && matches(f.leader_index)).map((f) => f.follower_index).sort(),
        recentErrors: (stats?.recent_auto_follow_errors ?? [])
            .filter((e) => e.leader_index === i.name || e.leader_index.startsWith(`${i.name}:`))
            .map((e) => `${e.leader_index}: ${api.exceptionText(e.auto_follow_exception)}`),
    }) as PatternOutputs;
}

function inputsOf(o: PatternOutputs): PatternInputs {
    const out: Record<string, unknown> = {};
    for (const k of INPUT_KEYS) out[k] = (o as unknown as Record<string, unknown>)[k];
    return plain(out) as PatternInputs;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

// ---------------------------------------------------------------------------------------- hooks

export async function check(olds: Partial<PatternInputs>, news: PatternInputs): Promise<pulumi.dynamic.CheckResult<PatternInputs>> {
    const n = (news ?? {}) as unknown as Record<string, unknown>;
    const failures = validatePatternInputs(n);
    for (const side of ["local", "remote"] as const) if (n[side] && !containsUnknown(n[side])) insecureWarnings(side, n[side]).forEach((m) => pulumi.log.warn(m));
    if (failures.length) return { inputs: news, failures };
    if (containsUnknown(n)) {
        pulumi.log.info(`${label(news)}: some inputs are not known yet; the cluster checks run at update time`);
        return { inputs: news, failures: [] };
    }
    const creating = !(olds && olds.name === news.name && olds.alias === news.alias);
    return { inputs: news, failures: await preflight(news, creating) };
}

export async function diff(_id: string, olds: PatternOutputs, news: PatternInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces = (["name", "alias"] as const).filter((k) => !containsUnknown(news[k]) && olds[k] !== news[k]);
    const changes = replaces.length > 0 || containsUnknown(news) || (news.status ?? "active") !== olds.status ||
        !same(patternBody(olds), patternBody(news));
    return { changes, replaces, deleteBeforeReplace: replaces.length > 0 && olds.name === news.name };
}

async function write(i: PatternInputs, wasActive: boolean): Promise<PatternOutputs> {
    const c = client(i.local);
    if (wasActive) await api.pausePattern(c, i.name).catch((e) => { throw ccrError(`${label(i)}: pause`, e); });
    await callCluster("local", i.local, `write ${label(i)} (PUT _ccr/auto_follow)`, () => api.putPattern(c, i.name, patternBody(i))).catch((e) => { throw ccrError(label(i), e); });
    // A put may leave the pattern active whatever it was: the declared status decides.
    if ((i.status ?? "active") === "paused") await api.pausePattern(c, i.name).catch((e) => { throw ccrError(`${label(i)}: pause`, e); });
    else await api.resumePattern(c, i.name).catch((e) => { throw ccrError(`${label(i)}: resume`, e); });
    const now = await observe(i);
    if (!now) throw ccrError(label(i), new Error("Elasticsearch accepted the pattern but does not list it"));
    return now;
}

export async function create(inputs: PatternInputs): Promise<pulumi.dynamic.CreateResult<PatternOutputs>> {
    const i = plain(inputs);
    failOnInvalid(validatePatternInputs(i as unknown as Record<string, unknown>));
    refuse(label(i), await preflight(i, true));
    const existing = await observe(i);
    if (existing && !i.adoptExisting) {
        throw new ConflictError(`${label(i)} already exists on the local cluster; set adoptExisting: true to take it over. Nothing was written.`, { kind: "auto-follow pattern", name: i.name });
    }
    const outs = await write(i, existing?.status === "active");
    return { id: i.name, outs: existing ? { ...outs, adopted: true } : outs };
}

export async function read(id: string, props: PatternOutputs): Promise<pulumi.dynamic.ReadResult<PatternOutputs>> {
    const o = plain(props);
    const now = await observe(inputsOf(o) as PatternInputs);
    if (!now) return {};
    if (now.recentErrors.length) pulumi.log.warn(`${label(o)}: recent auto-follow errors: ${now.recentErrors.join("; ")}`);
    const state = { ...now, ...(o.adopted ? { adopted: true } : {}) };
    return { id, props: state, inputs: inputsOf(state) as PatternOutputs };
}

export async function update(_id: string, olds: PatternOutputs, news: PatternInputs): Promise<pulumi.dynamic.UpdateResult<PatternOutputs>> {
    const i = plain(news);
    failOnInvalid(validatePatternInputs(i as unknown as Record<string, unknown>));
    const found = await observe(i);
    const outs = await write(i, (found?.status ?? olds.status) === "active");
    return { outs: olds.adopted ? { ...outs, adopted: true } : outs };
}

async function delete_(_id: string, props: PatternOutputs): Promise<void> {
    const o = plain(props);
    await api.deletePattern(client(o.local), o.name).catch((e) => { if (!api.notFound(e)) throw ccrError(label(o), e); });
}
export { delete_ as delete };

const _hooks: HookModule<PatternInputs, PatternOutputs> = { check, diff, create, read, update, delete: delete_ };
void _hooks;
