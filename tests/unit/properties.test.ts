/**
 * Property-based tests (fast-check) of the inputs tests/unit/provider/settings.test.ts does not
 * cover: connections (URLs, credentials, fingerprints, timeouts, retries, the insecure flag), PEM
 * input (certificates and keys, mangled in every way a copy-paste can), node certificate SANs, and
 * the checks of every resource given anything at all. The settings of a link (aliases, seeds,
 * durations, server names) are settings.test.ts's.
 *
 * The properties: a check never throws, whatever it is given; valid input never fails; each kind
 * of invalid input always fails naming its property; no secret is ever echoed in a reason.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fc from "fast-check";
import { generateCa, IssuedCa, issueNodeCertificate } from "../../provider/certs/pem";
import { insecureWarnings, MAX_RETRIES_LIMIT, redactUrl, validateConnection } from "../../provider/core/client";
import * as nodeCertificate from "../../provider/nodeCertificate";
import * as link from "../../provider/remoteClusterLink";
import * as crossClusterApiKey from "../../provider/crossClusterApiKey";
import * as sharedCa from "../../provider/sharedCa";

const nc = nodeCertificate as unknown as { check(o: unknown, n: unknown): Promise<{ failures?: Array<{ property: string; reason: string }> }> };
const lk = link as unknown as { check(o: unknown, n: unknown): Promise<{ failures?: Array<{ property: string; reason: string }> }> };
const ak = crossClusterApiKey as unknown as { check(o: unknown, n: unknown): Promise<{ failures?: Array<{ property: string; reason: string }> }> };
const sc = sharedCa as unknown as { check(o: unknown, n: unknown): Promise<{ failures?: Array<{ property: string; reason: string }> }> };

// ---------------------------------------------------------------------------- generators

const hostArb = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((h) => `[${h}]`));
const urlArb = (scheme: fc.Arbitrary<string>) => fc.tuple(scheme, hostArb, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), fc.constantFrom("", "/", "/es", "/es/"))
    .map(([s, h, p, path]) => `${s}://${h}${p === undefined ? "" : `:${p}`}${path}`);
const httpsUrlArb = urlArb(fc.constant("https"));
/** https or plain http: both are valid connections (plain http only warns). */
const anyHttpUrlArb = urlArb(fc.constantFrom("https", "http"));
const secretArb = fc.string({ minLength: 6, maxLength: 30, unit: "grapheme-ascii" }).filter((s) => /^[A-Za-z0-9]+$/.test(s) && s.length >= 6).map((s) => `S3cr3t${s}`);
const fingerprintArb = fc.tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), fc.boolean()).map(([b, colons, upper]) => {
    const hex = Buffer.from(b).toString("hex");
    const s = colons ? hex.match(/../g)!.join(":") : hex;
    return upper ? s.toUpperCase() : s;
});

/** What a copy-paste does to a PEM. Each returns a string that must not be taken for the original. */
const PEM_MANGLERS: Array<[string, (pem: string, at: number) => string]> = [
    ["truncated", (pem, at) => pem.slice(0, Math.max(1, at % (pem.length - 30)))],
    ["a base64 character replaced by one outside the alphabet", (pem, at) => {
        const body = pem.indexOf("\n") + 1 + (at % 40);
        return pem.slice(0, body) + "!" + pem.slice(body + 1);
    }],
    ["the END line removed", (pem) => pem.replace(/-----END [A-Z ]+-----\s*$/, "")],
    ["the BEGIN line removed", (pem) => pem.replace(/^-----BEGIN [A-Z ]+-----\n/, "")],
    ["the armour only", (pem) => pem.replace(/\n[A-Za-z0-9+/=\n]+\n/, "\n")],
];

/** A reason a user can act on: words, not an exception's text. */
function assertReason(reason: unknown): void {
    assert.ok(typeof reason === "string" && reason.trim().length > 0, `a failure without a reason: ${JSON.stringify(reason)}`);
    assert.ok(!/TypeError|Cannot read propert|is not a function|\[object Object\]/.test(reason), `an exception's text as the reason: ${reason}`);
}

