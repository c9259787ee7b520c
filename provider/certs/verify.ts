/**
 * Verification of a certificate on a running node: which certificates the node reads from its files
 * (`GET _ssl/certificates`, answered per node) and which one its listener actually serves (a TLS
 * handshake with the node's transport, or remote cluster server, publish address). Used by the
 * `NodeCertificate` hooks.
 */
import * as pulumi from "@pulumi/pulumi";
import type { NodeCertificateVerifyArgs } from "../../sdk/nodeCertificate";
import type { Client } from "@elastic/elasticsearch";
import { normalizeSerial } from "./pem";
import { ClusterConnection, callCluster, clientFor } from "../core/client";
import { peerCertificates, publishAddress, readNodes } from "../core/nodes";
import { NodeNotFoundError, TrustError, describeError } from "../core/errors";
import { urlsOf } from "../core/validation";

/** Default bound of the wait for a node to serve a new certificate, in seconds. */
export const DEFAULT_VERIFY_TIMEOUT_SECONDS = 60;
/** Pause between two `GET _ssl/certificates` while waiting (Elasticsearch polls certificate files every ~5 s). */
export const VERIFY_POLL_MS = 2000;
/** How often a progress line is logged while waiting. */
const VERIFY_PROGRESS_MS = 10000;

/**
 * Which TLS listener of a node a certificate is for: the transport layer, or the remote cluster
 * server of the API-key remote cluster model (its own port, 9443 by default).
 */
export type CertificatePurpose = "transport" | "remoteClusterServer";
/** The values {@link CertificatePurpose} may take. */
export const CERTIFICATE_PURPOSES: readonly CertificatePurpose[] = ["transport", "remoteClusterServer"];

/** What each purpose means on a node: its `GET _nodes` metric and the words for messages. */
export const LISTENERS: Record<CertificatePurpose, { metric: string; name: string; settings: string }> = {
    transport: { metric: "transport", name: "transport layer", settings: "xpack.security.transport.ssl" },
    remoteClusterServer: { metric: "remote_cluster_server", name: "remote cluster server", settings: "xpack.security.remote_cluster_server.ssl" },
};

/** Which node must end up serving the certificate: the sdk's {@link NodeCertificateVerifyArgs}, resolved. */
export type VerifyOn = Omit<pulumi.Unwrap<NodeCertificateVerifyArgs>, "connection"> & { connection: ClusterConnection };

/** @internal One entry of `GET _ssl/certificates`. */
export interface SslCertificateEntry {
    path?: string;
    format?: string;
    alias?: string | null;
    subject_dn?: string;
    serial_number?: string;
    has_private_key?: boolean;
    expiry?: string;
}

const LABEL = "verifyOn";
/**
 * Verification polls a node that may be restarting or reloading: a failure is retried by the poll
 * itself, so the process-wide "cluster is down" memo (which fails later requests at once) must not
 * turn one refused connection into 30 s of not asking.
 */
const NODE_POLL = { failFastWhenDown: false } as const;

interface HttpNode {
    name?: string;
    http?: { publish_address?: string };
}

/**
 * A client whose requests are answered by the node `v.nodeName`: one of the connection's URLs if
 * that node answers there (`GET _nodes/_local`), else the node's HTTP publish address (same
 * scheme, credentials and CA), found with `GET _nodes/<name>/http`.
 * @internal
 */
export async function clientForNode(v: VerifyOn): Promise<Client> {
    const seen: string[] = [];
    let anyClient: { client: Client; url: string } | undefined;
    let lastError: unknown;
    for (const url of v.connection.urls) {
        const conn = { ...v.connection, urls: [url] };
        const client = clientFor(conn);
        try {
            const r = await readNodes<HttpNode>(LABEL, conn, client, `find node ${v.nodeName}`, { path: "/_nodes/_local/http" }, NODE_POLL);
            const names = Object.values(r).map((n) => n.name ?? "");
            if (names.includes(v.nodeName)) {
                return client;
            }
            seen.push(...names);
            if (!anyClient) {
                anyClient = { client, url };
                continue;
            }
        } catch (err) {
            lastError = err;
        }
    }
    if (!anyClient) {
        throw lastError instanceof Error ? lastError : new Error(`no URL of verifyOn.connection answered`);
    }
    const conn = { ...v.connection, urls: [anyClient.url] };
    const r = await readNodes<HttpNode>(LABEL, conn, anyClient.client, `find node ${v.nodeName}`, { path: `/_nodes/${encodeURIComponent(v.nodeName)}/http` }, NODE_POLL);
    const node = Object.values(r).find((n) => n.name === v.nodeName);
    const address = node?.http?.publish_address;
    if (!address) {
        throw new NodeNotFoundError(
            `node ${v.nodeName} is not in the cluster at ${urlsOf(v.connection)} (nodes answering there: ${seen.join(", ") || "none"}); check verifyOn.nodeName`,
            { nodeName: v.nodeName });
    }
    const scheme = new URL(anyClient.url).protocol;
    return clientFor({ ...v.connection, urls: [`${scheme}//${publishAddress(address)}`] });
}

