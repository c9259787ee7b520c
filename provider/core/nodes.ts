/**
 * Per-node facts and per-node clients, in one place for every resource: `GET _nodes` (which nodes,
 * their versions, addresses, settings, modules), which cluster a connection reaches (its
 * `cluster_uuid`), a connection to one node at its HTTP publish address, and the certificate chain
 * a node's TLS listener presents (one handshake, nothing sent).
 *
 * What a resource concludes from these facts stays with it (provider/link/nodes.ts for a link's
 * verdicts, provider/certs/verify.ts for a delivered certificate); this module only reads.
 */
import type { Client } from "@elastic/elasticsearch";
import { callCluster, ClusterConnection, RetryPolicy } from "./client";

// ----------------------------------------------------------------------------- GET _nodes

/**
 * `GET <path>` (`/_nodes`, `/_nodes/settings`, `/_nodes/<name>/http`, …) through `client`, with
 * `filterPath` as `filter_path` when given: the `nodes` object (node id → what it reported), empty
 * when the answer has none. `what` names the request in errors ("read the nodes' versions (GET _nodes)").
 */
export async function readNodes<N>(
    side: string, conn: ClusterConnection, client: Client, what: string,
    req: { path?: string; filterPath?: string; query?: Record<string, string> } = {}, policy?: Partial<RetryPolicy>,
): Promise<Record<string, N>> {
    const querystring = { ...(req.query ?? {}), ...(req.filterPath ? { filter_path: req.filterPath } : {}) };
    const res = await callCluster(side, conn, what, () =>
        client.transport.request<{ nodes?: Record<string, N> }>({
            method: "GET", path: req.path ?? "/_nodes", ...(Object.keys(querystring).length ? { querystring } : {}),
        }), policy);
    const nodes = (res as { nodes?: unknown } | undefined)?.nodes;
    return nodes && typeof nodes === "object" ? nodes as Record<string, N> : {};
}

/**
 * `host:port` from a publish address as `_nodes` prints it: `10.0.0.2:9200`, `es1.example/10.0.0.2:9200`
 * (the name is used when there is one: certificates usually name hosts), `[::1]:9200`.
 */
export function publishAddress(v: unknown): string | undefined {
    if (typeof v !== "string" || !v.trim()) return undefined;
    const s = v.trim();
    const slash = s.indexOf("/");
    if (slash < 0) return s;
    const name = s.slice(0, slash);
    const rest = s.slice(slash + 1);
    if (!name) return rest;
    const port = /:(\d+)$/.exec(rest)?.[1];
    return port ? `${name}:${port}` : rest;
}

// ----------------------------------------------------------------------------- which cluster

/** What Elasticsearch reports before the cluster has elected a master and written its metadata. */
const NO_UUID_YET = "_na_";

/**
 * The `cluster_uuid` and `cluster_name` of the cluster `client` reaches (`GET _cluster/state/metadata`);
 * `uuid` is undefined while the cluster has none yet. Not `GET /` (which also reports it): that
 * endpoint lives in the rest-root module, which minimal distributions such as the integ-test-zip
 * leave out (HTTP 405 there).
 */
export async function clusterIdentity(side: string, conn: ClusterConnection, client: Client, what = "read the cluster UUID (GET _cluster/state/metadata)"): Promise<{ uuid?: string; name?: string }> {
    const r = await callCluster(side, conn, what, () =>
        client.transport.request<{ cluster_name?: unknown; metadata?: { cluster_uuid?: unknown } }>({
            method: "GET", path: "/_cluster/state/metadata", querystring: { filter_path: "cluster_name,metadata.cluster_uuid" },
        }));
    const uuid = r?.metadata?.cluster_uuid;
    return {
        uuid: typeof uuid === "string" && uuid !== NO_UUID_YET ? uuid : undefined,
        name: typeof r?.cluster_name === "string" ? r.cluster_name : undefined,
    };
}

// ----------------------------------------------------------------------------- one node

/**
 * A connection to one node: the same credentials and CA, `address` (`host:port`, a node's HTTP
 * publish address) with the connection's scheme, no retries (another node would answer instead)
 * and at most 10 s per request.
 */
export function nodeConnection(conn: ClusterConnection, address: string): ClusterConnection {
    let scheme = "https:";
    try {
        scheme = new URL(conn.urls[0]).protocol;
    } catch { /* validated before */ }
    return urlConnection(conn, `${scheme}//${address}`);
}

/** {@link nodeConnection} for one URL of the connection itself (asking the node behind it). */
export function urlConnection(conn: ClusterConnection, url: string): ClusterConnection {
    return { ...conn, urls: [url], maxRetries: 0, requestTimeoutSeconds: Math.min(conn.requestTimeoutSeconds ?? 10, 10) };
}

// ----------------------------------------------------------------------------- TLS

/** What a node's TLS listener presents (core/tls.ts: no client needed, so core/client uses it too). */
export { peerCertificates, PeerCertificates, splitHostPort } from "./tls";
