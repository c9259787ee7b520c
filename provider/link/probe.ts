/**
 * What the preview-time checks need to know about a cluster: its identity (`cluster_uuid`), every
 * node's version, roles and publish addresses, whether security and transport TLS are on, and per
 * node which CA issued the transport certificate it presents and which CAs it trusts. Three GET
 * requests and one TLS handshake per cluster, plus one request and one handshake per node when
 * there are several; kept a minute in the provider process's fact cache (core/facts), so ten links
 * to one cluster probe it once, and forgotten as soon as this process delivers a certificate or a
 * trust file (tag `certificates`).
 */
import { Client } from "@elastic/elasticsearch";
import { callCluster, clientFor, ClusterConnection } from "../core/client";
import { clusterIdentity, nodeConnection, peerCertificates, publishAddress } from "../core/nodes";
import { minimumVersion } from "./compat";
import { reasonOf } from "../core/errors";
import { cachedFact, CERTIFICATE_FACTS, forgetFacts } from "../core/facts";
import { hostOf, NodeFacts, NodeTls, parseSans } from "./nodes";

/** Facts about one cluster: cluster-wide ones as answered by the node the client reached, and per node. */
export interface ClusterFacts {
    /** Lowest version among the cluster's nodes (clusters are mixed during rolling upgrades). */
    minVersion: string;
    /** Every node's version. */
    versions: string[];
    /** `xpack.security.enabled` is not `false` on any node. */
    securityEnabled: boolean;
    /** Every node has `xpack.security.transport.ssl.enabled: true`. */
    transportTls: boolean;
    /** Issuer DNs of the transport certificate(s) the answering node presents. */
    transportCertIssuers: string[];
    /** Subject DNs of the CAs the answering node trusts on the transport layer. */
    trustedCaSubjects: string[];
    /** False where the node's SSL configuration could not be matched to files (keystores, PKCS#11). */
    trustKnown: boolean;
    /** `cluster_uuid` from `GET /`: tells one cluster from another behind the same URLs. */
    clusterUuid?: string;
    clusterName?: string;
    /** Every node, with its roles, addresses and (when it could be read) its own transport TLS. */
    nodes: NodeFacts[];
}

interface NodeSettings {
    name?: string;
    version?: string;
    roles?: string[];
    settings?: { xpack?: { security?: Record<string, any> } };
    http?: { publish_address?: string };
    transport?: { publish_address?: string };
}

interface SslCertificate {
    path: string;
    format: string;
    subject_dn: string;
    issuer?: string;
    has_private_key: boolean;
    serial_number: string;
}

function sslSettings(n: NodeSettings): Record<string, any> {
    return n.settings?.xpack?.security?.transport?.ssl ?? {};
}

function asList(v: unknown): string[] {
    if (Array.isArray(v)) return v.map(String);
    if (typeof v === "string") return v.split(",").map((s) => s.trim()).filter(Boolean);
    return [];
}