/** Serial numbers (normalized) of the certificates with a private key that node `v.nodeName` reads from its files. @internal */
export async function servedSerials(v: VerifyOn, client?: Client): Promise<string[]> {
    const c = client ?? (await clientForNode(v));
    const certs = await callCluster(LABEL, v.connection, `read node ${v.nodeName}'s certificates (GET _ssl/certificates)`, () =>
        c.transport.request<SslCertificateEntry[]>({ method: "GET", path: "/_ssl/certificates" }), NODE_POLL);
    return (Array.isArray(certs) ? certs : [])
        .filter((e) => e.has_private_key === true && typeof e.serial_number === "string")
        .map((e) => normalizeSerial(e.serial_number!));
}

/**
 * The publish address (`host:port`) of node `v.nodeName`'s transport layer or remote cluster server
 * (`GET _nodes/<name>/<metric>`), asked through `client`.
 * @internal
 */
export async function listenerAddress(v: VerifyOn, client: Client, purpose: CertificatePurpose = "transport"): Promise<string> {
    const l = LISTENERS[purpose];
    const r = await readNodes<{ name?: string } & Record<string, { publish_address?: string } | string | undefined>>(
        LABEL, v.connection, client, `find node ${v.nodeName}'s ${l.name} address`, { path: `/_nodes/${encodeURIComponent(v.nodeName)}/${l.metric}` }, NODE_POLL);
    const node = Object.values(r).find((n) => n.name === v.nodeName);
    if (!node) {
        throw new NodeNotFoundError(`node ${v.nodeName} is not in the cluster at ${urlsOf(v.connection)}; check verifyOn.nodeName`, { nodeName: v.nodeName });
    }
    const section = node[l.metric];
    const address = typeof section === "object" ? section?.publish_address : undefined;
    if (!address) {
        throw new TrustError(purpose === "remoteClusterServer"
            ? `node ${v.nodeName} reported no remote cluster server address: its remote cluster server is not enabled. Set remote_cluster_server.enabled: true (a static setting: restart the node), or use purpose "transport"`
            : `node ${v.nodeName} reported no transport publish address`, { nodeName: v.nodeName });
    }
    // The address the node bound (`host/1.2.3.4:9300` → `1.2.3.4:9300`): no name resolution that
    // could pick another interface, and no hostname check is involved in a handshake we only read.
    return address.includes("/") ? address.slice(address.indexOf("/") + 1) : address;
}

/** What a TLS handshake with a transport address showed. @internal */
export interface HandshakeResult {
    /** Fingerprint of the certificate the node presented (upper-case hex with colons), if the handshake got that far. */
    fingerprintSha256?: string;
    /** Its serial number, normalized. */
    serialNumber?: string;
    /** Why there is no certificate. */
    error?: string;
    /** True if no TCP connection could be made at all (firewall, wrong address): the handshake proves nothing. */
    unreachable?: boolean;
}

