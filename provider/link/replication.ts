/**
 * The link's side of Elastic's migration step "stop dependent tasks, then resume them": a switch of
 * the alias between the security models pauses the follower indices and auto-follow patterns that
 * use the alias, and resumes exactly those once the new connection is verified (or after a
 * rollback). The CCR calls live in provider/ccr/migration.ts; this file adapts them for the link
 * (its log lines name the alias).
 */
import * as pulumi from "@pulumi/pulumi";
import type { Client } from "@elastic/elasticsearch";
import * as ccr from "../ccr/migration";

/** What a migration paused (the names on the local cluster, and each follower's parameters). */
export type PausedReplication = ccr.PausedReplication;

/** True if nothing was paused. */
export function nothingPaused(p: PausedReplication | undefined): boolean {
    return !p || (p.followers.length === 0 && p.patterns.length === 0);
}

/** Pauses what replicates through `alias` on the local cluster; returns exactly what it paused. */
export async function pauseReplication(client: Client, alias: string): Promise<PausedReplication> {
    const log = (m: string) => pulumi.log.info(`remote cluster '${alias}': ${m}`);
    // Transforms and ML datafeeds that read through the alias are not CCR: they stay the user's part.
    log("switching the security model: transforms and ML datafeeds that use the alias are not paused by this package (Elastic's migration steps: stop them first, resume them after)");
    return ccr.pauseReplicationFor(client, alias, log);
}

/** Resumes what {@link pauseReplication} paused. */
export async function resumeReplication(client: Client, alias: string, paused: PausedReplication | undefined): Promise<void> {
    if (nothingPaused(paused)) return;
    await ccr.resumeReplication(client, alias, paused!, (msg) => pulumi.log.info(`remote cluster '${alias}': ${msg}`));
}

/** `follower indices a, b and auto-follow patterns p` for messages (the same words as the pause's log line). */
export const pausedText = ccr.pausedText;
