/**
 * The signing certificate's checks (pure): its subject DN in the RFC 2253 form the remote matches
 * (Java's X500Principal.getName("RFC2253"): most specific first, no spaces, escapes), the whole-DN
 * match of certificate_identity, RSA/EC only, validity and expiry. Certificates made with the
 * package's own certificate code; the Ed25519 one with Node's generator and @peculiar/x509.
 */
import "reflect-metadata";
import * as assert from "assert";
import * as crypto from "crypto";
import * as x509 from "@peculiar/x509";
import { generateCa, issueNodeCertificate } from "../../../../provider/certs/pem";
import {
    identityMatches, identityPatternProblem, signingCertificateProblems, signingKeyType, subjectDnRfc2253,
} from "../../../../provider/signing/certificate";

x509.cryptoProvider.set(crypto.webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

async function selfSigned(name: string, alg: "Ed25519" | "ECDSA", days = 30, startDays = -1): Promise<string> {
    const algorithm = alg === "Ed25519" ? { name: "Ed25519" } : { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const keys = (await crypto.webcrypto.subtle.generateKey(algorithm as any, true, ["sign", "verify"])) as crypto.webcrypto.CryptoKeyPair;
    const now = Date.now();
    const c = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: "01", name, keys: keys as any, signingAlgorithm: algorithm as any,
        notBefore: new Date(now + startDays * 86_400_000), notAfter: new Date(now + days * 86_400_000),
    });
    return c.toString("pem");
}

describe("signing certificate checks", () => {
    it("the subject DN in RFC 2253 form: most specific first, escapes as Java prints them", async () => {
        assert.strictEqual(subjectDnRfc2253(await selfSigned("C=DE, O=Acme, OU=search, CN=eu-signer", "ECDSA")), "CN=eu-signer,OU=search,O=Acme,C=DE");
        assert.strictEqual(subjectDnRfc2253(await selfSigned("O=Acme\\, Inc, CN=a\\+b", "ECDSA")), "CN=a\\+b,O=Acme\\, Inc");
        const ca = await generateCa({ commonName: "t-ca" });
        const leaf = await issueNodeCertificate(ca, { commonName: "signer-1", dnsNames: ["signer-1"] });
        assert.strictEqual(subjectDnRfc2253(leaf.certPem), "CN=signer-1");
        assert.strictEqual(subjectDnRfc2253("not a pem"), undefined);
        assert.strictEqual(subjectDnRfc2253(await selfSigned("E=a@b.c, CN=x", "ECDSA")), undefined, "emailAddress is printed by Java as an OID with hex: not reproduced");
    });

    it("certificate_identity matches the whole DN, as the remote does", () => {
        assert.strictEqual(identityMatches("CN=eu-signer,O=Acme", "CN=eu-signer,O=Acme"), true);
        assert.strictEqual(identityMatches("CN=eu-.*", "CN=eu-signer,O=Acme"), true);
        assert.strictEqual(identityMatches("CN=eu-signer", "CN=eu-signer,O=Acme"), false, "a prefix is not a match");
        assert.strictEqual(identityMatches("O=Acme", "CN=eu-signer,O=Acme"), false);
        assert.strictEqual(identityMatches("CN=(x", "CN=(x"), false, "a pattern that does not compile matches nothing");
    });

    it("a pattern problem names what is wrong; Elasticsearch's own refusal is 'Must be a valid regex'", () => {
        assert.strictEqual(identityPatternProblem("CN=.*"), undefined);
        assert.match(identityPatternProblem("CN=(x")!, /is not a regular expression/);
        assert.match(identityPatternProblem("")!, /give a regular expression/);
        assert.match(identityPatternProblem(3)!, /give a regular expression/);
    });

    it("key types: RSA and EC sign, Ed25519 does not", async () => {
        const ca = await generateCa({ commonName: "t-ca" });
        assert.strictEqual(signingKeyType((await issueNodeCertificate(ca, { commonName: "r", dnsNames: ["r"], keyAlgorithm: "rsa-2048" })).certPem), "rsa");
        assert.strictEqual(signingKeyType((await issueNodeCertificate(ca, { commonName: "e", dnsNames: ["e"] })).certPem), "ec");
        const ed = await selfSigned("CN=ed", "Ed25519");
        assert.strictEqual(signingKeyType(ed), undefined);
        assert.deepStrictEqual(signingCertificateProblems(ed).filter((p) => /RSA or EC/.test(p)).length, 1);
    });

    it("every problem at once: not yet valid, expired, about to expire, identity mismatch", async () => {
        const future = await selfSigned("CN=later", "ECDSA", 30, 2);
        assert.match(signingCertificateProblems(future).join("|"), /is not valid before/);
        const soon = await selfSigned("CN=soon", "ECDSA", 3);
        assert.deepStrictEqual(signingCertificateProblems(soon, { minRemainingDays: 2 }), []);
        assert.match(signingCertificateProblems(soon).join("|"), /in less than 7 days: rotate it/);
        const expired = signingCertificateProblems(soon, { now: new Date(Date.now() + 4 * 86_400_000) });
        assert.match(expired.join("|"), /expired at .*: the remote refuses/);
        const mismatch = signingCertificateProblems(soon, { certificateIdentity: "CN=other", minRemainingDays: 1 });
        assert.deepStrictEqual(mismatch, ["the signing certificate's subject DN \"CN=soon\" does not match the key's certificate_identity \"CN=other\" (matched against the whole DN): the remote would refuse every request; give the key a pattern that matches, or a certificate with that subject"]);
        assert.deepStrictEqual(signingCertificateProblems(soon, { certificateIdentity: "CN=so+n", minRemainingDays: 1 }), []);
        assert.deepStrictEqual(signingCertificateProblems("nope"), ["the signing certificate is not a PEM certificate (expected -----BEGIN CERTIFICATE-----)"]);
    });
});
