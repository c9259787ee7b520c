/**
 * API-key remote clusters on real nodes (9.x ↔ 9.x and 8.19 → 9.x, trial licenses, the remote
 * cluster server on its own port with a certificate from the shared test CA): the
 * CrossClusterApiKey and the RemoteClusterLink's `security: "apiKey"` hooks, a cross-cluster search
 * as a local user whose role has `remote_indices`, a search outside the key's access refused by the
 * remote, a key invalidated by hand, the migration of a live certificate link, the preview's
 * messages for a transport-port seed and a basic license, and no trace of the credential on disk.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Client } from "@elastic/elasticsearch";
import { clientFor, ClusterConnection, createClient } from "../../provider/core/client";
import * as key from "../../provider/crossClusterApiKey";
import * as link from "../../provider/remoteClusterLink";
import { credentialSetting, listSettings } from "../../provider/link/keystoreTool";
import { nodeVersions } from "../../provider/apikey/checks";
import { clearProbeMemo } from "../../provider/link/probe";
import { connectionTo, remoteKeys, withClient } from "../support/connections";
import { ApiKeyCluster, apiKeyPool, startApiKeyCluster, stopApiKeyPool } from "../support/apiKeyClusters";
import { ES_VERSIONS, stopCluster } from "../../rig/elasticsearch";
import { errorOf, filesContaining, warningsOf } from "../support/assertions";

const rand = () => crypto.randomBytes(3).toString("hex");
/** An encoded credential of the right shape for a key that does not exist (checks that never use it). */
const fakeEncoded = () => Buffer.from(`id${rand()}:${rand()}${rand()}`).toString("base64");

function asUser(c: ApiKeyCluster, username: string, password: string): Client {
    return createClient({ urls: [c.url], username, password, caPem: fs.readFileSync(c.httpCaFile, "utf8"), maxRetries: 0 }, { label: `${c.name} as ${username}` });
}

function keystoreOf(c: ApiKeyCluster) {
    return { esHome: c.esHome, configDir: c.configDir, javaHome: c.javaHome };
}

/** A local user whose role reads `alias:<patterns>` (the API-key model's `remote_indices`). */
async function localReader(local: ApiKeyCluster, alias: string, patterns: string[]): Promise<{ username: string; password: string }> {
    const username = `reader-${rand()}`;
    const password = `pw-${rand()}-${rand()}`;
    await withClient(local, async (c) => {
        await c.security.putRole({ name: `${username}-role`, remote_indices: [{ clusters: [alias], names: patterns, privileges: ["read", "read_cross_cluster", "view_index_metadata"] }] } as any);
        await c.security.putUser({ username, password, roles: [`${username}-role`] });
    });
    return { username, password };
}

async function seedRemote(remote: ApiKeyCluster, indices: string[]): Promise<void> {
    await withClient(remote, async (c) => {
        for (const i of indices) await c.index({ index: i, id: "1", document: { msg: `hello from ${i}` }, refresh: true });
    });
}

function linkInputs(local: ApiKeyCluster, remote: ApiKeyCluster, alias: string, credential: string, extra: Record<string, unknown> = {}): any {
    return {
        local: connectionTo(local), remote: connectionTo(remote), alias, mode: "sniff", seeds: [remote.serverAddress],
        skipUnavailable: false, security: "apiKey", credential, keystoreOn: [keystoreOf(local)], connectionTimeoutSeconds: 120, ...extra,
    };
}

async function makeKey(remote: ApiKeyCluster, patterns: string[]): Promise<{ id: string; outs: key.ApiKeyOutputs }> {
    const inputs: key.ApiKeyInputs = { remote: connectionTo(remote), name: `k-${rand()}`, access: { search: [{ names: patterns }] } };
    const chk = await key.check({}, inputs);
    assert.deepStrictEqual(chk.failures, []);
    const r = await key.create(chk.inputs!);
    return { id: r.id, outs: r.outs! };
}

