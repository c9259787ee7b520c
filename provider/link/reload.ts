/**
 * `POST _nodes/reload_secure_settings`: makes every node re-read its keystore, so a credential
 * added or removed with the keystore tool takes effect without a restart (the remote connection is
 * rebuilt: the node logs "updated after credentials change: [RECONNECTED]").
 */
import { Client } from "@elastic/elasticsearch";
import { callCluster, ClusterConnection } from "../core/client";
import { EsRemoteError } from "../core/errors";
import { urlsOf } from "../core/validation";

/** One node's answer. */
export interface NodeReload {
    id: string;
    name: string;
    /** Secure setting names the node holds after the reload (Elasticsearch 8.13+ reports them). */
    secureSettingNames?: string[];
    keystorePath?: string;
    /**
     * SHA-256 (hex) of the keystore file the node loaded (9.x reports it with the path; 8.19 reports
     * neither): tells a node that read another file than the one written, whose old value it keeps.
     */
    keystoreDigest?: string;
    error?: string;
}

/** Reloads every node's secure settings; throws if a node failed to reload. */
export async function reloadSecureSettings(client: Client, conn: ClusterConnection): Promise<NodeReload[]> {
    const res = await callCluster("local", conn, "reload the nodes' secure settings (POST _nodes/reload_secure_settings)", () =>
        client.transport.request<{ _nodes?: { failed?: number; failures?: unknown[] }; nodes?: Record<string, Record<string, any>> }>(
            { method: "POST", path: "/_nodes/reload_secure_settings", body: {} }));
    const nodes: NodeReload[] = Object.entries(res.nodes ?? {}).map(([id, n]) => ({
        id,
        name: String(n.name ?? id),
        secureSettingNames: Array.isArray(n.secure_setting_names) ? n.secure_setting_names.map(String) : undefined,
        keystorePath: typeof n.keystore_path === "string" ? n.keystore_path : undefined,
        keystoreDigest: typeof n.keystore_digest === "string" ? n.keystore_digest.toLowerCase() : undefined,
        error: n.reload_exception ? String(n.reload_exception.reason ?? JSON.stringify(n.reload_exception)) : undefined,
    }));
    const failed = nodes.filter((n) => n.error);
    if (failed.length || (res._nodes?.failed ?? 0) > 0) {
        throw new EsRemoteError(
            `reloading the secure settings of the local cluster (${urlsOf(conn)}) failed on ${failed.map((n) => `${n.name}: ${n.error}`).join("; ") || `${res._nodes?.failed} node(s): ${JSON.stringify(res._nodes?.failures ?? [])}`}`,
            { nodes: failed.map((n) => n.name) });
    }
    return nodes;
}

/**
 * The nodes whose keystore, after the reload, does not hold `setting` (when they report their
 * setting names): they were left out of `keystoreOn`.
 */
export function nodesMissing(nodes: NodeReload[], setting: string): NodeReload[] {
    return nodes.filter((n) => n.secureSettingNames !== undefined && !n.secureSettingNames.includes(setting));
}

/**
 * The nodes that report the digest of the keystore they loaded and whose digest is none of
 * `written` (the keystores' files right after the write): they hold the setting from another file,
 * with whatever value it has (a rotation's old key), so the setting's name alone proves nothing.
 */
export function nodesOnOtherKeystore(nodes: NodeReload[], written: string[]): NodeReload[] {
    return nodes.filter((n) => n.keystoreDigest !== undefined && !n.error && !written.includes(n.keystoreDigest));
}
