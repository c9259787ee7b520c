/**
 * Hooks of the `NodeCertificate` resource: a node's transport certificate signed by a CA (usually a
 * `SharedCa`), renewed by replacement when it enters its renewal window, optionally written to the
 * node's config directory and optionally verified on the node (a TLS handshake with its transport
 * layer, see {@link checkServing}).
 *
 * Drift and repair: `read` (i.e. `pulumi refresh`) records the fingerprint of the certificate file
 * actually on disk and whether the node serves our serial; `diff` compares those with the
 * certificate in the state, so the next `pulumi up` rewrites the files and waits for the node again.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Client } from "@elastic/elasticsearch";
import * as net from "net";
import * as tls from "tls";
import {
    DEFAULT_KEY_ALGORITHM, DEFAULT_NODE_VALIDITY_DAYS, KEY_ALGORITHMS, KeyAlgorithm, MAX_VALIDITY_DAYS, canonicalIp, checkCaPair, describeCertificate,
    dnsNameProblem, isKeyAlgorithm, isPemCertificate, issueNodeCertificate, normalizeSerial,
} from "./certs";
import { CheckFailure, ClusterConnection, callCluster, createClient, insecureWarnings, validateConnection } from "./client";
import { containsUnknown, plain, plainInputs } from "./dynamic";
import { InputError, TrustError, describeError } from "./errors";
import { DeliveryTarget, deliverFiles, deliveredMatches, deliveryPaths, deliveryProblems, readDelivered, removeDelivered } from "./files";

/** Default renewal window in days. */
export const DEFAULT_RENEW_BEFORE_DAYS = 30;
/** Default bound of the wait for a node to serve a new certificate, in seconds. */
export const DEFAULT_VERIFY_TIMEOUT_SECONDS = 60;
/** Pause between two `GET _ssl/certificates` while waiting (Elasticsearch polls certificate files every ~5 s). */
export const VERIFY_POLL_MS = 2000;
/** How often a progress line is logged while waiting. */
const VERIFY_PROGRESS_MS = 10000;
const DAY_MS = 86400 * 1000;

/** Which node must end up serving the certificate. Plain interface, unwrapped. */
export interface VerifyOn {
    /** How to reach the node's cluster over HTTPS. */
    connection: ClusterConnection;
    /** The node's name (`node.name`), as `GET _nodes` reports it. */
    nodeName: string;
    /** How long to wait for the node to load the certificate. Default 60. */
    timeoutSeconds?: number;
}

/** The inputs the hooks receive (unwrapped). */
export interface NodeCertificateInputs {
    /** Issuing CA's certificate, PEM. */
    caCertPem: string;
    /** Issuing CA's private key, PEM (secret; never stored in this resource's outputs). */
    caKeyPem: string;
    /** Subject CN. */
    commonName: string;
    /** DNS SANs. */
    dnsNames?: string[];
    /** IP SANs. */
    ipAddresses?: string[];
    /** Lifetime in days. Default 365. */
    validityDays?: number;
    /** Node key algorithm. Default `ecdsa-p256`. */
    keyAlgorithm?: KeyAlgorithm;
    /** Renew (replace) when fewer than this many days are left. Default 30. */
    renewBeforeDays?: number;
    /** Where to write the files. */
    delivery?: DeliveryTarget;
    /** Which node must serve the certificate. */
    verifyOn?: VerifyOn;
}

/** The state the hooks write: the inputs (without the CA's key and certificate) plus the certificate. */
export interface NodeCertificateOutputs extends Omit<NodeCertificateInputs, "caCertPem" | "caKeyPem"> {
    /** The node certificate, PEM. */
    certPem: string;
    /** The node's private key, PKCS#8 PEM. Secret. */
    keyPem: string;
    /** The issuing CA's certificate, PEM. */
    caPem: string;
    /** SHA-256 fingerprint of the issuing CA (what a CA change is detected by). */
    caFingerprintSha256: string;
    /** Serial number, lower-case hex (as `GET _ssl/certificates` prints it). */
    serialNumber: string;
    /** SHA-256 fingerprint of the node certificate. */
    fingerprintSha256: string;
    /** ISO 8601. */
    notBefore: string;
    /** ISO 8601. */
    notAfter: string;
    /** With `delivery`: fingerprint of the certificate file on disk when last written or read ("" if missing or unreadable). */
    deliveredFingerprintSha256?: string;
    /** With `delivery`: true if all three files on disk held exactly our PEMs when last written or read. */
    deliveryInSync?: boolean;
    /** With `verifyOn`: true if the node's transport layer presented this certificate when last created, updated or read. */
    servedByNode?: boolean;
}

