/**
 * API-key remote clusters through the real Pulumi CLI on real nodes (9.x ↔ 9.x, trial licenses):
 * `up` makes the key and the link and a search works; `stack export` holds the key only encrypted;
 * a rotation makes the new key, rewrites the keystore, then invalidates the old key; `destroy`
 * leaves no settings, no keystore entry and no valid key; no file left on disk holds the credential.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { pulumi, runPulumi } from "../../rig/pulumi";
import { credentialSetting, listSettings, removeCredential } from "../../provider/link/keystoreTool";
import { connectionTo, remoteKeys, withClient } from "../support/connections";
import { ApiKeyCluster, apiKeyPool, stopApiKeyPool } from "../support/apiKeyClusters";
import { tempProject, TempProject } from "../support/project";
import { filesContaining } from "../support/assertions";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { CrossClusterApiKey, RemoteClusterLink } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const local = cfg.requireSecretObject("local");
const remote = cfg.requireSecretObject("remote");
const key = new CrossClusterApiKey("key", {
    remote, name: "e2e-apikey", access: { search: [{ names: ["logs-*"] }] }, rotation: cfg.require("rotation"),
});
const link = new RemoteClusterLink("link", {
    local, remote, alias: "e2eak", security: "apiKey", credential: key.encoded,
    keystoreOn: cfg.requireObject("keystoreOn"), seeds: [cfg.require("seed")],
    skipUnavailable: false, connectionTimeoutSeconds: 120,
});
exports.connected = link.connected;
exports.keyId = key.keyId;
exports.encoded = key.encoded;
`;

const MIGRATION_PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { CrossClusterApiKey, RemoteClusterLink } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const local = cfg.requireSecretObject("local");
const remote = cfg.requireSecretObject("remote");
const apiKey = cfg.require("security") === "apiKey";
const key = apiKey ? new CrossClusterApiKey("key", { remote, name: "e2e-migration", access: { search: [{ names: ["logs-*"] }] } }) : undefined;
const link = new RemoteClusterLink("link", {
    local, remote, alias: "e2emig", skipUnavailable: false, connectionTimeoutSeconds: 120,
    seeds: [apiKey ? cfg.require("serverSeed") : cfg.require("transportSeed")],
    ...(apiKey ? { security: "apiKey", credential: key.encoded, keystoreOn: cfg.requireObject("keystoreOn") } : {}),
});
exports.connected = link.connected;
`;

const ROLE_PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { CrossClusterApiKey, CrossClusterRole } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const key = new CrossClusterApiKey("key", { remote: cfg.requireSecretObject("remote"), name: "e2e-role-check", access: { search: [{ names: ["logs-*"] }] } });
new CrossClusterRole("reader", {
    model: "apiKey", local: cfg.requireSecretObject("local"), clusters: ["e2erole"], name: "e2e_role_check",
    preset: "search", indices: ["logs-*", "metrics-*"], keyAccess: { e2erole: key.access },
});
`;

describe("e2e: API-key remote clusters with the real Pulumi CLI", function () {
    this.timeout(1_800_000);
    let remote: ApiKeyCluster;
    let local: ApiKeyCluster;
    /** What each test may leave on the shared clusters if it fails midway, cleaned after it. */
    let leftovers: { project?: TempProject; aliases: string[]; keyNames: string[]; roles: string[] } = { aliases: [], keyNames: [], roles: [] };
    before(async function () {
        [remote, local] = await apiKeyPool("ak9remote", "ak9local");
        await withClient(remote, (c) => c.index({ index: "logs-e2e", id: "1", document: { m: 1 }, refresh: true }));
    });
    afterEach(async function () {
        // A test that passed has destroyed its stack and this finds nothing; one that failed midway
        // must not leave an alias, a keystore entry, a valid key or a role for the tests after it.
        this.timeout(300_000);
        const l = leftovers;
        leftovers = { aliases: [], keyNames: [], roles: [] };
        if (l.project) await runPulumi(l.project.ws, ["destroy", "--yes"]).catch(() => undefined);
        const ks = { esHome: local.esHome, configDir: local.configDir, javaHome: local.javaHome };
        for (const alias of l.aliases) {
            await withClient(local, (c) => c.cluster.putSettings({ persistent: { [`cluster.remote.${alias}.*`]: null } })).catch(() => undefined);
            if ((await listSettings(ks)).includes(credentialSetting(alias))) await removeCredential(ks, alias);
        }
        for (const name of l.keyNames) {
            await withClient(remote, (c) => c.security.invalidateApiKey({ name })).catch(() => undefined);
        }
        for (const name of l.roles) {
            await withClient(local, (c) => c.security.deleteRole({ name })).catch(() => undefined);
        }
        l.project?.remove();
    });
    after(async function () {
        await stopApiKeyPool();
    });

    it("up → search → export holds no key → rotation (new key first, old invalidated) → destroy leaves nothing", async () => {
        const ws = await tempProject("e2e-apikey", PROGRAM);
        leftovers = { project: ws, aliases: ["e2eak"], keyNames: ["e2e-apikey"], roles: [] };
        await pulumi(ws.ws, ["config", "set", "--secret", "local", JSON.stringify(connectionTo(local))]);
        await pulumi(ws.ws, ["config", "set", "--secret", "remote", JSON.stringify(connectionTo(remote))]);
        await pulumi(ws.ws, ["config", "set", "keystoreOn", JSON.stringify([{ esHome: local.esHome, configDir: local.configDir, javaHome: local.javaHome }])]);
        await pulumi(ws.ws, ["config", "set", "seed", remote.serverAddress]);
        await pulumi(ws.ws, ["config", "set", "rotation", "1"]);
        const transcript: string[] = [];
        transcript.push((await pulumi(ws.ws, ["up", "--yes"])).output);
        const out1 = JSON.parse((await pulumi(ws.ws, ["stack", "output", "--json", "--show-secrets"])).stdout);
        assert.strictEqual(out1.connected, true);
        const hit = await withClient(local, (c) => c.search({ index: "e2eak:logs-e2e" }));
        assert.strictEqual((hit.hits.total as any).value, 1);

        transcript.push((await pulumi(ws.ws, ["refresh", "--yes"])).output);
        transcript.push((await pulumi(ws.ws, ["preview", "--expect-no-changes"])).output);

        // rotation: the replacement key is created, the link updated, then the old key invalidated
        await pulumi(ws.ws, ["config", "set", "rotation", "2"]);
        const rot = await pulumi(ws.ws, ["up", "--yes"]);
        transcript.push(rot.output);
        assert.match(rot.output, /\+-\s*1 replaced/);
        const out2 = JSON.parse((await pulumi(ws.ws, ["stack", "output", "--json", "--show-secrets"])).stdout);
        assert.notStrictEqual(out2.keyId, out1.keyId);
        const keys = await withClient(remote, (c) => c.security.getApiKey({ name: "e2e-apikey" }));
        const byId = Object.fromEntries(keys.api_keys.map((k: any) => [k.id, k.invalidated]));
        assert.deepStrictEqual([byId[out1.keyId], byId[out2.keyId]], [true, false]);
        const hit2 = await withClient(local, (c) => c.search({ index: "e2eak:logs-e2e" }));
        assert.strictEqual((hit2.hits.total as any).value, 1);

        const exported = (await pulumi(ws.ws, ["stack", "export"])).stdout;
        const needles = [out1.encoded, out2.encoded, ...[out1.encoded, out2.encoded].map((e: string) => Buffer.from(e, "base64").toString().split(":")[1])];
        for (const n of needles) {
            assert.ok(!exported.includes(n), "stack export holds a key in plaintext");
            assert.ok(!transcript.join("\n").includes(n), "the CLI printed a key");
        }
        transcript.push((await pulumi(ws.ws, ["destroy", "--yes"])).output);
        assert.deepStrictEqual(await remoteKeys(local, "e2eak"), {});
        assert.ok(!(await listSettings({ esHome: local.esHome, configDir: local.configDir, javaHome: local.javaHome })).includes(credentialSetting("e2eak")));
        const after = await withClient(remote, (c) => c.security.getApiKey({ name: "e2e-apikey" }));
        assert.ok(after.api_keys.every((k: any) => k.invalidated), "destroy invalidated every key");
        assert.deepStrictEqual(filesContaining(ws.ws.stateDir, needles), [], "the state folder holds no key in plaintext");
        assert.deepStrictEqual(filesContaining(local.dir, needles), [], "the local node's files hold no key in plaintext");
    });
    it("migration in one pulumi up: a certificate link becomes an API-key link with the same alias (updated, not replaced); searches before and after", async () => {
        const m = await tempProject("e2e-apikey-migration", MIGRATION_PROGRAM);
        leftovers = { project: m, aliases: ["e2emig"], keyNames: ["e2e-migration"], roles: [] };
        {
            await pulumi(m.ws, ["config", "set", "--secret", "local", JSON.stringify(connectionTo(local))]);
            await pulumi(m.ws, ["config", "set", "--secret", "remote", JSON.stringify(connectionTo(remote))]);
            await pulumi(m.ws, ["config", "set", "keystoreOn", JSON.stringify([{ esHome: local.esHome, configDir: local.configDir, javaHome: local.javaHome }])]);
            await pulumi(m.ws, ["config", "set", "serverSeed", remote.serverAddress]);
            await pulumi(m.ws, ["config", "set", "transportSeed", remote.transportAddress]);
            await pulumi(m.ws, ["config", "set", "security", "certificate"]);
            await pulumi(m.ws, ["up", "--yes"]);
            const before = await withClient(local, (c) => c.search({ index: "e2emig:logs-e2e" }));
            assert.strictEqual((before.hits.total as any).value, 1);
            assert.strictEqual(((await withClient(local, (c) => c.cluster.remoteInfo())) as any).e2emig.cluster_credentials, undefined);

            await pulumi(m.ws, ["config", "set", "security", "apiKey"]);
            const up = await pulumi(m.ws, ["up", "--yes"]);
            assert.match(up.output, /\+ 1 created/);
            assert.match(up.output, /~ 1 updated/);
            assert.doesNotMatch(up.output, /replaced/);
            assert.strictEqual(((await withClient(local, (c) => c.cluster.remoteInfo())) as any).e2emig.cluster_credentials, "::es_redacted::");
            assert.deepStrictEqual((await remoteKeys(local, "e2emig"))["cluster.remote.e2emig.seeds"], [remote.serverAddress]);
            const after = await withClient(local, (c) => c.search({ index: "e2emig:logs-e2e" }));
            assert.strictEqual((after.hits.total as any).value, 1);
            await pulumi(m.ws, ["destroy", "--yes"]);
            assert.deepStrictEqual(await remoteKeys(local, "e2emig"), {});
            assert.ok(!(await listSettings({ esHome: local.esHome, configDir: local.configDir, javaHome: local.javaHome })).includes(credentialSetting("e2emig")));
        }
    });
    it("a role reaching beyond its key's access is refused at preview, while the key does not exist yet; nothing is written", async () => {
        const r = await tempProject("e2e-apikey-role", ROLE_PROGRAM);
        leftovers = { project: r, aliases: [], keyNames: ["e2e-role-check"], roles: ["e2e_role_check"] };
        {
            await pulumi(r.ws, ["config", "set", "--secret", "local", JSON.stringify(connectionTo(local))]);
            await pulumi(r.ws, ["config", "set", "--secret", "remote", JSON.stringify(connectionTo(remote))]);
            // key.access is an input of the key: known at preview although the key is not made yet.
            const preview = await runPulumi(r.ws, ["preview"]);
            assert.notStrictEqual(preview.code, 0, preview.output);
            assert.match(preview.output, /indices\[1\]/);
            assert.match(preview.output, /metrics-\*/);
            assert.match(preview.output, /CrossClusterApiKey\.access\.search/);
            const up = await runPulumi(r.ws, ["up", "--yes"]);
            assert.notStrictEqual(up.code, 0, up.output);
            const keys = await withClient(remote, (c) => c.security.getApiKey({ name: "e2e-role-check" }).catch(() => ({ api_keys: [] })));
            assert.deepStrictEqual(keys.api_keys.filter((k: any) => !k.invalidated), [], "no key was made");
            const roles = await withClient(local, (c) => c.security.getRole({ name: "e2e_role_check" }).catch(() => ({})));
            assert.deepStrictEqual(roles, {}, "no role was written");
        }
    });
});