/** Asserts every failure names one of `inputs` (or a path under one) and gives a reason. */
function assertNamesOwnInputs(failures: Array<{ property: string; reason: string }> | undefined, inputs: string[]): void {
    for (const f of failures ?? []) {
        assert.ok(inputs.includes(f.property.split(/[.[]/)[0]), `a failure names "${f.property}", not one of the inputs ${inputs.join(", ")}`);
        assertReason(f.reason);
    }
}

describe("properties: connections", () => {
    let caPem: string;
    before(async () => {
        caPem = (await generateCa({ commonName: "props HTTP CA" })).certPem;
    });

    const validConnArb = (url: fc.Arbitrary<string> = httpsUrlArb) => fc.record({
        urls: fc.array(url, { minLength: 1, maxLength: 4 }),
        auth: fc.oneof(
            fc.record({ username: fc.constantFrom("elastic", "svc_pulumi", "a"), password: secretArb }),
            fc.record({ apiKey: secretArb }),
            fc.constant({}),
        ),
        tls: fc.oneof(fc.constant({ caPem }), fingerprintArb.map((caFingerprint) => ({ caFingerprint })), fc.constant({})),
        insecure: fc.option(fc.boolean(), { nil: undefined }),
        requestTimeoutSeconds: fc.option(fc.double({ min: 0.001, max: 3600, noNaN: true }), { nil: undefined }),
        maxRetries: fc.option(fc.integer({ min: 0, max: MAX_RETRIES_LIMIT }), { nil: undefined }),
    }).map(({ urls, auth, tls, insecure, requestTimeoutSeconds, maxRetries }) => {
        const c: Record<string, unknown> = { urls, ...auth, ...tls };
        if (insecure !== undefined) c.insecure = insecure;
        if (requestTimeoutSeconds !== undefined) c.requestTimeoutSeconds = requestTimeoutSeconds;
        if (maxRetries !== undefined) c.maxRetries = maxRetries;
        return c;
    });

    it("valid connections never fail", () => {
        fc.assert(fc.property(validConnArb(anyHttpUrlArb), (c) => {
            assert.deepStrictEqual(validateConnection("local", c), []);
        }), { numRuns: 300 });
    });

    it("never throws, and names only properties under its prefix, whatever it is given", () => {
        const key = fc.constantFrom("urls", "username", "password", "apiKey", "caPem", "caFingerprint", "insecure", "requestTimeoutSeconds", "maxRetries", "other");
        fc.assert(fc.property(fc.oneof(fc.anything(), fc.dictionary(key, fc.anything())), (c) => {
            for (const f of validateConnection("verifyOn.connection", c)) {
                assert.ok(f.property === "verifyOn.connection" || f.property.startsWith("verifyOn.connection."), f.property);
                assertReason(f.reason);
            }
        }), { numRuns: 500 });
    });

    it("a valid connection with one field replaced by a value of the wrong type always fails, naming that field", () => {
        const wrong: Record<string, fc.Arbitrary<unknown>> = {
            insecure: fc.oneof(fc.constantFrom("true", "false", "yes", 0, 1, "", null), fc.object()),
            requestTimeoutSeconds: fc.oneof(fc.constantFrom(0, -1, "30", Infinity, NaN, null), fc.double({ max: 0, noNaN: true })),
            maxRetries: fc.oneof(fc.constantFrom(-1, 1.5, MAX_RETRIES_LIMIT + 1, "3", null, Infinity), fc.integer({ min: MAX_RETRIES_LIMIT + 1 })),
            caFingerprint: fc.oneof(fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), maxLength: 63 }), fc.constantFrom(42, "zz".repeat(32), null)),
        };
        for (const [k, arb] of Object.entries(wrong)) {
            fc.assert(fc.property(validConnArb(), arb, (c, v) => {
                const bad = { ...c, caPem: undefined, [k]: v };
                if (k !== "caFingerprint") delete bad.caPem;
                const props = validateConnection("local", bad).map((f) => f.property);
                assert.ok(props.includes(`local.${k}`), `${k} = ${JSON.stringify(v)}: ${JSON.stringify(props)}`);
            }), { numRuns: 100 });
        }
    });

    it("fingerprints: any 32 bytes in hex, colons or not, any case, pass; any other length fails", () => {
        fc.assert(fc.property(fingerprintArb, (fp) => assert.deepStrictEqual(validateConnection("local", { urls: ["https://h:9200"], caFingerprint: fp }), [])), { numRuns: 200 });
        fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }).filter((b) => b.length !== 32), fc.boolean(), (b, colons) => {
            const hex = Buffer.from(b).toString("hex");
            const fp = colons ? hex.match(/../g)!.join(":") : hex;
            assert.deepStrictEqual(validateConnection("local", { urls: ["https://h:9200"], caFingerprint: fp }).map((f) => f.property), ["local.caFingerprint"]);
        }), { numRuns: 200 });
    });

    it("a URL carrying credentials always fails, and the password never appears in the reason", () => {
        fc.assert(fc.property(fc.constantFrom("elastic", "admin", "u"), secretArb, hostArb, (user, pw, host) => {
            const f = validateConnection("local", { urls: [`https://${user}:${encodeURIComponent(pw)}@${host}:9200`] });
            assert.deepStrictEqual(f.map((x) => x.property), ["local.urls[0]"]);
            assert.ok(!JSON.stringify(f).includes(pw));
            assert.ok(!redactUrl(`https://${user}:${pw}@${host}:9200`).includes(pw));
        }), { numRuns: 200 });
    });

    it("a URL of any scheme but http(s) always fails, naming its index", () => {
        const scheme = fc.constantFrom("ftp", "file", "ws", "wss", "tcp", "es", "localhost", "unix");
        fc.assert(fc.property(fc.array(httpsUrlArb, { maxLength: 3 }), scheme, hostArb, (good, s, host) => {
            const urls = [...good, `${s}://${host}:9200`];
            assert.deepStrictEqual(validateConnection("local", { urls }).map((f) => f.property), [`local.urls[${good.length}]`]);
        }), { numRuns: 200 });
    });

    it("insecure: true and http:// URLs always warn; a verified https connection never does", () => {
        // URLs of both schemes: with https only, the plain-http half of this property never ran.
        let plainSeen = 0;
        fc.assert(fc.property(validConnArb(anyHttpUrlArb), (c) => {
            const w = insecureWarnings("local", c);
            const plain = (c.urls as string[]).some((u) => u.startsWith("http://"));
            plainSeen += plain ? 1 : 0;
            assert.strictEqual(w.length, (c.insecure === true ? 1 : 0) + (plain ? 1 : 0), JSON.stringify([c, w]));
            if (plain) assert.ok(w.some((m) => /plain http/.test(m)), w.join(" | "));
            if (c.insecure === true) assert.ok(w.some((m) => /local\.insecure is set/.test(m)), w.join(" | "));
        }), { numRuns: 200 });
        assert.ok(plainSeen > 0, "the generator produced plain http URLs");
        fc.assert(fc.property(hostArb, secretArb, (host, pw) => {
            const w = insecureWarnings("remote", { urls: [`http://${host}:9200`], username: "elastic", password: pw });
            assert.strictEqual(w.length, 1);
            assert.ok(!w[0].includes(pw));
        }), { numRuns: 100 });
    });
});

