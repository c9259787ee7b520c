import "reflect-metadata";
import * as assert from "assert";
import * as childProcess from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as x509 from "@peculiar/x509";
import {
    BACKDATE_SECONDS, KEY_ALGORITHMS, KeyAlgorithm, IssuedCa, canonicalIp, checkCaPair, describeCertificate, dnsNameProblem,
    generateCa, issueNodeCertificate, keyMatchesCertificate, normalizeSerial,
} from "../../../../provider/certs/pem";
import { InputError } from "../../../../provider/core/errors";

const DAY_MS = 86400 * 1000;

let tmp: string;
function file(name: string, content: string): string {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, content);
    return p;
}
function openssl(args: string[]): string {
    return childProcess.execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
function opensslText(pem: string): string {
    return openssl(["x509", "-noout", "-text", "-in", file(`text-${crypto.randomUUID()}.pem`, pem)]);
}
/** Runs `openssl verify`; returns its stdout, or the error output if it failed. */
function opensslVerify(caPem: string, certPem: string, purpose?: string): string {
    const args = ["verify", "-CAfile", file(`ca-${crypto.randomUUID()}.pem`, caPem)];
    if (purpose) {
        args.push("-purpose", purpose);
    }
    args.push(file(`leaf-${crypto.randomUUID()}.pem`, certPem));
    try {
        return openssl(args).trim();
    } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        return `FAILED: ${e.stdout ?? ""}${e.stderr ?? ""}`;
    }
}
/** The lines of `openssl x509 -text` after an extension's header, up to the next header. */
function extensionText(text: string, header: string): { critical: boolean; body: string } | undefined {
    const lines = text.split("\n");
    const i = lines.findIndex((l) => l.trim().startsWith(header));
    if (i < 0) {
        return undefined;
    }
    const body: string[] = [];
    for (let j = i + 1; j < lines.length && !/^\s+(X509v3|Signature Algorithm|Authority Information)/.test(lines[j]); j++) {
        body.push(lines[j].trim());
    }
    return { critical: /critical/.test(lines[i]), body: body.join(" ").trim() };
}
function expectInputError(property: string, fragment: string): (err: unknown) => boolean {
    return (err: unknown) => {
        assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
        assert.strictEqual(err.property, property);
        assert.ok(err.message.includes(fragment), `"${err.message}" should contain "${fragment}"`);
        return true;
    };
}
function keyDetails(keyPem: string): { type: string; curve?: string; bits?: number } {
    const k = crypto.createPrivateKey(keyPem);
    const d = k.asymmetricKeyDetails ?? {};
    return k.asymmetricKeyType === "rsa" ? { type: "rsa", bits: d.modulusLength } : { type: k.asymmetricKeyType!, curve: d.namedCurve };
}
const EXPECTED_KEY: Record<KeyAlgorithm, { type: string; curve?: string; bits?: number }> = {
    "ecdsa-p256": { type: "ec", curve: "prime256v1" },
    "ecdsa-p384": { type: "ec", curve: "secp384r1" },
    "rsa-2048": { type: "rsa", bits: 2048 },
    "rsa-3072": { type: "rsa", bits: 3072 },
    "rsa-4096": { type: "rsa", bits: 4096 },
};
const EXPECTED_SIGNATURE: Record<KeyAlgorithm, string> = {
    "ecdsa-p256": "ecdsa-with-SHA256",
    "ecdsa-p384": "ecdsa-with-SHA384",
    "rsa-2048": "sha256WithRSAEncryption",
    "rsa-3072": "sha256WithRSAEncryption",
    "rsa-4096": "sha256WithRSAEncryption",
};