const UNREACHABLE = new Set(["ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * Opens a TLS connection to `address` (`host:port`), reads the certificate the node presents and
 * closes it; nothing is sent. Verification is off on purpose: the caller compares the presented
 * certificate's fingerprint with its own, which is stricter than any chain check.
 * @internal
 */
export async function transportHandshake(address: string, timeoutMs = 5000): Promise<HandshakeResult> {
    const colon = address.lastIndexOf(":");
    const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
    const port = Number(address.slice(colon + 1));
    const r = await peerCertificates(host, port, { timeoutMs });
    if (r.timedOut) return { error: "timed out", unreachable: !r.tcpUp };
    if (!r.secure) return { error: r.error?.code ?? r.error?.message ?? "no handshake", unreachable: !r.tcpUp && UNREACHABLE.has(r.error?.code ?? "") };
    const c = r.chain[0];
    return c && c.fingerprint256
        ? { fingerprintSha256: c.fingerprint256, serialNumber: normalizeSerial(c.serialNumber) }
        : { error: "the node presented no certificate" };
}

/** @internal Whether a node serves a certificate, and how we know. */
export interface ServingReport {
    served: boolean;
    /** `handshake`: seen on the transport layer; `files`: only `GET _ssl/certificates` (transport unreachable from here). */
    evidence: "handshake" | "files";
    /** One sentence for progress messages. */
    detail: string;
}

/**
 * Does node `v.nodeName` serve our certificate? `GET _ssl/certificates` reads the certificate
 * files from disk when asked (seen on 8.19: it lists a new file ~0.2 s after it is written, ~3 s
 * before the transport layer switches, and even a certificate whose key does not match), so it
 * only proves the node reads the files. The proof is a TLS handshake with the node's transport
 * publish address presenting our fingerprint; only when that address cannot be reached from here
 * do we settle for the files, with a warning.
 * @internal
 */
export async function checkServing(
    v: VerifyOn, client: Client, want: { serialNumber: string; fingerprintSha256: string }, cache: { transport?: string } = {}, purpose: CertificatePurpose = "transport",
): Promise<ServingReport> {
    const serial = normalizeSerial(want.serialNumber);
    const files = await servedSerials(v, client);
    const inFiles = files.includes(serial);
    const layer = LISTENERS[purpose].name;
    cache.transport ??= await listenerAddress(v, client, purpose);
    const h = await transportHandshake(cache.transport);
    if (h.fingerprintSha256) {
        if (h.fingerprintSha256 === want.fingerprintSha256) {
            return { served: true, evidence: "handshake", detail: `its ${layer} (${cache.transport}) presents certificate ${serial}` };
        }
        return {
            served: false, evidence: "handshake",
            detail: `its ${layer} (${cache.transport}) presents certificate ${h.serialNumber}` +
                (inFiles ? "; the new files are in place, Elasticsearch reloads them about every 5 s" : `; _ssl/certificates lists ${files.join(", ") || "no certificate with a key"}`),
        };
    }
    if (h.unreachable) {
        return {
            served: inFiles, evidence: "files",
            detail: `its ${layer} address ${cache.transport} cannot be reached from here (${h.error}); _ssl/certificates lists ${files.join(", ") || "no certificate with a key"}`,
        };
    }
    return {
        served: false, evidence: "handshake",
        detail: `TLS handshakes with its ${layer} (${cache.transport}) fail: ${h.error}` +
            (inFiles ? " (a certificate and key on disk that do not match? Elasticsearch does not check that when it reloads)" : ""),
    };
}

/**
 * Polls node `v.nodeName` until it serves our certificate (see {@link checkServing}), logging
 * progress; throws a {@link TrustError} after `timeoutSeconds`.
 * @internal
 */
export async function waitUntilServed(v: VerifyOn, want: { serialNumber: string; fingerprintSha256: string }, purpose: CertificatePurpose = "transport"): Promise<void> {
    const serial = normalizeSerial(want.serialNumber);
    const timeoutMs = (v.timeoutSeconds ?? DEFAULT_VERIFY_TIMEOUT_SECONDS) * 1000;
    const start = Date.now();
    let lastLog = start;
    let last = "no answer yet";
    pulumi.log.info(`waiting up to ${timeoutMs / 1000} s for node ${v.nodeName} to serve certificate ${serial}`);
    let client: Client | undefined;
    const cache: { transport?: string } = {};
    for (;;) {
        try {
            client ??= await clientForNode(v);
            const r = await checkServing(v, client, want, cache, purpose);
            if (r.served) {
                const secs = Math.round((Date.now() - start) / 1000);
                if (r.evidence === "files") {
                    pulumi.log.warn(`node ${v.nodeName} reads certificate ${serial} from its files, but ${r.detail}: whether its ${LISTENERS[purpose].name} serves it was not checked`);
                } else {
                    pulumi.log.info(`node ${v.nodeName} serves certificate ${serial} (after ${secs} s)`);
                }
                return;
            }
            last = r.detail;
        } catch (err) {
            if (err instanceof NodeNotFoundError) {
                throw err;
            }
            last = describeError(err);
            client = undefined;
        }
        const now = Date.now();
        if (now - start >= timeoutMs) {
            break;
        }
        if (now - lastLog >= VERIFY_PROGRESS_MS) {
            pulumi.log.info(`still waiting for node ${v.nodeName} to serve certificate ${serial}: ${last}`);
            lastLog = now;
        }
        await new Promise((r) => setTimeout(r, Math.min(VERIFY_POLL_MS, Math.max(0, start + timeoutMs - now))));
    }
    throw new TrustError(
        `node ${v.nodeName} did not serve certificate ${serial} within ${timeoutMs / 1000} s (${last}). Elasticsearch re-reads certificate files about every 5 s: check that ${LISTENERS[purpose].settings}.certificate/key point to the delivered files and that the node can read them, or raise verifyOn.timeoutSeconds`,
        { nodeName: v.nodeName, serialNumber: serial });
}