/** The inputs with defaults applied. */
function effective(i: NodeCertificateInputs | NodeCertificateOutputs) {
    return {
        commonName: i.commonName,
        // DNS names compare case-insensitively, IPs in canonical form, both as sets. Anything that is
        // not a list (an unknown during preview, a mistake check reports) is kept as it is.
        dnsNames: Array.isArray(i.dnsNames) ? i.dnsNames.map((d) => (typeof d === "string" ? d.toLowerCase() : d)).sort() : i.dnsNames ?? [],
        ipAddresses: Array.isArray(i.ipAddresses) ? i.ipAddresses.map((ip) => canonicalIp(ip) ?? ip).sort() : i.ipAddresses ?? [],
        validityDays: i.validityDays ?? DEFAULT_NODE_VALIDITY_DAYS,
        keyAlgorithm: i.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM,
        renewBeforeDays: i.renewBeforeDays ?? DEFAULT_RENEW_BEFORE_DAYS,
    };
}

function isWholeDays(v: unknown, min: number): boolean {
    return typeof v === "number" && Number.isInteger(v) && v >= min;
}

function checkInputs(i: NodeCertificateInputs): CheckFailure[] {
    const f: CheckFailure[] = [];
    const known = (v: unknown) => v !== undefined && !containsUnknown(v);

    if (i.caCertPem === undefined) {
        f.push({ property: "caCertPem", reason: "give the issuing CA's certificate, e.g. a SharedCa's certPem" });
    } else if (known(i.caCertPem) && !isPemCertificate(i.caCertPem)) {
        f.push({ property: "caCertPem", reason: "is not a PEM certificate (expected -----BEGIN CERTIFICATE-----)" });
    }
    if (i.caKeyPem === undefined) {
        f.push({ property: "caKeyPem", reason: "give the issuing CA's private key, e.g. a SharedCa's keyPem" });
    }
    if (known(i.caCertPem) && known(i.caKeyPem) && isPemCertificate(i.caCertPem)) {
        const problem = checkCaPair(i.caCertPem, i.caKeyPem);
        if (problem) {
            f.push({ property: problem.startsWith("the CA key") ? "caKeyPem" : "caCertPem", reason: problem });
        }
    }
    if (i.commonName === undefined || (known(i.commonName) && (typeof i.commonName !== "string" || i.commonName.trim() === ""))) {
        f.push({ property: "commonName", reason: "give the certificate's subject CN, e.g. the node name" });
    }

    for (const k of ["dnsNames", "ipAddresses"] as const) {
        const v = i[k];
        if (known(v) && !Array.isArray(v)) {
            f.push({ property: k, reason: "must be a list of strings" });
        }
    }
    const dns = Array.isArray(i.dnsNames) ? i.dnsNames : [];
    const ips = Array.isArray(i.ipAddresses) ? i.ipAddresses : [];
    if (!containsUnknown(i.dnsNames) && !containsUnknown(i.ipAddresses) && dns.length === 0 && ips.length === 0) {
        f.push({ property: "dnsNames", reason: "give at least one DNS name or IP address (dnsNames / ipAddresses): the nodes of the other cluster verify this certificate against them" });
    }
    dns.forEach((d, n) => {
        const p = known(d) ? dnsNameProblem(d) : undefined;
        if (p) {
            f.push({ property: `dnsNames[${n}]`, reason: p });
        }
    });
    ips.forEach((ip, n) => {
        if (known(ip) && canonicalIp(ip) === undefined) {
            f.push({ property: `ipAddresses[${n}]`, reason: `${JSON.stringify(ip)} is not an IPv4 or IPv6 address (no host names, prefixes or zones; host names go in dnsNames)` });
        }
    });

    let validityOk = i.validityDays === undefined || !known(i.validityDays) || isWholeDays(i.validityDays, 1);
    if (!validityOk) {
        f.push({ property: "validityDays", reason: `must be a whole number of days ≥ 1, got ${JSON.stringify(i.validityDays)}` });
    } else if (typeof i.validityDays === "number" && i.validityDays > MAX_VALIDITY_DAYS) {
        validityOk = false;
        f.push({ property: "validityDays", reason: `must be at most ${MAX_VALIDITY_DAYS} days (100 years): certificate dates end in the year 9999, got ${i.validityDays}` });
    }
    if (known(i.renewBeforeDays) && !isWholeDays(i.renewBeforeDays, 0)) {
        f.push({ property: "renewBeforeDays", reason: `must be a whole number of days ≥ 0, got ${JSON.stringify(i.renewBeforeDays)}` });
    } else if (validityOk && !containsUnknown(i.validityDays) && !containsUnknown(i.renewBeforeDays)) {
        const e = effective(i);
        if (e.renewBeforeDays >= e.validityDays) {
            const which = i.renewBeforeDays === undefined ? ` (the default)` : "";
            f.push({
                property: "renewBeforeDays",
                reason: `${e.renewBeforeDays}${which} must be less than validityDays (${e.validityDays}), or every update would renew the certificate; lower renewBeforeDays or raise validityDays`,
            });
        }
    }
    if (known(i.keyAlgorithm) && !isKeyAlgorithm(i.keyAlgorithm)) {
        f.push({ property: "keyAlgorithm", reason: `unknown key algorithm ${JSON.stringify(i.keyAlgorithm)}; use one of ${KEY_ALGORITHMS.join(", ")}` });
    }

    if (known(i.delivery)) {
        for (const p of deliveryProblems(i.delivery)) {
            f.push({ property: p.property ? `delivery.${p.property}` : "delivery", reason: p.reason });
        }
    }
    if (i.verifyOn !== undefined) {
        const v = i.verifyOn as unknown;
        if (!containsUnknown(v) && (v === null || typeof v !== "object")) {
            f.push({ property: "verifyOn", reason: "must be an object { connection, nodeName, timeoutSeconds? }" });
        } else if (v !== null && typeof v === "object") {
            const vo = v as Partial<VerifyOn>;
            if (!containsUnknown(vo.connection)) {
                f.push(...validateConnection("verifyOn.connection", vo.connection));
            }
            if (!containsUnknown(vo.nodeName) && (typeof vo.nodeName !== "string" || vo.nodeName === "")) {
                f.push({ property: "verifyOn.nodeName", reason: "give the node's name (node.name) as GET _nodes reports it" });
            }
            const t = vo.timeoutSeconds;
            if (t !== undefined && !containsUnknown(t) && (typeof t !== "number" || !Number.isFinite(t) || t <= 0)) {
                f.push({ property: "verifyOn.timeoutSeconds", reason: `must be a number of seconds > 0, got ${JSON.stringify(t)}` });
            }
        }
        if (i.delivery === undefined) {
            f.push({
                property: "verifyOn",
                reason: "needs delivery: the certificate is made while this resource is created, so nothing else can put it on the node before the wait ends; set delivery (or remove verifyOn)",
            });
        }
    }
    return f;
}

