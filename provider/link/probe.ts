/**
 * What the preview-time checks need to know about a cluster: its minimum node version, whether
 * security and transport TLS are on, which CA issued the transport certificate it presents and which
 * CAs it trusts on the transport layer. Two GET requests (and one TLS handshake) per cluster, memoised for the lifetime of
 * one provider process (one `pulumi preview`/`up`), so ten links to one cluster probe it once.
 */
import * as crypto from "crypto";
import * as net from "net";
import * as tls from "tls";
import { Client } from "@elastic/elasticsearch";
import { callCluster, clientFor, ClusterConnection } from "../core/client";
import { minimumVersion } from "./compat";

/** Facts about one cluster, as answered by the node the client reached. */
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
}

interface NodeSettings {
    version?: string;
    settings?: { xpack?: { security?: Record<string, any> } };
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

/** Serial number of the certificate a node's HTTP layer presents (one TLS handshake, no request). */
function httpCertificateSerial(conn: ClusterConnection): Promise<string | undefined> {
    return new Promise((resolve) => {
        let url: URL;
        try {
            url = new URL(conn.urls[0]);
        } catch {
            return resolve(undefined);
        }
        if (url.protocol !== "https:") return resolve(undefined);
        const socket = tls.connect({
            host: url.hostname,
            port: Number(url.port || 443),
            servername: net.isIP(url.hostname) ? undefined : url.hostname,
            ca: conn.caPem,
            rejectUnauthorized: !conn.insecure && !conn.caFingerprint,
            timeout: 10_000,
        }, () => {
            const serial = socket.getPeerCertificate()?.serialNumber;
            socket.end();
            resolve(serial || undefined);
        });
        socket.on("error", () => resolve(undefined));
        socket.on("timeout", () => {
            socket.destroy();
            resolve(undefined);
        });
    });
}

/**
 * Reads the facts from the cluster's answers (pure; exported for tests).
 * @internal
 */
export function factsFrom(nodes: Record<string, NodeSettings>, certs: SslCertificate[], httpCertSerial?: string): ClusterFacts {
    const all = Object.values(nodes);
    const versions = all.map((n) => n.version ?? "0.0.0");
    const securityEnabled = all.every((n) => String(n.settings?.xpack?.security?.enabled ?? "true") !== "false");
    const transportTls = all.length > 0 && all.every((n) => String(sslSettings(n).enabled ?? "false") === "true");
    // The answering node's own configuration is the one _ssl/certificates describes; nodes of one
    // cluster normally share it, so the first node's paths are used to pick the entries.
    const ssl = all.length ? sslSettings(all[0]) : {};
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
        // one the HTTP layer presented to us is the HTTP certificate, unless it is the only one
        // (one certificate for both layers). Every certificate without a key counts as trusted,
        // which may include HTTP-only CAs: the check can miss a problem, never invent one.
        const keyed = certs.filter((c) => c.has_private_key);
        const notHttp = keyed.filter((c) => !httpCertSerial || normSerial(c.serial_number) !== normSerial(httpCertSerial));
        own = notHttp.length ? notHttp : keyed;
        cas = certs.filter((c) => !c.has_private_key);
    }
    return {
        minVersion: minimumVersion(versions),
        versions,
        securityEnabled,
        transportTls,
        transportCertIssuers: [...new Set(own.map((c) => c.issuer).filter((i): i is string => !!i))],
        trustedCaSubjects: [...new Set(cas.map((c) => c.subject_dn))],
        trustKnown: own.length > 0 && own.every((c) => !!c.issuer) && cas.length > 0,
    };
}

const memo = new Map<string, { at: number; facts: Promise<ClusterFacts> }>();
const MEMO_MS = 60_000;

function memoKey(conn: ClusterConnection, generation: string): string {
    // Credentials are part of the key (hashed, never stored): another user may see other answers.
    return crypto.createHash("sha256").update(JSON.stringify([conn.urls, conn.username, conn.password, conn.apiKey, generation])).digest("hex");
}

/**
 * Probes a cluster (2 GET requests), memoised per process for a minute. `generation` names what
 * the caller knows to have changed the certificates since (e.g. the fingerprints of the node
 * certificates a link waits for): probes made before a delivery are not reused after it.
 * @internal
 */
export function probeCluster(label: string, conn: ClusterConnection, client?: Client, generation = ""): Promise<ClusterFacts> {
    const key = memoKey(conn, generation);
    const hit = memo.get(key);
    if (hit && Date.now() - hit.at < MEMO_MS) {
        return hit.facts;
    }
    const facts = (async () => {
        const c = client ?? clientFor(conn);
        const nodes = await callCluster(label, conn, "read the node versions and settings (GET _nodes/settings)", () =>
            c.transport.request<{ nodes?: Record<string, NodeSettings> }>({
                method: "GET",
                path: "/_nodes/settings",
                querystring: { filter_path: "nodes.*.version,nodes.*.settings.xpack.security" },
            }));
        if (!nodes || typeof nodes !== "object" || !nodes.nodes || typeof nodes.nodes !== "object") {
            throw new Error(`${label} cluster answered GET _nodes/settings without a 'nodes' object`);
        }
        const certs = await callCluster(label, conn, "read its TLS certificates (GET _ssl/certificates)", () =>
            c.transport.request<SslCertificate[]>({ method: "GET", path: "/_ssl/certificates" }));
        return factsFrom(nodes.nodes, Array.isArray(certs) ? certs : [], await httpCertificateSerial(conn));
    })();
    memo.set(key, { at: Date.now(), facts });
    facts.catch(() => memo.delete(key));
    return facts;
}

/** @internal Forget memoised probes (tests). */
export function clearProbeMemo(): void {
    memo.clear();
}
