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
import {
    DEFAULT_KEY_ALGORITHM, DEFAULT_NODE_VALIDITY_DAYS, KEY_ALGORITHMS, KeyAlgorithm, MAX_VALIDITY_DAYS, canonicalIp, checkCaPair, describeCertificate,
    dnsNameProblem, isKeyAlgorithm, isPemCertificate, issueNodeCertificate, normalizeSerial,
} from "./certs/pem";
import { CheckFailure, ClusterConnection, callCluster, insecureWarnings, validateConnection } from "./core/client";
import { containsUnknown, plain, plainInputs } from "./core/dynamic";
import { InputError, TrustError, describeError } from "./core/errors";
import type { Client } from "@elastic/elasticsearch";
import { VerifyOn, checkServing, clientForNode, waitUntilServed } from "./certs/verify";
import { DeliveryTarget, deliverFiles, deliveredMatches, deliveryPaths, deliveryProblems, readDelivered, removeDelivered } from "./certs/delivery";

/** Default renewal window in days. */
export const DEFAULT_RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86400 * 1000;

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
