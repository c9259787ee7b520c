/**
 * Hooks of the `SharedCa` resource: a certificate authority that signs the transport certificates
 * of both clusters (one CA on both sides is the simplest trust). Either generated here or adopted
 * from an existing certificate + key (e.g. `@pulumi/tls` outputs). The CA lives in the state; with
 * `trustDeliveries` its certificate is also written into nodes' trust files (kept aside and put
 * back like a NodeCertificate's files, see `deliverTrustFile`/`releaseTrustFile`).
 */
import * as pulumi from "@pulumi/pulumi";
import {
    DEFAULT_CA_VALIDITY_DAYS, DEFAULT_KEY_ALGORITHM, KEY_ALGORITHMS, KeyAlgorithm, MAX_VALIDITY_DAYS, checkCaPair, describeCertificate, generateCa,
    isKeyAlgorithm, keyMatchesCertificate,
} from "./certs/pem";
import { CheckFailure, failOnInvalid } from "./core/validation";
import { HookModule, containsUnknown, plain, plainInputs } from "./core/dynamic";
import * as crypto from "crypto";
import type { SharedCaArgs } from "../sdk/sharedCa";
import { TrustFileTarget, deliverTrustFile, readTrustFile, releaseTrustFile, trustFilePath, trustFileProblems, trustPemsContent } from "./certs/delivery";
import { describeError } from "./core/errors";
import { nodePath, onLocation } from "./access/node";
import { directoryProblem } from "./access/preflight";

/** Default subject CN of a generated CA. */
export const DEFAULT_CA_COMMON_NAME = "es-remote-ca";

/**
 * The inputs the hooks receive: the sdk's {@link SharedCaArgs}, resolved by the engine (one source
 * for both). Generation options and `certPem`/`keyPem` exclude each other.
 */
export type SharedCaInputs = pulumi.Unwrap<SharedCaArgs>;

/** One trust file the CA's certificate is written into. */
export type TrustDelivery = TrustFileTarget & { extraTrustedCaPems?: string[] };

/** The state the hooks write: the inputs as given plus the CA's facts. */
export interface SharedCaOutputs extends Omit<SharedCaInputs, "certPem" | "keyPem"> {
    /** CA certificate, PEM. */
    certPem: string;
    /** CA private key, PKCS#8 PEM (an adopted key is converted). Secret. */
    keyPem: string;
    /** True if the CA was adopted from `certPem`/`keyPem` rather than generated. */
    adopted: boolean;
    /** SHA-256 fingerprint, upper-case hex with colons. */
    fingerprintSha256: string;
    /** Serial number, lower-case hex. */
    serialNumber: string;
    /** ISO 8601. */
    notBefore: string;
    /** ISO 8601. */
    notAfter: string;
    /** With `trustDeliveries`: true if every trust file held exactly what was written when last written or read. */
    trustInSync?: boolean;
    /** With `trustDeliveries`: the records of what the trust files held before the first write. */
    trustKeptAsidePaths?: string[];
}

const GENERATION_OPTIONS = ["commonName", "organization", "organizationalUnit", "country", "validityDays", "keyAlgorithm"] as const;

function isAdopting(i: SharedCaInputs): boolean {
    return i.certPem !== undefined || i.keyPem !== undefined;
}

/** The generation options with defaults applied: two inputs that generate the same CA compare equal. */
function effectiveGeneration(i: SharedCaInputs): Record<string, unknown> {
    return {
        commonName: i.commonName ?? DEFAULT_CA_COMMON_NAME,
        organization: i.organization,
        organizationalUnit: i.organizationalUnit,
        country: i.country,
        validityDays: i.validityDays ?? DEFAULT_CA_VALIDITY_DAYS,
        keyAlgorithm: i.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM,
    };
}

function checkInputs(i: SharedCaInputs): CheckFailure[] {
    return [...checkCa(i), ...checkTrust(i)];
}

function checkTrust(i: SharedCaInputs): CheckFailure[] {
    const f: CheckFailure[] = [];
    const v = i.trustDeliveries as unknown;
    if (v === undefined || containsUnknown(v)) {
        return f;
    }
    if (!Array.isArray(v)) {
        return [{ property: "trustDeliveries", reason: "must be a list of { directory, caFile?, extraTrustedCaPems?, onDelete?, access? }" }];
    }
    const seen = new Map<string, number>();
    v.forEach((t, n) => {
        for (const p of trustFileProblems(t)) {
            f.push({ property: p.property ? `trustDeliveries[${n}].${p.property}` : `trustDeliveries[${n}]`, reason: p.reason });
        }
        if (t && typeof t === "object" && typeof t.directory === "string" && !containsUnknown(t.access)) {
            const file = nodePathOf(t as TrustFileTarget);
            if (seen.has(file)) {
                f.push({ property: `trustDeliveries[${n}]`, reason: `writes ${trustFilePath(t as TrustFileTarget)}${where(t as TrustFileTarget)} like trustDeliveries[${seen.get(file)}]; give each file once` });
            }
            seen.set(file, n);
        }
    });
    return f;
}

