/**
 * Hooks of the `NodeCertificate` resource: a node's transport (or remote cluster server)
 * certificate signed by a CA (usually a `SharedCa`), renewed by replacement when it enters its
 * renewal window, optionally written to the node's config directory and optionally verified on the
 * node (a TLS handshake with its listener, see {@link checkServing}).
 *
 * Drift and repair: `read` (i.e. `pulumi refresh`) records the fingerprint of the certificate file
 * actually on disk and whether the node serves our serial, and returns what it found as the
 * `observedDrift` input, so `pulumi preview --diff` shows it; `diff` compares those with the
 * certificate in the state, so the next `pulumi up` rewrites the files and waits for the node again.
 *
 * Delete: the files get back what they held before the first delivery (kept aside then), or stay
 * (`delivery.onDelete`); see `releaseDelivered`. A node this resource touched stays restartable.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
    DEFAULT_KEY_ALGORITHM, DEFAULT_NODE_VALIDITY_DAYS, KEY_ALGORITHMS, MAX_VALIDITY_DAYS, canonicalIp, checkCaPair, describeCertificate,
    dnsNameProblem, isKeyAlgorithm, isPemCertificate, issueNodeCertificate,
} from "./certs/pem";
import { ClusterConnection, insecureWarnings, validateConnection } from "./core/client";
import { HookModule, containsUnknown, plain, plainInputs } from "./core/dynamic";
import { CheckFailure, failOnInvalid } from "./core/validation";
import { CreateInterruptedError, describeError } from "./core/errors";
import { CERTIFICATE_PURPOSES, CertificatePurpose, LISTENERS, VerifyOn, checkServing, clientForNode, waitUntilServed } from "./certs/verify";
import {
    DeliveryTarget, OnDelete, deliverFiles, deliveryPaths, deliveryProblems, halfSwitched, keepOriginals, matches, readDelivered, releaseDelivered,
    trustFileContent,
} from "./certs/delivery";
import { locationOf, nodePath } from "./access/node";
import { directoryProblem } from "./access/preflight";
import { describeAccess } from "./access/validate";
import type { NodeCertificateArgs } from "../sdk/nodeCertificate";

/** Default renewal window in days. */
export const DEFAULT_RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86400 * 1000;

/** Default file names per purpose: fixed, so Elasticsearch's settings never change on rotation. */
export const DEFAULT_FILES_BY_PURPOSE: Record<CertificatePurpose, { certFile: string; keyFile: string; caFile: string }> = {
    transport: { certFile: "transport.crt", keyFile: "transport.key", caFile: "transport-ca.crt" },
    remoteClusterServer: { certFile: "remote-cluster-server.crt", keyFile: "remote-cluster-server.key", caFile: "remote-cluster-server-ca.crt" },
};

/**
 * The inputs the hooks receive: the sdk's {@link NodeCertificateArgs}, resolved by the engine (one
 * source for both), with the connection in the provider's shape.
 */
export type NodeCertificateInputs = Omit<pulumi.Unwrap<NodeCertificateArgs>, "delivery" | "verifyOn"> & {
    delivery?: DeliveryTarget;
    verifyOn?: VerifyOn;
    /** Only in the inputs `read` returns: what `pulumi refresh` found that differs from the state, for `preview --diff`. */
    observedDrift?: string[];
};

/** The state the hooks write: the inputs (without the CA's key and certificate) plus the certificate. */
export interface NodeCertificateOutputs extends Omit<NodeCertificateInputs, "caCertPem" | "caKeyPem" | "observedDrift"> {
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
    /** With `verifyOn`: true if the node's listener presented this certificate when last created, updated or read. */
    servedByNode?: boolean;
    /**
     * With `delivery`: the records of what the three files held before the first delivery (see
     * `keepOriginals`). Absent in states written by releases that kept nothing aside: their delete
     * leaves the files in place.
     */
    keptAsidePaths?: string[];
    /**
     * True when the create wrote files and then failed (the node did not serve the certificate in
     * time, a host stopped answering): the state records what was written, so the next `up` writes
     * and waits again, `refresh` reports the files, and `destroy` puts back what was there before.
     */
    createInterrupted?: boolean;
}