/** Validates the inputs; values not known yet (preview) are skipped. */
export async function check(_olds: NodeCertificateInputs, news: NodeCertificateInputs): Promise<pulumi.dynamic.CheckResult> {
    const inputs = plainInputs<NodeCertificateInputs>(news);
    const failures = checkInputs(inputs);
    // check runs for every preview and update: a connection that does not verify TLS says so each time.
    const v = inputs.verifyOn as unknown;
    if (v !== null && typeof v === "object" && !containsUnknown((v as VerifyOn).connection)) {
        insecureWarnings("verifyOn.connection", (v as VerifyOn).connection).forEach((m) => pulumi.log.warn(m));
    }
    return failures.length ? { inputs, failures } : { inputs };
}

function fingerprintOr(pem: unknown, fallback: string): string {
    try {
        return typeof pem === "string" ? describeCertificate(pem).fingerprintSha256 : fallback;
    } catch {
        return fallback;
    }
}

function sameJson(a: unknown, b: unknown): boolean {
    return JSON.stringify(plain(a ?? null)) === JSON.stringify(plain(b ?? null));
}

/** The delivery target with defaults filled in, for comparing two targets. */
function deliveryKey(d: DeliveryTarget | undefined): unknown {
    return d === undefined ? null : { ...deliveryPaths(d), keyFileMode: d.keyFileMode ?? null, extraTrustedCaPems: d.extraTrustedCaPems ?? [] };
}

