/**
 * Which cluster a connection reaches: its `cluster_uuid`, recorded in the state of roles and users
 * so that connection URLs that now reach another cluster replace the resource instead of claiming
 * a role or user that is not there. Read once per process and connection: a program with many
 * roles and users on the same two clusters asks each cluster once.
 */
import { clientFor, ClusterConnection } from "../core/client";
import { clusterIdentity } from "../core/nodes";
import { cachedFact, forgetFacts } from "../core/facts";

/**
 * The `cluster_uuid` of the cluster `conn` reaches, or undefined while the cluster has none yet.
 * Kept in the process's fact cache per URLs (credentials do not change which cluster it is); a
 * failure or a UUID not made yet is not kept: the next call asks again.
 * @internal
 */
export function clusterUuidOf(side: string, conn: ClusterConnection): Promise<string | undefined> {
    return cachedFact(conn, "cluster_uuid", async () => {
        return (await clusterIdentity(side, conn, clientFor(conn))).uuid;
    }, { scope: "cluster", keepIf: (v) => v !== undefined });
}

/** Forgets every fact read, UUIDs included (tests). @internal */
export function clearClusterUuidMemo(): void {
    forgetFacts();
}

/** True if two connections list different URLs (order and case of the host aside). @internal */
export function urlsDiffer(a: { urls?: unknown } | undefined, b: { urls?: unknown } | undefined): boolean {
    const norm = (c: { urls?: unknown } | undefined) => JSON.stringify((Array.isArray(c?.urls) ? c!.urls : []).map((u) => String(u).toLowerCase().replace(/\/+$/, "")).sort());
    return norm(a) !== norm(b);
}