/** The delivery target with the purpose's default file names filled in. */
export function targetOf(i: { delivery?: DeliveryTarget; purpose?: CertificatePurpose }): DeliveryTarget | undefined {
    if (!i.delivery) {
        return undefined;
    }
    const defaults = DEFAULT_FILES_BY_PURPOSE[i.purpose ?? "transport"] ?? DEFAULT_FILES_BY_PURPOSE.transport;
    return {
        ...i.delivery,
        certFile: i.delivery.certFile ?? defaults.certFile,
        keyFile: i.delivery.keyFile ?? defaults.keyFile,
        caFile: i.delivery.caFile ?? defaults.caFile,
    };
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
        purpose: i.purpose ?? "transport",
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

    if (known(i.purpose) && !CERTIFICATE_PURPOSES.includes(i.purpose as CertificatePurpose)) {
        f.push({ property: "purpose", reason: `must be one of ${CERTIFICATE_PURPOSES.map((p) => JSON.stringify(p)).join(", ")}, got ${JSON.stringify(i.purpose)}` });
    }
    if (known(i.delivery)) {
        const t = i.delivery !== null && typeof i.delivery === "object" && !Array.isArray(i.delivery) && !containsUnknown(i.purpose) ? targetOf(i) : i.delivery;
        for (const p of deliveryProblems(t)) {
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
export async function check(_olds: Partial<NodeCertificateInputs>, news: NodeCertificateInputs): Promise<pulumi.dynamic.CheckResult<NodeCertificateInputs>> {
    const inputs = plainInputs<NodeCertificateInputs>(news);
    // Drift `read` reported belongs to the refreshed state, never to the program's inputs.
    delete inputs.observedDrift;
    const failures = checkInputs(inputs);
    // A node on another host: reachable, host key as pinned, login and sudo work, the directory is
    // there and writable — at preview, writing nothing (the local host is checked by the write itself).
    const d = inputs.delivery;
    if (!failures.length && d && !containsUnknown(d) && d.access) {
        const problem = await directoryProblem(d.access, d.directory);
        if (problem) failures.push({ property: "delivery.access", reason: problem });
    }
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

function serialOr(pem: string): string | undefined {
    try {
        return describeCertificate(pem).serialNumber;
    } catch {
        return undefined;
    }
}

function sameJson(a: unknown, b: unknown): boolean {
    return JSON.stringify(plain(a ?? null)) === JSON.stringify(plain(b ?? null));
}

/** The delivery target with defaults filled in, for comparing two targets. */
function deliveryKey(i: { delivery?: DeliveryTarget; purpose?: CertificatePurpose }): unknown {
    const d = targetOf(i);
    // The access as a whole: a new login key or sudo user is an update (the state must hold what the
    // next delete will log in with), even though the files stay where they are.
    return d === undefined
        ? null
        : { ...deliveryPaths(d), keyFileMode: d.keyFileMode ?? null, extraTrustedCaPems: d.extraTrustedCaPems ?? [], onDelete: d.onDelete ?? "restore", access: d.access ?? null };
}

/**
 * Replacement (a new key and certificate) when the CA, the names or the key algorithm change, or
 * when now + renewBeforeDays ≥ notAfter; an in-place update for delivery/verification changes
 * and for drift found by the last `read`.
 */
export async function diff(_id: string, olds: NodeCertificateOutputs, news: NodeCertificateInputs): Promise<pulumi.dynamic.DiffResult> {
    olds = plain(olds);
    news = plain(news);
    const replaces: string[] = [];
    if (containsUnknown(news.caCertPem) || fingerprintOr(news.caCertPem, "?") !== olds.caFingerprintSha256) {
        replaces.push("caCertPem");
    }
    const before = effective(olds);
    const after = effective(news);
    for (const k of ["commonName", "dnsNames", "ipAddresses", "validityDays", "keyAlgorithm", "purpose"] as const) {
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
    if (containsUnknown(news.delivery) || !sameJson(deliveryKey(olds), deliveryKey({ delivery: news.delivery, purpose: after.purpose }))) {
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
    if (olds.createInterrupted) {
        // Nobody knows what the files hold after a create that failed midway: write them again.
        update = true;
    }
    return { changes: replaces.length > 0 || update, replaces, deleteBeforeReplace: false };
}

/** The inputs we keep in the state (never the CA's key). */
function echo(i: Omit<NodeCertificateInputs, "caCertPem" | "caKeyPem">): Omit<NodeCertificateInputs, "caCertPem" | "caKeyPem" | "observedDrift"> {
    return {
        purpose: i.purpose,
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

/**
 * Writes the files (if asked), then waits for the node (if asked); returns the delivery/verification
 * outputs. With `keepAside` (every delivery except those of a state from a release that kept nothing
 * aside) what the files held before the first delivery is recorded first.
 */
async function deliverAndVerify(outs: NodeCertificateOutputs, keepAside: boolean, progress: DeliveryProgress = {}): Promise<NodeCertificateOutputs> {
    const o: NodeCertificateOutputs = { ...outs };
    delete o.deliveredFingerprintSha256;
    delete o.deliveryInSync;
    delete o.servedByNode;
    delete o.keptAsidePaths;
    delete o.createInterrupted;
    const t = targetOf(o);
    if (t) {
        if (keepAside) {
            try {
                o.keptAsidePaths = await keepOriginals(t);
            } catch (err) {
                const e = err as NodeJS.ErrnoException;
                throw e.code === undefined ? e : new Error(
                    `could not keep the current files of ${t.directory} aside before writing over them (nothing was written): ${e.code} ${e.message}`.replace(/\s+/g, " "), { cause: err });
            }
        }
        progress.keptAsidePaths = o.keptAsidePaths;
        const before = await readDelivered(t);
        progress.wrote = true;
        await deliverFiles(t, o);
        pulumi.log.info(`wrote ${Object.values(deliveryPaths(t)).join(", ")}${t.access ? ` on ${describeAccess(t.access)}` : ""} (certificate serial ${o.serialNumber})`);
        o.deliveredFingerprintSha256 = o.fingerprintSha256;
        o.deliveryInSync = true;
        if (o.verifyOn && onlyTrustChanged(before, t, o)) {
            // A new certificate proves the reload when the node serves it (the CA file, written
            // first, is re-read with it). A change of the trusted CAs alone has no such evidence
            // (_ssl/certificates reads the file from disk): wait one reload interval, so the next
            // step of a CA rotation (nodes presenting certificates of the newly trusted CA) finds
            // it trusted.
            pulumi.log.info(`waiting ${TRUST_RELOAD_WAIT_MS / 1000}s for node ${o.verifyOn.nodeName} to re-read its trusted CAs (${path.basename(deliveryPaths(t).ca)})`);
            await new Promise((r) => setTimeout(r, TRUST_RELOAD_WAIT_MS));
        }
    }
    if (o.verifyOn) {
        await waitUntilServed(o.verifyOn, o, o.purpose ?? "transport");
        o.servedByNode = true;
    }
    return o;
}

/** How far {@link deliverAndVerify} got, for a create that fails after it wrote. */
interface DeliveryProgress {
    /** The records of the originals, once kept aside. */
    keptAsidePaths?: string[];
    /** True once the first certificate file may have been written over. */
    wrote?: boolean;
}

/**
 * Elasticsearch re-reads changed certificate and CA files every `resource.reload.interval.high`
 * (5 s by default); seen on 3-node 9.5 clusters: the reload is logged 1–5 s after the write.
 */
const TRUST_RELOAD_WAIT_MS = 6_000;

/**
 * True when a delivery changes the CA certificates a node trusts but not the certificate it serves
 * (`before`: what the files held before it). @internal
 */
export function onlyTrustChanged(before: { certPem?: string; caPem?: string }, t: DeliveryTarget, o: { certPem: string; caPem: string }): boolean {
    return before.certPem === o.certPem && before.caPem !== trustFileContent(t, o.caPem);
}

/** Gives up the files of `o`'s delivery (delete, or a move elsewhere), logging what was done and why. */
async function release(o: NodeCertificateOutputs, what: string): Promise<void> {
    const t = targetOf(o);
    if (!t || !o.certPem || !o.keyPem || !o.caPem) {
        return;
    }
    // A state written before anything was kept aside: the files are the node's only certificate.
    const mode: OnDelete | "legacy" = o.keptAsidePaths === undefined ? "legacy" : t.onDelete ?? "restore";
    const r = await releaseDelivered(t, o, mode);
    if (r.restored.length) {
        pulumi.log.info(`${what}: put back what ${r.restored.join(", ")} held before the first delivery`);
    }
    if (r.removed.length) {
        pulumi.log.info(`${what}: removed ${r.removed.join(", ")} (they did not exist before the first delivery)`);
    }
    const byWhy = new Map<string, string[]>();
    for (const k of r.kept) {
        byWhy.set(k.why, [...(byWhy.get(k.why) ?? []), k.file]);
    }
    for (const [why, files] of byWhy) {
        const line = `${what}: left ${files.join(", ")} in place: ${why}`;
        mode === "legacy" ? pulumi.log.warn(line) : pulumi.log.info(line);
    }
}

/** Issues the certificate, writes the files (with `delivery`) and waits for the node (with `verifyOn`). */
export async function create(inputs: NodeCertificateInputs): Promise<pulumi.dynamic.CreateResult<NodeCertificateOutputs>> {
    const i = plain(inputs);
    delete i.observedDrift;
    failOnInvalid(checkInputs(i));
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
    const planned: NodeCertificateOutputs = { ...echo(i), ...issued, caFingerprintSha256: ca.fingerprintSha256 };
    const progress: DeliveryProgress = {};
    try {
        const outs = await deliverAndVerify(planned, true, progress);
        return { id: outs.serialNumber, outs: plain(outs) };
    } catch (err) {
        if (!progress.wrote) {
            throw err;
        }
        // The files may hold the new certificate now and the node's own ones are kept aside: without
        // a state, nothing would ever put them back. The engine records these properties (the key
        // marked secret by additionalSecretOutputs, as in any state) with the failure.
        const t = targetOf(planned);
        const properties: Record<string, unknown> = {
            ...planned, keptAsidePaths: progress.keptAsidePaths, deliveryInSync: false, createInterrupted: true,
            ...(planned.verifyOn ? { servedByNode: false } : {}),
        };
        const provider = (inputs as unknown as Record<string, unknown>).__provider;
        if (provider !== undefined) properties.__provider = provider;
        throw new CreateInterruptedError(
            `${describeError(err)}. The certificate files in ${t?.directory}${t?.access ? ` on ${describeAccess(t.access)}` : ""} may already hold certificate ${planned.serialNumber} ` +
            "(the node's previous files are kept aside), so the stack records the certificate as not finished: run 'pulumi up' again once the node is fixed " +
            "(it writes the files again and waits for the node), or 'pulumi destroy' (it puts the previous files back)",
            planned.serialNumber, plain(properties), { serialNumber: planned.serialNumber }, err);
    }
}

/**
 * Reports what is live: the fingerprint of the certificate file on disk (and whether all three
 * files are ours) and whether the node serves our serial. Never fails because a node is down: that
 * is reported as `servedByNode: false`, which the next update repairs. When something differs from
 * the state, the returned inputs carry it as `observedDrift` (one sentence per finding), so the next
 * `pulumi preview --diff` shows what was found; the program never sets it, so `up` clears it.
 */
export async function read(id: string, props: NodeCertificateOutputs): Promise<pulumi.dynamic.ReadResult<NodeCertificateOutputs>> {
    const o: NodeCertificateOutputs = plain(props);
    const drift: string[] = [];
    const t = targetOf(o);
    let onDisk: Awaited<ReturnType<typeof readDelivered>> | undefined;
    if (t) {
        try {
            onDisk = await readDelivered(t);
        } catch (err) {
            // A node that cannot be reached is no reason to fail a refresh: it is recorded as not in
            // sync (the next up writes the files again, once the host answers) and said.
            const where = locationOf(t.access) || "this host";
            pulumi.log.warn(`could not read the certificate files in ${t.directory} on ${where}: ${describeError(err)}; recorded as not in sync`);
            o.deliveryInSync = false;
            drift.push(`delivery: could not read the files on ${where}: ${describeError(err)}`);
        }
    }
    if (t && onDisk) {
        const p = deliveryPaths(t);
        o.deliveredFingerprintSha256 = fingerprintOr(onDisk.certPem, "");
        o.deliveryInSync = matches(t, onDisk, o);
        if (!o.deliveryInSync) {
            // One short sentence per file (the CLI cuts long strings in preview --diff); the
            // directory is in delivery.directory next to it.
            const name = (f: string) => path.basename(f);
            if (onDisk.certPem === undefined) {
                drift.push(`delivery: ${name(p.cert)} is missing`);
            } else if (onDisk.certPem !== o.certPem) {
                const serial = serialOr(onDisk.certPem);
                drift.push(`delivery: ${name(p.cert)} holds ${serial ? `serial ${serial}` : "no readable certificate"}, not ${o.serialNumber}`);
            }
            if (onDisk.keyPem !== o.keyPem) {
                drift.push(`delivery: ${name(p.key)} ${onDisk.keyPem === undefined ? "is missing" : "holds another key"}`);
            }
            if (onDisk.caPem !== trustFileContent(t, o.caPem)) {
                drift.push(`delivery: ${name(p.ca)} ${onDisk.caPem === undefined ? "is missing" : "holds other CA certificates"}`);
            }
        }
        const half = await halfSwitched(t, onDisk).catch(() => undefined);
        if (half) {
            // Ours or not, a node restarted on these files would not start: the next up writes all three.
            pulumi.log.warn(`the certificate files in ${t.directory}${t.access ? ` on ${describeAccess(t.access)}` : ""}: ${half}; the next 'pulumi up' writes all three again`);
            drift.push(`delivery: ${half}`);
            o.deliveryInSync = false;
        }
    }
    if (o.verifyOn) {
        const layer = LISTENERS[o.purpose ?? "transport"].name;
        try {
            const client = await clientForNode(o.verifyOn);
            const r = await checkServing(o.verifyOn, client, o, {}, o.purpose ?? "transport");
            o.servedByNode = r.served;
            if (!r.served) {
                pulumi.log.info(`node ${o.verifyOn.nodeName} does not serve certificate ${o.serialNumber}: ${r.detail}`);
                drift.push(`verifyOn: node ${o.verifyOn.nodeName} does not serve certificate ${o.serialNumber}: ${r.detail}`);
            } else if (r.evidence === "files") {
                pulumi.log.warn(`node ${o.verifyOn.nodeName}: ${r.detail}; only its files were checked`);
            }
        } catch (err) {
            pulumi.log.warn(`could not ask node ${o.verifyOn.nodeName} which certificate its ${layer} serves: ${describeError(err)}`);
            o.servedByNode = false;
            drift.push(`verifyOn: could not ask node ${o.verifyOn.nodeName} which certificate it serves: ${describeError(err)}`);
        }
    }
    const out = plain(o);
    if (!drift.length) {
        return { id, props: out };
    }
    // The inputs as the state implies them, plus what differs. Left out: the CA's key (never stored)
    // and verifyOn (its connection holds credentials; nothing here may depend on the engine marking
    // them secret again), so the preview also lists those two as given by the program.
    const { verifyOn: _verifyOn, ...rest } = echo(o);
    void _verifyOn;
    const inputs = { caCertPem: o.caPem, ...rest, observedDrift: drift };
    return { id, props: out, inputs: plain(inputs) as unknown as NodeCertificateOutputs };
}

/** Moves or rewrites the files and re-verifies; the certificate itself never changes here. */
export async function update(_id: string, olds: NodeCertificateOutputs, news: NodeCertificateInputs): Promise<pulumi.dynamic.UpdateResult<NodeCertificateOutputs>> {
    const n = plain(news);
    delete n.observedDrift;
    failOnInvalid(checkInputs(n));
    const o = plain(olds);
    const oldTarget = targetOf(o);
    const newTarget = targetOf({ delivery: n.delivery, purpose: o.purpose });
    // Moved: other paths, or the same paths on another host.
    const where = (x: DeliveryTarget | undefined) => x && Object.values(deliveryPaths(x)).map((f) => nodePath(x.access, f));
    const moved = oldTarget !== undefined && !sameJson(where(oldTarget), where(newTarget));
    // Files at the same paths are overwritten in place (atomically, owner kept), never removed
    // first, so a node never sees them missing. A state from a release that kept nothing aside
    // keeps delivering to the same paths as before (its files are the only record); at new paths
    // the originals are kept aside first, like any first delivery.
    const legacy = oldTarget !== undefined && o.keptAsidePaths === undefined && !moved;
    const outs = await deliverAndVerify({
        ...o,
        renewBeforeDays: n.renewBeforeDays,
        delivery: n.delivery,
        verifyOn: n.verifyOn,
    }, !legacy);
    // The old paths are given up only once the new ones are written (and served, with verifyOn).
    if (moved) {
        await release(o, "delivery moved");
    }
    return { outs: plain(outs) };
}

/**
 * Gives up the delivered files (see `releaseDelivered`): by default they get back what they held
 * before the first delivery, so the node's next restart reads a certificate again.
 */
export async function delete_(_id: string, props: NodeCertificateOutputs): Promise<void> {
    await release(plain(props), "delete");
}
export { delete_ as delete };

/** Compile-time proof that the six hooks match the resource's types. */
const _hooks: HookModule<NodeCertificateInputs, NodeCertificateOutputs> = { check, diff, create, read, update, delete: delete_ };
void _hooks;
