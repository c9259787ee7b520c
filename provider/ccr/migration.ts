/**
 * The follower indices and auto-follow patterns that replicate through one remote cluster alias,
 * paused and resumed around a switch of that alias's security model (Elastic's migration step
 * "stop dependent tasks … resume them"). Pausing remembers each follower's parameters: a resume
 * without them would put Elasticsearch's defaults in their place.
 */
import type { Client } from "@elastic/elasticsearch";
import { allFollowers, allPatterns, ccrAvailable, pauseFollow, pausePattern, resumeFollow, resumePattern } from "./api";

/** What a migration paused (names on the local cluster) and each follower's parameters before the pause. */
export interface PausedReplication {
    followers: string[];
    patterns: string[];
    /** Each paused follower's parameters as `_ccr/info` listed them (absent in states of earlier releases). */
    parameters?: Record<string, Record<string, unknown>>;
}

/** `follower indices a, b and auto-follow patterns p` for messages. */
export function pausedText(p: PausedReplication): string {
    const parts = [
        p.followers.length ? `follower indices ${p.followers.join(", ")}` : "",
        p.patterns.length ? `auto-follow patterns ${p.patterns.join(", ")}` : "",
    ].filter(Boolean);
    return parts.join(" and ");
}

/**
 * Pauses every active follower index and every active auto-follow pattern whose `remote_cluster` is
 * `alias`; returns exactly what it paused (what was already paused stays paused and is not resumed
 * later). A cluster without the CCR module, or whose license does not allow CCR, has nothing to
 * pause: said once in the log.
 */
export async function pauseReplicationFor(client: Client, alias: string, log: (msg: string) => void): Promise<PausedReplication> {
    const avail = await ccrAvailable(client);
    if (avail !== "yes") {
        log(avail === "missing"
            ? "no follower index or auto-follow pattern to pause: this cluster's distribution has no cross-cluster replication (module x-pack-ccr)"
            : "no follower index or auto-follow pattern to pause: the license does not allow cross-cluster replication");
        return { followers: [], patterns: [] };
    }
    const followers = (await allFollowers(client)).filter((f) => f.remote_cluster === alias && f.status === "active");
    const patterns = (await allPatterns(client)).filter((p) => p.pattern.remote_cluster === alias && p.pattern.active !== false);
    const paused: PausedReplication = { followers: [], patterns: [], parameters: {} };
    // Patterns first: a pattern still active would start new followers while the others pause.
    for (const p of patterns) {
        await pausePattern(client, p.name);
        paused.patterns.push(p.name);
    }
    for (const f of followers) {
        await pauseFollow(client, f.follower_index);
        paused.followers.push(f.follower_index);
        paused.parameters![f.follower_index] = f.parameters ?? {};
    }
    log(paused.followers.length + paused.patterns.length
        ? `paused ${pausedText(paused)} for the switch`
        : `no active follower index or auto-follow pattern replicates through '${alias}'`);
    return paused;
}

/**
 * Resumes what {@link pauseReplicationFor} paused, followers with the parameters they had. A follower
 * or pattern removed in between is skipped and named in the log; any other refusal fails naming it.
 */
export async function resumeReplication(client: Client, alias: string, paused: PausedReplication, log: (msg: string) => void): Promise<void> {
    const gone: string[] = [];
    const failed: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>) => {
        try {
            await fn();
        } catch (e) {
            const s = (e as { statusCode?: number }).statusCode;
            if (s === 404) gone.push(what);
            else failed.push(`${what}: ${(e as Error).message}`);
        }
    };
    for (const f of paused.followers) await attempt(`follower index ${f}`, () => resumeFollow(client, f, paused.parameters?.[f]));
    for (const p of paused.patterns) await attempt(`auto-follow pattern ${p}`, () => resumePattern(client, p));
    if (gone.length) log(`not resumed, no longer on the cluster: ${gone.join(", ")}`);
    if (failed.length) {
        throw new Error(`remote cluster '${alias}': could not resume ${failed.join("; ")}. Resume them by hand (POST /<index>/_ccr/resume_follow, POST /_ccr/auto_follow/<name>/resume)`);
    }
    log(`resumed ${paused.followers.length} follower ${paused.followers.length === 1 ? "index" : "indices"} and ${paused.patterns.length} auto-follow pattern(s)`);
}
