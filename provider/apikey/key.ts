/**
 * Cross-cluster API keys on the remote cluster: create, read, update in place, invalidate.
 * Every request goes through the shared client and {@link callCluster}.
 */
import { Client } from "@elastic/elasticsearch";
import { callCluster, ClusterConnection } from "../core/client";
import { accessBody, accessFromBody, CrossClusterAccess } from "./keyBody";

/** A key as `GET /_security/api_key?id=` reports it. */
export interface KeyInfo {
    id: string;
    name: string;
    type?: string;
    invalidated: boolean;
    /** Expiry in ms since the epoch, if the key expires. */
    expiration?: number;
    creation?: number;
    metadata?: Record<string, unknown>;
    /** The access, when the cluster reports it (8.13+ `access`), in the inputs' words. */
    access?: CrossClusterAccess;
    /** The DN pattern a signing certificate must match (9.3+ `certificate_identity`); absent: none required. */
    certificateIdentity?: string;
    /**
     * The cluster privileges of the key's role descriptor (`role_descriptors.cross_cluster.cluster`),
     * which Elasticsearch builds from the access when the key is created or updated: a search key
     * made on 8.19.21 or 9.5.4 has `cross_cluster_search` and `monitor_enrich`, one made before 8.15
     * lacks `monitor_enrich` (ES|QL `ENRICH`). Absent when the cluster does not report it.
     */
    clusterPrivileges?: string[];
}

/**
 * True when a key with search access lacks `monitor_enrich` in its role descriptor: made before
 * Elasticsearch 8.15 and not updated since. Elastic's "ES|QL cross-cluster querying" page: "Cross
 * cluster API keys created in versions prior to 8.15.0 will need to replaced or updated to add the
 * new permissions required for ES|QL with ENRICH." Predicate: never throws.
 */
export function lacksEnrich(k: Pick<KeyInfo, "access" | "clusterPrivileges"> | undefined): boolean {
    return !!k && Array.isArray(k.clusterPrivileges) && (k.access?.search ?? []).length > 0 && !k.clusterPrivileges.includes("monitor_enrich");
}

/** What a create returns: the encoded credential is the secret the local cluster needs. */
export interface CreatedKey {
    id: string;
    name: string;
    encoded: string;
    expiration?: number;
}

/**
 * The body of a create or update request. `certificateIdentity`: a pattern sets it, `null` clears
 * it (Elasticsearch's update semantics: `null` removes the field from the key), left out keeps it.
 */
export function keyRequestBody(a: { access: CrossClusterAccess; name?: string; expiration?: string; metadata?: Record<string, unknown>; certificateIdentity?: string | null }): Record<string, unknown> {
    const b: Record<string, unknown> = { access: accessBody(a.access) };
    if (a.name !== undefined) b.name = a.name;
    if (a.expiration !== undefined) b.expiration = a.expiration;
    if (a.metadata !== undefined) b.metadata = a.metadata;
    if (a.certificateIdentity !== undefined) b.certificate_identity = a.certificateIdentity;
    return b;
}

/** `POST /_security/cross_cluster/api_key`. */
export async function createKey(client: Client, conn: ClusterConnection, args: { name: string; access: CrossClusterAccess; expiration?: string; metadata?: Record<string, unknown>; certificateIdentity?: string }): Promise<CreatedKey> {
    const res = await callCluster("remote", conn, `create the cross-cluster API key '${args.name}' (POST _security/cross_cluster/api_key)`, () =>
        client.transport.request<{ id: string; name: string; encoded: string; expiration?: number }>(
            { method: "POST", path: "/_security/cross_cluster/api_key", body: keyRequestBody(args) }), { maxRetries: 0 });
    return { id: res.id, name: res.name, encoded: res.encoded, expiration: res.expiration };
}

/** `PUT /_security/cross_cluster/api_key/<id>`: access, metadata, expiration and certificate identity in place. */
export async function updateKey(client: Client, conn: ClusterConnection, id: string, args: { access: CrossClusterAccess; expiration?: string; metadata?: Record<string, unknown>; certificateIdentity?: string | null }): Promise<boolean> {
    // Metadata left out keeps the old one: send {} to clear what the user removed.
    const body = keyRequestBody({ ...args, metadata: args.metadata ?? {} });
    const res = await callCluster("remote", conn, `update the cross-cluster API key ${id} (PUT _security/cross_cluster/api_key/${id})`, () =>
        client.transport.request<{ updated: boolean }>({ method: "PUT", path: `/_security/cross_cluster/api_key/${encodeURIComponent(id)}`, body }));
    return res.updated === true;
}

/** The key `id`, or undefined if the cluster does not know it. */
export async function getKey(client: Client, conn: ClusterConnection, id: string): Promise<KeyInfo | undefined> {
    const res = await callCluster("remote", conn, `read the API key ${id} (GET _security/api_key)`, () =>
        client.transport.request<{ api_keys?: Array<Record<string, unknown>> }>(
            { method: "GET", path: "/_security/api_key", querystring: { id } }, { ignore: [404] }));
    const k = (res as { api_keys?: Array<Record<string, unknown>> })?.api_keys?.find((x) => x.id === id);
    if (!k) return undefined;
    return {
        id: String(k.id),
        name: String(k.name ?? ""),
        type: typeof k.type === "string" ? k.type : undefined,
        invalidated: k.invalidated === true,
        expiration: typeof k.expiration === "number" ? k.expiration : undefined,
        creation: typeof k.creation === "number" ? k.creation : undefined,
        metadata: (k.metadata as Record<string, unknown>) ?? {},
        access: k.access !== undefined ? accessFromBody(k.access) : undefined,
        certificateIdentity: typeof k.certificate_identity === "string" && k.certificate_identity !== "" ? k.certificate_identity : undefined,
        clusterPrivileges: descriptorCluster(k.role_descriptors),
    };
}

/** `role_descriptors.cross_cluster.cluster` of a key as `GET _security/api_key` reports it, or undefined. */
function descriptorCluster(rd: unknown): string[] | undefined {
    const c = (rd as { cross_cluster?: { cluster?: unknown } } | undefined)?.cross_cluster?.cluster;
    return Array.isArray(c) && c.every((x) => typeof x === "string") ? [...c] : undefined;
}

/** Why a key cannot authenticate any more (`invalidated`, `expired`), or undefined if it can. */
export function unusable(k: KeyInfo | undefined, now = Date.now()): string | undefined {
    if (!k) return "no longer exists";
    if (k.invalidated) return "was invalidated";
    if (k.expiration !== undefined && k.expiration <= now) return `expired at ${new Date(k.expiration).toISOString()}`;
    return undefined;
}

/** `DELETE /_security/api_key` by id; a key already invalidated or gone is success. */
export async function invalidateKey(client: Client, conn: ClusterConnection, id: string): Promise<void> {
    await callCluster("remote", conn, `invalidate the API key ${id} (DELETE _security/api_key)`, () =>
        client.transport.request({ method: "DELETE", path: "/_security/api_key", body: { ids: [id] } }, { ignore: [404] }));
}
