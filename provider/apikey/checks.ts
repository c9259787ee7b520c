/**
 * Preview-time checks of an API-key remote cluster, each failure naming the side and the fix:
 * versions (8.14+ on every node of both clusters), licenses (Enterprise or trial, active, on both),
 * the remote cluster server (enabled, and the seeds pointing at its port, not at the transport port),
 * and the local nodes' trust in the server's certificate. Never writes.
 */
import * as tls from "tls";
import { Client } from "@elastic/elasticsearch";
import { callCluster, ClusterConnection } from "../core/client";
import { peerCertificates, readNodes, splitHostPort } from "../core/nodes";
import type { CheckFailure } from "../core/validation";
import { urlsOf } from "../core/validation";
import { nodesOlderThan } from "../link/compat";
import { normalDn } from "../link/nodes";

/** The first version in which API-key remote clusters are generally available. */
export const MIN_API_KEY_VERSION = "8.14.0";

/** License types that include advanced remote cluster security. */
export const API_KEY_LICENSES = ["enterprise", "trial"];

type Side = "local" | "remote";

/** Every node's version, from `GET _nodes/_all/version` (all nodes, not only the one answering). */
export async function nodeVersions(client: Client, side: Side, conn: ClusterConnection): Promise<Array<{ name: string; version: string }>> {
    // Not nodes.info({ metric: "_none" }): GET /_nodes/_none is read as a node filter and lists no
    // nodes at all (seen on 8.19.21 and 9.5.4), which passed every node as new enough.
    const nodes = Object.values(await readNodes<{ name: string; version: string }>(side, conn, client, "read the nodes' versions (GET _nodes)", { filterPath: "nodes.*.name,nodes.*.version" }));
    if (!nodes.length) throw new Error(`${side} cluster (${urlsOf(conn)}): GET _nodes listed no nodes`);
    return nodes;
}

/** Why the nodes are too old for API-key remote clusters, or undefined. */
export function versionProblem(side: Side, conn: ClusterConnection, nodes: Array<{ name: string; version: string }>): CheckFailure | undefined {
    const old = nodesOlderThan(nodes, MIN_API_KEY_VERSION);
    if (!old.length) return undefined;
    return {
        property: `${side}.urls`,
        reason: `API-key remote clusters need Elasticsearch ${MIN_API_KEY_VERSION} or later on every node of both clusters; the ${side} cluster (${urlsOf(conn)}) has ${old.map((n) => `${n.name} on ${n.version}`).join(", ")}. ` +
            `Upgrade those nodes, or keep security: "certificate" for this link`,
    };
}

/** Why the cluster's license does not allow API-key remote clusters, or undefined. */
export async function licenseProblem(client: Client, side: Side, conn: ClusterConnection): Promise<CheckFailure | undefined> {
    const res = await callCluster(side, conn, "read the license (GET _license)", () => client.license.get());
    const l = (res as { license?: { type?: string; status?: string } }).license ?? {};
    const type = String(l.type ?? "none");
    const status = String(l.status ?? "unknown");
    if (API_KEY_LICENSES.includes(type) && status === "active") return undefined;
    return {
        property: `${side}.urls`,
        reason: `the ${side} cluster (${urlsOf(conn)}) has a${type === "enterprise" ? "n" : ""} ${type} license (${status}); API-key remote clusters need an active Enterprise license on both clusters ` +
            `(Elasticsearch answers "current license is non-compliant for [advanced-remote-cluster-security]"). ` +
            `Install an Enterprise license (PUT _license) or, to try it out, start a trial (POST _license/start_trial?acknowledge=true); ` +
            `or keep security: "certificate" for this link`,
    };
}

/** What the remote's nodes publish: the server's addresses (empty when it is off) and the transport's. */
export interface RemoteServerFacts {
    serverAddresses: string[];
    transportAddresses: string[];
}

export async function remoteServerFacts(client: Client, conn: ClusterConnection): Promise<RemoteServerFacts> {
    type Listener = { publish_address?: string; bound_address?: string[] };
    const nodes = Object.values(await readNodes<{ remote_cluster_server?: Listener; transport?: Listener }>(
        "remote", conn, client, "read the remote cluster server's addresses (GET _nodes/remote_cluster_server,transport)", { path: "/_nodes/remote_cluster_server,transport" }));
    const addrs = (f: (n: typeof nodes[number]) => { publish_address?: string; bound_address?: string[] } | undefined) =>
        nodes.flatMap((n) => {
            const x = f(n);
            return x ? [x.publish_address, ...(x.bound_address ?? [])].filter((a): a is string => typeof a === "string") : [];
        });
    return { serverAddresses: [...new Set(addrs((n) => n.remote_cluster_server))], transportAddresses: [...new Set(addrs((n) => n.transport))] };
}

function portOf(address: string): string | undefined {
    const m = /:(\d+)$/.exec(address);
    return m?.[1];
}

