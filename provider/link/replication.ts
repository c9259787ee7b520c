/**
 * The link's side of Elastic's migration step "stop dependent tasks, then resume them": a switch of
 * the alias between the security models pauses the follower indices and auto-follow patterns that
 * use the alias, and resumes exactly those once the new connection is verified (or after a
 * rollback). The CCR calls live in provider/ccr/migration.ts (its own owner); this file only adapts
 * them for the link, so the link works the same whether or not that module is there yet.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Client } from "@elastic/elasticsearch";

/** What a migration paused (the names on the local cluster). */
export interface PausedReplication {
    followers: string[];
    patterns: string[];
}

interface CcrMigration {
    pauseReplicationFor(client: Client, alias: string, log: (msg: string) => void): Promise<PausedReplication>;
    resumeReplication(client: Client, alias: string, paused: PausedReplication, log: (msg: string) => void): Promise<void>;
}

function ccr(): CcrMigration | undefined {
    try {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const m = require("../ccr/migration") as Partial<CcrMigration>;
        return typeof m.pauseReplicationFor === "function" && typeof m.resumeReplication === "function" ? m as CcrMigration : undefined;
    } catch {
        return undefined;
    }
}

/** True if nothing was paused. */
export function nothingPaused(p: PausedReplication | undefined): boolean {
    return !p || (p.followers.length === 0 && p.patterns.length === 0);
}

/** Pauses what replicates through `alias` on the local cluster; returns exactly what it paused. */
export async function pauseReplication(client: Client, alias: string): Promise<PausedReplication> {
    const log = (m: string) => pulumi.log.info(`remote cluster '${alias}': ${m}`);
    const m = ccr();
    if (!m) {
        log("switching the security model: stop what uses the alias first (transforms, ML datafeeds, auto-follow patterns, follower indices: Elastic's migration steps) and resume them after the update; this release cannot pause them itself");
        return { followers: [], patterns: [] };
    }
    return m.pauseReplicationFor(client, alias, log);
}

/** Resumes what {@link pauseReplication} paused. */
export async function resumeReplication(client: Client, alias: string, paused: PausedReplication | undefined): Promise<void> {
    if (nothingPaused(paused)) return;
    const m = ccr();
    if (!m) throw new Error(`cannot resume follower indices ${paused!.followers.join(", ") || "(none)"} and auto-follow patterns ${paused!.patterns.join(", ") || "(none)"}: provider/ccr/migration is not installed`);
    await m.resumeReplication(client, alias, paused!, (msg) => pulumi.log.info(`remote cluster '${alias}': ${msg}`));
}

/** `followers a, b and patterns p` for messages. */
export function pausedText(p: PausedReplication): string {
    const parts = [
        p.followers.length ? `follower indices ${p.followers.join(", ")}` : "",
        p.patterns.length ? `auto-follow patterns ${p.patterns.join(", ")}` : "",
    ].filter(Boolean);
    return parts.join(" and ");
}