/**
 * Replacement (a new key and certificate) when the CA, the names or the key algorithm change, or
 * when now + renewBeforeDays ≥ notAfter; an in-place update for delivery/verification changes
 * and for drift found by the last `read`.
 */
export async function diff(_id: string, olds: NodeCertificateOutputs, news: NodeCertificateInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces: string[] = [];
    if (containsUnknown(news.caCertPem) || fingerprintOr(news.caCertPem, "?") !== olds.caFingerprintSha256) {
        replaces.push("caCertPem");
    }
    const before = effective(olds);
    const after = effective(news);
    for (const k of ["commonName", "dnsNames", "ipAddresses", "validityDays", "keyAlgorithm"] as const) {
        if (containsUnknown(news[k]) || !sameJson(before[k], after[k])) {
            replaces.push(k);
        }
    }
    const renewBeforeDays = containsUnknown(news.renewBeforeDays) ? before.renewBeforeDays : after.renewBeforeDays;
    const notAfter = Date.parse(olds.notAfter);
    if (!(Date.now() + renewBeforeDays * DAY_MS < notAfter)) {
        replaces.push("renewBeforeDays");
    }

    let update = false;
    if (containsUnknown(news.delivery) || !sameJson(deliveryKey(olds.delivery), deliveryKey(news.delivery))) {
        update = true;
    }
    if (containsUnknown(news.verifyOn) || !sameJson(olds.verifyOn, news.verifyOn)) {
        update = true;
    }
    if (!sameJson(olds.renewBeforeDays, news.renewBeforeDays)) {
        update = true;
    }
    if (olds.delivery && (olds.deliveredFingerprintSha256 !== olds.fingerprintSha256 || olds.deliveryInSync === false)) {
        update = true;
    }
    if (olds.verifyOn && olds.servedByNode === false) {
        update = true;
    }
    return { changes: replaces.length > 0 || update, replaces, deleteBeforeReplace: false };
}

/** The inputs we keep in the state (never the CA's key). */
function echo(i: NodeCertificateInputs): Omit<NodeCertificateInputs, "caCertPem" | "caKeyPem"> {
    return {
        commonName: i.commonName,
        dnsNames: i.dnsNames,
        ipAddresses: i.ipAddresses,
        validityDays: i.validityDays,
        keyAlgorithm: i.keyAlgorithm,
        renewBeforeDays: i.renewBeforeDays,
        delivery: i.delivery,
        verifyOn: i.verifyOn,
    };
}

function failFast(i: NodeCertificateInputs): void {
    const failures = checkInputs(i);
    if (failures.length) {
        throw new InputError(failures[0].property, failures[0].reason);
    }
}

/** Writes the files (if asked), then waits for the node (if asked); returns the delivery/verification outputs. */
async function deliverAndVerify(outs: NodeCertificateOutputs): Promise<NodeCertificateOutputs> {
    const o: NodeCertificateOutputs = { ...outs };
    delete o.deliveredFingerprintSha256;
    delete o.deliveryInSync;
    delete o.servedByNode;
    if (o.delivery) {
        deliverFiles(o.delivery, o);
        pulumi.log.info(`wrote ${Object.values(deliveryPaths(o.delivery)).join(", ")} (certificate serial ${o.serialNumber})`);
        o.deliveredFingerprintSha256 = o.fingerprintSha256;
        o.deliveryInSync = true;
    }
    if (o.verifyOn) {
        await waitUntilServed(o.verifyOn, o);
        o.servedByNode = true;
    }
    return o;
}