describe("properties: PEM input", function () {
    this.timeout(120000);
    let ca: IssuedCa;
    let leafKeyPem: string;
    before(async () => {
        ca = await generateCa({ commonName: "props transport CA" });
        leafKeyPem = (await issueNodeCertificate(ca, { commonName: "leaf", dnsNames: ["leaf"] })).keyPem;
    });
    const node = (caCertPem: unknown, caKeyPem: unknown = ca.keyPem) => ({ caCertPem, caKeyPem, commonName: "n", dnsNames: ["n.example.com"] });

    for (const [name, mangle] of PEM_MANGLERS) {
        it(`a CA certificate ${name}: every certificate input refuses it by name`, async () => {
            await fc.assert(fc.asyncProperty(fc.nat(), async (at) => {
                const bad = mangle(ca.certPem, at);
                assert.ok(validateConnection("local", { urls: ["https://h:9200"], caPem: bad }).some((f) => f.property === "local.caPem"), "connection caPem");
                const s = await sc.check({}, { certPem: bad, keyPem: ca.keyPem });
                assert.deepStrictEqual(s.failures?.map((f) => f.property), ["certPem"], "SharedCa certPem");
                const n = await nc.check({}, node(bad));
                assert.deepStrictEqual(n.failures?.map((f) => f.property), ["caCertPem"], "NodeCertificate caCertPem");
            }), { numRuns: 25 });
        });

        it(`a CA key ${name}: refused as keyPem/caKeyPem, and no line of the key is echoed`, async () => {
            await fc.assert(fc.asyncProperty(fc.nat(), async (at) => {
                const bad = mangle(ca.keyPem, at);
                const s = await sc.check({}, { certPem: ca.certPem, keyPem: bad });
                assert.deepStrictEqual(s.failures?.map((f) => f.property), ["keyPem"], JSON.stringify(s.failures));
                const n = await nc.check({}, node(ca.certPem, bad));
                assert.deepStrictEqual(n.failures?.map((f) => f.property), ["caKeyPem"], JSON.stringify(n.failures));
                const text = JSON.stringify([s.failures, n.failures]);
                for (const line of ca.keyPem.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"))) {
                    assert.ok(!text.includes(line), "a line of the key was echoed");
                }
            }), { numRuns: 25 });
        });
    }

    it("harmless reformatting is accepted everywhere: CRLF line endings, trailing blank lines, openssl's 'Bag Attributes' header", async () => {
        const variants: Array<(p: string) => string> = [
            (p) => p.replace(/\n/g, "\r\n"),
            (p) => `${p}\n\n  \n`,
            (p) => `Bag Attributes\n    friendlyName: ca\nsubject=/CN=x\n${p}`,
            (p) => p.trimEnd(),
        ];
        for (const v of variants) {
            assert.deepStrictEqual(validateConnection("local", { urls: ["https://h:9200"], caPem: v(ca.certPem) }), []);
            assert.strictEqual((await sc.check({}, { certPem: v(ca.certPem), keyPem: v(ca.keyPem) })).failures, undefined);
            assert.strictEqual((await nc.check({}, node(v(ca.certPem), v(ca.keyPem)))).failures, undefined);
        }
    });

    it("any private key spliced into a certificate input is refused, wherever it sits", async () => {
        await fc.assert(fc.asyncProperty(fc.constantFrom("ca", "leaf"), fc.boolean(), async (which, before) => {
            const key = which === "ca" ? ca.keyPem : leafKeyPem;
            const bundle = before ? key + ca.certPem : ca.certPem + key;
            assert.deepStrictEqual(validateConnection("local", { urls: ["https://h:9200"], caPem: bundle }).map((f) => f.property), ["local.caPem"]);
            assert.deepStrictEqual((await sc.check({}, { certPem: bundle, keyPem: ca.keyPem })).failures?.map((f) => f.property), ["certPem"]);
            assert.deepStrictEqual((await nc.check({}, node(bundle))).failures?.map((f) => f.property), ["caCertPem"]);
        }), { numRuns: 8 });
    });

    it("a key in the certificate's place, or a certificate in the key's place, is refused by name", async () => {
        assert.deepStrictEqual((await sc.check({}, { certPem: ca.keyPem, keyPem: ca.certPem })).failures?.map((f) => f.property), ["certPem"]);
        assert.deepStrictEqual((await nc.check({}, node(ca.certPem, ca.certPem))).failures?.map((f) => f.property), ["caKeyPem"]);
        assert.deepStrictEqual(validateConnection("local", { urls: ["https://h:9200"], caPem: ca.keyPem }).map((f) => f.property), ["local.caPem"]);
    });

    it("a key in any other encoding of the same key (PKCS#8, SEC1) is accepted; an encrypted one is refused", async () => {
        const k = crypto.createPrivateKey(ca.keyPem);
        assert.strictEqual((await sc.check({}, { certPem: ca.certPem, keyPem: k.export({ type: "sec1", format: "pem" }).toString() })).failures, undefined);
        assert.strictEqual((await sc.check({}, { certPem: ca.certPem, keyPem: k.export({ type: "pkcs8", format: "pem" }).toString() })).failures, undefined);
        await fc.assert(fc.asyncProperty(fc.string({ minLength: 1, maxLength: 12 }), async (pass) => {
            const enc = k.export({ type: "pkcs8", format: "pem", cipher: "aes-128-cbc", passphrase: pass }).toString();
            assert.deepStrictEqual((await sc.check({}, { certPem: ca.certPem, keyPem: enc })).failures?.map((f) => f.property), ["keyPem"]);
        }), { numRuns: 10 });
    });

    it("arbitrary strings as PEM never make a check throw: each is refused, naming the PEM input", async () => {
        const pemish = fc.oneof(
            fc.string(),
            fc.string().map((s) => `-----BEGIN CERTIFICATE-----\n${s}\n-----END CERTIFICATE-----\n`),
            fc.base64String({ minLength: 4, maxLength: 400 }).map((s) => `-----BEGIN CERTIFICATE-----\n${s}\n-----END CERTIFICATE-----\n`),
            fc.base64String({ minLength: 4, maxLength: 400 }).map((s) => `-----BEGIN PRIVATE KEY-----\n${s}\n-----END PRIVATE KEY-----\n`),
        );
        await fc.assert(fc.asyncProperty(pemish, pemish, async (cert, key) => {
            // None of these is a certificate: every check refuses it, naming only the PEM inputs.
            const s = await sc.check({}, { certPem: cert, keyPem: key });
            assert.ok(s.failures?.length, `SharedCa accepted ${JSON.stringify(cert)}`);
            assertNamesOwnInputs(s.failures, ["certPem", "keyPem"]);
            const n = await nc.check({}, node(cert, key));
            assert.ok(n.failures?.length, `NodeCertificate accepted ${JSON.stringify(cert)}`);
            assertNamesOwnInputs(n.failures, ["caCertPem", "caKeyPem"]);
            const c = validateConnection("local", { urls: ["https://h:9200"], caPem: cert });
            assert.deepStrictEqual(c.map((f) => f.property), ["local.caPem"], JSON.stringify(c));
            assertReason(c[0].reason);
        }), { numRuns: 300 });
    });
});

