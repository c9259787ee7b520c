/**
 * Which cluster a connection reaches: its `cluster_uuid`, recorded in the state of roles and users
 * so that connection URLs that now reach another cluster replace the resource instead of claiming
 * a role or user that is not there. Read once per process and connection: a program with many
 * roles and users on the same two clusters asks each cluster once.
 */
import { callCluster, clientFor, ClusterConnection } from "../core/client";
import { cachedFact, forgetFacts } from "../core/facts";

/** What Elasticsearch reports before the cluster has elected a master and written its metadata. */
const NOT_YET = "_na_";

/**
 * The `cluster_uuid` of the cluster `conn` reaches, or undefined while the cluster has none yet.
 * Kept in the process's fact cache per URLs (credentials do not change which cluster it is); a
 * failure or a UUID not made yet is not kept: the next call asks again.
 * @internal
 */
export function clusterUuidOf(side: string, conn: ClusterConnection): Promise<string | undefined> {
    return cachedFact(conn, "cluster_uuid", async () => {
        // Not `GET /` (which also reports it): that endpoint lives in the rest-root module, which
        // minimal distributions such as the integ-test-zip leave out (HTTP 405 there).
        const r = await callCluster(side, conn, "read the cluster UUID (GET _cluster/state/metadata)", () =>
            clientFor(conn).transport.request<{ metadata?: { cluster_uuid?: string } }>({ method: "GET", path: "/_cluster/state/metadata", querystring: { filter_path: "metadata.cluster_uuid" } }));
        const found = r?.metadata?.cluster_uuid;
        return typeof found === "string" && found !== NOT_YET ? found : undefined;
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