function checkCa(i: SharedCaInputs): CheckFailure[] {
    const f: CheckFailure[] = [];
    if (isAdopting(i)) {
        for (const k of GENERATION_OPTIONS) {
            if (i[k] !== undefined) {
                f.push({ property: k, reason: `applies only to a generated CA; remove ${k}, or remove certPem/keyPem to generate the CA here` });
            }
        }
        if (i.certPem === undefined) {
            f.push({ property: "certPem", reason: "keyPem was given without certPem: adopting a CA needs both (e.g. a tls.SelfSignedCert's certPem)" });
        }
        if (i.keyPem === undefined) {
            f.push({ property: "keyPem", reason: "certPem was given without keyPem: adopting a CA needs both (e.g. a tls.PrivateKey's privateKeyPem)" });
        }
        if (i.certPem !== undefined && i.keyPem !== undefined && !containsUnknown(i.certPem) && !containsUnknown(i.keyPem)) {
            const problem = checkCaPair(i.certPem, i.keyPem);
            if (problem) {
                f.push({ property: problem.startsWith("the CA key") ? "keyPem" : "certPem", reason: problem });
            }
        }
        return f;
    }
    for (const k of ["commonName", "organization", "organizationalUnit"] as const) {
        const v = i[k];
        if (v !== undefined && !containsUnknown(v) && (typeof v !== "string" || v.trim() === "")) {
            f.push({ property: k, reason: "must be a non-empty string" });
        }
    }
    if (i.country !== undefined && !containsUnknown(i.country) && (typeof i.country !== "string" || !/^[A-Z]{2}$/.test(i.country))) {
        f.push({ property: "country", reason: `must be a two-letter ISO 3166 code in upper case, e.g. "DE", got ${JSON.stringify(i.country)}` });
    }
    const v = i.validityDays;
    if (v !== undefined && !containsUnknown(v) && (typeof v !== "number" || !Number.isInteger(v) || v <= 0)) {
        f.push({ property: "validityDays", reason: `must be a whole number of days ≥ 1, got ${JSON.stringify(v)}` });
    } else if (typeof v === "number" && v > MAX_VALIDITY_DAYS) {
        f.push({ property: "validityDays", reason: `must be at most ${MAX_VALIDITY_DAYS} days (100 years): certificate dates end in the year 9999, got ${v}` });
    }
    if (i.keyAlgorithm !== undefined && !containsUnknown(i.keyAlgorithm) && !isKeyAlgorithm(i.keyAlgorithm)) {
        f.push({ property: "keyAlgorithm", reason: `unknown key algorithm ${JSON.stringify(i.keyAlgorithm)}; use one of ${KEY_ALGORITHMS.join(", ")}` });
    }
    return f;
}

/** Validates the inputs; values not known yet (preview) are skipped. */
export async function check(_olds: Partial<SharedCaInputs>, news: SharedCaInputs): Promise<pulumi.dynamic.CheckResult<SharedCaInputs>> {
    const inputs = plainInputs<SharedCaInputs & { observedDrift?: string[] }>(news);
    // Drift `read` reported belongs to the refreshed state, never to the program's inputs.
    delete inputs.observedDrift;
    const failures = checkInputs(inputs);
    // Nodes on other hosts: each reachable, as pinned, login and sudo working, its directory there
    // and writable — all hosts at once, at preview, writing nothing.
    const ds = inputs.trustDeliveries;
    if (!failures.length && Array.isArray(ds) && !containsUnknown(ds)) {
        const problems = await Promise.all(ds.map((d) => (d.access ? directoryProblem(d.access, d.directory) : Promise.resolve(undefined))));
        problems.forEach((p, n) => {
            if (p) failures.push({ property: `trustDeliveries[${n}].access`, reason: p });
        });
    }
    return failures.length ? { inputs, failures } : { inputs };
}

/** A trust file as one comparable key: its host and path. */
function nodePathOf(d: TrustFileTarget): string {
    return nodePath(d.access, trustFilePath(d));
}

/** ` on <host>` for a trust file on another host. */
function where(d: TrustFileTarget): string {
    return onLocation(d.access);
}