/** Issues the certificate, writes the files (with `delivery`) and waits for the node (with `verifyOn`). */
export async function create(inputs: NodeCertificateInputs): Promise<pulumi.dynamic.CreateResult> {
    const i = plain(inputs);
    failFast(i);
    const e = effective(i);
    const issued = await issueNodeCertificate({ certPem: i.caCertPem, keyPem: i.caKeyPem }, {
        commonName: i.commonName,
        dnsNames: i.dnsNames ?? [],
        ipAddresses: i.ipAddresses ?? [],
        validityDays: e.validityDays,
        keyAlgorithm: e.keyAlgorithm,
    });
    const ca = describeCertificate(i.caCertPem);
    if (Date.parse(issued.notAfter) > Date.parse(ca.notAfter)) {
        pulumi.log.warn(`the certificate for ${i.commonName} is valid until ${issued.notAfter} but its CA only until ${ca.notAfter}: it stops working when the CA expires; renew the CA first or lower validityDays`);
    }
    const outs = await deliverAndVerify({ ...echo(i), ...issued, caFingerprintSha256: ca.fingerprintSha256 });
    return { id: outs.serialNumber, outs: plain(outs) };
}

/**
 * Reports what is live: the fingerprint of the certificate file on disk (and whether all three
 * files are ours) and whether the node serves our serial. Never fails because a node is down: that
 * is reported as `servedByNode: false`, which the next update repairs.
 */
export async function read(id: string, props: NodeCertificateOutputs): Promise<pulumi.dynamic.ReadResult> {
    const o: NodeCertificateOutputs = plain(props);
    if (o.delivery) {
        const onDisk = readDelivered(o.delivery);
        o.deliveredFingerprintSha256 = fingerprintOr(onDisk.certPem, "");
        o.deliveryInSync = deliveredMatches(o.delivery, o);
    }
    if (o.verifyOn) {
        let client: Client | undefined;
        try {
            client = await clientForNode(o.verifyOn);
            const r = await checkServing(o.verifyOn, client, o);
            o.servedByNode = r.served;
            if (!r.served) {
                pulumi.log.info(`node ${o.verifyOn.nodeName} does not serve certificate ${o.serialNumber}: ${r.detail}`);
            } else if (r.evidence === "files") {
                pulumi.log.warn(`node ${o.verifyOn.nodeName}: ${r.detail}; only its files were checked`);
            }
        } catch (err) {
            pulumi.log.warn(`could not ask node ${o.verifyOn.nodeName} which certificate it serves: ${describeError(err)}`);
            o.servedByNode = false;
        } finally {
            await client?.close();
        }
    }
    return { id, props: plain(o) };
}

/** Moves or rewrites the files and re-verifies; the certificate itself never changes here. */
export async function update(_id: string, olds: NodeCertificateOutputs, news: NodeCertificateInputs): Promise<pulumi.dynamic.UpdateResult> {
    const n = plain(news);
    failFast(n);
    const o = plain(olds);
    // Files at new paths replace the old ones; files at the same paths are overwritten in place
    // (atomically, owner kept), never removed first, so a node never sees them missing.
    if (o.delivery && !sameJson(o.delivery && deliveryPaths(o.delivery), n.delivery && deliveryPaths(n.delivery))) {
        const { kept } = removeDelivered(o.delivery, o);
        if (kept.length) {
            pulumi.log.info(`left ${kept.join(", ")} in place: they no longer hold this certificate`);
        }
    }
    const outs = await deliverAndVerify({
        ...o,
        renewBeforeDays: n.renewBeforeDays,
        delivery: n.delivery,
        verifyOn: n.verifyOn,
    });
    return { outs: plain(outs) };
}

/** Removes the delivered files that still hold this certificate (see `removeDelivered`). */
export async function delete_(_id: string, props: NodeCertificateOutputs): Promise<void> {
    const o = plain(props);
    if (o.delivery && o.certPem && o.keyPem && o.caPem) {
        const { removed, kept } = removeDelivered(o.delivery, o);
        if (removed.length) {
            pulumi.log.info(`removed ${removed.join(", ")}`);
        }
        if (kept.length) {
            pulumi.log.info(`left ${kept.join(", ")} in place: they no longer hold certificate ${o.serialNumber} (a newer certificate or a hand-placed file)`);
        }
    }
}
export { delete_ as delete };