/** The publish addresses may be `host/ip:port`; compare ports and hosts loosely. */
function sameEndpoint(a: string, b: string): boolean {
    const host = (x: string) => x.replace(/:\d+$/, "").replace(/^.*\//, "").replace(/^\[|\]$/g, "");
    return portOf(a) === portOf(b) && (host(a) === host(b) || ["localhost", "127.0.0.1", "::1"].includes(host(a)) && ["localhost", "127.0.0.1", "::1"].includes(host(b)));
}

/**
 * Failures about the remote cluster server: not enabled at all, or seeds/proxy pointing at the
 * transport port (the certificate model's port) instead of the server's.
 */
export function serverProblems(facts: RemoteServerFacts, targets: Array<{ property: string; address: string }>, remote: ClusterConnection): CheckFailure[] {
    if (!facts.serverAddresses.length) {
        return [{
            property: "remote.urls",
            reason: `the remote cluster (${urlsOf(remote)}) has no remote cluster server: API-key remote clusters connect to it. ` +
                `Set remote_cluster_server.enabled: true (and xpack.security.remote_cluster_server.ssl.* for its certificate) in elasticsearch.yml on the remote nodes and restart them (a static setting)`,
        }];
    }
    const f: CheckFailure[] = [];
    const server = facts.serverAddresses.map((a) => a.replace(/^.*\//, ""));
    for (const t of targets) {
        if (facts.transportAddresses.some((a) => sameEndpoint(a, t.address)) && !facts.serverAddresses.some((a) => sameEndpoint(a, t.address))) {
            f.push({
                property: t.property,
                reason: `${t.address} is the remote cluster's transport port (the certificate model's port, 9300-style); with security: "apiKey" the local nodes connect to the remote cluster server port instead: ` +
                    `use ${[...new Set(server)].join(", ")} (remote_cluster.port, 9443 by default). At the transport port Elasticsearch fails the connection with "requires channel profile to be [_remote_cluster], but got [default]"`,
            });
        }
    }
    return f;
}

/** The certificate chain a remote cluster server presents at `address` (a TLS handshake, no data), or why not. */
export async function serverChain(address: string, serverName?: string, timeoutMs = 10_000): Promise<{ issuers: string[]; subjects: string[] } | { error: string }> {
    const hp = splitHostPort(address);
    if (!hp) return { error: `${address} is not host:port` };
    const r = await peerCertificates(hp.host, hp.port, { servername: serverName, timeoutMs });
    if (!r.secure) return { error: r.timedOut ? "timed out" : r.error?.message ?? "no handshake" };
    return { issuers: r.chain.map((c) => dn(c.issuer)), subjects: r.chain.map((c) => dn(c.subject)) };
}

/** The DN comparison key of every trust check ({@link normalDn}, one copy for both models). */
export const dnKey = normalDn;

function dn(o: tls.Certificate | undefined): string {
    if (!o) return "";
    return Object.entries(o).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : v}`).join(", ");
}

/** Subject DNs of the certificates the local nodes have loaded (`GET _ssl/certificates`), and whether the client's TLS is off. */
export async function localTrustFacts(client: Client, conn: ClusterConnection): Promise<{ subjects: string[]; clientSslDisabled: boolean }> {
    const certs = await callCluster("local", conn, "read the loaded certificates (GET _ssl/certificates)", () =>
        client.transport.request<Array<{ subject_dn?: string }>>({ method: "GET", path: "/_ssl/certificates" }));
    const settings = await callCluster("local", conn, "read the nodes' remote cluster client settings (GET _nodes/settings)", () =>
        client.nodes.info({ metric: "settings", filter_path: "nodes.*.settings.xpack.security.remote_cluster_client.ssl.enabled" }));
    const flags = Object.values((settings as { nodes?: Record<string, any> }).nodes ?? {})
        .map((n) => n?.settings?.xpack?.security?.remote_cluster_client?.ssl?.enabled);
    return {
        subjects: (Array.isArray(certs) ? certs : []).map((c) => String(c.subject_dn ?? "")),
        clientSslDisabled: flags.some((f) => String(f) === "false"),
    };
}

/**
 * Failure if the local nodes cannot trust the server's chain: none of the certificates they loaded
 * is the chain's issuer (by subject DN). Advisory where it cannot know (keystores, PKCS#11).
 */
export function trustProblem(local: { subjects: string[]; clientSslDisabled: boolean }, chain: { issuers: string[]; subjects: string[] }, address: string, localConn: ClusterConnection): CheckFailure | undefined {
    if (local.clientSslDisabled) {
        return {
            property: "local.urls",
            reason: `the local cluster (${urlsOf(localConn)}) has xpack.security.remote_cluster_client.ssl.enabled: false, but the remote cluster server at ${address} speaks TLS: ` +
                `set it to true with certificate_authorities naming the CA of the server's certificate, and restart the local nodes`,
        };
    }
    const loaded = new Set(local.subjects.map(dnKey));
    const known = [...chain.issuers, ...chain.subjects].some((d) => loaded.has(dnKey(d)));
    if (known) return undefined;
    return {
        property: "local.urls",
        reason: `the local cluster (${urlsOf(localConn)}) does not trust the CA that issued the remote cluster server's certificate at ${address} (issuer "${chain.issuers[0] ?? "?"}"): ` +
            `add that CA to xpack.security.remote_cluster_client.ssl.certificate_authorities on every local node and restart them. ` +
            `Otherwise the connection fails with "PKIX path building failed … unable to find valid certification path"`,
    };
}