/** Any change of what the CA is (generation options, or the adopted certificate/key) replaces it. */
export async function diff(_id: string, olds: SharedCaOutputs, news: SharedCaInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces: string[] = [];
    const wasAdopted = olds.adopted === true;
    if (isAdopting(news) !== wasAdopted) {
        replaces.push(isAdopting(news) ? "certPem" : "commonName");
    } else if (wasAdopted) {
        if (containsUnknown(news.certPem) || !sameCertificate(olds.certPem, news.certPem)) {
            replaces.push("certPem");
        }
        // The key is stored converted to PKCS#8; a different encoding of the same key is no change.
        if (containsUnknown(news.keyPem) || !sameKey(olds.keyPem, news.keyPem)) {
            replaces.push("keyPem");
        }
    } else {
        const before = effectiveGeneration(olds);
        const after = effectiveGeneration(news);
        for (const k of GENERATION_OPTIONS) {
            if (containsUnknown(after[k]) || before[k] !== after[k]) {
                replaces.push(k);
            }
        }
    }
    const update = containsUnknown(news.trustDeliveries) || JSON.stringify(trustKey(olds.trustDeliveries)) !== JSON.stringify(trustKey(news.trustDeliveries))
        || (olds.trustDeliveries?.length ? olds.trustInSync === false : false);
    return { changes: replaces.length > 0 || update, replaces };
}

/** The trust deliveries with defaults filled in, for comparing two lists. */
function trustKey(ds: TrustDelivery[] | undefined): unknown {
    // `access` only when set, so states written before node access compare equal to their programs.
    return (ds ?? []).map((d) => ({ file: trustFilePath(d), extra: d.extraTrustedCaPems ?? [], onDelete: d.onDelete ?? "restore", ...(d.access ? { access: d.access } : {}) }));
}

/** The CA certificates a trust file of this CA holds. */
function trustPems(certPem: string, d: TrustDelivery): string[] {
    return [certPem, ...(d.extraTrustedCaPems ?? [])];
}

/**
 * Writes every trust file (all hosts at once); returns the outputs with the records. If one cannot
 * be written (a host down), the files this call wrote get back what they held (`rollback`: those
 * that were not in the state before) and it throws naming the host: nothing is left on a node
 * that the state does not know.
 */
async function deliverTrust(o: SharedCaOutputs, inState: TrustDelivery[] = []): Promise<SharedCaOutputs> {
    const out: SharedCaOutputs = { ...o };
    delete out.trustInSync;
    delete out.trustKeptAsidePaths;
    const ds = o.trustDeliveries ?? [];
    if (ds.length) {
        const results = await Promise.allSettled(ds.map((d) => deliverTrustFile(d, trustPems(o.certPem, d))));
        const failed = ds.map((d, k) => ({ d, r: results[k] })).filter((x) => x.r.status === "rejected");
        if (failed.length) {
            const known = new Set(inState.map(nodePathOf));
            const written = ds.filter((d, k) => results[k].status === "fulfilled" && !known.has(nodePathOf(d)));
            await releaseTrust(o.certPem, written, "rolled back after a failed trust delivery");
            const why = failed.map((x) => `${trustFilePath(x.d)}${where(x.d)}: ${describeError((x.r as PromiseRejectedResult).reason)}`).join("; ");
            throw new Error(`could not write CA ${o.serialNumber} into every trust file: ${why}` +
                `${written.length ? `; the ${written.length} file(s) written by this step got back what they held before` : ""}. Run 'pulumi up' again once the host answers.`);
        }
        out.trustKeptAsidePaths = results.map((r) => (r as PromiseFulfilledResult<string>).value);
        out.trustInSync = true;
        pulumi.log.info(`wrote CA ${o.serialNumber} into ${ds.map((d) => `${trustFilePath(d)}${where(d)}`).join(", ")}`);
    }
    return out;
}

/** Gives up the trust files `ds` (delete, or entries dropped), logging what was done. */
async function releaseTrust(certPem: string, ds: TrustDelivery[], what: string): Promise<void> {
    for (const d of ds) {
        const r = await releaseTrustFile(d, trustPems(certPem, d));
        for (const f of r.restored) {
            pulumi.log.info(`${what}: put back what ${f} held before the first write`);
        }
        for (const f of r.removed) {
            pulumi.log.info(`${what}: removed ${f} (it did not exist before the first write)`);
        }
        for (const k of r.kept) {
            pulumi.log.info(`${what}: left ${k.file} in place: ${k.why}`);
        }
    }
}

function sameCertificate(a: string | undefined, b: string | undefined): boolean {
    try {
        return a !== undefined && b !== undefined && describeCertificate(a).fingerprintSha256 === describeCertificate(b).fingerprintSha256;
    } catch {
        return a === b;
    }
}

function sameKey(a: string | undefined, b: string | undefined): boolean {
    try {
        const der = (k: string) => crypto.createPrivateKey(k).export({ type: "pkcs8", format: "der" });
        return a !== undefined && b !== undefined && der(a).equals(der(b));
    } catch {
        return a === b;
    }
}

