/**
 * Certificates, pure: PEM in, PEM out. No Pulumi, no files, no network.
 *
 * Built on `@peculiar/x509` over Node's WebCrypto (native key generation and signing), with
 * Node's `crypto` for parsing and key conversion. Every key we write is PKCS#8
 * (`-----BEGIN PRIVATE KEY-----`), which Elasticsearch's PEM key loader reads for RSA and EC.
 */
// x509's dependency-injection container needs the Reflect metadata API before it loads.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import * as crypto from "crypto";
import * as net from "net";
import { InputError } from "../core/errors";

// x509's own typings refer to the DOM's WebCrypto types, which this Node-only build does not load.
x509.cryptoProvider.set(crypto.webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type WebAlgorithm = crypto.webcrypto.Algorithm;
type EcdsaParams = crypto.webcrypto.EcdsaParams;
type CryptoKey = crypto.webcrypto.CryptoKey;
type CryptoKeyPair = crypto.webcrypto.CryptoKeyPair;

/** The key algorithms we generate. */
export type KeyAlgorithm = "ecdsa-p256" | "ecdsa-p384" | "rsa-2048" | "rsa-3072" | "rsa-4096";

/** Every {@link KeyAlgorithm}, in the order we document them. */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ["ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096"];

/** Default key algorithm of CAs and node certificates: small keys, fast handshakes, supported by every ES version we manage. */
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = "ecdsa-p256";
/** Default CA lifetime in days (3 years). */
export const DEFAULT_CA_VALIDITY_DAYS = 1095;
/** Default node certificate lifetime in days (1 year). */
export const DEFAULT_NODE_VALIDITY_DAYS = 365;
/**
 * The longest lifetime accepted, in days (100 years). X.509 dates end with the year 9999: a
 * lifetime reaching past it (about 2.9 million days from now) was encoded as a date no parser
 * reads ("Bad time value"), i.e. a broken certificate.
 */
export const MAX_VALIDITY_DAYS = 36500;

/**
 * How far `notBefore` is set in the past, so a node whose clock runs a little behind the machine
 * that ran `pulumi up` does not reject a fresh certificate as "not yet valid". The lifetime
 * (`notAfter - notBefore`) is still exactly `validityDays`.
 */
export const BACKDATE_SECONDS = 300;

/** Options of a new certificate authority. */
export interface CaOptions {
    /** Subject CN of the CA, e.g. `es-remote-ca`. */
    commonName: string;
    /** Subject O. */
    organization?: string;
    /** Subject OU. */
    organizationalUnit?: string;
    /** Subject C: two letters, e.g. `DE`. */
    country?: string;
    /** Lifetime in days. Default 1095. */
    validityDays?: number;
    /** Key algorithm. Default `ecdsa-p256`. */
    keyAlgorithm?: KeyAlgorithm;
}

/** A certificate authority we generated. */
export interface IssuedCa {
    /** The self-signed CA certificate (PEM). */
    certPem: string;
    /** The CA's private key, PKCS#8 PEM. Secret. */
    keyPem: string;
    /** SHA-256 of the certificate's DER, upper-case hex with colons (the form Elasticsearch and `openssl -fingerprint` print). */
    fingerprintSha256: string;
    /** Serial number, lower-case hex without leading zeros (the form `GET _ssl/certificates` prints). */
    serialNumber: string;
    /** Start of validity, ISO 8601. */
    notBefore: string;
    /** End of validity, ISO 8601. */
    notAfter: string;
}

/** Options of a node (transport) certificate. */
export interface NodeCertOptions {
    /** Subject CN, e.g. the node name. */
    commonName: string;
    /** DNS subject alternative names. At least one DNS name or IP address is required. */
    dnsNames?: string[];
    /** IP subject alternative names (IPv4 or IPv6). */
    ipAddresses?: string[];
    /** Lifetime in days. Default 365. */
    validityDays?: number;
    /** Key algorithm of the node's key. Default `ecdsa-p256`. */
    keyAlgorithm?: KeyAlgorithm;
}

/** A node certificate we issued. */
export interface IssuedNodeCert {
    /** The node certificate (PEM). */
    certPem: string;
    /** The node's private key, PKCS#8 PEM. Secret. */
    keyPem: string;
    /** The issuing CA's certificate (PEM), for `certificate_authorities`. */
    caPem: string;
    /** Serial number, lower-case hex without leading zeros. */
    serialNumber: string;
    /** SHA-256 fingerprint of the certificate, upper-case hex with colons. */
    fingerprintSha256: string;
    /** Start of validity, ISO 8601. */
    notBefore: string;
    /** End of validity, ISO 8601. */
    notAfter: string;
}

/** What {@link describeCertificate} reads from a certificate. */
export interface CertificateInfo {
    /** Serial number, lower-case hex without leading zeros. */
    serialNumber: string;
    /** SHA-256 fingerprint, upper-case hex with colons. */
    fingerprintSha256: string;
    /** ISO 8601. */
    notBefore: string;
    /** ISO 8601. */
    notAfter: string;
    /** Subject DN, RFC 4514 style (`CN=…, O=…`). */
    subject: string;
    /** Issuer DN, same style. */
    issuer: string;
    /** True if basic constraints say CA:true. */
    isCa: boolean;
    /** DNS subject alternative names, as written in the certificate. */
    dnsNames: string[];
    /** IP subject alternative names, canonical text form (IPv6 compressed, lower case). */
    ipAddresses: string[];
}

interface AlgorithmParams {
    generate: crypto.webcrypto.RsaHashedKeyGenParams | crypto.webcrypto.EcKeyGenParams;
    sign: WebAlgorithm | EcdsaParams;
    rsa: boolean;
}

function algorithmParams(a: KeyAlgorithm): AlgorithmParams {
    switch (a) {
        case "ecdsa-p256":
            return { generate: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams, rsa: false };
        case "ecdsa-p384":
            return { generate: { name: "ECDSA", namedCurve: "P-384" }, sign: { name: "ECDSA", hash: "SHA-384" } as EcdsaParams, rsa: false };
        case "rsa-2048":
        case "rsa-3072":
        case "rsa-4096": {
            const modulusLength = Number(a.slice(4));
            return {
                generate: { name: "RSASSA-PKCS1-v1_5", modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
                sign: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as WebAlgorithm,
                rsa: true,
            };
        }
        default:
            throw new InputError("keyAlgorithm", `unknown key algorithm ${JSON.stringify(a)}; use one of ${KEY_ALGORITHMS.join(", ")}`);
    }
}

/** True if `a` is one of {@link KEY_ALGORITHMS}. Never throws. */
export function isKeyAlgorithm(a: unknown): a is KeyAlgorithm {
    return typeof a === "string" && (KEY_ALGORITHMS as readonly string[]).includes(a);
}

/**
 * Canonical text form of an IP address (IPv4 dotted quad; IPv6 compressed, lower case, an
 * embedded IPv4 tail written as hex), or `undefined` if `ip` is not a plain IP address (zones,
 * prefixes and host names are rejected). Never throws.
 */
export function canonicalIp(ip: unknown): string | undefined {
    const bytes = ipBytes(ip);
    if (!bytes) {
        return undefined;
    }
    return bytes.length === 4 ? Array.from(bytes).join(".") : formatIpv6(bytes);
}

function ipBytes(ip: unknown): Uint8Array | undefined {
    if (typeof ip !== "string" || ip.includes("%") || ip.includes("/")) {
        return undefined;
    }
    const family = net.isIP(ip);
    if (family === 4) {
        const parts = ip.split(".").map((p) => Number(p));
        return new Uint8Array(parts);
    }
    if (family !== 6) {
        return undefined;
    }
    let text = ip.toLowerCase();
    // An embedded IPv4 tail (::ffff:10.0.0.1) becomes two hex groups.
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (v4) {
        const p = v4[1].split(".").map(Number);
        text = text.slice(0, v4.index) + ((p[0] << 8) | p[1]).toString(16) + ":" + ((p[2] << 8) | p[3]).toString(16);
    }
    const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
    const left = head ? head.split(":") : [];
    const right = tail === undefined ? [] : tail ? tail.split(":") : [];
    const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
    if (groups.length !== 8) {
        return undefined;
    }
    const out = new Uint8Array(16);
    groups.forEach((g, i) => {
        const n = parseInt(g, 16);
        out[2 * i] = n >> 8;
        out[2 * i + 1] = n & 0xff;
    });
    return out;
}

function formatIpv6(b: Uint8Array): string {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) {
        groups.push(((b[i] << 8) | b[i + 1]).toString(16));
    }
    // RFC 5952: compress the longest run (length ≥ 2) of zero groups, the first one on a tie.
    let best = -1;
    let bestLen = 0;
    for (let i = 0; i < 8; ) {
        if (groups[i] !== "0") {
            i++;
            continue;
        }
        let j = i;
        while (j < 8 && groups[j] === "0") {
            j++;
        }
        if (j - i > bestLen) {
            best = i;
            bestLen = j - i;
        }
        i = j;
    }
    if (bestLen < 2) {
        return groups.join(":");
    }
    return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

const DNS_LABEL = "(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)";
const DNS_NAME = new RegExp(`^(?:\\*\\.)?${DNS_LABEL}(?:\\.${DNS_LABEL})*\\.?$`, "i");

/**
 * Why `name` is not usable as a DNS subject alternative name, or `undefined` if it is. Accepts
 * host names, FQDNs and one leading wildcard label (`*.example.com`). Never throws.
 */
export function dnsNameProblem(name: unknown): string | undefined {
    if (typeof name !== "string" || name.length === 0) {
        return "must be a non-empty host name";
    }
    if (net.isIP(name) !== 0) {
        return `${JSON.stringify(name)} is an IP address; put it in ipAddresses (TLS hostname checks compare IPs only with IP SANs)`;
    }
    if (name.length > 253 || !DNS_NAME.test(name)) {
        return `${JSON.stringify(name)} is not a valid DNS name (letters, digits, '-', dots; an optional leading '*.')`;
    }
    return undefined;
}

/** 16 random bytes as a positive serial number that has no leading zero byte (always 32 hex digits). */
function randomSerial(): string {
    const b = crypto.randomBytes(16);
    b[0] = (b[0] & 0x7f) | 0x40;
    return b.toString("hex");
}

/** Lower-case hex without leading zeros: the form Elasticsearch's `_ssl/certificates` prints. */
export function normalizeSerial(serial: string): string {
    const s = serial.replace(/[:\s]/g, "").toLowerCase().replace(/^0+/, "");
    return s === "" ? "0" : s;
}

function validity(days: number, property: string): { notBefore: Date; notAfter: Date } {
    if (typeof days !== "number" || !Number.isFinite(days) || days <= 0) {
        throw new InputError(property, `must be a number of days > 0, got ${JSON.stringify(days)}`);
    }
    if (days > MAX_VALIDITY_DAYS) {
        throw new InputError(property, `must be at most ${MAX_VALIDITY_DAYS} days (100 years), got ${days}`);
    }
    // Whole seconds: certificates store UTCTime with second precision.
    const notBefore = new Date((Math.floor(Date.now() / 1000) - BACKDATE_SECONDS) * 1000);
    const notAfter = new Date(notBefore.getTime() + Math.round(days * 86400) * 1000);
    return { notBefore, notAfter };
}

function pemOf(cert: x509.X509Certificate): string {
    return cert.toString("pem").replace(/\r\n/g, "\n").trimEnd() + "\n";
}

function keyToPem(key: CryptoKey): string {
    return crypto.KeyObject.from(key).export({ type: "pkcs8", format: "pem" }).toString();
}

function fingerprintOf(der: Buffer | ArrayBuffer): string {
    const hex = crypto.createHash("sha256").update(Buffer.from(der as ArrayBuffer)).digest("hex").toUpperCase();
    return hex.match(/../g)!.join(":");
}

/** Subject in the conventional order C, O, OU, CN; JSON form so no DN escaping is needed. */
function caSubject(o: CaOptions): x509.JsonName {
    const name: x509.JsonName = [];
    if (o.country !== undefined) {
        name.push({ C: [o.country] });
    }
    if (o.organization !== undefined) {
        name.push({ O: [o.organization] });
    }
    if (o.organizationalUnit !== undefined) {
        name.push({ OU: [o.organizationalUnit] });
    }
    name.push({ CN: [o.commonName] });
    return name;
}

function requireName(value: unknown, property: string): void {
    if (typeof value !== "string" || value.trim() === "") {
        throw new InputError(property, "must be a non-empty string");
    }
}

/**
 * Generates a self-signed certificate authority: basic constraints CA:true (critical), key usage
 * keyCertSign + cRLSign (critical), subject key identifier. Throws {@link InputError} for bad options.
 */
export async function generateCa(o: CaOptions): Promise<IssuedCa> {
    requireName(o.commonName, "commonName");
    if (o.country !== undefined && !/^[A-Z]{2}$/.test(o.country)) {
        throw new InputError("country", `must be a two-letter ISO 3166 code in upper case, e.g. "DE", got ${JSON.stringify(o.country)}`);
    }
    for (const k of ["organization", "organizationalUnit"] as const) {
        if (o[k] !== undefined) {
            requireName(o[k], k);
        }
    }
    const alg = algorithmParams(o.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
    const { notBefore, notAfter } = validity(o.validityDays ?? DEFAULT_CA_VALIDITY_DAYS, "validityDays");
    const keys = (await crypto.webcrypto.subtle.generateKey(alg.generate, true, ["sign", "verify"])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: randomSerial(),
        name: caSubject(o),
        notBefore,
        notAfter,
        keys,
        signingAlgorithm: alg.sign,
        extensions: [
            new x509.BasicConstraintsExtension(true, undefined, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
            await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        ],
    });
    const certPem = pemOf(cert);
    const info = describeCertificate(certPem);
    return {
        certPem,
        keyPem: keyToPem(keys.privateKey),
        fingerprintSha256: info.fingerprintSha256,
        serialNumber: info.serialNumber,
        notBefore: info.notBefore,
        notAfter: info.notAfter,
    };
}

/** The WebCrypto parameters to import and sign with an existing private key, from its type. */
function signingParamsOf(key: crypto.KeyObject): { importAlg: crypto.webcrypto.RsaHashedImportParams | crypto.webcrypto.EcKeyImportParams; sign: WebAlgorithm | EcdsaParams } {
    if (key.asymmetricKeyType === "rsa") {
        return { importAlg: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, sign: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as WebAlgorithm };
    }
    if (key.asymmetricKeyType === "ec") {
        const curve = key.asymmetricKeyDetails?.namedCurve;
        const map: Record<string, [string, string]> = {
            prime256v1: ["P-256", "SHA-256"],
            secp384r1: ["P-384", "SHA-384"],
            secp521r1: ["P-521", "SHA-512"],
        };
        const m = curve ? map[curve] : undefined;
        if (m) {
            return { importAlg: { name: "ECDSA", namedCurve: m[0] }, sign: { name: "ECDSA", hash: m[1] } as EcdsaParams };
        }
        throw new Error(`unsupported EC curve ${curve ?? "(unknown)"}: use P-256, P-384 or P-521`);
    }
    throw new Error(`unsupported key type ${key.asymmetricKeyType ?? "(unknown)"}: use an RSA or EC (P-256/P-384/P-521) key`);
}

/**
 * Issues a node (transport) certificate signed by `ca`: CA:false, key usage digitalSignature
 * (+ keyEncipherment for RSA keys), extended key usage serverAuth + clientAuth (transport TLS is
 * mutual), SANs exactly as given, authority key identifier = the CA's subject key identifier,
 * issuer = the CA's subject. Throws {@link InputError} for bad options or a bad CA pair.
 */
export async function issueNodeCertificate(ca: { certPem: string; keyPem: string }, o: NodeCertOptions): Promise<IssuedNodeCert> {
    const signer = await preparedCa(ca.certPem, ca.keyPem);
    requireName(o.commonName, "commonName");
    const dnsNames = o.dnsNames ?? [];
    const ipAddresses = o.ipAddresses ?? [];
    if (dnsNames.length === 0 && ipAddresses.length === 0) {
        throw new InputError("dnsNames", "give at least one DNS name or IP address (dnsNames / ipAddresses): nodes verify each other's certificates against them");
    }
    dnsNames.forEach((n, i) => {
        const p = dnsNameProblem(n);
        if (p) {
            throw new InputError(`dnsNames[${i}]`, p);
        }
    });
    const ips = ipAddresses.map((ip, i) => {
        const c = canonicalIp(ip);
        if (!c) {
            throw new InputError(`ipAddresses[${i}]`, `${JSON.stringify(ip)} is not an IPv4 or IPv6 address`);
        }
        return c;
    });
    const alg = algorithmParams(o.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
    const { notBefore, notAfter } = validity(o.validityDays ?? DEFAULT_NODE_VALIDITY_DAYS, "validityDays");

    const keys = (await crypto.webcrypto.subtle.generateKey(alg.generate, true, ["sign", "verify"])) as CryptoKeyPair;
    const sans: x509.JsonGeneralNames = [
        ...dnsNames.map((value) => ({ type: "dns" as const, value })),
        // Fully expanded IPv6: the library's own parser does not read embedded IPv4 tails.
        ...ips.map((value) => ({ type: "ip" as const, value: value.includes(":") ? expandIpv6(value) : value })),
    ];
    const serialNumber = randomSerial();
    const cert = await x509.X509CertificateGenerator.create({
        serialNumber,
        subject: [{ CN: [o.commonName] }],
        issuer: signer.subjectName,
        notBefore,
        notAfter,
        publicKey: keys.publicKey,
        signingKey: signer.signingKey,
        signingAlgorithm: signer.sign,
        extensions: [
            ...(alg.rsa ? LEAF_EXTENSIONS_RSA : LEAF_EXTENSIONS_EC),
            new x509.SubjectAlternativeNameExtension(sans, false),
            await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
            signer.aki,
        ],
    });
    // What describeCertificate would read back, known without parsing the certificate again: the
    // serial as written (randomSerial never has a leading zero), the dates as given (whole seconds),
    // the fingerprint of the DER just signed. tests/unit/provider/certs/pem.test.ts compares both.
    const der = Buffer.from(cert.rawData);
    return {
        certPem: derToPem(der),
        keyPem: keyToPem(keys.privateKey),
        caPem: signer.caPem,
        serialNumber: normalizeSerial(serialNumber),
        fingerprintSha256: fingerprintOf(der),
        notBefore: notBefore.toISOString(),
        notAfter: notAfter.toISOString(),
    };
}

/**
 * The extensions every node certificate of one key type shares (CA:false, key usage, serverAuth +
 * clientAuth), built once: an extension is its DER, which the generator copies into each certificate.
 */
const LEAF_EXTENSIONS_EC: readonly x509.Extension[] = leafExtensions(false);
const LEAF_EXTENSIONS_RSA: readonly x509.Extension[] = leafExtensions(true);

function leafExtensions(rsa: boolean): x509.Extension[] {
    const usages = rsa
        ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
        : x509.KeyUsageFlags.digitalSignature;
    return [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(usages, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
    ];
}

/** A CA made ready to sign: checked, its key imported, its subject and key identifier read. */
interface PreparedCa {
    subjectName: x509.Name;
    signingKey: CryptoKey;
    sign: WebAlgorithm | EcdsaParams;
    aki: x509.AuthorityKeyIdentifierExtension;
    caPem: string;
    /** End of the CA's validity, ms since the epoch (re-checked on every use). */
    validTo: number;
}

/**
 * CAs prepared in this process, by a hash of certificate + key (the key itself is never a map key).
 * Checking the pair, parsing the CA certificate and importing its key took about two thirds of
 * each certificate's time when done per certificate (bench/certs.ts; `node --cpu-prof`); a stack
 * of 100 NodeCertificates shares one CA. Bounded: a process sees a handful of CAs.
 */
const caCache = new Map<string, Promise<PreparedCa>>();
const CA_CACHE_MAX = 16;

async function preparedCa(certPem: string, keyPem: string): Promise<PreparedCa> {
    const key = typeof certPem === "string" && typeof keyPem === "string"
        ? crypto.createHash("sha256").update(certPem).update("\0").update(keyPem).digest("hex")
        : undefined;
    let entry = key ? caCache.get(key) : undefined;
    if (!entry) {
        entry = prepareCa(certPem, keyPem);
        if (key) {
            if (caCache.size >= CA_CACHE_MAX) {
                caCache.delete(caCache.keys().next().value as string);
            }
            caCache.set(key, entry);
            entry.catch(() => caCache.delete(key));
        }
    }
    const ca = await entry;
    if (ca.validTo <= Date.now()) {
        // Expired while cached: the same message as a fresh check gives.
        if (key) caCache.delete(key);
        throw new InputError("ca", checkCaPair(certPem, keyPem) ?? `the CA certificate expired on ${new Date(ca.validTo).toISOString()}; renew or replace the CA`);
    }
    return ca;
}

async function prepareCa(certPem: string, keyPem: string): Promise<PreparedCa> {
    const problem = checkCaPair(certPem, keyPem);
    if (problem) {
        throw new InputError("ca", problem);
    }
    const caCert = new x509.X509Certificate(certPem);
    const caKeyObject = crypto.createPrivateKey(keyPem);
    const caSigning = signingParamsOf(caKeyObject);
    const signingKey = await crypto.webcrypto.subtle.importKey(
        "pkcs8", caKeyObject.export({ type: "pkcs8", format: "der" }), caSigning.importAlg, false, ["sign"]);
    const caSki = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
    const aki = caSki
        ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId)
        : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey);
    return {
        subjectName: caCert.subjectName,
        signingKey,
        sign: caSigning.sign,
        aki,
        caPem: pemOf(caCert),
        validTo: caCert.notAfter.getTime(),
    };
}

/** @internal Forgets the prepared CAs (tests). */
export function clearCaCache(): void {
    caCache.clear();
}

/** PEM of a DER certificate: 64 columns, `\n` line ends, one final newline (what {@link pemOf} gives). */
function derToPem(der: Buffer): string {
    const b64 = der.toString("base64");
    const lines: string[] = [];
    for (let i = 0; i < b64.length; i += 64) {
        lines.push(b64.slice(i, i + 64));
    }
    return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

function expandIpv6(ip: string): string {
    const b = ipBytes(ip)!;
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) {
        groups.push(((b[i] << 8) | b[i + 1]).toString(16));
    }
    return groups.join(":");
}

/** True if `pem` contains a PEM certificate block. Never throws. */
export function isPemCertificate(pem: unknown): boolean {
    return typeof pem === "string" && /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(pem);
}

/**
 * Reads the facts we use from a PEM certificate (the first one if `pem` holds a chain). Throws if
 * `pem` is not a certificate.
 */
export function describeCertificate(pem: string): CertificateInfo {
    if (!isPemCertificate(pem)) {
        throw new Error("not a PEM certificate (expected -----BEGIN CERTIFICATE-----)");
    }
    const node = new crypto.X509Certificate(pem);
    const cert = new x509.X509Certificate(node.raw);
    const dnsNames: string[] = [];
    const ipAddresses: string[] = [];
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    for (const n of san?.names.items ?? []) {
        if (n.type === "dns") {
            dnsNames.push(n.value);
        } else if (n.type === "ip") {
            ipAddresses.push(canonicalIp(n.value) ?? n.value);
        }
    }
    return {
        serialNumber: normalizeSerial(node.serialNumber),
        fingerprintSha256: fingerprintOf(node.raw),
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
        subject: cert.subject,
        issuer: cert.issuer,
        isCa: node.ca,
        dnsNames,
        ipAddresses,
    };
}

/** The DER SubjectPublicKeyInfo of a private key, or `undefined` if `keyPem` is not a usable unencrypted private key. */
function spkiOfPrivateKey(keyPem: string): Buffer | undefined {
    try {
        return crypto.createPublicKey(crypto.createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
    } catch {
        return undefined;
    }
}

/** True if the private key `keyPem` belongs to the certificate `certPem` (same SPKI). Never throws. */
export function keyMatchesCertificate(certPem: string, keyPem: string): boolean {
    try {
        const spki = spkiOfPrivateKey(keyPem);
        const certSpki = new crypto.X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
        return spki !== undefined && spki.equals(certSpki);
    } catch {
        return false;
    }
}

/**
 * Checks that `certPem` + `keyPem` can sign node certificates. Returns `undefined` if they can,
 * else one sentence saying what is wrong and what to do: not PEM, not a CA (basic constraints or
 * key usage), expired, unsupported key type, or key does not match. Never throws; the reason never
 * contains key material.
 */
export function checkCaPair(certPem: string, keyPem: string): string | undefined {
    if (!isPemCertificate(certPem)) {
        return "the CA certificate is not PEM (expected -----BEGIN CERTIFICATE-----)";
    }
    // A combined key + certificate file is common. The certificate input is stored (and shown) in
    // plain text, and the parser behind issueNodeCertificate crashes on the key block.
    if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(certPem)) {
        return "the CA certificate PEM also holds a private key: give only the certificate (-----BEGIN CERTIFICATE-----); the key goes in the key input, which is kept secret";
    }
    let node: crypto.X509Certificate;
    try {
        node = new crypto.X509Certificate(certPem);
    } catch {
        return "the CA certificate is not a readable PEM certificate";
    }
    if (!node.ca) {
        return "the certificate is not a CA (basic constraints CA:false or missing, or key usage without keyCertSign); give a CA certificate, e.g. a SharedCa's certPem";
    }
    const ku = new x509.X509Certificate(node.raw).getExtension(x509.KeyUsagesExtension);
    if (ku && (ku.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
        return "the certificate is not a CA for signing certificates (key usage lacks keyCertSign)";
    }
    if (new Date(node.validTo).getTime() <= Date.now()) {
        return `the CA certificate expired on ${new Date(node.validTo).toISOString()}; renew or replace the CA`;
    }
    if (typeof keyPem !== "string" || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyPem)) {
        return "the CA key is not a PEM private key (expected -----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)";
    }
    if (/ENCRYPTED/.test(keyPem)) {
        return "the CA key is encrypted; give the unencrypted PEM key";
    }
    let key: crypto.KeyObject;
    try {
        key = crypto.createPrivateKey(keyPem);
    } catch {
        return "the CA key is not a readable PEM private key";
    }
    try {
        signingParamsOf(key);
    } catch (err) {
        return `the CA key cannot sign: ${(err as Error).message}`;
    }
    if (!keyMatchesCertificate(certPem, keyPem)) {
        return "the CA key does not match the CA certificate (their public keys differ); give the key the certificate was made for";
    }
    return undefined;
}
