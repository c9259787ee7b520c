/**
 * Which cluster a connection reaches: its `cluster_uuid`, recorded in the state of roles and users
 * so that connection URLs that now reach another cluster replace the resource instead of claiming
 * a role or user that is not there. Read once per process and connection: a program with many
 * roles and users on the same two clusters asks each cluster once.
 */
import { callCluster, clientFor, ClusterConnection } from "../core/client";

/** What Elasticsearch reports before the cluster has elected a master and written its metadata. */
const NOT_YET = "_na_";

const memo = new Map<string, Promise<string | undefined>>();

/** Connections with the same URLs reach the same cluster (credentials do not change which one). */
function memoKey(conn: ClusterConnection): string {
    return JSON.stringify([...(Array.isArray(conn.urls) ? conn.urls : [])].map(String).sort());
}

/**
 * The `cluster_uuid` of the cluster `conn` reaches, or undefined while the cluster has
 * none yet. A failure is not remembered: the next call asks again.
 * @internal
 */
export function clusterUuidOf(side: string, conn: ClusterConnection): Promise<string | undefined> {
    const key = memoKey(conn);
    let p = memo.get(key);
    if (!p) {
        // Not `GET /` (which also reports it): that endpoint lives in the rest-root module, which
        // minimal distributions such as the integ-test-zip leave out (HTTP 405 there).
        p = callCluster(side, conn, "read the cluster UUID (GET _cluster/state/metadata)", () =>
            clientFor(conn).transport.request<{ metadata?: { cluster_uuid?: string } }>({ method: "GET", path: "/_cluster/state/metadata", querystring: { filter_path: "metadata.cluster_uuid" } }))
            .then((r) => {
                const found = r?.metadata?.cluster_uuid;
                const uuid = typeof found === "string" && found !== NOT_YET ? found : undefined;
                if (uuid === undefined) memo.delete(key);
                return uuid;
            }, (e: unknown) => {
                memo.delete(key);
                throw e;
            });
        memo.set(key, p);
    }
    return p;
}

/** Forgets every UUID read (tests). @internal */
export function clearClusterUuidMemo(): void {
    memo.clear();
}

/** True if two connections list different URLs (order and case of the host aside). @internal */
export function urlsDiffer(a: { urls?: unknown } | undefined, b: { urls?: unknown } | undefined): boolean {
    const norm = (c: { urls?: unknown } | undefined) => JSON.stringify((Array.isArray(c?.urls) ? c!.urls : []).map((u) => String(u).toLowerCase().replace(/\/+$/, "")).sort());
    return norm(a) !== norm(b);
}