/** Generates the CA, or adopts the given one (its key converted to PKCS#8). */
export async function create(inputs: SharedCaInputs): Promise<pulumi.dynamic.CreateResult<SharedCaOutputs>> {
    const i = plain(inputs);
    failOnInvalid(checkInputs(i));
    let outs: SharedCaOutputs;
    if (isAdopting(i)) {
        const certPem = i.certPem!;
        const keyPem = crypto.createPrivateKey(i.keyPem!).export({ type: "pkcs8", format: "pem" }).toString();
        if (!keyMatchesCertificate(certPem, keyPem)) {
            failOnInvalid([{ property: "keyPem", reason: "the CA key does not match the CA certificate" }]);
        }
        const info = describeCertificate(certPem);
        outs = {
            certPem, keyPem, adopted: true, trustDeliveries: i.trustDeliveries,
            fingerprintSha256: info.fingerprintSha256, serialNumber: info.serialNumber, notBefore: info.notBefore, notAfter: info.notAfter,
        };
    } else {
        const g = effectiveGeneration(i);
        const ca = await generateCa({
            commonName: g.commonName as string,
            organization: i.organization,
            organizationalUnit: i.organizationalUnit,
            country: i.country,
            validityDays: g.validityDays as number,
            keyAlgorithm: g.keyAlgorithm as KeyAlgorithm,
        });
        outs = { ...i, ...ca, adopted: false };
    }
    return { id: outs.serialNumber, outs: plain(await deliverTrust(outs)) };
}

/**
 * The CA itself lives only in the state: what is there is what exists. With `trustDeliveries`,
 * refresh reads the trust files: one changed by hand is reported as `trustInSync: false` (the next
 * `up` rewrites it) and, for a generated CA, as the `observedDrift` input `preview --diff` shows.
 */
export async function read(id: string, props: SharedCaOutputs): Promise<pulumi.dynamic.ReadResult<SharedCaOutputs>> {
    const o = plain(props);
    const ds = o.trustDeliveries ?? [];
    if (!ds.length) {
        return { id, props: o };
    }
    const drift: string[] = [];
    const found = await Promise.all(ds.map(async (d) => {
        try {
            return { on: await readTrustFile(d) };
        } catch (e) {
            return { error: describeError(e) };
        }
    }));
    ds.forEach((d, n) => {
        const file = trustFilePath(d);
        const r = found[n];
        if (r.error !== undefined) {
            pulumi.log.warn(`trustDeliveries[${n}]: could not read ${file}${where(d)}: ${r.error}; recorded as not in sync`);
            drift.push(`trustDeliveries[${n}]: could not read ${file}${where(d)}`);
        } else if (r.on !== trustPemsContent(trustPems(o.certPem, d))) {
            drift.push(`trustDeliveries[${n}]: ${file}${where(d)} ${r.on === undefined ? "is missing" : "holds other CA certificates"}`);
        }
    });
    o.trustInSync = drift.length === 0;
    if (!drift.length || o.adopted) {
        return { id, props: plain(o) };
    }
    const inputs = { ...Object.fromEntries(GENERATION_OPTIONS.map((k) => [k, o[k]])), trustDeliveries: o.trustDeliveries, observedDrift: drift };
    return { id, props: plain(o), inputs: plain(inputs) as unknown as SharedCaOutputs };
}

/**
 * Only `trustDeliveries` change in place (every change of the CA replaces it): every listed file is
 * (re)written, and files no longer listed are given up (restored or kept, see `onDelete`).
 */
export async function update(_id: string, olds: SharedCaOutputs, news: SharedCaInputs): Promise<pulumi.dynamic.UpdateResult<SharedCaOutputs>> {
    const o = plain(olds);
    const n = plain(news);
    failOnInvalid(checkTrust(n));
    const outs = await deliverTrust({ ...o, trustDeliveries: n.trustDeliveries }, o.trustDeliveries ?? []);
    const kept = new Set((n.trustDeliveries ?? []).map(nodePathOf));
    await releaseTrust(o.certPem, (o.trustDeliveries ?? []).filter((d) => !kept.has(nodePathOf(d))), "trust file dropped");
    return { outs: plain(outs) };
}

/** The CA exists only in the state (the engine drops it); its trust files are given up. */
export async function delete_(_id: string, props: SharedCaOutputs): Promise<void> {
    const o = plain(props);
    await releaseTrust(o.certPem, o.trustDeliveries ?? [], "delete");
}
export { delete_ as delete };

/** Compile-time proof that the six hooks match the resource's types. */
const _hooks: HookModule<SharedCaInputs, SharedCaOutputs> = { check, diff, create, read, update, delete: delete_ };
void _hooks;
