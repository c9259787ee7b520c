import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { UNKNOWN } from "../../../provider/core/dynamic";
import { IssuedCa, generateCa, issueNodeCertificate } from "../../../provider/certs/pem";
import { CreateInterruptedError, NodeNotFoundError, TrustError } from "../../../provider/core/errors";
import { trustFileContent } from "../../../provider/certs/delivery";
import { onlyTrustChanged } from "../../../provider/nodeCertificate";
import { FakeNode, assertFailure, assertNoSecrets, fakeNode, opensslCa, tempDir } from "./certTestSupport";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const hooks = require("../../../provider/nodeCertificate");

const DAY_MS = 86400 * 1000;

/** What the hooks log while `fn` runs (pulumi.log outside the engine writes to the console). */
async function captureLog(fn: () => Promise<unknown>): Promise<string> {
    const lines: string[] = [];
    const [log, warn, error] = [console.log, console.warn, console.error];
    console.log = console.warn = console.error = (...a: unknown[]) => lines.push(a.map(String).join(" "));
    try {
        await fn();
    } finally {
        [console.log, console.warn, console.error] = [log, warn, error];
    }
    return lines.join("\n");
}

describe("provider/nodeCertificate hooks", function () {
    this.timeout(60000);
    let ca: IssuedCa;
    let otherCa: IssuedCa;
    let dir: string;
    let base: Record<string, unknown>;

    before(async () => {
        ca = await generateCa({ commonName: "transport CA" });
        otherCa = await generateCa({ commonName: "other CA" });
        base = { caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: "node-1", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] };
    });
    beforeEach(() => {
        dir = tempDir("nodecert-test");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    describe("check", () => {
        it("accepts good inputs and returns them", async () => {
            const news = { ...base, validityDays: 90, renewBeforeDays: 10, keyAlgorithm: "rsa-2048", delivery: { directory: dir } };
            assert.deepStrictEqual(await hooks.check({}, news), { inputs: news });
        });

        it("names the property and the fix for every bad input", async () => {
            const leaf = await issueNodeCertificate(ca, { commonName: "leaf", dnsNames: ["leaf"] });
            const conn = { urls: ["https://localhost:9200"], username: "elastic", password: "pw" };
            const cases: Array<[string, Record<string, unknown>, string, string]> = [
                ["malformed CA PEM", { caCertPem: "-----BEGIN CERTIFICATE-----\nnope" }, "caCertPem", "not a PEM certificate"],
                ["corrupt CA PEM", { caCertPem: ca.certPem.replace(/[A-Za-z]{4}\n/, "!!!!\n") }, "caCertPem", "not a readable PEM certificate"],
                ["a non-CA certificate as CA", { caCertPem: leaf.certPem, caKeyPem: leaf.keyPem }, "caCertPem", "not a CA"],
                ["a key not matching the CA", { caKeyPem: otherCa.keyPem }, "caKeyPem", "does not match"],
                ["a CA key that is no key", { caKeyPem: "hello" }, "caKeyPem", "not a PEM private key"],
                ["no CA certificate", { caCertPem: undefined }, "caCertPem", "SharedCa's certPem"],
                ["no CA key", { caKeyPem: undefined }, "caKeyPem", "SharedCa's keyPem"],
                ["no commonName", { commonName: undefined }, "commonName", "subject CN"],
                ["an empty SAN list", { dnsNames: [], ipAddresses: [] }, "dnsNames", "at least one DNS name or IP address"],
                ["no SANs at all", { dnsNames: undefined, ipAddresses: undefined }, "dnsNames", "at least one DNS name or IP address"],
                ["an invalid IP", { ipAddresses: ["10.0.0.1", "300.1.1.1"] }, "ipAddresses[1]", "not an IPv4 or IPv6 address"],
                ["a host name as IP", { ipAddresses: ["es-1.internal"] }, "ipAddresses[0]", "host names go in dnsNames"],
                ["an IP as DNS name", { dnsNames: ["10.0.0.1"] }, "dnsNames[0]", "put it in ipAddresses"],
                ["a bad DNS name", { dnsNames: ["bad name"] }, "dnsNames[0]", "not a valid DNS name"],
                ["SANs that are no list", { dnsNames: "localhost" }, "dnsNames", "list of strings"],
                ["validityDays 0", { validityDays: 0 }, "validityDays", "≥ 1"],
                ["validityDays < 0", { validityDays: -10 }, "validityDays", "≥ 1"],
                ["renewBeforeDays = validityDays", { validityDays: 30, renewBeforeDays: 30 }, "renewBeforeDays", "must be less than validityDays (30)"],
                ["renewBeforeDays > validityDays", { validityDays: 10, renewBeforeDays: 20 }, "renewBeforeDays", "must be less than validityDays (10)"],
                ["default renewBeforeDays ≥ validityDays", { validityDays: 20 }, "renewBeforeDays", "30 (the default) must be less than validityDays (20)"],
                ["negative renewBeforeDays", { renewBeforeDays: -1 }, "renewBeforeDays", "≥ 0"],
                ["an unknown key algorithm", { keyAlgorithm: "ed25519" }, "keyAlgorithm", "use one of ecdsa-p256"],
                ["a relative delivery directory", { delivery: { directory: "certs" } }, "delivery.directory", "is relative"],
                ["a delivery file name with a path", { delivery: { directory: dir, certFile: "a/b.crt" } }, "delivery.certFile", "plain file name"],
                ["a world-readable key file", { delivery: { directory: dir, keyFileMode: 0o644 } }, "delivery.keyFileMode", "every local user"],
                ["verifyOn without delivery", { verifyOn: { connection: conn, nodeName: "n" } }, "verifyOn", "needs delivery"],
                ["verifyOn with a bad URL", { delivery: { directory: dir }, verifyOn: { connection: { ...conn, urls: ["localhost:9200"] }, nodeName: "n" } },
                    "verifyOn.connection.urls[0]", "not an http(s) URL"],
                ["verifyOn without nodeName", { delivery: { directory: dir }, verifyOn: { connection: conn, nodeName: "" } }, "verifyOn.nodeName", "node.name"],
                ["verifyOn with timeout 0", { delivery: { directory: dir }, verifyOn: { connection: conn, nodeName: "n", timeoutSeconds: 0 } },
                    "verifyOn.timeoutSeconds", "> 0"],
            ];
            for (const [label, change, property, fragment] of cases) {
                const r = await hooks.check({}, { ...base, ...change });
                assert.ok(r.failures, `${label}: expected a failure`);
                assertFailure(r.failures, property, fragment);
                assertNoSecrets(r.failures, [ca.keyPem, otherCa.keyPem, leaf.keyPem, "pw"].filter((s) => s.length > 2));
            }
        });

        it("skips every value not known yet (preview) and never throws", async () => {
            const cases: Array<Record<string, unknown>> = [
                { caCertPem: UNKNOWN, caKeyPem: UNKNOWN },
                { caCertPem: UNKNOWN },
                { caKeyPem: UNKNOWN },
                { dnsNames: UNKNOWN, ipAddresses: undefined },
                { dnsNames: [UNKNOWN], ipAddresses: [UNKNOWN] },
                { commonName: UNKNOWN, validityDays: UNKNOWN, renewBeforeDays: UNKNOWN, keyAlgorithm: UNKNOWN },
                { validityDays: UNKNOWN, renewBeforeDays: 400 },
                { delivery: UNKNOWN },
                { delivery: { directory: UNKNOWN } },
                { delivery: { directory: dir }, verifyOn: { connection: UNKNOWN, nodeName: UNKNOWN, timeoutSeconds: UNKNOWN } },
                { delivery: { directory: dir }, verifyOn: UNKNOWN },
            ];
            for (const c of cases) {
                const r = await hooks.check({}, { ...base, ...c });
                assert.strictEqual(r.failures, undefined, `${JSON.stringify(c)}: ${JSON.stringify(r.failures)}`);
            }
        });

        it("accepts an openssl CA (SEC1 key) as issuer", async () => {
            const o = opensslCa(dir);
            const r = await hooks.check({}, { ...base, caCertPem: o.certPem, caKeyPem: o.keyPem });
            assert.strictEqual(r.failures, undefined);
        });
    });

    describe("create", () => {
        it("issues a certificate as asked and never stores the CA key", async () => {
            const r = await hooks.create({ ...base, dnsNames: ["localhost", "es-1.internal"], validityDays: 90, keyAlgorithm: "rsa-2048" });
            const o = r.outs;
            assert.strictEqual(r.id, o.serialNumber);
            const cert = new crypto.X509Certificate(o.certPem);
            assert.ok(cert.verify(new crypto.X509Certificate(ca.certPem).publicKey));
            assert.ok(cert.checkHost("es-1.internal"));
            assert.strictEqual(cert.checkIP("127.0.0.1"), "127.0.0.1");
            assert.strictEqual(Date.parse(o.notAfter) - Date.parse(o.notBefore), 90 * DAY_MS);
            assert.strictEqual(crypto.createPrivateKey(o.keyPem).asymmetricKeyDetails?.modulusLength, 2048);
            assert.strictEqual(o.caPem, ca.certPem);
            assert.strictEqual(o.caFingerprintSha256, ca.fingerprintSha256);
            assert.strictEqual(o.fingerprintSha256, cert.fingerprint256);
            assert.ok(!("caKeyPem" in o) && !("caCertPem" in o));
            assertNoSecrets(o, [ca.keyPem]);
            assert.deepStrictEqual(JSON.parse(JSON.stringify(o)), o);
            assert.ok(!("deliveredFingerprintSha256" in o) && !("servedByNode" in o));
        });

        it("refuses what check refuses", async () => {
            await assert.rejects(hooks.create({ ...base, dnsNames: [], ipAddresses: [] }), (e: Error & { property?: string }) => e.property === "dnsNames");
        });
    });

    describe("diff", () => {
        let state: any;
        before(async () => {
            state = (await hooks.create({ ...base, dnsNames: ["b.internal", "a.internal"], ipAddresses: ["::1", "10.0.0.1"], renewBeforeDays: 10 })).outs;
        });
        const inputs = () => ({ ...base, dnsNames: ["b.internal", "a.internal"], ipAddresses: ["::1", "10.0.0.1"], renewBeforeDays: 10 });

        it("sees no change for the same inputs, reordered SANs or another spelling of an IP", async () => {
            const none = { changes: false, replaces: [], deleteBeforeReplace: false };
            assert.deepStrictEqual(await hooks.diff("id", state, inputs()), none);
            assert.deepStrictEqual(await hooks.diff("id", state, { ...inputs(), dnsNames: ["a.internal", "B.internal"], ipAddresses: ["10.0.0.1", "0:0::1"] }), none);
            assert.deepStrictEqual(await hooks.diff("id", state, { ...inputs(), validityDays: 365, keyAlgorithm: "ecdsa-p256" }), none);
        });

        it("replaces on CA, name and algorithm changes, and on unknown values", async () => {
            const cases: Array<[Record<string, unknown>, string[]]> = [
                [{ caCertPem: otherCa.certPem, caKeyPem: otherCa.keyPem }, ["caCertPem"]],
                [{ caCertPem: UNKNOWN, caKeyPem: UNKNOWN }, ["caCertPem"]],
                [{ commonName: "node-2" }, ["commonName"]],
                [{ dnsNames: ["a.internal"] }, ["dnsNames"]],
                [{ dnsNames: UNKNOWN }, ["dnsNames"]],
                [{ ipAddresses: ["10.0.0.1"] }, ["ipAddresses"]],
                [{ validityDays: 100 }, ["validityDays"]],
                [{ keyAlgorithm: "ecdsa-p384" }, ["keyAlgorithm"]],
            ];
            for (const [change, replaces] of cases) {
                const d = await hooks.diff("id", state, { ...inputs(), ...change });
                assert.deepStrictEqual(d, { changes: true, replaces, deleteBeforeReplace: false }, JSON.stringify(change));
            }
        });

        it("replaces when now + renewBeforeDays reaches notAfter", async () => {
            const now = Date.now();
            const at = (daysLeft: number) => ({ ...state, notAfter: new Date(now + daysLeft * DAY_MS).toISOString() });
            assert.deepStrictEqual((await hooks.diff("id", at(11), inputs())).replaces, []);
            assert.deepStrictEqual((await hooks.diff("id", at(9), inputs())).replaces, ["renewBeforeDays"]);
            assert.deepStrictEqual((await hooks.diff("id", at(-1), inputs())).replaces, ["renewBeforeDays"], "expired");
            // Raising the window is an update when outside it, a replacement when it now covers notAfter.
            assert.deepStrictEqual(await hooks.diff("id", at(40), { ...inputs(), renewBeforeDays: 30 }), { changes: true, replaces: [], deleteBeforeReplace: false });
            assert.deepStrictEqual((await hooks.diff("id", at(20), { ...inputs(), renewBeforeDays: 30 })).replaces, ["renewBeforeDays"]);
            // Default window (30 days) when the input is left out.
            assert.deepStrictEqual((await hooks.diff("id", at(29), { ...inputs(), renewBeforeDays: undefined })).replaces, ["renewBeforeDays"]);
        });

        it("updates in place for delivery and verifyOn changes", async () => {
            const d = await hooks.diff("id", state, { ...inputs(), delivery: { directory: dir } });
            assert.deepStrictEqual(d, { changes: true, replaces: [], deleteBeforeReplace: false });
            const withDelivery = { ...state, delivery: { directory: dir }, deliveredFingerprintSha256: state.fingerprintSha256, deliveryInSync: true };
            assert.strictEqual((await hooks.diff("id", withDelivery, { ...inputs(), delivery: { directory: dir } })).changes, false);
            assert.strictEqual((await hooks.diff("id", withDelivery, { ...inputs(), delivery: { directory: dir, certFile: "transport.crt" } })).changes, false,
                "a default spelled out is no change");
            assert.strictEqual((await hooks.diff("id", withDelivery, { ...inputs(), delivery: { directory: dir, certFile: "node.crt" } })).changes, true);
            assert.strictEqual((await hooks.diff("id", withDelivery, inputs())).changes, true, "delivery removed");
        });
    });

    describe("delivery", () => {
        const KEY_MODE = 0o600;
        const mode = (f: string) => fs.statSync(f).mode & 0o777;
        /** The files a node could read (the records of what was there before are hidden). */
        const visible = (d: string) => fs.readdirSync(d).filter((f) => !f.startsWith(".")).sort();

        it("writes the three files with fixed names and modes", async () => {
            const o = (await hooks.create({ ...base, delivery: { directory: dir } })).outs;
            assert.deepStrictEqual(visible(dir), ["transport-ca.crt", "transport.crt", "transport.key"]);
            assert.deepStrictEqual(o.keptAsidePaths.map((f: string) => path.basename(f)).sort(),
                [".transport-ca.crt.es-remote-absent", ".transport.crt.es-remote-absent", ".transport.key.es-remote-absent"], "none of the files existed before");
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport.crt"), "utf8"), o.certPem);
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport.key"), "utf8"), o.keyPem);
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport-ca.crt"), "utf8"), ca.certPem);
            assert.strictEqual(mode(path.join(dir, "transport.key")), KEY_MODE);
            assert.strictEqual(mode(path.join(dir, "transport.crt")), 0o644);
            assert.strictEqual(o.deliveredFingerprintSha256, o.fingerprintSha256);
            assert.strictEqual(o.deliveryInSync, true);
            // The delivered key really is the certificate's key.
            const spki = crypto.createPublicKey(fs.readFileSync(path.join(dir, "transport.key"), "utf8")).export({ type: "spki", format: "der" });
            assert.ok(spki.equals(new crypto.X509Certificate(o.certPem).publicKey.export({ type: "spki", format: "der" })));
        });

        it("fails create with a clear message when the directory does not exist", async () => {
            await assert.rejects(hooks.create({ ...base, delivery: { directory: path.join(dir, "missing") } }), /does not exist/);
        });

        it("refresh reports a hand-replaced certificate, and the next up rewrites it", async () => {
            const inputs = { ...base, delivery: { directory: dir } };
            const created = (await hooks.create(inputs)).outs;
            const foreign = await issueNodeCertificate(otherCa, { commonName: "intruder", dnsNames: ["x"] });
            fs.writeFileSync(path.join(dir, "transport.crt"), foreign.certPem);

            const refreshed = (await hooks.read(created.serialNumber, created)).props;
            assert.strictEqual(refreshed.deliveredFingerprintSha256, foreign.fingerprintSha256);
            assert.strictEqual(refreshed.deliveryInSync, false);
            assert.strictEqual(refreshed.fingerprintSha256, created.fingerprintSha256, "the certificate itself is unchanged");

            const d = await hooks.diff(created.serialNumber, refreshed, inputs);
            assert.deepStrictEqual(d, { changes: true, replaces: [], deleteBeforeReplace: false });

            const updated = (await hooks.update(created.serialNumber, refreshed, inputs)).outs;
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport.crt"), "utf8"), created.certPem);
            assert.strictEqual(updated.deliveredFingerprintSha256, created.fingerprintSha256);
            assert.strictEqual(updated.serialNumber, created.serialNumber);
            const again = (await hooks.read(created.serialNumber, updated)).props;
            assert.deepStrictEqual(again, updated);
            assert.strictEqual((await hooks.diff(created.serialNumber, again, inputs)).changes, false);
        });

        it("refresh reports a changed key or missing files", async () => {
            const inputs = { ...base, delivery: { directory: dir } };
            const created = (await hooks.create(inputs)).outs;
            fs.writeFileSync(path.join(dir, "transport.key"), otherCa.keyPem);
            let r = (await hooks.read("id", created)).props;
            assert.strictEqual(r.deliveredFingerprintSha256, created.fingerprintSha256);
            assert.strictEqual(r.deliveryInSync, false);
            assert.strictEqual((await hooks.diff("id", r, inputs)).changes, true);

            fs.rmSync(path.join(dir, "transport.crt"));
            r = (await hooks.read("id", created)).props;
            assert.strictEqual(r.deliveredFingerprintSha256, "");
            await hooks.update("id", r, inputs);
            assert.ok(fs.existsSync(path.join(dir, "transport.crt")));
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport.key"), "utf8"), created.keyPem);
        });

        it("delete removes the files it wrote", async () => {
            fs.writeFileSync(path.join(dir, "elasticsearch.yml"), "cluster.name: x\n");
            const o = (await hooks.create({ ...base, delivery: { directory: dir } })).outs;
            await hooks.delete(o.serialNumber, o);
            assert.deepStrictEqual(fs.readdirSync(dir), ["elasticsearch.yml"]);
        });

        it("renewal: the old certificate's delete leaves its successor's files in place", async () => {
            const inputs = { ...base, delivery: { directory: dir } };
            const old = (await hooks.create(inputs)).outs;
            const expiring = { ...old, notAfter: new Date(Date.now() + DAY_MS).toISOString() };
            assert.deepStrictEqual((await hooks.diff(old.serialNumber, expiring, inputs)).replaces, ["renewBeforeDays"]);
            // Pulumi's default: create the replacement, then delete the old resource.
            const successor = (await hooks.create(inputs)).outs;
            await hooks.delete(old.serialNumber, expiring);
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport.crt"), "utf8"), successor.certPem);
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport.key"), "utf8"), successor.keyPem);
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport-ca.crt"), "utf8"), successor.caPem);
            assert.notStrictEqual(successor.serialNumber, old.serialNumber);
        });

        it("delete puts back the node's own files (content, mode) that the first delivery wrote over", async () => {
            const p = (f: string) => path.join(dir, f);
            const own = await issueNodeCertificate(otherCa, { commonName: "node-1", dnsNames: ["localhost"] });
            fs.writeFileSync(p("transport.crt"), own.certPem, { mode: 0o644 });
            fs.writeFileSync(p("transport.key"), own.keyPem);
            fs.chmodSync(p("transport.key"), 0o640);
            fs.writeFileSync(p("transport-ca.crt"), otherCa.certPem);
            const o = (await hooks.create({ ...base, delivery: { directory: dir } })).outs;
            assert.strictEqual(fs.readFileSync(p("transport.crt"), "utf8"), o.certPem);
            assert.ok(!Object.values(o).some((v) => typeof v === "string" && v.includes(own.keyPem.slice(40, 80))), "the original key is not in the state");
            await hooks.delete(o.serialNumber, o);
            assert.strictEqual(fs.readFileSync(p("transport.crt"), "utf8"), own.certPem);
            assert.strictEqual(fs.readFileSync(p("transport.key"), "utf8"), own.keyPem);
            assert.strictEqual(fs.readFileSync(p("transport-ca.crt"), "utf8"), otherCa.certPem);
            assert.strictEqual(mode(p("transport.key")), 0o640);
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["transport-ca.crt", "transport.crt", "transport.key"], "no record left behind");
        });

        it("onDelete keep: delete leaves the delivered files and removes what was kept aside", async () => {
            fs.writeFileSync(path.join(dir, "transport.key"), otherCa.keyPem);
            const o = (await hooks.create({ ...base, delivery: { directory: dir, onDelete: "keep" } })).outs;
            await hooks.delete(o.serialNumber, o);
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["transport-ca.crt", "transport.crt", "transport.key"]);
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport.key"), "utf8"), o.keyPem);
        });

        it("a state written by a release that kept nothing aside: delete leaves the files (the node's only certificate) and says so", async () => {
            const o = (await hooks.create({ ...base, delivery: { directory: dir } })).outs;
            for (const f of o.keptAsidePaths) {
                fs.rmSync(f);
            }
            const legacy = { ...o };
            delete legacy.keptAsidePaths;
            const warnings = await captureLog(() => hooks.delete(o.serialNumber, legacy));
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["transport-ca.crt", "transport.crt", "transport.key"]);
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport.crt"), "utf8"), o.certPem);
            assert.match(warnings, /left .*transport\.crt.* in place: delivered by an earlier release that kept nothing aside/);
        });

        it("an update of such a state keeps delivering without recording the previous release's files as the node's own", async () => {
            const inputs = { ...base, delivery: { directory: dir } };
            const o = (await hooks.create(inputs)).outs;
            for (const f of o.keptAsidePaths) {
                fs.rmSync(f);
            }
            const legacy = { ...o, deliveryInSync: false };
            delete legacy.keptAsidePaths;
            fs.writeFileSync(path.join(dir, "transport.crt"), "hand edit\n");
            const u = (await hooks.update("id", legacy, inputs)).outs;
            assert.strictEqual(u.keptAsidePaths, undefined);
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["transport-ca.crt", "transport.crt", "transport.key"]);
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport.crt"), "utf8"), o.certPem);
        });

        it("a switch of the files interrupted between two renames (its record left) is drift at refresh, and the next up completes it", async () => {
            const inputs = { ...base, delivery: { directory: dir } };
            const o = (await hooks.create(inputs)).outs;
            const record = path.join(dir, ".transport.crt.es-remote-switch");
            assert.ok(!fs.existsSync(record), "a finished delivery leaves no record");
            fs.writeFileSync(record, "{}\n"); // what a process killed after the key's rename leaves
            const r = await hooks.read(o.serialNumber, o);
            assert.strictEqual(r.props.deliveryInSync, false);
            assert.match(r.inputs.observedDrift.join("|"), /an earlier write of the three files did not finish/);
            assert.strictEqual((await hooks.diff(o.serialNumber, r.props, inputs)).changes, true);
            const fixed = (await hooks.update(o.serialNumber, r.props, inputs)).outs;
            assert.strictEqual(fixed.deliveryInSync, true);
            assert.ok(!fs.existsSync(record));
            assert.strictEqual((await hooks.read(o.serialNumber, fixed)).inputs, undefined, "no drift left");
        });

        it("refresh returns the drift it found as the observedDrift input (for preview --diff); check drops it from the program's inputs", async () => {
            const inputs = { ...base, delivery: { directory: dir } };
            const o = (await hooks.create(inputs)).outs;
            const clean = await hooks.read(o.serialNumber, o);
            assert.strictEqual(clean.inputs, undefined, "no drift: the stored inputs stay as they are");
            fs.writeFileSync(path.join(dir, "transport.key"), otherCa.keyPem);
            const r = await hooks.read(o.serialNumber, o);
            const notPair = "delivery: transport.key is not the key of the certificate in transport.crt";
            assert.deepStrictEqual(r.inputs.observedDrift, ["delivery: transport.key holds another key", notPair]);
            assert.strictEqual(r.inputs.caCertPem, ca.certPem);
            assert.deepStrictEqual(r.inputs.delivery, inputs.delivery);
            assert.strictEqual(r.inputs.caKeyPem, undefined, "the CA key is never in the state");
            assertNoSecrets(r.inputs, [o.keyPem, ca.keyPem, otherCa.keyPem]);
            fs.rmSync(path.join(dir, "transport.crt"));
            assert.deepStrictEqual((await hooks.read(o.serialNumber, o)).inputs.observedDrift,
                ["delivery: transport.crt is missing", "delivery: transport.key holds another key"]);
            const foreign = await issueNodeCertificate(otherCa, { commonName: "intruder", dnsNames: ["x"] });
            fs.writeFileSync(path.join(dir, "transport.crt"), foreign.certPem);
            fs.writeFileSync(path.join(dir, "transport-ca.crt"), otherCa.certPem);
            assert.deepStrictEqual((await hooks.read(o.serialNumber, o)).inputs.observedDrift, [
                `delivery: transport.crt holds serial ${foreign.serialNumber}, not ${o.serialNumber}`,
                "delivery: transport.key holds another key",
                "delivery: transport-ca.crt holds other CA certificates",
                notPair,
            ]);
            assert.deepStrictEqual(await hooks.check(r.inputs, { ...inputs, observedDrift: ["x"] }), { inputs });
        });

        it("changing onDelete is an in-place update that rewrites nothing of the certificate", async () => {
            const inputs = { ...base, delivery: { directory: dir } };
            const o = (await hooks.create(inputs)).outs;
            const keep = { ...inputs, delivery: { directory: dir, onDelete: "keep" } };
            assert.deepStrictEqual(await hooks.diff("id", o, keep), { changes: true, replaces: [], deleteBeforeReplace: false });
            assert.deepStrictEqual(await hooks.diff("id", o, { ...inputs, delivery: { directory: dir, onDelete: "restore" } }),
                { changes: false, replaces: [], deleteBeforeReplace: false }, "restore is the default");
            const u = (await hooks.update("id", o, keep)).outs;
            assert.strictEqual(u.serialNumber, o.serialNumber);
            assert.deepStrictEqual(u.keptAsidePaths, o.keptAsidePaths);
        });

        it("purpose remoteClusterServer: default file names remote-cluster-server.*; changing the purpose replaces the certificate", async () => {
            const inputs = { ...base, purpose: "remoteClusterServer", delivery: { directory: dir } };
            const o = (await hooks.create(inputs)).outs;
            assert.deepStrictEqual(visible(dir), ["remote-cluster-server-ca.crt", "remote-cluster-server.crt", "remote-cluster-server.key"]);
            assert.strictEqual(fs.readFileSync(path.join(dir, "remote-cluster-server.key"), "utf8"), o.keyPem);
            assert.strictEqual(mode(path.join(dir, "remote-cluster-server.key")), KEY_MODE);
            assert.strictEqual(o.purpose, "remoteClusterServer");
            assert.strictEqual((await hooks.read("id", o)).props.deliveryInSync, true);
            assert.deepStrictEqual((await hooks.diff("id", o, inputs)).changes, false);
            assert.deepStrictEqual((await hooks.diff("id", o, { ...inputs, purpose: "transport" })).replaces, ["purpose"]);
            assert.deepStrictEqual((await hooks.diff("id", o, { ...inputs, purpose: undefined })).replaces, ["purpose"]);
            assertFailure((await hooks.check({}, { ...inputs, purpose: "http" })).failures, "purpose", "must be one of \"transport\", \"remoteClusterServer\"");
            await hooks.delete("id", o);
            assert.deepStrictEqual(fs.readdirSync(dir), []);
        });

        it("moving the delivery removes the old files and writes the new ones", async () => {
            const other = tempDir("nodecert-test-moved");
            try {
                const created = (await hooks.create({ ...base, delivery: { directory: dir } })).outs;
                const moved = (await hooks.update("id", created, { ...base, delivery: { directory: other, keyFileMode: 0o640 } })).outs;
                assert.deepStrictEqual(fs.readdirSync(dir), [], "the old files did not exist before: removed, with their records");
                assert.deepStrictEqual(visible(other), ["transport-ca.crt", "transport.crt", "transport.key"]);
                assert.strictEqual(mode(path.join(other, "transport.key")), 0o640);
                assert.strictEqual(moved.deliveryInSync, true);
                const dropped = (await hooks.update("id", moved, base)).outs;
                assert.deepStrictEqual(fs.readdirSync(other), []);
                assert.ok(!("deliveredFingerprintSha256" in dropped) && !("delivery" in dropped));
            } finally {
                fs.rmSync(other, { recursive: true, force: true });
            }
        });
    });

    describe("when a delivery must wait for the node to re-read its trusted CAs", () => {
        // Only a change of the trusted CAs alone: a new certificate proves the reload by being served.
        const t = { directory: "/nowhere", extraTrustedCaPems: ["-----BEGIN CERTIFICATE-----\nNEXT\n-----END CERTIFICATE-----\n"] };
        const o = { certPem: "CERT\n", caPem: "CA\n" };
        const trusted = trustFileContent(t, o.caPem);
        it("the same certificate, other trusted CAs (CA rotation steps a and c): waits", () => {
            assert.strictEqual(onlyTrustChanged({ certPem: o.certPem, caPem: "CA\n" }, t, o), true);
            assert.strictEqual(onlyTrustChanged({ certPem: o.certPem, caPem: trusted }, { directory: "/nowhere" }, o), true);
        });
        it("a new certificate, or nothing changed, or a first delivery: does not", () => {
            assert.strictEqual(onlyTrustChanged({ certPem: "OLD\n", caPem: "CA\n" }, t, o), false);
            assert.strictEqual(onlyTrustChanged({ certPem: o.certPem, caPem: trusted }, t, o), false);
            assert.strictEqual(onlyTrustChanged({}, t, o), false);
        });
    });

    describe("verifyOn (against a fake node)", () => {
        let node: FakeNode;
        let old: { certPem: string; keyPem: string; serialNumber: string };
        before(async () => {
            old = await issueNodeCertificate(ca, { commonName: "es-node-1", dnsNames: ["localhost"] });
        });
        beforeEach(async () => {
            node = await fakeNode("es-node-1", old);
            node.serials = [old.serialNumber];
        });
        afterEach(async () => node.close());

        const verifyOn = (n: FakeNode, extra: Record<string, unknown> = {}) => ({
            connection: { urls: [n.url], username: "elastic", password: "s3cret-pw", maxRetries: 0 },
            nodeName: "es-node-1",
            timeoutSeconds: 20,
            ...extra,
        });
        const delivered = () => ({
            certPem: fs.readFileSync(path.join(dir, "transport.crt"), "utf8"),
            keyPem: fs.readFileSync(path.join(dir, "transport.key"), "utf8"),
        });

        it("waits until the transport layer presents the new certificate, not just until _ssl/certificates lists it", async () => {
            // Like Elasticsearch: _ssl/certificates reads the files at once; the transport layer
            // switches a few polls later.
            let switchedAt = 0;
            node.onSsl = (count) => {
                if (fs.existsSync(path.join(dir, "transport.crt"))) {
                    node.serials = [new crypto.X509Certificate(delivered().certPem).serialNumber];
                    if (!switchedAt) {
                        switchedAt = count + 2;
                    } else if (count >= switchedAt) {
                        node.setTransportCert(delivered());
                    }
                }
            };
            const o = (await hooks.create({ ...base, delivery: { directory: dir }, verifyOn: verifyOn(node) })).outs;
            assert.strictEqual(o.servedByNode, true);
            const polls = node.requests.filter((r) => r === "GET /_ssl/certificates").length;
            assert.ok(polls >= switchedAt, `kept polling after _ssl/certificates listed the serial (${polls} polls, switch at ${switchedAt})`);
            assert.ok(node.requests.includes("GET /_nodes/es-node-1/transport"));
            assert.ok(node.authorizations.every((a) => a === `Basic ${Buffer.from("elastic:s3cret-pw").toString("base64")}`));
        });

        it("read reports a node serving another certificate, and diff asks for an update", async () => {
            const inputs = { ...base, delivery: { directory: dir }, verifyOn: verifyOn(node) };
            const created = (await hooks.create({ ...inputs, verifyOn: undefined })).outs;
            const state = { ...created, verifyOn: inputs.verifyOn, servedByNode: true };
            node.setTransportCert(created);
            assert.strictEqual((await hooks.read("id", state)).props.servedByNode, true);
            node.setTransportCert(old);
            const staleRead = await hooks.read("id", state);
            const stale = staleRead.props;
            assert.strictEqual(stale.servedByNode, false);
            assert.match(staleRead.inputs.observedDrift[0], new RegExp(`^verifyOn: node es-node-1 does not serve certificate ${created.serialNumber}: its transport layer .* presents certificate ${old.serialNumber}`));
            assert.ok(!("verifyOn" in staleRead.inputs), "the connection's credentials are not echoed into the inputs");
            assert.ok(!JSON.stringify(staleRead.inputs).includes("s3cret-pw"));
            assert.deepStrictEqual(await hooks.diff("id", stale, inputs), { changes: true, replaces: [], deleteBeforeReplace: false });
            node.setTransportCert(created);
            const repaired = (await hooks.update("id", stale, inputs)).outs;
            assert.strictEqual(repaired.servedByNode, true);
        });

        it("read does not fail when the node is down; it reports servedByNode false", async () => {
            const inputs = { ...base, delivery: { directory: dir }, verifyOn: verifyOn(node) };
            const created = (await hooks.create({ ...inputs, verifyOn: undefined })).outs;
            await node.close();
            node = await fakeNode("es-node-1"); // for afterEach
            const r = (await hooks.read("id", { ...created, verifyOn: inputs.verifyOn, servedByNode: true })).props;
            assert.strictEqual(r.servedByNode, false);
        });

        it("falls back to _ssl/certificates when the transport address cannot be reached from here", async () => {
            const blind = await fakeNode("es-node-1");
            try {
                const created = (await hooks.create({ ...base, delivery: { directory: dir } })).outs;
                const state = { ...created, verifyOn: verifyOn(blind) };
                blind.serials = [old.serialNumber];
                assert.strictEqual((await hooks.read("id", state)).props.servedByNode, false);
                blind.serials = [created.serialNumber.toUpperCase()];
                assert.strictEqual((await hooks.read("id", state)).props.servedByNode, true);
            } finally {
                await blind.close();
            }
        });

        it("finds the node through its publish address when the URL is another node", async () => {
            const gateway = await fakeNode("coordinating-node");
            try {
                gateway.others["es-node-1"] = node.url.replace("http://", "");
                const created = (await hooks.create({ ...base, delivery: { directory: dir } })).outs;
                node.setTransportCert(created);
                const r = (await hooks.read("id", { ...created, verifyOn: verifyOn(gateway) })).props;
                assert.strictEqual(r.servedByNode, true);
                assert.ok(gateway.requests.includes("GET /_nodes/es-node-1/http"));
                assert.ok(!gateway.requests.includes("GET /_ssl/certificates"), "the gateway's own certificates are not asked");
                assert.ok(node.requests.includes("GET /_ssl/certificates"));
            } finally {
                await gateway.close();
            }
        });

        it("fails create after timeoutSeconds, naming the node, what it serves and the fix, without the password", async () => {
            const inputs = { ...base, delivery: { directory: dir }, verifyOn: verifyOn(node, { timeoutSeconds: 1 }) };
            await assert.rejects(hooks.create(inputs), (e: Error) => {
                // The files were written: the create is recorded as interrupted, the node's answer its cause.
                assert.ok(e instanceof CreateInterruptedError && e.cause instanceof TrustError, String(e));
                assert.match(e.message, new RegExp(`node es-node-1 did not serve certificate [0-9a-f]+ within 1 s \\(its transport layer \\(127\\.0\\.0\\.1:\\d+\\) presents certificate ${old.serialNumber}`));
                assert.match(e.message, /xpack\.security\.transport\.ssl\.certificate/);
                assert.ok(!e.message.includes("s3cret-pw"));
                return true;
            });
        });

        it("a create that times out waiting for the node is recorded as interrupted: up resumes it, destroy puts the node's files back", async () => {
            const p = (f: string) => path.join(dir, f);
            fs.writeFileSync(p("transport.crt"), old.certPem, { mode: 0o644 });
            fs.writeFileSync(p("transport.key"), old.keyPem, { mode: 0o600 });
            fs.writeFileSync(p("transport-ca.crt"), ca.certPem, { mode: 0o644 });
            const inputs = { ...base, delivery: { directory: dir }, verifyOn: verifyOn(node, { timeoutSeconds: 1 }) };
            let props: Record<string, unknown> = {};
            let id = "";
            await assert.rejects(hooks.create(inputs), (e: CreateInterruptedError) => {
                assert.ok(e instanceof CreateInterruptedError, String(e));
                assert.match(e.message, /did not serve certificate .* so the stack records the certificate as not finished: run 'pulumi up' again .* or 'pulumi destroy' \(it puts the previous files back\)/);
                assert.ok(!e.message.includes("s3cret-pw"));
                props = e.properties;
                id = e.id;
                return true;
            });
            assert.strictEqual(props.createInterrupted, true);
            assert.strictEqual(id, props.serialNumber);
            assert.strictEqual(fs.readFileSync(p("transport.crt"), "utf8"), props.certPem, "the new certificate was written before the wait");
            assert.deepStrictEqual((props.keptAsidePaths as string[]).length, 3);
            // refresh keeps the mark; the next up's diff asks for an update, which writes and waits again.
            const refreshed = (await hooks.read(id, props)).props;
            assert.strictEqual(refreshed.createInterrupted, true);
            assert.strictEqual((await hooks.diff(id, refreshed, inputs)).changes, true);
            // destroy (of that state, instead of an up): the node's own files come back.
            const copy = fs.mkdtempSync(path.join(path.dirname(dir), "nodecert-copy-"));
            try {
                for (const f of fs.readdirSync(dir)) fs.copyFileSync(p(f), path.join(copy, f));
                await hooks.delete(id, { ...props, delivery: { directory: copy } });
                assert.strictEqual(fs.readFileSync(path.join(copy, "transport.crt"), "utf8"), old.certPem);
                assert.strictEqual(fs.readFileSync(path.join(copy, "transport.key"), "utf8"), old.keyPem);
                assert.deepStrictEqual(fs.readdirSync(copy).sort(), ["transport-ca.crt", "transport.crt", "transport.key"], "no record left behind");
            } finally {
                fs.rmSync(copy, { recursive: true, force: true });
            }
            // up, once the node serves it: the interrupted create is finished.
            node.setTransportCert({ certPem: props.certPem as string, keyPem: props.keyPem as string });
            node.serials = [String(props.serialNumber)];
            const done = (await hooks.update(id, refreshed, { ...inputs, verifyOn: verifyOn(node) })).outs;
            assert.strictEqual(done.servedByNode, true);
            assert.strictEqual(done.createInterrupted, undefined);
            assert.strictEqual(done.certPem, props.certPem);
            await hooks.delete(id, done);
            assert.strictEqual(fs.readFileSync(p("transport.crt"), "utf8"), old.certPem, "the records kept by the interrupted create still restore");
        });

        it("fails naming the node when no node has that name", async () => {
            const inputs = { ...base, delivery: { directory: dir }, verifyOn: verifyOn(node, { nodeName: "ghost", timeoutSeconds: 1 }) };
            await assert.rejects(hooks.create(inputs), (e: Error) => {
                assert.ok(e instanceof CreateInterruptedError && e.cause instanceof NodeNotFoundError, String(e));
                assert.match(e.message, /ghost is not in the cluster at .* \(nodes answering there: es-node-1\); check verifyOn\.nodeName/);
                return true;
            });
        });
    });
});
