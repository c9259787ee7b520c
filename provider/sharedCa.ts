/**
 * Hooks of the `SharedCa` resource: a certificate authority that signs the transport certificates
 * of both clusters (one CA on both sides is the simplest trust). Either generated here or adopted
 * from an existing certificate + key (e.g. `@pulumi/tls` outputs). Nothing outside the state: no
 * cluster, no files.
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

/** Default subject CN of a generated CA. */
export const DEFAULT_CA_COMMON_NAME = "es-remote-ca";

/**
 * The inputs the hooks receive: the sdk's {@link SharedCaArgs}, resolved by the engine (one source
 * for both). Generation options and `certPem`/`keyPem` exclude each other.
 */
export type SharedCaInputs = pulumi.Unwrap<SharedCaArgs>;

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
    const inputs = plainInputs<SharedCaInputs>(news);
    const failures = checkInputs(inputs);
    return failures.length ? { inputs, failures } : { inputs };
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
    return { changes: replaces.length > 0, replaces };
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
            certPem, keyPem, adopted: true,
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
    return { id: outs.serialNumber, outs: plain(outs) };
}

/** The CA lives only in the state: what is there is what exists. */
export async function read(id: string, props: SharedCaOutputs): Promise<pulumi.dynamic.ReadResult<SharedCaOutputs>> {
    return { id, props: plain(props) };
}

/** Never needed (every change replaces); keeps the state as it is. */
export async function update(_id: string, olds: SharedCaOutputs, _news: SharedCaInputs): Promise<pulumi.dynamic.UpdateResult<SharedCaOutputs>> {
    return { outs: plain(olds) };
}

/** Nothing outside the state to remove. */
export async function delete_(_id: string, _props: SharedCaOutputs): Promise<void> {
    // The CA exists only in the state; the engine drops it from there.
}
export { delete_ as delete };

/** Compile-time proof that the six hooks match the resource's types. */
const _hooks: HookModule<SharedCaInputs, SharedCaOutputs> = { check, diff, create, read, update, delete: delete_ };
void _hooks;