describe("provider/certs/pem", function () {
    this.timeout(120000);
    const cas = new Map<KeyAlgorithm, IssuedCa>();

    before(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "certs-test-"));
        for (const a of KEY_ALGORITHMS) {
            cas.set(a, await generateCa({ commonName: `test ca ${a}`, keyAlgorithm: a }));
        }
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    describe("generateCa", () => {
        for (const a of KEY_ALGORITHMS) {
            it(`makes a self-signed CA with a ${a} key`, () => {
                const ca = cas.get(a)!;
                const cert = new crypto.X509Certificate(ca.certPem);
                assert.strictEqual(cert.ca, true);
                assert.ok(cert.checkIssued(cert), "self-issued");
                assert.ok(cert.verify(cert.publicKey), "self-signed");
                assert.deepStrictEqual(keyDetails(ca.keyPem), EXPECTED_KEY[a]);
                assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
                assert.ok(keyMatchesCertificate(ca.certPem, ca.keyPem));
                assert.strictEqual(checkCaPair(ca.certPem, ca.keyPem), undefined);

                const text = opensslText(ca.certPem);
                assert.ok(text.includes(`Signature Algorithm: ${EXPECTED_SIGNATURE[a]}`), text);
                assert.deepStrictEqual(extensionText(text, "X509v3 Basic Constraints"), { critical: true, body: "CA:TRUE" });
                assert.deepStrictEqual(extensionText(text, "X509v3 Key Usage"), { critical: true, body: "Certificate Sign, CRL Sign" });
                assert.ok(extensionText(text, "X509v3 Subject Key Identifier"), "has a subject key identifier");
                assert.strictEqual(opensslVerify(ca.certPem, ca.certPem).endsWith(": OK"), true);
            });
        }

        it("reports fingerprint, serial and validity as the certificate says", () => {
            const ca = cas.get("ecdsa-p256")!;
            const cert = new crypto.X509Certificate(ca.certPem);
            assert.strictEqual(ca.fingerprintSha256, cert.fingerprint256);
            assert.match(ca.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
            assert.strictEqual(ca.serialNumber, cert.serialNumber.toLowerCase().replace(/^0+/, ""));
            assert.strictEqual(ca.notBefore, new Date(cert.validFrom).toISOString());
            assert.strictEqual(ca.notAfter, new Date(cert.validTo).toISOString());
        });

        it("uses 16-byte positive random serial numbers", () => {
            const serials = [...cas.values()].map((c) => c.serialNumber);
            for (const s of serials) {
                assert.match(s, /^[4-7][0-9a-f]{31}$/, "16 bytes, top bit clear, no leading zero byte");
            }
            assert.strictEqual(new Set(serials).size, serials.length);
            const der = openssl(["x509", "-noout", "-serial", "-in", file("serial.pem", cas.get("rsa-2048")!.certPem)]);
            assert.strictEqual(der.trim(), `serial=${cas.get("rsa-2048")!.serialNumber.toUpperCase()}`);
        });

        it("lasts 1095 days by default, backdated a little for clock skew", () => {
            const ca = cas.get("ecdsa-p256")!;
            assert.strictEqual(Date.parse(ca.notAfter) - Date.parse(ca.notBefore), 1095 * DAY_MS);
            const ageMs = Date.now() - Date.parse(ca.notBefore);
            assert.ok(ageMs >= (BACKDATE_SECONDS - 1) * 1000, `notBefore ${ca.notBefore} is backdated`);
        });

        it("lasts exactly validityDays and carries the subject fields asked for", async () => {
            const ca = await generateCa({ commonName: "Acme CA", organization: "Acme, Inc.", organizationalUnit: "Search", country: "DE", validityDays: 10 });
            assert.strictEqual(Date.parse(ca.notAfter) - Date.parse(ca.notBefore), 10 * DAY_MS);
            const cert = new crypto.X509Certificate(ca.certPem);
            assert.strictEqual(cert.subject, "C=DE\nO=Acme\\, Inc.\nOU=Search\nCN=Acme CA");
            assert.strictEqual(cert.issuer, cert.subject);
            assert.deepStrictEqual(keyDetails(ca.keyPem), EXPECTED_KEY["ecdsa-p256"]);
        });

        it("rejects bad options naming the option", async () => {
            await assert.rejects(generateCa({ commonName: "" }), expectInputError("commonName", "non-empty"));
            await assert.rejects(generateCa({ commonName: "x", country: "de" }), expectInputError("country", "two-letter"));
            await assert.rejects(generateCa({ commonName: "x", validityDays: 0 }), expectInputError("validityDays", "> 0"));
            await assert.rejects(generateCa({ commonName: "x", validityDays: -5 }), expectInputError("validityDays", "> 0"));
            await assert.rejects(generateCa({ commonName: "x", keyAlgorithm: "dsa-1024" as KeyAlgorithm }), expectInputError("keyAlgorithm", "unknown key algorithm"));
        });
    });

    describe("issueNodeCertificate", () => {
        const sans = { dnsNames: ["localhost", "es-node-1.example.internal", "*.es.example.com"], ipAddresses: ["127.0.0.1", "10.1.2.3", "::1", "2001:db8::42"] };

        function assertNodeCert(caPem: string, certPem: string, keyPem: string, nodeAlg: KeyAlgorithm, caAlg: KeyAlgorithm) {
            const ca = new crypto.X509Certificate(caPem);
            const cert = new crypto.X509Certificate(certPem);
            assert.strictEqual(cert.ca, false);
            assert.ok(cert.checkIssued(ca), "issued by the CA");
            assert.ok(cert.verify(ca.publicKey), "signed by the CA's key");
            assert.strictEqual(cert.issuer, ca.subject);
            assert.deepStrictEqual([...(cert.keyUsage ?? [])].sort(), ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
            assert.deepStrictEqual(keyDetails(keyPem), EXPECTED_KEY[nodeAlg]);
            assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
            assert.ok(keyMatchesCertificate(certPem, keyPem));

            const text = opensslText(certPem);
            assert.ok(text.includes(`Signature Algorithm: ${EXPECTED_SIGNATURE[caAlg]}`), `signed with the CA's algorithm:\n${text}`);
            assert.deepStrictEqual(extensionText(text, "X509v3 Basic Constraints"), { critical: true, body: "CA:FALSE" });
            assert.deepStrictEqual(extensionText(text, "X509v3 Key Usage"), {
                critical: true,
                body: nodeAlg.startsWith("rsa") ? "Digital Signature, Key Encipherment" : "Digital Signature",
            });
            assert.strictEqual(extensionText(text, "X509v3 Extended Key Usage")?.body, "TLS Web Server Authentication, TLS Web Client Authentication");
            const caSki = extensionText(opensslText(caPem), "X509v3 Subject Key Identifier")!.body;
            assert.strictEqual(extensionText(text, "X509v3 Authority Key Identifier")?.body.replace(/^keyid:/, ""), caSki);

            assert.match(opensslVerify(caPem, certPem), /: OK$/);
            assert.match(opensslVerify(caPem, certPem, "sslserver"), /: OK$/);
            assert.match(opensslVerify(caPem, certPem, "sslclient"), /: OK$/);
        }

        for (const a of KEY_ALGORITHMS) {
            it(`issues a ${a} node certificate from an ecdsa-p256 CA`, async () => {
                const ca = cas.get("ecdsa-p256")!;
                const n = await issueNodeCertificate(ca, { commonName: "node-1", dnsNames: ["localhost"], keyAlgorithm: a });
                assertNodeCert(ca.certPem, n.certPem, n.keyPem, a, "ecdsa-p256");
                assert.strictEqual(n.caPem, ca.certPem);
            });
            it(`issues an ecdsa-p256 node certificate from a ${a} CA`, async () => {
                const ca = cas.get(a)!;
                const n = await issueNodeCertificate(ca, { commonName: "node-1", ipAddresses: ["127.0.0.1"] });
                assertNodeCert(ca.certPem, n.certPem, n.keyPem, "ecdsa-p256", a);
            });
        }

        it("puts exactly the SANs asked for, no more", async () => {
            const n = await issueNodeCertificate(cas.get("ecdsa-p384")!, { commonName: "node-1", ...sans });
            const cert = new crypto.X509Certificate(n.certPem);
            for (const d of ["localhost", "es-node-1.example.internal", "anything.es.example.com"]) {
                assert.ok(cert.checkHost(d), `matches ${d}`);
            }
            for (const d of ["node-1", "example.internal", "a.b.es.example.com", "127.0.0.1"]) {
                assert.strictEqual(cert.checkHost(d), undefined, `does not match ${d}`);
            }
            for (const ip of sans.ipAddresses) {
                assert.strictEqual(cert.checkIP(ip), ip);
            }
            assert.strictEqual(cert.checkIP("127.0.0.2"), undefined);
            assert.strictEqual(cert.checkIP("10.1.2.4"), undefined);
            assert.strictEqual(
                extensionText(opensslText(n.certPem), "X509v3 Subject Alternative Name")?.body,
                "DNS:localhost, DNS:es-node-1.example.internal, DNS:*.es.example.com, IP Address:127.0.0.1, IP Address:10.1.2.3, IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:0:0:42");
            const info = describeCertificate(n.certPem);
            assert.deepStrictEqual(info.dnsNames, sans.dnsNames);
            assert.deepStrictEqual(info.ipAddresses, sans.ipAddresses);
            assert.strictEqual(info.subject, "CN=node-1");
            assert.strictEqual(info.issuer, "CN=test ca ecdsa-p384");
            assert.strictEqual(info.isCa, false);
        });

        it("writes IPv4-mapped IPv6 addresses as 16-byte IP SANs", async () => {
            const n = await issueNodeCertificate(cas.get("ecdsa-p256")!, { commonName: "n", ipAddresses: ["::ffff:10.0.0.1"] });
            assert.strictEqual(extensionText(opensslText(n.certPem), "X509v3 Subject Alternative Name")?.body, "IP Address:0:0:0:0:0:FFFF:A00:1");
            assert.deepStrictEqual(describeCertificate(n.certPem).ipAddresses, ["::ffff:a00:1"]);
        });

        it("lasts 365 days by default and exactly validityDays when given", async () => {
            const ca = cas.get("ecdsa-p256")!;
            const d = await issueNodeCertificate(ca, { commonName: "n", dnsNames: ["n"] });
            assert.strictEqual(Date.parse(d.notAfter) - Date.parse(d.notBefore), 365 * DAY_MS);
            const w = await issueNodeCertificate(ca, { commonName: "n", dnsNames: ["n"], validityDays: 7 });
            assert.strictEqual(Date.parse(w.notAfter) - Date.parse(w.notBefore), 7 * DAY_MS);
            const cert = new crypto.X509Certificate(w.certPem);
            assert.strictEqual(new Date(cert.validTo).toISOString(), w.notAfter);
            assert.strictEqual(new Date(cert.validFrom).toISOString(), w.notBefore);
            assert.strictEqual(w.fingerprintSha256, cert.fingerprint256);
            assert.strictEqual(w.serialNumber, cert.serialNumber.toLowerCase());
        });

        it("gives every certificate a new key and serial", async () => {
            const ca = cas.get("ecdsa-p256")!;
            const a = await issueNodeCertificate(ca, { commonName: "n", dnsNames: ["n"] });
            const b = await issueNodeCertificate(ca, { commonName: "n", dnsNames: ["n"] });
            assert.notStrictEqual(a.serialNumber, b.serialNumber);
            assert.notStrictEqual(a.keyPem, b.keyPem);
            assert.ok(!keyMatchesCertificate(a.certPem, b.keyPem));
        });

        it("reports serial, fingerprint, dates and PEM exactly as the certificate itself says", async () => {
            // issueNodeCertificate no longer parses what it just signed: its figures must still be
            // the certificate's own, and its PEM the library's encoding.
            for (const a of ["ecdsa-p256", "rsa-2048"] as KeyAlgorithm[]) {
                const n = await issueNodeCertificate(cas.get(a)!, { commonName: "n", dnsNames: ["n.example"], ipAddresses: ["10.1.2.3", "::ffff:10.0.0.1"], keyAlgorithm: a, validityDays: 30.5 });
                const info = describeCertificate(n.certPem);
                assert.deepStrictEqual(
                    { serialNumber: n.serialNumber, fingerprintSha256: n.fingerprintSha256, notBefore: n.notBefore, notAfter: n.notAfter },
                    { serialNumber: info.serialNumber, fingerprintSha256: info.fingerprintSha256, notBefore: info.notBefore, notAfter: info.notAfter });
                const lib = new x509.X509Certificate(n.certPem).toString("pem").replace(/\r\n/g, "\n").trimEnd() + "\n";
                assert.strictEqual(n.certPem, lib);
                assert.strictEqual(n.caPem, cas.get(a)!.certPem);
                assert.ok(new crypto.X509Certificate(n.certPem).verify(new crypto.X509Certificate(cas.get(a)!.certPem).publicKey));
            }
        });

        it("signs with the CA it is given, also after another CA was used (prepared CAs are kept per pair)", async () => {
            const one = cas.get("ecdsa-p256")!;
            const two = await generateCa({ commonName: "second ca" });
            const sameName = await generateCa({ commonName: "test ca ecdsa-p256" });
            for (const ca of [one, two, sameName, one, sameName]) {
                const n = await issueNodeCertificate(ca, { commonName: "n", dnsNames: ["n"] });
                const caCert = new crypto.X509Certificate(ca.certPem);
                assert.ok(new crypto.X509Certificate(n.certPem).verify(caCert.publicKey), "signed by the CA given");
                assert.strictEqual(n.caPem, ca.certPem);
            }
            // A good pair prepared before does not make a bad pair with the same certificate pass.
            await assert.rejects(issueNodeCertificate({ certPem: one.certPem, keyPem: two.keyPem }, { commonName: "n", dnsNames: ["n"] }),
                expectInputError("ca", "does not match"));
            // 20 at once from a CA not seen before: one preparation shared, every one valid.
            const three = await generateCa({ commonName: "third ca" });
            const all = await Promise.all(Array.from({ length: 20 }, (_, i) => issueNodeCertificate(three, { commonName: `n${i}`, dnsNames: [`n${i}`] })));
            const threeKey = new crypto.X509Certificate(three.certPem).publicKey;
            assert.ok(all.every((n) => new crypto.X509Certificate(n.certPem).verify(threeKey)));
            assert.strictEqual(new Set(all.map((n) => n.serialNumber)).size, 20);
        });

        it("rejects bad options naming the option", async () => {
            const ca = cas.get("ecdsa-p256")!;
            await assert.rejects(issueNodeCertificate(ca, { commonName: "n" }), expectInputError("dnsNames", "at least one DNS name or IP address"));
            await assert.rejects(issueNodeCertificate(ca, { commonName: "n", dnsNames: [], ipAddresses: [] }), expectInputError("dnsNames", "at least one"));
            await assert.rejects(issueNodeCertificate(ca, { commonName: "n", ipAddresses: ["10.0.0.1", "10.0.0.256"] }),
                expectInputError("ipAddresses[1]", "not an IPv4 or IPv6 address"));
            await assert.rejects(issueNodeCertificate(ca, { commonName: "n", ipAddresses: ["fe80::1%eth0"] }), expectInputError("ipAddresses[0]", "not an IPv4"));
            await assert.rejects(issueNodeCertificate(ca, { commonName: "n", dnsNames: ["10.0.0.1"] }), expectInputError("dnsNames[0]", "put it in ipAddresses"));
            await assert.rejects(issueNodeCertificate(ca, { commonName: "n", dnsNames: ["ok", "no spaces"] }), expectInputError("dnsNames[1]", "not a valid DNS name"));
            await assert.rejects(issueNodeCertificate(ca, { commonName: "", dnsNames: ["n"] }), expectInputError("commonName", "non-empty"));
            await assert.rejects(issueNodeCertificate(ca, { commonName: "n", dnsNames: ["n"], validityDays: 0 }), expectInputError("validityDays", "> 0"));
            await assert.rejects(issueNodeCertificate(ca, { commonName: "n", dnsNames: ["n"], keyAlgorithm: "ed25519" as KeyAlgorithm }),
                expectInputError("keyAlgorithm", "use one of ecdsa-p256"));
            const leaf = await issueNodeCertificate(ca, { commonName: "n", dnsNames: ["n"] });
            await assert.rejects(issueNodeCertificate({ certPem: leaf.certPem, keyPem: leaf.keyPem }, { commonName: "n", dnsNames: ["n"] }),
                expectInputError("ca", "not a CA"));
            await assert.rejects(issueNodeCertificate({ certPem: ca.certPem, keyPem: cas.get("ecdsa-p384")!.keyPem }, { commonName: "n", dnsNames: ["n"] }),
                expectInputError("ca", "does not match"));
        });
    });

    describe("adopting a CA made by openssl", () => {
        function opensslCa(keyArgs: string[], extra: string[] = []): { certPem: string; keyPem: string } {
            const id = crypto.randomUUID();
            const keyFile = path.join(tmp, `${id}.key`);
            const certFile = path.join(tmp, `${id}.crt`);
            // `genrsa` wants the bit count last.
            openssl([...keyArgs.slice(0, 1), "-out", keyFile, ...keyArgs.slice(1)]);
            openssl(["req", "-x509", "-key", keyFile, "-out", certFile, "-days", "30", "-subj", "/O=Ops/CN=openssl ca", ...extra]);
            return { certPem: fs.readFileSync(certFile, "utf8"), keyPem: fs.readFileSync(keyFile, "utf8") };
        }
        const kinds: Array<[string, string[], RegExp]> = [
            ["RSA, PKCS#1 key", ["genrsa", "-traditional", "2048"], /BEGIN RSA PRIVATE KEY/],
            ["RSA, PKCS#8 key", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], /BEGIN PRIVATE KEY/],
            ["EC P-256, SEC1 key", ["ecparam", "-genkey", "-name", "prime256v1", "-noout"], /BEGIN EC PRIVATE KEY/],
            ["EC P-384, PKCS#8 key", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"], /BEGIN PRIVATE KEY/],
            ["EC P-521, PKCS#8 key", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"], /BEGIN PRIVATE KEY/],
        ];
        for (const [label, keyArgs, header] of kinds) {
            it(`accepts and signs with an openssl CA (${label})`, async () => {
                const ca = opensslCa(keyArgs);
                assert.match(ca.keyPem, header);
                assert.strictEqual(checkCaPair(ca.certPem, ca.keyPem), undefined);
                const n = await issueNodeCertificate(ca, { commonName: "node-1", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
                assert.match(opensslVerify(ca.certPem, n.certPem, "sslserver"), /: OK$/);
                const cert = new crypto.X509Certificate(n.certPem);
                const caCert = new crypto.X509Certificate(ca.certPem);
                assert.ok(cert.checkIssued(caCert));
                assert.strictEqual(cert.issuer, caCert.subject);
            });
        }

        it("uses the CA's own subject key identifier as the authority key identifier", async () => {
            const ca = opensslCa(["ecparam", "-genkey", "-name", "prime256v1", "-noout"], [
                "-addext", "subjectKeyIdentifier=0102030405060708", "-addext", "authorityKeyIdentifier=keyid:always"]);
            assert.strictEqual(extensionText(opensslText(ca.certPem), "X509v3 Subject Key Identifier")?.body, "01:02:03:04:05:06:07:08");
            const n = await issueNodeCertificate(ca, { commonName: "node-1", dnsNames: ["localhost"] });
            assert.strictEqual(extensionText(opensslText(n.certPem), "X509v3 Authority Key Identifier")?.body.replace(/^keyid:/, ""), "01:02:03:04:05:06:07:08");
            assert.match(opensslVerify(ca.certPem, n.certPem), /: OK$/);
        });
    });

    describe("checkCaPair", () => {
        it("names what is wrong", async () => {
            const ca = cas.get("ecdsa-p256")!;
            const leaf = await issueNodeCertificate(ca, { commonName: "n", dnsNames: ["n"] });
            assert.match(checkCaPair("not a certificate", ca.keyPem)!, /not PEM/);
            assert.match(checkCaPair(ca.certPem.replace(/[A-Za-z]{4}\n/, "!!!!\n"), ca.keyPem)!, /not a readable PEM certificate/);
            assert.match(checkCaPair(leaf.certPem, leaf.keyPem)!, /not a CA/);
            assert.match(checkCaPair(ca.certPem, cas.get("rsa-2048")!.keyPem)!, /key does not match/);
            assert.match(checkCaPair(ca.certPem, "nope")!, /not a PEM private key/);
            assert.match(checkCaPair(ca.certPem, ca.certPem)!, /not a PEM private key/);
        });

        it("rejects an openssl certificate with CA:FALSE or without keyCertSign", () => {
            const keyFile = path.join(tmp, "plain.key");
            openssl(["ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", keyFile]);
            const keyPem = fs.readFileSync(keyFile, "utf8");
            const make = (name: string, ...ext: string[]) => {
                const out = path.join(tmp, name);
                openssl(["req", "-x509", "-key", keyFile, "-out", out, "-days", "3", "-subj", "/CN=x", ...ext.flatMap((e) => ["-addext", e])]);
                return fs.readFileSync(out, "utf8");
            };
            assert.match(checkCaPair(make("leaf.crt", "basicConstraints=critical,CA:FALSE"), keyPem)!, /not a CA/);
            assert.match(checkCaPair(make("nosign.crt", "basicConstraints=critical,CA:TRUE", "keyUsage=critical,digitalSignature"), keyPem)!, /keyCertSign/);
        });

        it("rejects an expired CA", async () => {
            const keys = (await crypto.webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as crypto.webcrypto.CryptoKeyPair;
            const cert = await x509.X509CertificateGenerator.createSelfSigned({
                name: "CN=old ca",
                notBefore: new Date(Date.now() - 10 * DAY_MS),
                notAfter: new Date(Date.now() - DAY_MS),
                keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]["keys"],
                signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
                extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
            });
            const keyPem = crypto.KeyObject.from(keys.privateKey).export({ type: "pkcs8", format: "pem" }).toString();
            assert.match(checkCaPair(cert.toString("pem"), keyPem)!, /expired on/);
        });

        it("rejects encrypted and unsupported keys without echoing them", () => {
            const enc = path.join(tmp, "enc.key");
            openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:secret", "-out", enc]);
            const ed = path.join(tmp, "ed.key");
            const edCrt = path.join(tmp, "ed.crt");
            openssl(["genpkey", "-algorithm", "ED25519", "-out", ed]);
            openssl(["req", "-x509", "-key", ed, "-out", edCrt, "-days", "3", "-subj", "/CN=ed ca"]);
            const ca = cas.get("ecdsa-p256")!;
            const encPem = fs.readFileSync(enc, "utf8");
            const encReason = checkCaPair(ca.certPem, encPem)!;
            assert.match(encReason, /encrypted/);
            const edReason = checkCaPair(fs.readFileSync(edCrt, "utf8"), fs.readFileSync(ed, "utf8"))!;
            assert.match(edReason, /cannot sign: unsupported key type ed25519/);
            for (const r of [encReason, edReason, checkCaPair(ca.certPem, cas.get("rsa-2048")!.keyPem)!]) {
                assert.ok(!/MII|BEGIN/.test(r), `reason must not contain key material: ${r}`);
            }
        });
    });

    describe("helpers", () => {
        it("canonicalIp", () => {
            const table: Array<[unknown, string | undefined]> = [
                ["10.0.0.1", "10.0.0.1"],
                ["2001:DB8::1", "2001:db8::1"],
                ["2001:db8:0:0:0:0:0:1", "2001:db8::1"],
                ["1:0:0:1:0:0:0:1", "1:0:0:1::1"],
                ["1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"],
                ["::", "::"],
                ["::ffff:10.0.0.1", "::ffff:a00:1"],
                ["fe80::1%eth0", undefined],
                ["10.0.0.256", undefined],
                ["10.0.0.1/24", undefined],
                ["localhost", undefined],
                ["", undefined],
                [42, undefined],
            ];
            for (const [input, expected] of table) {
                assert.strictEqual(canonicalIp(input), expected, `canonicalIp(${JSON.stringify(input)})`);
            }
        });

        it("dnsNameProblem", () => {
            for (const ok of ["localhost", "es-1.example.com", "*.example.com", "node_1.internal", "fqdn.example."]) {
                assert.strictEqual(dnsNameProblem(ok), undefined, ok);
            }
            for (const bad of ["", "a b", "*.*.example.com", "ex*.com", "-lead.example", "::1", "10.0.0.1"]) {
                assert.ok(dnsNameProblem(bad), bad);
            }
        });

        it("normalizeSerial matches Elasticsearch's BigInteger.toString(16)", () => {
            assert.strictEqual(normalizeSerial("00:AB:0C"), "ab0c");
            assert.strictEqual(normalizeSerial("0000"), "0");
            assert.strictEqual(normalizeSerial("7F01"), "7f01");
        });

        it("describeCertificate refuses what is not a certificate", () => {
            assert.throws(() => describeCertificate("hello"), /not a PEM certificate/);
            assert.throws(() => describeCertificate(cas.get("ecdsa-p256")!.keyPem), /not a PEM certificate/);
        });
    });
});
