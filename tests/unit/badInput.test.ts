/**
 * Bad input across every resource (tests/unit/fixtures/badInput.ts): each malformed input is a
 * `check` failure naming the exact property with a reason that says what to do; nothing is sent to
 * any cluster; `create` refuses what `check` refuses; no secret is echoed; and a connection that
 * does not verify TLS warns on every check.
 *
 * The link cases point at a TEST DOUBLE (tests/support/flakyProxy.ts), an HTTPS server that only
 * counts requests: a refused input must never reach a cluster. tests/integration/faults.test.ts runs
 * a subset against a real cluster and compares its settings before and after.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { generateCa, issueNodeCertificate } from "../../provider/certs/pem";
import { InputError } from "../../provider/core/errors";
import * as nodeCertificate from "../../provider/nodeCertificate";
import * as crossClusterRole from "../../provider/crossClusterRole";
import * as crossClusterUser from "../../provider/crossClusterUser";
import * as crossClusterApiKey from "../../provider/crossClusterApiKey";
import * as link from "../../provider/remoteClusterLink";
import * as sharedCa from "../../provider/sharedCa";
import { Double, startDouble } from "../support/flakyProxy";
import { BAD_INPUTS, BadInputContext, GOOD_INPUTS, Resource, SECRET } from "./fixtures/badInput";
import { warningsOf } from "../support/assertions";

const HOOKS: Record<Resource, { check: (o: any, n: any) => Promise<any>; create: (n: any) => Promise<any> }> = {
    SharedCa: sharedCa,
    NodeCertificate: nodeCertificate,
    RemoteClusterLink: link,
    CrossClusterRole: crossClusterRole,
    CrossClusterUser: crossClusterUser,
    CrossClusterApiKey: crossClusterApiKey,
};

describe("bad input: every resource refuses malformed input at check, naming the property", function () {
    this.timeout(60000);
    let ctx: BadInputContext;
    let double: Double;

    before(async () => {
        double = await startDouble();
        const ca = await generateCa({ commonName: "bad-input CA" });
        ctx = {
            ca,
            otherCa: await generateCa({ commonName: "another CA" }),
            leaf: await issueNodeCertificate(ca, { commonName: "leaf", dnsNames: ["leaf.example.com"] }),
            encryptedCaKey: crypto.createPrivateKey(ca.keyPem).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" }).toString(),
            url: double.url,
            remoteUrl: "https://127.0.0.2:9200",
            httpCaPem: double.caPem,
            dir: fs.mkdtempSync(path.join(os.tmpdir(), "bad-input-")),
        };
    });
    after(async () => {
        await double.close();
        fs.rmSync(ctx.dir, { recursive: true, force: true });
    });

    it("the valid starting points pass (so each case fails for its one mistake)", async () => {
        assert.deepStrictEqual((await sharedCa.check({}, GOOD_INPUTS.SharedCa(ctx))).failures, undefined);
        assert.deepStrictEqual((await nodeCertificate.check({} as any, GOOD_INPUTS.NodeCertificate(ctx) as any)).failures, undefined);
        assert.deepStrictEqual(link.validateLinkInputs(GOOD_INPUTS.RemoteClusterLink(ctx)), []);
        assert.deepStrictEqual((await crossClusterRole.check({}, GOOD_INPUTS.CrossClusterRole(ctx) as any)).failures, []);
        assert.deepStrictEqual((await crossClusterUser.check({}, GOOD_INPUTS.CrossClusterUser(ctx) as any)).failures, []);
        assert.deepStrictEqual((await crossClusterApiKey.check({}, GOOD_INPUTS.CrossClusterApiKey(ctx) as any)).failures, []);
    });

    // Each case asserts on its own that nothing reached the double, so it proves that alone under --grep.
    beforeEach(() => {
        double.requests.length = 0;
    });

    for (const c of BAD_INPUTS) {
        it(`${c.resource}: ${c.why} → ${c.property}`, async () => {
            const news = c.news(ctx);
            const r = await HOOKS[c.resource].check({}, news);
            assert.deepStrictEqual(double.requests.map((q) => `${q.method} ${q.path}`), [], "a refused input reached the cluster");
            assert.ok(Array.isArray(r.failures), `expected failures, got ${JSON.stringify(r.failures)}`);
            assert.deepStrictEqual(r.failures.map((f: { property: string }) => f.property), [c.property], JSON.stringify(r.failures));
            assert.ok(r.failures[0].reason.includes(c.fragment), `reason "${r.failures[0].reason}" should contain "${c.fragment}"`);
            const text = JSON.stringify(r.failures);
            assert.ok(!text.includes(SECRET), "a password was echoed");
            for (const key of [ctx.ca.keyPem, ctx.otherCa.keyPem, ctx.leaf.keyPem]) {
                assert.ok(!text.includes(key.split("\n")[1]), "a private key was echoed");
            }
        });
    }

    for (const resource of Object.keys(HOOKS) as Resource[]) {
        it(`${resource}: create refuses what check refuses, naming the same property (nothing is issued, written or sent)`, async () => {
            for (const c of BAD_INPUTS.filter((x) => x.resource === resource)) {
                await assert.rejects(HOOKS[resource].create(c.news(ctx)), (e: Error) => {
                    assert.ok(e instanceof InputError, `${c.why}: ${e.name}: ${e.message}`);
                    assert.strictEqual(e.property, c.property, c.why);
                    return true;
                });
            }
            assert.deepStrictEqual(fs.readdirSync(ctx.dir), [], "no file was delivered");
            assert.deepStrictEqual(double.requests.map((q) => `${q.method} ${q.path}`), [], "a refused input reached the cluster");
        });
    }
});

describe("bad input: a connection that does not verify TLS warns on every check", function () {
    this.timeout(60000);
    let double: Double;
    let ca: Awaited<ReturnType<typeof generateCa>>;
    let dir: string;
    before(async () => {
        double = await startDouble();
        ca = await generateCa({ commonName: "warn CA" });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "bad-input-warn-"));
    });
    after(async () => {
        await double.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const insecure = (url: string) => ({ urls: [url], username: "elastic", password: SECRET, insecure: true, maxRetries: 0 });
    const http = () => ({ urls: ["http://127.0.0.1:1"], username: "elastic", password: SECRET, maxRetries: 0 });

    it("RemoteClusterLink: insecure local and remote warn, each check, naming the side", async () => {
        const news = { local: insecure(double.url), remote: insecure(double.url), alias: "warn", seeds: ["10.0.0.9:9300"] };
        for (let run = 0; run < 2; run++) {
            const w = await warningsOf(() => link.check({}, news));
            assert.ok(w.some((m) => /local\.insecure is set/.test(m)), `run ${run}: ${w.join(" | ")}`);
            assert.ok(w.some((m) => /remote\.insecure is set/.test(m)), `run ${run}: ${w.join(" | ")}`);
        }
    });

    it("RemoteClusterLink: a plain http:// URL warns (the password would cross the network in clear text)", async () => {
        const w = await warningsOf(() => link.check({}, { local: http(), alias: "warn", seeds: ["10.0.0.9:9300"] }));
        assert.ok(w.some((m) => /local\.urls http:\/\/127\.0\.0\.1:1 use plain http/.test(m)), w.join(" | "));
        assert.ok(!w.join(" ").includes(SECRET));
    });

    it("NodeCertificate: an insecure or http verifyOn connection warns on every check", async () => {
        const base = { caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: "n", dnsNames: ["n.example.com"], delivery: { directory: dir } };
        for (let run = 0; run < 2; run++) {
            const w1 = await warningsOf(() => nodeCertificate.check({} as any, { ...base, verifyOn: { nodeName: "n", connection: insecure(double.url) } } as any));
            assert.ok(w1.some((m) => /verifyOn\.connection\.insecure is set/.test(m)), `run ${run}: ${w1.join(" | ")}`);
        }
        const w2 = await warningsOf(() => nodeCertificate.check({} as any, { ...base, verifyOn: { nodeName: "n", connection: http() } } as any));
        assert.ok(w2.some((m) => /verifyOn\.connection\.urls .* use plain http/.test(m)), w2.join(" | "));
    });

    it("a verified connection does not warn", async () => {
        // The same check with only insecure flipped does warn: without this control, a capture that
        // saw nothing (pulumi.log no longer reaching console.warn) would pass here, alone under --grep.
        const news = (insecureFlag: boolean) => ({ local: { urls: [double.url], caPem: double.caPem, maxRetries: 0, ...(insecureFlag ? { insecure: true } : {}) }, alias: "quiet", seeds: ["10.0.0.9:9300"] });
        const control = await warningsOf(() => link.check({}, news(true)));
        assert.ok(control.some((m) => /local\.insecure is set/.test(m)), `the control did not warn: ${control.join(" | ")}`);
        const w = await warningsOf(() => link.check({}, news(false)));
        assert.deepStrictEqual(w.filter((m) => /insecure|plain http/.test(m)), []);
    });
});

describe("bad input: FollowerIndex and AutoFollowPattern (check names the property, create refuses with the same InputError, nothing sent)", () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const follower = require("../../provider/followerIndex") as typeof import("../../provider/followerIndex");
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const pattern = require("../../provider/autoFollowPattern") as typeof import("../../provider/autoFollowPattern");
    // Nothing listens on port 1: a hook that sent a request would fail unreachable, not with an InputError.
    const local = { urls: ["https://127.0.0.1:1"], username: "elastic", password: SECRET, maxRetries: 0 };
    const f = (extra: Record<string, unknown>) => ({ local, alias: "leader", leaderIndex: "logs", followerIndex: "logs-copy", ...extra });
    const p = (extra: Record<string, unknown>) => ({ local, alias: "leader", name: "logs", leaderIndexPatterns: ["logs-*"], ...extra });
    const followerCases: Array<[string, Record<string, unknown>, RegExp]> = [
        ["leaderIndex", f({ leaderIndex: "Logs" }), /upper-case/],
        ["leaderIndex", f({ leaderIndex: "logs-*" }), /character Elasticsearch refuses/],
        ["followerIndex", f({ followerIndex: "" }), /index name is required/],
        ["alias", f({ alias: "a b" }), /remote cluster alias/],
        ["status", f({ status: "stopped" }), /"active" or "paused"/],
        ["onDestroy", f({ onDestroy: "keep" }), /"unfollow" .* or "delete"/],
        ["maxReadRequestOperationCount", f({ maxReadRequestOperationCount: 0 }), /whole number of 1 or more/],
        ["maxReadRequestSize", f({ maxReadRequestSize: "32 megs" }), /byte size such as "32mb"/],
        ["readPollTimeout", f({ readPollTimeout: "60" }), /time value such as "500ms"/],
        ["settings", f({ settings: ["x"] }), /object of index settings/],
        ["adoptExisting", f({ adoptExisting: "yes" }), /true or false/],
        ["local.urls", f({ local: { urls: [] } }), /at least one URL/],
    ];
    for (const [property, news, reason] of followerCases) {
        it(`FollowerIndex ${property}: ${JSON.stringify(news[property.split(".")[0]])}`, async () => {
            const c = await follower.check({}, news as any);
            const hit = (c.failures ?? []).find((x) => x.property === property);
            assert.ok(hit && reason.test(hit.reason), JSON.stringify(c.failures));
            await assert.rejects(follower.create(news as any), (e: Error) => e instanceof InputError && e.property === property && /Nothing was written/.test(e.message) && !e.message.includes(SECRET));
        });
    }
    const patternCases: Array<[string, Record<string, unknown>, RegExp]> = [
        ["name", p({ name: "has space" }), /pattern name/],
        ["leaderIndexPatterns", p({ leaderIndexPatterns: [] }), /at least one leader index pattern/],
        ["leaderIndexPatterns[0]", p({ leaderIndexPatterns: ["Logs-*"] }), /upper-case/],
        ["followIndexPattern", p({ followIndexPattern: "copy" }), /must contain \{\{leader_index\}\}/],
        ["maxWriteBufferSize", p({ maxWriteBufferSize: 512 }), /byte size/],
    ];
    for (const [property, news, reason] of patternCases) {
        it(`AutoFollowPattern ${property}: ${JSON.stringify(news[property.replace(/\[.*$/, "")])}`, async () => {
            const c = await pattern.check({}, news as any);
            const hit = (c.failures ?? []).find((x) => x.property === property);
            assert.ok(hit && reason.test(hit.reason), JSON.stringify(c.failures));
            await assert.rejects(pattern.create(news as any), (e: Error) => e instanceof InputError && e.property === property && /Nothing was written/.test(e.message));
        });
    }
});

describe("bad input: RemoteClusterLink.signing (check names the property, create refuses with the same InputError, nothing sent, no key echoed)", () => {
    // Nothing listens on port 1: a hook that sent a request would fail unreachable, not with an InputError.
    const local = { urls: ["https://127.0.0.1:1"], username: "elastic", password: SECRET, maxRetries: 0 };
    const credential = Buffer.from("keyid:keysecret").toString("base64");
    const KEY_LINE = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg";
    const keyPem = `-----BEGIN PRIVATE KEY-----\n${KEY_LINE}\n-----END PRIVATE KEY-----\n`;
    let certPem = "";
    before(async () => {
        const ca = await generateCa({ commonName: "signing CA" });
        certPem = (await issueNodeCertificate(ca, { commonName: "signer", dnsNames: ["signer"] })).certPem;
    });
    const apiKey = (signing: unknown) => ({
        local, alias: "us", seeds: ["10.0.0.9:9443"], security: "apiKey", credential,
        keystoreOn: [{ esHome: "/usr/share/elasticsearch", configDir: "/etc/elasticsearch" }], signing,
    });
    const cases: Array<[string, string, () => Record<string, unknown>, RegExp]> = [
        ["with certificate trust", "signing", () => ({ local, alias: "us", seeds: ["10.0.0.9:9300"], signing: { certPem, keyPem } }), /only used with security: "apiKey"/],
        ["security: certificate said outright", "signing", () => ({ local, alias: "us", seeds: ["10.0.0.9:9300"], security: "certificate", signing: { certPem, keyPem } }), /set security: "apiKey" .* or remove signing/],
        ["a string, not an object", "signing", () => apiKey(certPem), /must be an object \{ certPem, keyPem, keyPassphrase\? \}/],
        ["a list", "signing", () => apiKey([certPem, keyPem]), /must be an object/],
        ["no certificate", "signing.certPem", () => apiKey({ keyPem }), /must be a PEM certificate/],
        ["the key in certPem", "signing.certPem", () => apiKey({ certPem: keyPem, keyPem }), /must be a PEM certificate/],
        ["no key", "signing.keyPem", () => apiKey({ certPem }), /must be a PEM private key/],
        ["the certificate in keyPem", "signing.keyPem", () => apiKey({ certPem, keyPem: certPem }), /must be a PEM private key/],
        ["an empty passphrase", "signing.keyPassphrase", () => apiKey({ certPem, keyPem, keyPassphrase: "" }), /non-empty string/],
        ["a passphrase as a number", "signing.keyPassphrase", () => apiKey({ certPem, keyPem, keyPassphrase: 1234 }), /non-empty string/],
        ["a misspelt field", "signing.key", () => apiKey({ certPem, keyPem, key: keyPem }), /is not a signing field/],
    ];
    for (const [why, property, news, reason] of cases) {
        it(`RemoteClusterLink: signing ${why} → ${property}`, async () => {
            const c = await link.check({}, news());
            assert.deepStrictEqual((c.failures ?? []).map((x: { property: string }) => x.property), [property], JSON.stringify(c.failures));
            assert.ok(reason.test(c.failures[0].reason), c.failures[0].reason);
            assert.ok(!JSON.stringify(c.failures).includes(KEY_LINE), "a private key was echoed");
            await assert.rejects(link.create(news() as any), (e: Error) => e instanceof InputError && e.property === property && !e.message.includes(KEY_LINE) && !e.message.includes(SECRET));
        });
    }
});
