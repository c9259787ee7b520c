import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { UNKNOWN } from "../../../provider/core/dynamic";
import { generateCa, issueNodeCertificate } from "../../../provider/certs/pem";
import { assertFailure, assertNoSecrets, openssl, opensslCa, tempDir } from "./certTestSupport";

// The hooks are loaded the way the dispatching provider loads them: as a plain module.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const hooks = require("../../../provider/sharedCa");

describe("provider/sharedCa hooks", function () {
    this.timeout(60000);
    let dir: string;
    before(() => {
        dir = tempDir("sharedca-test");
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    describe("check", () => {
        it("accepts no options (generate with defaults) and every generation option", async () => {
            assert.deepStrictEqual(await hooks.check({}, {}), { inputs: {} });
            const all = { commonName: "ca", organization: "Acme", organizationalUnit: "Search", country: "DE", validityDays: 10, keyAlgorithm: "rsa-3072" };
            assert.deepStrictEqual(await hooks.check({}, all), { inputs: all });
        });

        it("accepts an openssl CA to adopt", async () => {
            const ca = opensslCa(dir);
            const r = await hooks.check({}, ca);
            assert.strictEqual(r.failures, undefined);
        });

        it("names each bad generation option", async () => {
            const cases: Array<[Record<string, unknown>, string, string]> = [
                [{ commonName: "" }, "commonName", "non-empty"],
                [{ organization: "  " }, "organization", "non-empty"],
                [{ country: "de" }, "country", "two-letter"],
                [{ country: "DEU" }, "country", "two-letter"],
                [{ validityDays: 0 }, "validityDays", "≥ 1"],
                [{ validityDays: -3 }, "validityDays", "≥ 1"],
                [{ validityDays: 1.5 }, "validityDays", "whole number"],
                [{ validityDays: "10" }, "validityDays", "whole number"],
                [{ keyAlgorithm: "dsa-1024" }, "keyAlgorithm", "use one of ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096"],
            ];
            for (const [news, property, fragment] of cases) {
                const r = await hooks.check({}, news);
                assert.strictEqual(r.failures?.length, 1, JSON.stringify(r.failures));
                assertFailure(r.failures, property, fragment);
            }
        });

        it("names each bad adoption", async () => {
            const ca = opensslCa(dir);
            const other = opensslCa(dir);
            const leaf = await issueNodeCertificate(ca, { commonName: "n", dnsNames: ["n"] });
            const cases: Array<[Record<string, unknown>, string, string]> = [
                [{ certPem: ca.certPem }, "keyPem", "adopting a CA needs both"],
                [{ keyPem: ca.keyPem }, "certPem", "adopting a CA needs both"],
                [{ ...ca, commonName: "x" }, "commonName", "applies only to a generated CA"],
                [{ ...ca, keyAlgorithm: "rsa-2048" }, "keyAlgorithm", "applies only to a generated CA"],
                [{ certPem: "garbage", keyPem: ca.keyPem }, "certPem", "not PEM"],
                [{ certPem: leaf.certPem, keyPem: leaf.keyPem }, "certPem", "not a CA"],
                [{ certPem: ca.certPem, keyPem: other.keyPem }, "keyPem", "does not match"],
                [{ certPem: ca.certPem, keyPem: "nope" }, "keyPem", "not a PEM private key"],
            ];
            for (const [news, property, fragment] of cases) {
                const r = await hooks.check({}, news);
                assertFailure(r.failures, property, fragment);
                assertNoSecrets(r.failures, [ca.keyPem, other.keyPem, leaf.keyPem]);
            }
        });

        it("skips values not known yet (preview) without failing", async () => {
            for (const news of [
                { certPem: UNKNOWN, keyPem: UNKNOWN },
                { certPem: UNKNOWN, keyPem: "whatever" },
                { commonName: UNKNOWN, country: UNKNOWN, validityDays: UNKNOWN, keyAlgorithm: UNKNOWN, organization: UNKNOWN },
            ]) {
                const r = await hooks.check({}, news);
                assert.strictEqual(r.failures, undefined, JSON.stringify(r.failures));
            }
        });
    });

    describe("create", () => {
        it("generates a CA with the options asked for; outputs are plain JSON", async () => {
            const r = await hooks.create({ commonName: "es transport CA", country: "DE", validityDays: 30, keyAlgorithm: "ecdsa-p384" });
            const o = r.outs;
            assert.strictEqual(r.id, o.serialNumber);
            assert.strictEqual(o.adopted, false);
            const cert = new crypto.X509Certificate(o.certPem);
            assert.ok(cert.ca);
            assert.strictEqual(cert.subject, "C=DE\nCN=es transport CA");
            assert.strictEqual(cert.fingerprint256, o.fingerprintSha256);
            assert.strictEqual(Date.parse(o.notAfter) - Date.parse(o.notBefore), 30 * 86400 * 1000);
            assert.strictEqual(crypto.createPrivateKey(o.keyPem).asymmetricKeyDetails?.namedCurve, "secp384r1");
            assert.deepStrictEqual(JSON.parse(JSON.stringify(o)), o, "plain JSON");
            assert.ok(!Object.values(o).includes(undefined));
        });

        it("generates with defaults: CN es-remote-ca, P-256, 1095 days", async () => {
            const o = (await hooks.create({})).outs;
            assert.strictEqual(new crypto.X509Certificate(o.certPem).subject, "CN=es-remote-ca");
            assert.strictEqual(crypto.createPrivateKey(o.keyPem).asymmetricKeyDetails?.namedCurve, "prime256v1");
            assert.strictEqual(Date.parse(o.notAfter) - Date.parse(o.notBefore), 1095 * 86400 * 1000);
        });

        it("adopts an openssl CA, converting its SEC1 key to PKCS#8", async () => {
            const ca = opensslCa(dir);
            assert.match(ca.keyPem, /BEGIN EC PRIVATE KEY/);
            const o = (await hooks.create(ca)).outs;
            assert.strictEqual(o.adopted, true);
            assert.strictEqual(o.certPem, ca.certPem);
            assert.match(o.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
            const spki = (k: string) => crypto.createPublicKey(k).export({ type: "spki", format: "der" });
            assert.ok(spki(o.keyPem).equals(spki(ca.keyPem)), "same key");
            const fp = openssl(["x509", "-noout", "-fingerprint", "-sha256", "-in", writeTemp(ca.certPem)]).trim();
            assert.strictEqual(fp, `sha256 Fingerprint=${o.fingerprintSha256}`);
            // The adopted CA signs node certificates that openssl accepts.
            const n = await issueNodeCertificate(o, { commonName: "n", dnsNames: ["n"] });
            assert.match(openssl(["verify", "-CAfile", writeTemp(ca.certPem), writeTemp(n.certPem)]), /: OK/);
        });

        it("refuses bad inputs naming the property, like check, and says nothing was made", async () => {
            await assert.rejects(hooks.create({ country: "xx" }), (e: Error & { property?: string }) => {
                assert.strictEqual(e.name, "InputError");
                assert.strictEqual(e.property, "country");
                assert.match(e.message, /^country: must be a two-letter ISO 3166 code.*Nothing was written\.$/);
                return true;
            });
        });

        function writeTemp(content: string): string {
            const f = path.join(dir, `${crypto.randomUUID()}.pem`);
            fs.writeFileSync(f, content);
            return f;
        }
    });

    describe("diff", () => {
        let generated: any;
        let adopted: any;
        let adoptedInputs: { certPem: string; keyPem: string };
        before(async () => {
            generated = (await hooks.create({ commonName: "ca", validityDays: 100 })).outs;
            adoptedInputs = opensslCa(dir);
            adopted = (await hooks.create(adoptedInputs)).outs;
        });

        it("sees no change for the same inputs, or defaults spelled out", async () => {
            assert.deepStrictEqual(await hooks.diff("id", generated, { commonName: "ca", validityDays: 100 }), { changes: false, replaces: [] });
            assert.deepStrictEqual(
                await hooks.diff("id", generated, { commonName: "ca", validityDays: 100, keyAlgorithm: "ecdsa-p256" }),
                { changes: false, replaces: [] });
        });

        it("replaces on any change of a generation option", async () => {
            const cases: Array<[Record<string, unknown>, string[]]> = [
                [{ commonName: "other", validityDays: 100 }, ["commonName"]],
                [{ commonName: "ca", validityDays: 101 }, ["validityDays"]],
                [{ commonName: "ca" }, ["validityDays"]],
                [{ commonName: "ca", validityDays: 100, keyAlgorithm: "rsa-2048" }, ["keyAlgorithm"]],
                [{ commonName: "ca", validityDays: 100, country: "FR" }, ["country"]],
                [{ commonName: "ca", validityDays: 100, organization: UNKNOWN }, ["organization"]],
                [adoptedInputs, ["certPem"]],
            ];
            for (const [news, replaces] of cases) {
                assert.deepStrictEqual(await hooks.diff("id", generated, news), { changes: true, replaces }, JSON.stringify(news));
            }
        });

        it("adopted: same CA in another key encoding is no change; another CA or an unknown one replaces", async () => {
            assert.deepStrictEqual(await hooks.diff("id", adopted, adoptedInputs), { changes: false, replaces: [] });
            assert.deepStrictEqual(await hooks.diff("id", adopted, { certPem: adopted.certPem, keyPem: adopted.keyPem }), { changes: false, replaces: [] });
            const other = opensslCa(dir);
            assert.deepStrictEqual(await hooks.diff("id", adopted, other), { changes: true, replaces: ["certPem", "keyPem"] });
            assert.deepStrictEqual(await hooks.diff("id", adopted, { certPem: UNKNOWN, keyPem: UNKNOWN }), { changes: true, replaces: ["certPem", "keyPem"] });
            assert.deepStrictEqual(await hooks.diff("id", adopted, {}), { changes: true, replaces: ["commonName"] });
        });
    });

    describe("read, update", () => {
        // The CA lives only in the state: refresh has nothing else to look at, and every change of
        // what the CA is replaces it (diff above), so update never makes another CA.
        it("refresh keeps the CA exactly as stored (no drift to report, no inputs returned)", async () => {
            const ca = await generateCa({ commonName: "x" });
            const state = { ...ca, adopted: false, commonName: "x" };
            const r = await hooks.read(ca.serialNumber, state);
            assert.deepStrictEqual(r, { id: ca.serialNumber, props: state });
            assert.ok(!("inputs" in r));
        });

        it("update keeps the stored CA (same key and certificate) even if asked with other options", async () => {
            const ca = await generateCa({ commonName: "x" });
            const state = { ...ca, adopted: false, commonName: "x" };
            const r = await hooks.update(ca.serialNumber, state, { commonName: "y", validityDays: 5 });
            assert.strictEqual(r.outs.keyPem, ca.keyPem);
            assert.strictEqual(r.outs.certPem, ca.certPem);
        });
    });

    describe("trustDeliveries (the CA written into nodes' trust files)", () => {
        let certs: string;
        beforeEach(() => {
            certs = fs.mkdtempSync(path.join(dir, "certs-"));
        });
        const file = (name = "remote-cluster-client-ca.crt") => path.join(certs, name);

        it("create writes the CA (and extra CAs) into each file; delete puts back what was there", async () => {
            fs.writeFileSync(file(), "THE NODE'S OWN CA\n");
            const extra = (await generateCa({ commonName: "next" })).certPem;
            const inputs = { commonName: "rcs CA", trustDeliveries: [{ directory: certs, extraTrustedCaPems: [extra] }, { directory: certs, caFile: "b.crt" }] };
            assert.deepStrictEqual(await hooks.check({}, inputs), { inputs });
            const o = (await hooks.create(inputs)).outs;
            assert.strictEqual(fs.readFileSync(file(), "utf8"), o.certPem + extra);
            assert.strictEqual(fs.readFileSync(file("b.crt"), "utf8"), o.certPem);
            assert.strictEqual(o.trustInSync, true);
            assert.strictEqual(o.trustKeptAsidePaths.length, 2);
            await hooks.delete(o.serialNumber, o);
            assert.strictEqual(fs.readFileSync(file(), "utf8"), "THE NODE'S OWN CA\n");
            assert.deepStrictEqual(fs.readdirSync(certs), ["remote-cluster-client-ca.crt"]);
        });

        it("refresh reports a trust file changed by hand (trustInSync false, observedDrift); up rewrites it", async () => {
            const inputs = { commonName: "rcs CA", trustDeliveries: [{ directory: certs }] };
            const o = (await hooks.create(inputs)).outs;
            assert.strictEqual((await hooks.read(o.serialNumber, o)).inputs, undefined);
            fs.writeFileSync(file(), "hand edit\n");
            const r = await hooks.read(o.serialNumber, o);
            assert.strictEqual(r.props.trustInSync, false);
            assert.deepStrictEqual(r.inputs.observedDrift, [`trustDeliveries[0]: ${file()} holds other CA certificates`]);
            assertNoSecrets(r.inputs, [o.keyPem]);
            assert.deepStrictEqual(await hooks.diff(o.serialNumber, r.props, inputs), { changes: true, replaces: [] });
            const u = (await hooks.update(o.serialNumber, r.props, inputs)).outs;
            assert.strictEqual(fs.readFileSync(file(), "utf8"), o.certPem);
            assert.strictEqual(u.keyPem, o.keyPem, "the CA itself is unchanged");
        });

        it("adding or dropping an entry is an in-place update; a dropped file is given up", async () => {
            const o = (await hooks.create({ commonName: "rcs CA" })).outs;
            const withTrust = { commonName: "rcs CA", trustDeliveries: [{ directory: certs }] };
            assert.deepStrictEqual(await hooks.diff("id", o, withTrust), { changes: true, replaces: [] });
            const u = (await hooks.update("id", o, withTrust)).outs;
            assert.strictEqual(fs.readFileSync(file(), "utf8"), o.certPem);
            const dropped = (await hooks.update("id", u, { commonName: "rcs CA" })).outs;
            assert.deepStrictEqual(fs.readdirSync(certs), [], "the file did not exist before: removed with its record");
            assert.strictEqual(dropped.trustInSync, undefined);
        });

        it("names bad entries", async () => {
            const r = await hooks.check({}, { trustDeliveries: [{ directory: "rel" }, { directory: certs, caFile: "a/b" }, { directory: certs }, { directory: certs }] });
            assertFailure(r.failures, "trustDeliveries[0].directory", "is relative");
            assertFailure(r.failures, "trustDeliveries[1].caFile", "plain file name");
            assertFailure(r.failures, "trustDeliveries[3]", "give each file once");
            assertFailure((await hooks.check({}, { trustDeliveries: "x" })).failures, "trustDeliveries", "must be a list");
        });
    });
});