describe("properties: NodeCertificate SANs", () => {
    let ca: IssuedCa;
    before(async () => {
        ca = await generateCa({ commonName: "props SAN CA" });
    });
    const base = () => ({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: "n" });

    it("any DNS names and IPv4/IPv6 addresses are accepted", async () => {
        await fc.assert(fc.asyncProperty(fc.array(fc.domain(), { maxLength: 4 }), fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 4 }), async (dnsNames, ipAddresses) => {
            fc.pre(dnsNames.length + ipAddresses.length > 0);
            const r = await nc.check({}, { ...base(), dnsNames, ipAddresses });
            assert.strictEqual(r.failures, undefined, JSON.stringify(r.failures));
        }), { numRuns: 200 });
    });

    it("an IP address among the DNS names always fails at its index", async () => {
        await fc.assert(fc.asyncProperty(fc.array(fc.domain(), { maxLength: 3 }), fc.oneof(fc.ipV4(), fc.ipV6()), async (good, ip) => {
            const r = await nc.check({}, { ...base(), dnsNames: [...good, ip] });
            assert.deepStrictEqual(r.failures?.map((f) => f.property), [`dnsNames[${good.length}]`]);
        }), { numRuns: 200 });
    });

    it("a host name, a network or a host:port among the IP addresses always fails at its index", async () => {
        const bad = fc.oneof(fc.domain().filter((d) => /[a-z]/i.test(d)), fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, n]) => `${ip}/${n}`), fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([ip, p]) => `${ip}:${p}`));
        await fc.assert(fc.asyncProperty(fc.array(fc.ipV4(), { maxLength: 3 }), bad, async (good, b) => {
            const r = await nc.check({}, { ...base(), dnsNames: ["n.example.com"], ipAddresses: [...good, b] });
            assert.deepStrictEqual(r.failures?.map((f) => f.property), [`ipAddresses[${good.length}]`], b);
        }), { numRuns: 200 });
    });
});