// ---- verification on a node ---------------------------------------------------------------------

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

interface NodesInfo {
    nodes?: Record<string, { name?: string; http?: { publish_address?: string } }>;
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
        const client = createClient(conn, { label: LABEL });
        try {
            const r = await callCluster(LABEL, conn, `find node ${v.nodeName}`, () =>
                client.transport.request<NodesInfo>({ method: "GET", path: "/_nodes/_local/http" }));
            const names = Object.values(r.nodes ?? {}).map((n) => n.name ?? "");
            if (names.includes(v.nodeName)) {
                await anyClient?.client.close();
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
        await client.close();
    }
    if (!anyClient) {
        throw lastError instanceof Error ? lastError : new Error(`no URL of verifyOn.connection answered`);
    }
    try {
        const conn = { ...v.connection, urls: [anyClient.url] };
        const r = await callCluster(LABEL, conn, `find node ${v.nodeName}`, () =>
            anyClient!.client.transport.request<NodesInfo>({ method: "GET", path: `/_nodes/${encodeURIComponent(v.nodeName)}/http` }));
        const node = Object.values(r.nodes ?? {}).find((n) => n.name === v.nodeName);
        const address = node?.http?.publish_address;
        if (!address) {
            throw new TrustError(
                `node ${v.nodeName} is not in the cluster at ${v.connection.urls.join(", ")} (nodes answering there: ${seen.join(", ") || "none"}); check verifyOn.nodeName`,
                { nodeName: v.nodeName });
        }
        const scheme = new URL(anyClient.url).protocol;
        return createClient({ ...v.connection, urls: [`${scheme}//${hostPort(address)}`] }, { label: LABEL });
    } finally {
        await anyClient.client.close();
    }
}

/** `host/1.2.3.4:9200` → `host:9200`; `1.2.3.4:9200` and `[::1]:9200` as they are. @internal */
export function hostPort(publishAddress: string): string {
    const slash = publishAddress.indexOf("/");
    if (slash < 0) {
        return publishAddress;
    }
    const host = publishAddress.slice(0, slash);
    const rest = publishAddress.slice(slash + 1);
    const port = rest.slice(rest.lastIndexOf(":") + 1);
    return host ? `${host}:${port}` : rest;
}

/** Serial numbers (normalized) of the certificates with a private key that node `v.nodeName` reads from its files. @internal */
export async function servedSerials(v: VerifyOn, client?: Client): Promise<string[]> {
    const c = client ?? (await clientForNode(v));
    try {
        const certs = await callCluster(LABEL, v.connection, `read node ${v.nodeName}'s certificates (GET _ssl/certificates)`, () =>
            c.transport.request<SslCertificateEntry[]>({ method: "GET", path: "/_ssl/certificates" }));
        return (Array.isArray(certs) ? certs : [])
            .filter((e) => e.has_private_key === true && typeof e.serial_number === "string")
            .map((e) => normalizeSerial(e.serial_number!));
    } finally {
        if (!client) {
            await c.close();
        }
    }
}

/** The transport publish address (`host:port`) of node `v.nodeName`, asked through `client`. @internal */
export async function transportAddress(v: VerifyOn, client: Client): Promise<string> {
    const r = await callCluster(LABEL, v.connection, `find node ${v.nodeName}'s transport address`, () =>
        client.transport.request<{ nodes?: Record<string, { name?: string; transport?: { publish_address?: string } }> }>(
            { method: "GET", path: `/_nodes/${encodeURIComponent(v.nodeName)}/transport` }));
    const address = Object.values(r.nodes ?? {}).find((n) => n.name === v.nodeName)?.transport?.publish_address;
    if (!address) {
        throw new TrustError(`node ${v.nodeName} reported no transport publish address`, { nodeName: v.nodeName });
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
export function transportHandshake(address: string, timeoutMs = 5000): Promise<HandshakeResult> {
    const colon = address.lastIndexOf(":");
    const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
    const port = Number(address.slice(colon + 1));
    return new Promise((resolve) => {
        let tcpUp = false;
        let done = false;
        const finish = (r: HandshakeResult) => {
            if (!done) {
                done = true;
                clearTimeout(timer);
                socket.destroy();
                resolve(r);
            }
        };
        const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: net.isIP(host) ? undefined : host });
        socket.once("connect", () => {
            tcpUp = true;
        });
        socket.once("secureConnect", () => {
            const c = socket.getPeerCertificate();
            finish(c && c.fingerprint256
                ? { fingerprintSha256: c.fingerprint256, serialNumber: normalizeSerial(c.serialNumber) }
                : { error: "the node presented no certificate" });
        });
        socket.once("error", (err: NodeJS.ErrnoException) => {
            finish({ error: err.code ?? err.message, unreachable: !tcpUp && UNREACHABLE.has(err.code ?? "") });
        });
        const timer = setTimeout(() => finish({ error: "timed out", unreachable: !tcpUp }), timeoutMs);
    });
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
export async function checkServing(v: VerifyOn, client: Client, want: { serialNumber: string; fingerprintSha256: string }, cache: { transport?: string } = {}): Promise<ServingReport> {
    const serial = normalizeSerial(want.serialNumber);
    const files = await servedSerials(v, client);
    const inFiles = files.includes(serial);
    cache.transport ??= await transportAddress(v, client);
    const h = await transportHandshake(cache.transport);
    if (h.fingerprintSha256) {
        if (h.fingerprintSha256 === want.fingerprintSha256) {
            return { served: true, evidence: "handshake", detail: `its transport layer (${cache.transport}) presents certificate ${serial}` };
        }
        return {
            served: false, evidence: "handshake",
            detail: `its transport layer (${cache.transport}) presents certificate ${h.serialNumber}` +
                (inFiles ? "; the new files are in place, Elasticsearch reloads them about every 5 s" : `; _ssl/certificates lists ${files.join(", ") || "no certificate with a key"}`),
        };
    }
    if (h.unreachable) {
        return {
            served: inFiles, evidence: "files",
            detail: `its transport address ${cache.transport} cannot be reached from here (${h.error}); _ssl/certificates lists ${files.join(", ") || "no certificate with a key"}`,
        };
    }
    return {
        served: false, evidence: "handshake",
        detail: `TLS handshakes with its transport layer (${cache.transport}) fail: ${h.error}` +
            (inFiles ? " (a certificate and key on disk that do not match? Elasticsearch does not check that when it reloads)" : ""),
    };
}

/**
 * Polls node `v.nodeName` until it serves our certificate (see {@link checkServing}), logging
 * progress; throws a {@link TrustError} after `timeoutSeconds`.
 * @internal
 */
export async function waitUntilServed(v: VerifyOn, want: { serialNumber: string; fingerprintSha256: string }): Promise<void> {
    const serial = normalizeSerial(want.serialNumber);
    const timeoutMs = (v.timeoutSeconds ?? DEFAULT_VERIFY_TIMEOUT_SECONDS) * 1000;
    const start = Date.now();
    let lastLog = start;
    let last = "no answer yet";
    pulumi.log.info(`waiting up to ${timeoutMs / 1000} s for node ${v.nodeName} to serve certificate ${serial}`);
    let client: Client | undefined;
    const cache: { transport?: string } = {};
    try {
        for (;;) {
            try {
                client ??= await clientForNode(v);
                const r = await checkServing(v, client, want, cache);
                if (r.served) {
                    const secs = Math.round((Date.now() - start) / 1000);
                    if (r.evidence === "files") {
                        pulumi.log.warn(`node ${v.nodeName} reads certificate ${serial} from its files, but ${r.detail}: whether its transport layer serves it was not checked`);
                    } else {
                        pulumi.log.info(`node ${v.nodeName} serves certificate ${serial} (after ${secs} s)`);
                    }
                    return;
                }
                last = r.detail;
            } catch (err) {
                last = describeError(err);
                await client?.close();
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
    } finally {
        await client?.close();
    }
    throw new TrustError(
        `node ${v.nodeName} did not serve certificate ${serial} within ${timeoutMs / 1000} s (${last}). Elasticsearch re-reads certificate files about every 5 s: check that xpack.security.transport.ssl.certificate/key point to the delivered files and that the node can read them, or raise verifyOn.timeoutSeconds`,
        { nodeName: v.nodeName, serialNumber: serial });
}