describe("API-key remote clusters (real nodes)", function () {
    this.timeout(1_200_000);
    let remote: ApiKeyCluster;
    let local: ApiKeyCluster;

    before(async function () {
        [remote, local] = await apiKeyPool("ak9remote", "ak9local");
        await seedRemote(remote, ["logs-a", "other-1"]);
    });
    after(async function () {
        this.timeout(180_000);
        await stopApiKeyPool();
    });
    beforeEach(() => clearProbeMemo());

    it("CrossClusterApiKey: creates a cross_cluster key, updates its access in place, finds it invalidated by hand, and delete invalidates it", async () => {
        const { id, outs } = await makeKey(remote, ["logs-*"]);
        assert.strictEqual(outs.keyId, id);
        assert.match(Buffer.from(outs.encoded, "base64").toString(), new RegExp(`^${id}:`));
        const info = await withClient(remote, (c) => c.security.getApiKey({ id }));
        assert.strictEqual((info.api_keys[0] as any).type, "cross_cluster");
        // access: a change is an update, not a replacement
        const news: key.ApiKeyInputs = { ...outs, access: { search: [{ names: ["logs-*", "metrics-*"] }] }, metadata: { team: "eu" } };
        const d = await key.diff(id, outs, news);
        assert.deepStrictEqual(d.replaces, []);
        assert.strictEqual(d.changes, true);
        const up = await key.update(id, outs, news);
        assert.strictEqual(up.outs!.encoded, outs.encoded);
        const after = await withClient(remote, (c) => c.security.getApiKey({ id }));
        assert.deepStrictEqual((after.api_keys[0] as any).access.search[0].names, ["logs-*", "metrics-*"]);
        assert.deepStrictEqual((after.api_keys[0] as any).metadata, { team: "eu" });
        // name or rotation replace it, the replacement first
        const rd = await key.diff(id, up.outs!, { ...news, rotation: "2026-12" });
        assert.deepStrictEqual(rd.replaces, ["rotation"]);
        assert.strictEqual(rd.deleteBeforeReplace, false);
        // a hand edit of the access is drift
        await withClient(remote, (c) => c.transport.request({ method: "PUT", path: `/_security/cross_cluster/api_key/${id}`, body: { access: { search: [{ names: ["edited-*"] }] } } }));
        const drift = await key.read(id, up.outs!);
        assert.deepStrictEqual((drift.inputs as any).access, { search: [{ names: ["edited-*"] }] });
        // invalidated by hand: gone at refresh
        await withClient(remote, (c) => c.security.invalidateApiKey({ ids: [id] }));
        const gone = await key.read(id, up.outs!);
        assert.strictEqual(gone.id, undefined);
        // delete of an invalidated key is success
        await key.delete(id, up.outs!);
        const { id: id2, outs: outs2 } = await makeKey(remote, ["logs-*"]);
        await key.delete(id2, outs2);
        const k2 = await withClient(remote, (c) => c.security.getApiKey({ id: id2 }));
        assert.strictEqual((k2.api_keys[0] as any).invalidated, true);
    });

    it("CrossClusterApiKey: another URL of the same cluster is an update (same key, same credential); URLs of another cluster make a new key", async () => {
        const { id, outs } = await makeKey(remote, ["logs-*"]);
        try {
            assert.ok(outs.remoteClusterUuid, "create records the remote's cluster_uuid");
            // The rig's HTTP certificate names both localhost and 127.0.0.1: two URLs, one cluster.
            const more = { ...outs.remote, urls: [remote.url, remote.url.replace("127.0.0.1", "localhost")] };
            const d = await key.diff(id, outs, { ...outs, remote: more });
            assert.deepStrictEqual([d.changes, d.replaces], [true, []], "a URL added: an update, no new key");
            const up = await key.update(id, outs, { ...outs, remote: more });
            assert.strictEqual(up.outs!.encoded, outs.encoded, "the links keep their credential");
            assert.strictEqual(up.outs!.remoteClusterUuid, outs.remoteClusterUuid);
            // A state of the previous release (no UUID recorded): the old URLs tell which cluster it was.
            const legacy = { ...outs } as Partial<key.ApiKeyOutputs>;
            delete legacy.remoteClusterUuid;
            assert.deepStrictEqual((await key.diff(id, legacy as key.ApiKeyOutputs, { ...outs, remote: more })).replaces, []);
            assert.strictEqual((await key.read(id, legacy as key.ApiKeyOutputs)).props!.remoteClusterUuid, outs.remoteClusterUuid, "refresh records it");
            // Another cluster: a new key there.
            const other = await key.diff(id, up.outs!, { ...outs, remote: connectionTo(local) });
            assert.deepStrictEqual(other.replaces, ["remote"]);
            // An update pointed at another cluster anyway (the diff could not tell) is refused, writing nothing.
            await assert.rejects(key.update(id, up.outs!, { ...outs, remote: connectionTo(local) }), (e: Error) =>
                e.name === "InputError" && /^remote\.urls: .* reach another cluster \(cluster_uuid .*\) than the one cross-cluster API key .* lives on .*Change rotation/.test(e.message));
        } finally {
            await key.delete(id, outs);
        }
    });

    it("CrossClusterApiKey: Elasticsearch updates a key only for the user who created it, so a new remote.username makes a new key", async () => {
        const { id, outs } = await makeKey(remote, ["logs-*"]);
        const admin = { username: `admin-${rand()}`, password: `pw-${rand()}-${rand()}` };
        await withClient(remote, (c) => c.security.putUser({ ...admin, roles: ["superuser"] }));
        try {
            // What the cluster does (9.5): even a superuser may not update another user's key.
            const other = asUser(remote, admin.username, admin.password);
            try {
                const refused = await errorOf(other.transport.request({ method: "PUT", path: `/_security/cross_cluster/api_key/${id}`, body: { access: { search: [{ names: ["x-*"] }] } } }));
                console.log(`      [real answer, update as another user] ${refused.meta?.statusCode} ${JSON.stringify(refused.meta?.body?.error?.reason)}`);
                assert.strictEqual(refused.meta?.statusCode, 404);
                assert.match(JSON.stringify(refused.meta?.body), /no API key owned by requesting user found for ID/);
            } finally {
                await other.close();
            }
            const news = { ...outs, remote: { ...outs.remote, ...admin } };
            const d = await key.diff(id, outs, news);
            assert.deepStrictEqual(d.replaces, ["remote.username"]);
            assert.strictEqual(d.deleteBeforeReplace, false);
            // A password change alone is an update that keeps the key.
            assert.deepStrictEqual((await key.diff(id, outs, { ...outs, remote: { ...outs.remote, password: "changed" } })).replaces, []);
            await assert.rejects(key.update(id, outs, news), (e: Error) => e.name === "InputError" && /^remote\.username: .*created by user 'elastic'.*Nothing was written/.test(e.message));
            const k = await withClient(remote, (c) => c.security.getApiKey({ id }));
            assert.deepStrictEqual((k.api_keys[0] as any).access.search[0].names, ["logs-*"], "the key is as it was");
        } finally {
            await key.delete(id, outs);
            await withClient(remote, (c) => c.security.deleteUser({ username: admin.username }));
        }
    });

    it("CrossClusterApiKey: bad input is refused naming the property, and nothing is created", async () => {
        const before = await withClient(remote, (c) => c.security.getApiKey({ name: "bad-*" }));
        const r = await key.check({}, { remote: { ...connectionTo(remote), username: undefined, password: undefined, apiKey: "abc" } as any, name: " bad ", access: { search: [{ names: ["r1:logs-*"] }], other: [] } as any, expiration: "soon" });
        const props = r.failures!.map((f) => f.property);
        assert.deepStrictEqual(props.sort(), ["access.other", "access.search[0].names", "expiration", "name", "remote.apiKey"].sort());
        assert.match(r.failures!.find((f) => f.property === "access.search[0].names")!.reason, /names a cluster/);
        await assert.rejects(key.create({ remote: connectionTo(remote), name: "bad-x", access: {} } as any), /access: grants nothing.*Nothing was written/);
        const after = await withClient(remote, (c) => c.security.getApiKey({ name: "bad-*" }));
        assert.strictEqual(after.api_keys.length, before.api_keys.length);
    });

    it("9.x → 9.x: a local user searches the remote through an API-key link; the preview warns that the user's role reaches outside the key's access, and there the remote refuses; delete removes settings and keystore entry", async () => {
        const alias = `ak${rand()}`;
        const { id, outs: k } = await makeKey(remote, ["logs-*"]);
        const ksBefore = fs.statSync(path.join(local.configDir, "elasticsearch.keystore"));
        const inputs = linkInputs(local, remote, alias, k.encoded);
        const chk = await link.check({}, inputs);
        assert.deepStrictEqual(chk.failures, []);
        const created = await link.create(chk.inputs);
        assert.strictEqual(created.outs.connected, true);
        assert.strictEqual(created.outs.credentialsInUse, true);
        const info = await withClient(local, (c) => c.cluster.remoteInfo()) as any;
        assert.strictEqual(info[alias].cluster_credentials, "::es_redacted::");
        const ksAfter = fs.statSync(path.join(local.configDir, "elasticsearch.keystore"));
        assert.deepStrictEqual([ksAfter.uid, ksAfter.gid, ksAfter.mode], [ksBefore.uid, ksBefore.gid, ksBefore.mode], "the keystore keeps its owner and mode");
        assert.ok((await listSettings(keystoreOf(local))).includes(credentialSetting(alias)));

        const reader = await localReader(local, alias, ["logs-*", "other-*"]);
        // The link's preview (credential known): the key (read on the remote by its id) grants
        // logs-* only, and the reader's role also uses other-*: a warning naming role and pattern.
        const secretHalf = Buffer.from(k.encoded, "base64").toString().split(":")[1];
        const warnings = await warningsOf(async () => assert.deepStrictEqual((await link.check(created.outs, inputs)).failures, []));
        const about = warnings.filter((w) => w.includes(`local role '${reader.username}-role'`));
        assert.strictEqual(about.length, 1, warnings.join("\n"));
        assert.match(about[0], new RegExp(`remote_indices\\[0\\]: 'other-\\*' .* on remote cluster '${alias}' is not covered by the key's search access \\(logs-\\*\\) of API key ${id}, so the remote cluster refuses it\\. Add it to the key's access\\.search`));
        assert.ok(!warnings.some((w) => w.includes(secretHalf) || w.includes(k.encoded)), "no warning holds the key");
        const client = asUser(local, reader.username, reader.password);
        try {
            const hit = await client.search({ index: `${alias}:logs-a` });
            assert.strictEqual((hit.hits.total as any).value, 1);
            const refused = await errorOf(client.search({ index: `${alias}:other-1` }));
            assert.strictEqual(refused.meta?.statusCode, 403);
            assert.match(JSON.stringify(refused.meta.body), /unauthorized for user \[.*\] .*authenticated by API key id \[/);
        } finally {
            await client.close();
        }

        const read = await link.read(alias, created.outs);
        assert.strictEqual(read.props?.keystoresInSync, true);
        await link.delete(alias, created.outs);
        assert.deepStrictEqual(await remoteKeys(local, alias), {});
        assert.ok(!(await listSettings(keystoreOf(local))).includes(credentialSetting(alias)));
        const needles = [k.encoded, Buffer.from(k.encoded, "base64").toString().split(":")[1]];
        assert.deepStrictEqual(filesContaining(local.dir, needles), [], "no file of the local node holds the credential in plaintext");
        await key.delete(id, k);
    });

    it("a key invalidated by hand: refresh reports it gone, up makes a new key and rewrites the keystores", async () => {
        const alias = `ak${rand()}`;
        const { id, outs: k } = await makeKey(remote, ["logs-*"]);
        const created = await link.create((await link.check({}, linkInputs(local, remote, alias, k.encoded))).inputs);
        try {
            await withClient(remote, (c) => c.security.invalidateApiKey({ ids: [id] }));
            assert.strictEqual((await key.read(id, k)).id, undefined, "refresh drops the invalidated key");
            const failing = await errorOf(withClient(local, (c) => c.search({ index: `${alias}:logs-a` })));
            assert.match(JSON.stringify(failing.meta?.body ?? failing.message), /invalidated|unable to authenticate|security_exception/i);
            // up: a new key, then the link's update with the new credential
            const { id: id2, outs: k2 } = await makeKey(remote, ["logs-*"]);
            const news = linkInputs(local, remote, alias, k2.encoded);
            assert.strictEqual((await link.diff(alias, created.outs, news)).changes, true);
            const updated = await link.update(alias, created.outs, news);
            assert.strictEqual(updated.outs.credentialsInUse, true);
            const hit = await withClient(local, (c) => c.search({ index: `${alias}:logs-a` }));
            assert.strictEqual((hit.hits.total as any).value, 1);
            await link.delete(alias, updated.outs);
            await key.delete(id2, k2);
        } finally {
            await link.delete(alias, created.outs).catch(() => undefined);
        }
    });

    it("rotation: the update returns only once the new key is the one in use, so the old key invalidated right after it breaks nothing", async () => {
        const alias = `ak${rand()}`;
        const { id, outs: k } = await makeKey(remote, ["logs-*"]);
        const created = await link.create((await link.check({}, linkInputs(local, remote, alias, k.encoded))).inputs);
        let outs = created.outs;
        try {
            const { id: id2, outs: k2 } = await makeKey(remote, ["logs-*"]);
            const news = linkInputs(local, remote, alias, k2.encoded);
            outs = (await link.update(alias, created.outs, news)).outs;
            // What the engine does next for a replaced CrossClusterApiKey: invalidate the old key at once.
            await withClient(remote, (c) => c.security.invalidateApiKey({ ids: [id] }));
            const hit = await withClient(local, (c) => c.search({ index: `${alias}:logs-a` }));
            assert.strictEqual((hit.hits.total as any).value, 1);
            assert.strictEqual(outs.credentialsInUse, true);
            await link.delete(alias, outs);
            await key.delete(id2, k2);
        } finally {
            await link.delete(alias, outs).catch(() => undefined);
            await key.delete(id, k).catch(() => undefined);
        }
    });

    it("rotation: a node that loaded another keystore than keystoreOn wrote keeps the old key, so the update is refused naming it (its cluster_credentials are no proof)", async () => {
        const alias = `ak${rand()}`;
        const { id, outs: k } = await makeKey(remote, ["logs-*"]);
        const created = await link.create((await link.check({}, linkInputs(local, remote, alias, k.encoded))).inputs);
        // A copy of the node's config directory, holding the old key too: a keystoreOn that names a
        // folder the node does not run with (an image's copy, a bind mount elsewhere).
        const copy = fs.mkdtempSync(path.join(path.dirname(local.configDir), "stale-conf-"));
        fs.cpSync(local.configDir, copy, { recursive: true });
        const stale = { ...created.outs, keystoreOn: [{ ...keystoreOf(local), configDir: copy }] };
        const { id: id2, outs: k2 } = await makeKey(remote, ["logs-*"]);
        try {
            const news = linkInputs(local, remote, alias, k2.encoded, { keystoreOn: stale.keystoreOn });
            const e = await errorOf(link.update(alias, stale, news));
            assert.match(e.message, new RegExp(`after the reload, ${local.name}-node-0 \\(keystore ${local.configDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/elasticsearch.keystore\\) .* loaded a keystore that is none of the 1 keystoreOn wrote, so it holds cluster\\.remote\\.${alias}\\.credentials with another value`), e.message);
            // What the engine would have done next, had the update passed: the link still works on the old key only.
            await withClient(remote, (c) => c.security.invalidateApiKey({ ids: [id] }));
            const failing = await errorOf(withClient(local, (c) => c.search({ index: `${alias}:logs-a` })));
            assert.ok(failing.meta?.statusCode !== undefined || failing.message, "the node still presents the old key");
        } finally {
            await link.delete(alias, created.outs).catch(() => undefined);
            fs.rmSync(copy, { recursive: true, force: true });
            await key.delete(id2, k2).catch(() => undefined);
            await key.delete(id, k).catch(() => undefined);
        }
    });

    it("preview: a password-protected keystore is refused naming keystoreOn[0] and the fix (add --stdin would read the credential as the password); nothing is written", async () => {
        const alias = `ak${rand()}`;
        const conf = fs.mkdtempSync(path.join(path.dirname(local.configDir), "pw-conf-"));
        try {
            // The node's own tool makes it: `create -p` reads the new password twice from stdin.
            const made = spawnSync(path.join(local.esHome, "bin", "elasticsearch-keystore"), ["create", "-p"], {
                input: "pw-12345678\npw-12345678\n", env: { ...process.env, ES_PATH_CONF: conf, ES_JAVA_HOME: local.javaHome }, encoding: "utf8", timeout: 120_000,
            });
            assert.strictEqual(made.status, 0, made.stderr);
            const chk = await link.check({}, linkInputs(local, remote, alias, fakeEncoded(), { keystoreOn: [{ ...keystoreOf(local), configDir: conf }] }));
            const f = chk.failures.find((x) => x.property === "keystoreOn[0]");
            assert.ok(f, JSON.stringify(chk.failures));
            assert.strictEqual(f!.reason, `${conf}/elasticsearch.keystore on the host that runs pulumi is password-protected; this package adds credentials only to keystores without a password (add cluster.remote.<alias>.credentials by hand, or remove the password with 'elasticsearch-keystore passwd')`);
            assert.deepStrictEqual(await remoteKeys(local, alias), {}, "nothing written");
        } finally {
            fs.rmSync(conf, { recursive: true, force: true });
        }
    });

    it("preview: seeds at the remote's transport port are refused with the server port to use; nothing is written", async () => {
        const alias = `ak${rand()}`;
        const { id, outs: k } = await makeKey(remote, ["logs-*"]);
        const r = await link.check({}, linkInputs(local, remote, alias, k.encoded, { seeds: [remote.transportAddress] }));
        const f = r.failures!.find((x) => x.property === "seeds[0]");
        assert.ok(f, JSON.stringify(r.failures));
        assert.match(f!.reason, /transport port/);
        assert.ok(f!.reason.includes(remote.serverAddress.split(":")[1]), f!.reason);
        assert.deepStrictEqual(await remoteKeys(local, alias), {});
        assert.ok(!(await listSettings(keystoreOf(local))).includes(credentialSetting(alias)));
        // a credential that is not an encoded key is refused without echoing it
        const bad = await link.check({}, linkInputs(local, remote, alias, "not-a-key-s3cr3t"));
        const cf = bad.failures!.find((x) => x.property === "credential")!;
        assert.ok(cf && !cf.reason.includes("s3cr3t"));
        await key.delete(id, k);
    });

    it("the API-key link sees the transient layer like the certificate link: an alias set only there is not free at preview, and read reports its settings", async () => {
        const alias = `tr${rand()}`;
        // A credential of the right form; nothing here connects with it.
        const credential = Buffer.from(`notakey${rand()}:${rand()}${rand()}`).toString("base64");
        await withClient(local, (c) => c.cluster.putSettings({ transient: { [`cluster.remote.${alias}.seeds`]: "127.0.0.1:9" } }));
        try {
            const r = await link.check({}, linkInputs(local, remote, alias, credential));
            const f = r.failures!.find((x) => x.property === "alias");
            assert.ok(f, JSON.stringify(r.failures));
            assert.match(f!.reason, new RegExp(`already has a remote cluster '${alias}' \\(sniff 127\\.0\\.0\\.1:9; set in transient\\).*transient settings override`));
            assert.deepStrictEqual(await remoteKeys(local, alias), {}, "nothing written");
            // A state whose persistent keys were removed while a transient override remains: the
            // link is not gone (its old read saw the persistent layer only and dropped it).
            const state = { ...linkInputs(local, remote, alias, credential, { seeds: [remote.serverAddress] }), connected: true, localVersion: "9.5.4" };
            const read = await link.read(alias, state);
            assert.strictEqual(read.id, alias);
            assert.deepStrictEqual((read.inputs as any).seeds, ["127.0.0.1:9"], "drift: the seeds the nodes use");
            assert.strictEqual(read.props!.connected, false);
            assert.strictEqual(read.props!.nodesTotal, 1);
        } finally {
            await withClient(local, (c) => c.cluster.putSettings({ transient: { [`cluster.remote.${alias}.*`]: null } }));
        }
    });

    it("migration: a live certificate link becomes an API-key link with the same alias; searches work before and after; a failing migration rolls back", async () => {
        const alias = `mig${rand()}`;
        const cert = { local: connectionTo(local), remote: connectionTo(remote), alias, mode: "sniff", seeds: [remote.transportAddress], skipUnavailable: false, connectionTimeoutSeconds: 120 };
        const c1 = await link.check({}, cert);
        assert.deepStrictEqual(c1.failures, []);
        const created = await link.create(c1.inputs);
        const before = await withClient(local, (c) => c.search({ index: `${alias}:logs-a` }));
        assert.strictEqual((before.hits.total as any).value, 1);
        const { id, outs: k } = await makeKey(remote, ["logs-*"]);
        try {
            // a migration that cannot connect (the key is already invalidated): rolled back to the certificate link
            const { id: badId, outs: badKey } = await makeKey(remote, ["logs-*"]);
            await withClient(remote, (c) => c.security.invalidateApiKey({ ids: [badId] }));
            const failed = await errorOf(link.update(alias, created.outs, linkInputs(local, remote, alias, badKey.encoded, { connectionTimeoutSeconds: 20 })));
            assert.match(failed.message, /Rolled back/);
            assert.deepStrictEqual((await remoteKeys(local, alias))[`cluster.remote.${alias}.seeds`], [remote.transportAddress]);
            assert.ok(!(await listSettings(keystoreOf(local))).includes(credentialSetting(alias)));
            const during = await withClient(local, (c) => c.search({ index: `${alias}:logs-a` }));
            assert.strictEqual((during.hits.total as any).value, 1, "after the rollback the certificate link works again");

            const news = linkInputs(local, remote, alias, k.encoded);
            const chk = await link.check(created.outs, news);
            assert.deepStrictEqual(chk.failures, []);
            const d = await link.diff(alias, created.outs, chk.inputs);
            assert.deepStrictEqual(d.replaces, [], "same alias: an update, not a replacement");
            const migrated = await link.update(alias, created.outs, chk.inputs);
            assert.strictEqual(migrated.outs.credentialsInUse, true);
            const after = await withClient(local, (c) => c.search({ index: `${alias}:logs-a` }));
            assert.strictEqual((after.hits.total as any).value, 1);
            // the key's access now bounds even the superuser
            const refused = await errorOf(withClient(local, (c) => c.search({ index: `${alias}:other-1` })));
            assert.strictEqual(refused.meta?.statusCode, 403);
            await link.delete(alias, migrated.outs);
            assert.deepStrictEqual(await remoteKeys(local, alias), {});
        } finally {
            await link.delete(alias, created.outs).catch(() => undefined);
            await key.delete(id, k);
        }
    });

    it("trust: local nodes whose remote cluster client does not trust the server's CA are refused at preview naming the issuer; the real connection fails", async () => {
        const [untrusting] = await apiKeyPool("ak9untrusting");
        const alias = `ak${rand()}`;
        const { id, outs: k } = await makeKey(remote, ["logs-*"]);
        try {
            const r = await link.check({}, linkInputs(untrusting, remote, alias, k.encoded));
            const f = r.failures!.find((x) => x.property === "local.urls");
            assert.ok(f, JSON.stringify(r.failures));
            assert.match(f!.reason, /does not trust the CA that issued the remote cluster server's certificate.*shared transport CA.*remote_cluster_client\.ssl\.certificate_authorities/);
            // Past the preview (as if it were skipped): the connection fails and the create removes what it wrote.
            const e = await errorOf(link.create(linkInputs(untrusting, remote, alias, k.encoded, { connectionTimeoutSeconds: 20 })));
            assert.strictEqual(e.name, "RemoteNotConnectedError");
            assert.deepStrictEqual(await remoteKeys(untrusting, alias), {});
            assert.ok(!(await listSettings(keystoreOf(untrusting))).includes(credentialSetting(alias)));
            const log = fs.readFileSync(path.join(untrusting.dir, "logs", `${untrusting.name}.log`), "utf8");
            const seen = /PKIX path building failed[^\n]*/.exec(log)?.[0];
            console.log(`      [real error on the local node] ${seen?.slice(0, 300)}`);
            assert.ok(seen, "the local node logs the PKIX failure");
        } finally {
            await key.delete(id, k);
        }
    });

    describe("8.19 → 9.x", () => {
        let old: ApiKeyCluster;
        before(async function () {
            [old] = await apiKeyPool("ak819local");
        });

        it("the version preview reads every node of both sides (GET _nodes; GET _nodes/_none had listed none and passed every node)", async () => {
            for (const [c, version] of [[old, "8.19.21"], [remote, "9.5.4"]] as const) {
                const conn = connectionTo(c);
                const nodes = await nodeVersions(clientFor(conn), "remote", conn);
                assert.ok(nodes.length >= 1, "no nodes listed");
                assert.deepStrictEqual([...new Set(nodes.map((n) => n.version))], [version]);
            }
        });

        it("an 8.19 local cluster searches a 9.x remote through an API-key link", async () => {
            const alias = `ak${rand()}`;
            const { id, outs: k } = await makeKey(remote, ["logs-*"]);
            const chk = await link.check({}, linkInputs(old, remote, alias, k.encoded));
            assert.deepStrictEqual(chk.failures, []);
            const created = await link.create(chk.inputs);
            try {
                const reader = await localReader(old, alias, ["logs-*"]);
                const client = asUser(old, reader.username, reader.password);
                try {
                    const hit = await client.search({ index: `${alias}:logs-a` });
                    assert.strictEqual((hit.hits.total as any).value, 1);
                } finally {
                    await client.close();
                }
            } finally {
                await link.delete(alias, created.outs);
                await key.delete(id, k);
            }
        });

        it("a basic license: the preview names the side and the fix; an existing link's searches fail with Elasticsearch's license error", async () => {
            // A cluster of its own: a trial cannot be started twice, so the pooled one must keep its trial
            // for whatever test runs after this one (or alone, with --grep).
            const old = await startApiKeyCluster(`t-ak819basic-${rand()}`, ES_VERSIONS.v819);
            const alias = `ak${rand()}`;
            const { id, outs: k } = await makeKey(remote, ["logs-*"]);
            let created: any;
            try {
                created = await link.create((await link.check({}, linkInputs(old, remote, alias, k.encoded))).inputs);
                await withClient(old, (c) => c.license.postStartBasic({ acknowledge: true }));
                const failing = await errorOf(withClient(old, (c) => c.search({ index: `${alias}:logs-a` })));
                const text = JSON.stringify(failing.meta?.body ?? failing.message);
                console.log(`      [real error, basic license on the local side] ${text.slice(0, 400)}`);
                assert.match(text, /non-compliant for \[advanced-remote-cluster-security\]/);
                const r = await link.check({}, linkInputs(old, remote, `${alias}x`, k.encoded));
                const f = r.failures!.find((x) => x.property === "local.urls");
                assert.ok(f, JSON.stringify(r.failures));
                assert.match(f!.reason, /basic license.*Enterprise license on both clusters.*start_trial/);
                await assert.rejects(link.create(linkInputs(old, remote, `${alias}x`, k.encoded)), (e: any) => e.name === "LicenseError" && /Nothing was written/.test(e.message));
                assert.deepStrictEqual(await remoteKeys(old, `${alias}x`), {});
            } finally {
                if (created) await link.delete(alias, created.outs).catch(() => undefined);
                await key.delete(id, k);
                await stopCluster(old);
            }
        });
    });
});