describe("properties: every check, given anything at all, never throws and names only its own inputs", function () {
    this.timeout(120000);
    // What the engine hands a hook is plain JSON (from a protobuf Struct): no null-prototype objects.
    const anyOf = (...keys: string[]) => fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom(...keys), fc.anything({ withObjectString: true })));

    const SHARED_CA = ["commonName", "organization", "organizationalUnit", "country", "validityDays", "keyAlgorithm", "certPem", "keyPem"];
    const NODE_CERT = ["caCertPem", "caKeyPem", "commonName", "dnsNames", "ipAddresses", "validityDays", "keyAlgorithm", "renewBeforeDays", "delivery", "verifyOn"];
    // Every input of a link, the API-key model's (security, credential, keystoreOn) included.
    const LINK = ["local", "remote", "alias", "mode", "seeds", "proxyAddress", "waitForConnection", "connectionTimeoutSeconds", "ccsCompatibility", "adoptExisting",
        "security", "credential", "keystoreOn"];
    const API_KEY = ["remote", "name", "access", "expiration", "metadata", "rotation"];

    it("SharedCa.check", async () => {
        await fc.assert(fc.asyncProperty(anyOf(...SHARED_CA), async (n) => {
            const r = await sc.check({}, n);
            assertNamesOwnInputs(r.failures, SHARED_CA);
        }), { numRuns: 300 });
    });

    it("NodeCertificate.check (anything at all holds no usable CA: it always fails, naming caCertPem or caKeyPem)", async () => {
        await fc.assert(fc.asyncProperty(anyOf(...NODE_CERT), async (n) => {
            const r = await nc.check({}, n);
            assertNamesOwnInputs(r.failures, NODE_CERT);
            // Anything at all never holds a CA certificate and its key.
            const named = (r.failures ?? []).map((f) => f.property);
            assert.ok(named.includes("caCertPem") || named.includes("caKeyPem"), JSON.stringify(r.failures));
        }), { numRuns: 300 });
    });

    it("RemoteClusterLink.check (the hook; without a local connection it always fails, naming local)", async () => {
        await fc.assert(fc.asyncProperty(anyOf(...LINK), async (n) => {
            const r = await lk.check({}, n ?? {});
            assertNamesOwnInputs(r.failures, LINK);
            // Anything at all is never a valid connection (no URL list of http(s) URLs).
            assert.ok((r.failures ?? []).some((x) => x.property === "local" || x.property.startsWith("local.")), JSON.stringify(r.failures));
        }), { numRuns: 300 });
    });

    it("RemoteClusterLink.check with the API-key model's inputs: a credential is never echoed, whatever surrounds it", async () => {
        const keystoreArb = fc.oneof(
            fc.anything(),
            fc.array(fc.record({ esHome: fc.oneof(fc.constant("/usr/share/elasticsearch"), fc.string(), fc.anything()), configDir: fc.oneof(fc.constant("/etc/elasticsearch"), fc.string(), fc.anything()) }, { requiredKeys: [] }), { maxLength: 3 }),
        );
        const apiKeyLinkArb = fc.record({
            local: fc.anything(),
            remote: fc.anything(),
            alias: fc.oneof(fc.constant("r1"), fc.anything()),
            seeds: fc.oneof(fc.constant(["127.0.0.1:9443"]), fc.anything()),
            security: fc.oneof(fc.constantFrom("apiKey", "certificate", "apikey", ""), fc.anything()),
            credential: secretArb.map((s) => Buffer.from(`id${s}:${s}`).toString("base64")),
            keystoreOn: keystoreArb,
        }, { requiredKeys: ["credential"] });
        await fc.assert(fc.asyncProperty(apiKeyLinkArb, async (n) => {
            const r = await lk.check({}, n);
            assertNamesOwnInputs(r.failures, LINK);
            assert.ok((r.failures ?? []).some((x) => x.property === "local" || x.property.startsWith("local.")), JSON.stringify(r.failures));
            const text = JSON.stringify(r.failures);
            const [, key] = Buffer.from(n.credential, "base64").toString().split(":");
            assert.ok(!text.includes(n.credential) && !text.includes(key), "the credential was echoed");
        }), { numRuns: 200 });
    });

    it("CrossClusterApiKey.check (never a usable remote: it always fails, naming remote)", async () => {
        await fc.assert(fc.asyncProperty(anyOf(...API_KEY), async (n) => {
            const r = await ak.check({}, n ?? {});
            assertNamesOwnInputs(r.failures, API_KEY);
            assert.ok((r.failures ?? []).some((x) => x.property === "remote" || x.property.startsWith("remote.")), JSON.stringify(r.failures));
        }), { numRuns: 300 });
    });
});