/** True if the certificate entry was loaded from `configured` (paths may be relative to the config dir). */
function samePath(entryPath: string, configured: string): boolean {
    const norm = (p: string) => p.replace(/\\/g, "/").replace(/^\.\//, "");
    const a = norm(entryPath);
    const b = norm(configured);
    return a === b || a.endsWith(`/${b}`) || b.endsWith(`/${a}`);
}

function normSerial(s: string): string {
    return s.replace(/:/g, "").replace(/^0+/, "").toLowerCase();
}

/** Serial number of the certificate the HTTP layer at `urlText` presents (one TLS handshake, no request). */
async function httpCertificateSerial(conn: ClusterConnection, urlText = conn.urls[0]): Promise<string | undefined> {
    let url: URL;
    try {
        url = new URL(urlText);
    } catch {
        return undefined;
    }
    if (url.protocol !== "https:") return undefined;
    const r = await peerCertificates(url.hostname.replace(/^\[|\]$/g, ""), Number(url.port || 443), {
        ca: conn.caPem, verify: !conn.insecure && !conn.caFingerprint,
    });
    return (r.secure && r.chain[0]?.serialNumber) || undefined;
}

/** @internal Kept here for the probe's tests; the one copy is in core/nodes. */
export { publishAddress };

/** The transport certificate(s) a node presents and the CAs it trusts, from its own `_ssl/certificates`. */
function nodeTls(node: NodeSettings, certs: SslCertificate[], httpCertSerial?: string): NodeTls {
    const ssl = sslSettings(node);
    const certPaths = [ssl.certificate, ssl.keystore?.path].filter((p): p is string => typeof p === "string");
    const caPaths = [...asList(ssl.certificate_authorities), ssl.truststore?.path].filter((p): p is string => typeof p === "string");
    let own: SslCertificate[];
    let cas: SslCertificate[];
    if (certPaths.length && caPaths.length) {
        own = certs.filter((c) => c.has_private_key && certPaths.some((p) => samePath(c.path, p)));
        cas = certs.filter((c) => caPaths.some((p) => samePath(c.path, p)));
    } else {
        // Elasticsearch filters the SSL file settings out of GET _nodes/settings, so the entries
        // cannot be matched by path. The node's own certificates are those with a private key; the
        // one the node's HTTP layer presented to us is the HTTP certificate, unless it is the only
        // one (one certificate for both layers). Every certificate without a key counts as trusted,
        // which may include HTTP-only CAs: the check can miss a problem, never invent one.
        const keyed = certs.filter((c) => c.has_private_key);
        const notHttp = keyed.filter((c) => !httpCertSerial || normSerial(c.serial_number) !== normSerial(httpCertSerial));
        own = notHttp.length ? notHttp : keyed;
        cas = certs.filter((c) => !c.has_private_key);
    }
    return {
        transportCertIssuers: [...new Set(own.map((c) => c.issuer).filter((i): i is string => !!i))],
        trustedCaSubjects: [...new Set(cas.map((c) => c.subject_dn))],
        known: own.length > 0 && own.every((c) => !!c.issuer) && cas.length > 0,
    };
}

function nodeFacts(id: string, n: NodeSettings): NodeFacts {
    const ssl = sslSettings(n);
    return {
        id,
        name: typeof n.name === "string" ? n.name : id,
        version: n.version ?? "0.0.0",
        // Nodes before 7.x reported no roles; every node had every role then.
        roles: Array.isArray(n.roles) ? n.roles.map(String) : ["master", "data", "ingest", "remote_cluster_client"],
        httpAddress: publishAddress(n.http?.publish_address),
        transportAddress: publishAddress(n.transport?.publish_address),
        verificationMode: typeof ssl.verification_mode === "string" ? ssl.verification_mode : undefined,
    };
}

/**
 * Reads the facts from the cluster's answers (pure; exported for tests). `certs` and
 * `httpCertSerial` come from the node that answered: with one node they are that node's TLS
 * facts; with several, the probe reads each node's own (see {@link probeCluster}).
 * @internal
 */
export function factsFrom(nodes: Record<string, NodeSettings>, certs: SslCertificate[], httpCertSerial?: string): ClusterFacts {
    const entries = Object.entries(nodes);
    const all = entries.map(([, n]) => n);
    const versions = all.map((n) => n.version ?? "0.0.0");
    const securityEnabled = all.every((n) => String(n.settings?.xpack?.security?.enabled ?? "true") !== "false");
    const transportTls = all.length > 0 && all.every((n) => String(sslSettings(n).enabled ?? "false") === "true");
    const facts = entries.map(([id, n]) => nodeFacts(id, n));
    const answering = nodeTls(all[0] ?? {}, certs, httpCertSerial);
    if (facts.length === 1) facts[0].tls = answering;
    return {
        minVersion: minimumVersion(versions),
        versions,
        securityEnabled,
        transportTls,
        transportCertIssuers: answering.transportCertIssuers,
        trustedCaSubjects: answering.trustedCaSubjects,
        trustKnown: answering.known,
        nodes: facts,
    };
}

/**
 * Reads each node's own `_ssl/certificates` (and the serial of the HTTP certificate that same node
 * presents) through its HTTP publish address, with the connection's credentials and CA. A node
 * that cannot be reached keeps `tls` unset and says why in `tlsUnchecked`.
 */
async function readEachNodesTls(conn: ClusterConnection, raw: Record<string, NodeSettings>, facts: ClusterFacts): Promise<void> {
    await Promise.all(facts.nodes.map(async (n) => {
        if (!n.httpAddress) {
            n.tlsUnchecked = "it publishes no HTTP address (http disabled?)";
            return;
        }
        const nodeConn = nodeConnection(conn, n.httpAddress);
        const url = nodeConn.urls[0];
        try {
            const certs = await clientFor(nodeConn).transport.request<SslCertificate[]>({ method: "GET", path: "/_ssl/certificates" });
            n.tls = nodeTls(raw[n.id] ?? {}, Array.isArray(certs) ? certs : [], await httpCertificateSerial(nodeConn, url));
        } catch (e) {
            n.tlsUnchecked = `its HTTP address ${url} (from GET _nodes/http) did not answer GET _ssl/certificates: ${reasonOf(e)}`;
        }
    }));
}

const PROBE_MAX_AGE_MS = 60_000;

/**
 * Probes a cluster (see the top of this file), kept per connection (URLs + credentials: another user
 * may see other answers) for a minute in the process's fact cache. `generation` names what
 * the caller knows to have changed the certificates since (e.g. the fingerprints of the node
 * certificates a link waits for): probes made before a delivery are not reused after it.
 * @internal
 */
export function probeCluster(label: string, conn: ClusterConnection, client?: Client, generation = ""): Promise<ClusterFacts> {
    return cachedFact(conn, `probe\u0000${generation}`, async () => {
        const c = client ?? clientFor(conn);
        // `GET /` would name the cluster too, but not every distribution serves it (the test
        // distributions answer 405); the cluster state's metadata always holds the UUID.
        const root = await clusterIdentity(label, conn, c, "read the cluster's identity (GET _cluster/state/metadata)");
        const nodes = await callCluster(label, conn, "read the node versions, roles, addresses and settings (GET _nodes)", () =>
            c.transport.request<{ nodes?: Record<string, NodeSettings> }>({
                method: "GET",
                path: "/_nodes",
                querystring: { filter_path: "nodes.*.name,nodes.*.version,nodes.*.roles,nodes.*.settings.xpack.security,nodes.*.http.publish_address,nodes.*.transport.publish_address" },
            }));
        if (!nodes || typeof nodes !== "object" || !nodes.nodes || typeof nodes.nodes !== "object") {
            throw new Error(`${label} cluster answered GET _nodes without a 'nodes' object`);
        }
        // A node whose entry is not an object, or whose version is not a version string, cannot be
        // judged: refuse rather than pass a check on nodes nobody could read.
        for (const [id, n] of Object.entries(nodes.nodes as Record<string, unknown>)) {
            const version = (n as { version?: unknown } | null)?.version;
            if (n === null || typeof n !== "object" || typeof version !== "string" || !/^\d+\.\d+/.test(version)) {
                throw new Error(`${label} cluster answered GET _nodes with node '${id}' as ${JSON.stringify(n)?.slice(0, 80)}: no version to judge. ` +
                    `Check that ${label}.urls point at the cluster's HTTP layer`);
            }
        }
        const certs = await callCluster(label, conn, "read its TLS certificates (GET _ssl/certificates)", () =>
            c.transport.request<SslCertificate[]>({ method: "GET", path: "/_ssl/certificates" }));
        const f = factsFrom(nodes.nodes, Array.isArray(certs) ? certs : [], await httpCertificateSerial(conn));
        f.clusterUuid = root.uuid;
        f.clusterName = root.name;
        // One node: what it answered is its own. Several: `_ssl/certificates` describes only the
        // node that answered, so each node is asked at its own HTTP address.
        if (f.nodes.length > 1) await readEachNodesTls(conn, nodes.nodes, f);
        return f;
    }, { maxAgeMs: PROBE_MAX_AGE_MS, tags: [CERTIFICATE_FACTS] });
}

/** @internal Forget every probe this process holds (tests; the root test hook clears all facts anyway). */
export function clearProbeMemo(): void {
    forgetFacts({ tag: CERTIFICATE_FACTS });
}

/**
 * The subjectAltNames of the certificate a node's transport layer serves at `address` (`host:port`):
 * one TLS handshake without verification (only to read the certificate; nothing is sent), SNI
 * `serverName` when given. Transport TLS asks for a client certificate, which this handshake does
 * not have: the server's certificate arrives before that matters.
 * @internal
 */
export async function transportSans(address: string, serverName?: string, timeoutMs = 5000): Promise<{ sans?: { dns: string[]; ips: string[] }; error?: string }> {
    const host = hostOf(address);
    const port = Number(/:(\d+)$/.exec(address.trim())?.[1] ?? 9300);
    const r = await peerCertificates(host, port, { servername: serverName, timeoutMs });
    // TLS 1.3: the server may reject the missing client certificate right after its own; the
    // certificate was received by then.
    if (r.chain.length) return { sans: parseSans(r.chain[0].subjectaltname) };
    return { error: r.timedOut ? `no TLS handshake with ${address} within ${timeoutMs / 1000}s` : `no TLS handshake with ${address}: ${r.error?.message ?? "no certificate presented"}` };
}
