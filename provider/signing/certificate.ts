/**
 * The signing certificate of strong identity (Elasticsearch 9.3+), pure: its subject DN as the
 * remote cluster matches it against a key's `certificate_identity`, its key type, its expiry.
 * Predicates never throw; {@link signingCertificateProblems} returns every problem at once.
 *
 * The remote takes the DN of the leaf certificate with Java's
 * `X509Certificate.getSubjectX500Principal().getName("RFC2253")` (CrossClusterAccessHeaders in
 * 9.5.4's x-pack-security): most specific attribute first, `,` between attributes without spaces,
 * `,+"\<>;` escaped with `\`, e.g. `CN=eu-signer,OU=search,O=Acme\, Inc,C=DE`.
 */
// x509's dependency-injection container needs the Reflect metadata API before it loads.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import * as crypto from "crypto";

/** RFC 2253 keywords Java prints by name (every other attribute type is printed as its OID). */
const RFC2253_KEYWORDS: Record<string, string> = {
    "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
    "2.5.4.11": "OU", "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
};

/** A value escaped as RFC 2253 (and Java's X500Principal) does. */
function escapeValue(v: string): string {
    let s = v.replace(/([,+"\\<>;])/g, "\\$1");
    if (s.startsWith("#") || s.startsWith(" ")) s = `\\${s}`;
    if (s.endsWith(" ") && s.length > 1) s = `${s.slice(0, -1)}\\ `;
    return s;
}

/**
 * The subject DN of `certPem` as the remote matches it (RFC 2253, most specific first), or
 * `undefined` when it is not a certificate or holds an attribute whose Java form this does not
 * reproduce (a type outside the RFC 2253 keywords, printed by Java as `<oid>=#<hex DER>`).
 */
export function subjectDnRfc2253(certPem: string): string | undefined {
    try {
        const cert = new x509.X509Certificate(new crypto.X509Certificate(certPem).raw);
        const rdns = cert.subjectName.toJSON();
        const parts: string[] = [];
        for (const rdn of [...rdns].reverse()) {
            const attrs: string[] = [];
            for (const [type, values] of Object.entries(rdn)) {
                const oid = /^\d+(\.\d+)+$/.test(type) ? type : cert.subjectName.getField(type).length ? oidOf(type) : undefined;
                const keyword = oid ? RFC2253_KEYWORDS[oid] : undefined;
                if (!keyword) return undefined;
                for (const value of values) attrs.push(`${keyword}=${escapeValue(value)}`);
            }
            parts.push(attrs.join("+"));
        }
        return parts.join(",");
    } catch {
        return undefined;
    }
}

const SHORT_NAMES: Record<string, string> = {
    CN: "2.5.4.3", C: "2.5.4.6", L: "2.5.4.7", ST: "2.5.4.8", O: "2.5.4.10", OU: "2.5.4.11",
    STREET: "2.5.4.9", DC: "0.9.2342.19200300.100.1.25", UID: "0.9.2342.19200300.100.1.1",
};

function oidOf(shortName: string): string | undefined {
    return SHORT_NAMES[shortName.toUpperCase()];
}

/**
 * Whether `dn` matches the key's `certificate_identity` the way the remote decides: a Java regular
 * expression matched against the whole DN (`Pattern.matches`). JavaScript's syntax is close enough
 * for DN patterns (anchors, classes, `.*`, escapes); a pattern JavaScript cannot compile is `false`.
 */
export function identityMatches(identity: string, dn: string): boolean {
    try {
        return new RegExp(`^(?:${identity})$`).test(dn);
    } catch {
        return false;
    }
}

/** Why `identity` is not a usable DN pattern, or `undefined`. */
export function identityPatternProblem(identity: unknown): string | undefined {
    if (typeof identity !== "string" || identity.trim() === "") {
        return "give a regular expression matched against the whole subject DN of the signing certificate, e.g. \"CN=eu-signer,O=Acme\"";
    }
    try {
        new RegExp(identity);
    } catch (e) {
        return `${JSON.stringify(identity)} is not a regular expression (${(e as Error).message})`;
    }
    return undefined;
}

/** The key types a signing key may have: Elasticsearch signs with RSA and EC keys only. */
export type SigningKeyType = "rsa" | "ec";

/** The key type of the certificate's public key when it can sign cross-cluster headers, else `undefined`. */
export function signingKeyType(certPem: string): SigningKeyType | undefined {
    try {
        const t = new crypto.X509Certificate(certPem).publicKey.asymmetricKeyType;
        return t === "rsa" || t === "ec" ? t : undefined;
    } catch {
        return undefined;
    }
}

/** Options of {@link signingCertificateProblems}. */
export interface SigningCheckOptions {
    /** The key's `certificate_identity`: the certificate's subject DN must match it. */
    certificateIdentity?: string;
    /** The certificate must stay valid at least this long from `now`. @default 7 days */
    minRemainingDays?: number;
    /** The time to check against. @default now */
    now?: Date;
}

/**
 * Everything that would make the remote refuse requests signed with `certPem` (a preview check,
 * nothing written): not a certificate, a key other than RSA or EC, not yet valid, expired or about
 * to, and a subject DN that does not match `certificateIdentity`. Each message says what was
 * found and what to do. Never throws.
 */
export function signingCertificateProblems(certPem: string, o: SigningCheckOptions = {}): string[] {
    let cert: crypto.X509Certificate;
    try {
        cert = new crypto.X509Certificate(certPem);
    } catch {
        return ["the signing certificate is not a PEM certificate (expected -----BEGIN CERTIFICATE-----)"];
    }
    const problems: string[] = [];
    const type = cert.publicKey.asymmetricKeyType;
    if (type !== "rsa" && type !== "ec") {
        problems.push(`the signing certificate's key is ${type ?? "of an unknown type"}; Elasticsearch signs cross-cluster requests with RSA or EC keys only: issue it with an RSA or EC key (e.g. keyAlgorithm "ecdsa-p256")`);
    }
    const now = o.now ?? new Date();
    const notBefore = new Date(cert.validFrom);
    const notAfter = new Date(cert.validTo);
    const minMs = (o.minRemainingDays ?? 7) * 86_400_000;
    if (notBefore.getTime() > now.getTime()) {
        problems.push(`the signing certificate is not valid before ${notBefore.toISOString()}: the remote refuses its signatures until then`);
    }
    if (notAfter.getTime() <= now.getTime()) {
        problems.push(`the signing certificate expired at ${notAfter.toISOString()}: the remote refuses its signatures; issue a new one`);
    } else if (notAfter.getTime() - now.getTime() < minMs) {
        problems.push(`the signing certificate expires at ${notAfter.toISOString()}, in less than ${o.minRemainingDays ?? 7} days: rotate it before then`);
    }
    if (o.certificateIdentity !== undefined) {
        const dn = subjectDnRfc2253(certPem);
        if (dn === undefined) {
            problems.push("the signing certificate's subject holds an attribute this check cannot print as Elasticsearch does (outside CN, C, L, ST, O, OU, STREET, DC, UID): its match against certificate_identity is unchecked");
        } else if (!identityMatches(o.certificateIdentity, dn)) {
            problems.push(`the signing certificate's subject DN ${JSON.stringify(dn)} does not match the key's certificate_identity ${JSON.stringify(o.certificateIdentity)} (matched against the whole DN): the remote would refuse every request; give the key a pattern that matches, or a certificate with that subject`);
        }
    }
    return problems;
}
