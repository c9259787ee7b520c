/**
 * Strong identity on real 9.5.4 nodes (ak9remote ← ak9local, API-key model, trial licenses): a
 * cross-cluster API key bound to a certificate DN (CrossClusterApiKey.certificateIdentity: create,
 * in-place update, drift, clear), the remote verifying signatures against a CA in its global
 * `cluster.remote.signing.certificate_authorities` (merged without clobbering another entry), the
 * local signing an alias's requests with a certificate issued by this package's own certificate
 * code. Searches through the alias: signed and matching → answered; a DN that does not match, a
 * signer the remote does not trust, no signature at all → refused with Elasticsearch's own words.
 * Also settled here: the passphrase's keystore name, a setting naming a missing file, and what a
 * node without the ES|QL module answers to `POST /_query` (ES|QL across clusters cannot be tested
 * on these zips). An 8.19 remote is refused a certificate identity at check, naming its node.
 *
 * Every file, setting, keystore entry and key made here is removed after.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as key from "../../provider/crossClusterApiKey";
import * as trust from "../../provider/remoteSigningTrust";
import * as link from "../../provider/remoteClusterLink";
import { addCredential, removeCredential } from "../../provider/link/keystoreTool";
import { generateCa, issueNodeCertificate } from "../../provider/certs/pem";
import {
    mergeSigningCas, signingCaFileFor, signingCasBody, signingCasIn, signingFilesFor, signingPassphraseSetting, signingSettingsBody,
} from "../../provider/signing/settings";
import { signingCertificateProblems, subjectDnRfc2253 } from "../../provider/signing/certificate";
import { warningsOf } from "../support/assertions";
import { connectionTo, withClient } from "../support/connections";
import { ApiKeyCluster, apiKeyPool, stopApiKeyPool } from "../support/apiKeyClusters";
import { ensureEsUser, nodeEnv, runAs } from "../../rig/elasticsearch";

const rand = () => crypto.randomBytes(3).toString("hex");
const alias = `sig${rand()}`;
const SIGNER_CN = `signer-${rand()}`;

/** A file in a node's config directory, owned by the node's user. */
function place(c: ApiKeyCluster, rel: string, content: string, mode: number): void {
    const file = path.join(c.configDir, rel);
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
    const u = ensureEsUser();
    if (u) fs.chownSync(file, u.uid, u.gid);
}

/** The keystore tool on a node, as the node's user, the value on stdin (never on a command line). */
function keystore(c: ApiKeyCluster, args: string[], stdin = ""): { code: number; out: string } {
    const [cmd, a] = runAs(ensureEsUser(), path.join(c.esHome, "bin", "elasticsearch-keystore"), args);
    const r = spawnSync(cmd, a, { input: stdin, encoding: "utf8", env: nodeEnv(c.javaHome, c.configDir, c.dir) });
    return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

async function reload(c: ApiKeyCluster): Promise<Record<string, any>> {
    return withClient(c, async (cl) => {
        const r = await cl.transport.request<{ nodes: Record<string, any> }>({ method: "POST", path: "/_nodes/reload_secure_settings", body: {} });
        return Object.values(r.nodes)[0];
    });
}

async function flat(c: ApiKeyCluster): Promise<Record<string, unknown>> {
    return withClient(c, async (cl) => (await cl.cluster.getSettings({ flat_settings: true })).persistent ?? {});
}

/** The error body's reason of a failed request, or "ok" with the hit count. */
async function searchThroughAlias(local: ApiKeyCluster, index: string, through = alias): Promise<string> {
    return withClient(local, async (cl) => {
        try {
            const r = await cl.search({ index: `${through}:${index}` });
            return `ok ${(r.hits.total as { value: number }).value}`;
        } catch (e) {
            const body = (e as { meta?: { body?: any } }).meta?.body;
            return String(body?.error?.reason ?? (e as Error).message);
        }
    });
}

describe("strong identity on 9.5.4 (signed cross-cluster API-key requests)", function () {
    this.timeout(240_000);
    let remote: ApiKeyCluster;
    let local: ApiKeyCluster;
    const keyIds: string[] = [];
    const ourCa = signingCaFileFor(`test-${rand()}`);
    const theirCa = signingCaFileFor(`someone-else-${rand()}`);
    const files = signingFilesFor(alias);
    const index = `sig-docs-${rand()}`;
    let signer: { certPem: string; keyPem: string; caPem: string };
    let trustOuts: trust.TrustOutputs | undefined;
    const linkAlias = `lnk${rand()}`;
    let linkOuts: any;
    let linkTrust: trust.TrustOutputs | undefined;

    before(async function () {
        this.timeout(300_000);
        // The 8.19 node (the version check's remote) starts beside the two 9.5 ones, not after them.
        [remote, local] = await apiKeyPool("ak9remote", "ak9local", "ak819local");
        const ca = await generateCa({ commonName: `signing-ca-${rand()}` });
        const other = await generateCa({ commonName: `other-ca-${rand()}` });
        signer = await issueNodeCertificate(ca, { commonName: SIGNER_CN, dnsNames: [SIGNER_CN] });
        place(remote, ourCa, ca.certPem, 0o644);
        place(remote, theirCa, other.certPem, 0o644);
        fs.rmSync(path.join(remote.configDir, trust.REGISTRY_FILE), { force: true });
        place(local, files.certificate, signer.certPem, 0o644);
        place(local, files.key, signer.keyPem, 0o600);
        await withClient(remote, (c) => c.index({ index, id: "1", document: { msg: "signed hello" }, refresh: true }));
    });

    after(async function () {
        this.timeout(120_000);
        if (!local) return;
        if (linkOuts) await link.delete(linkAlias, linkOuts).catch(() => undefined);
        if (linkTrust) await trust.delete("", linkTrust).catch(() => undefined);
        await withClient(local, (c) => c.cluster.putSettings({ persistent: {
            [`cluster.remote.${alias}.seeds`]: null, [`cluster.remote.${alias}.skip_unavailable`]: null, ...signingSettingsBody(alias, null).persistent,
        } })).catch(() => undefined);
        const ks = { esHome: local.esHome, configDir: local.configDir, javaHome: local.javaHome };
        await removeCredential(ks, alias).catch(() => undefined);
        for (const name of [signingPassphraseSetting(alias), `cluster.remote.${alias}.signing.key.secure_passphrase`]) keystore(local, ["remove", name]);
        await reload(local).catch(() => undefined);
        if (trustOuts) await trust.delete("", trustOuts).catch(() => undefined);
        fs.rmSync(path.join(remote.configDir, trust.REGISTRY_FILE), { force: true });
        // Both entries are this suite's (the list cannot be read back: it is a filtered setting).
        await withClient(remote, (c) => c.cluster.putSettings(signingCasBody(null))).catch(() => undefined);
        if (keyIds.length) await withClient(remote, (c) => c.transport.request({ method: "DELETE", path: "/_security/api_key", body: { ids: keyIds } }));
        await withClient(remote, (c) => c.indices.delete({ index }, { ignore: [404] }));
        for (const [c, rel] of [[remote, ourCa], [remote, theirCa], [local, files.certificate], [local, files.key], [local, "certs/es-remote-signing-enc.key"]] as const) {
            fs.rmSync(path.join(c.configDir, rel), { force: true });
        }
        await stopApiKeyPool();
    });

    async function makeKey(certificateIdentity?: string | null): Promise<{ id: string; outs: key.ApiKeyOutputs }> {
        const inputs: key.ApiKeyInputs = { remote: connectionTo(remote), name: `sig-${rand()}`, access: { search: [{ names: [index] }] }, certificateIdentity };
        const checked = await key.check({}, inputs);
        assert.deepStrictEqual(checked.failures, []);
        const r = await key.create(checked.inputs!);
        keyIds.push(r.id);
        return { id: r.id, outs: r.outs! };
    }

    async function onKey(id: string): Promise<Record<string, unknown>> {
        return withClient(remote, async (c) => (await c.transport.request<{ api_keys: Array<Record<string, unknown>> }>({ method: "GET", path: "/_security/api_key", querystring: { id } })).api_keys[0]);
    }

    /** The alias on the local cluster with `outs`' credential, signing with `signing` (or not). */
    async function linkWith(outs: key.ApiKeyOutputs, signing: { certificate: string; key: string } | null): Promise<void> {
        await addCredential({ esHome: local.esHome, configDir: local.configDir, javaHome: local.javaHome }, alias, outs.encoded);
        await reload(local);
        await withClient(local, (c) => c.cluster.putSettings({ persistent: {
            [`cluster.remote.${alias}.seeds`]: [remote.serverAddress], [`cluster.remote.${alias}.skip_unavailable`]: false, ...signingSettingsBody(alias, signing).persistent,
        } }));
    }

    it("the remote's global CA list is a filtered setting: no API reads it back, so the merge starts from the owners' own record", async () => {
        // Another owner's entry first, then ours merged into what is known to be there.
        const record = [theirCa];
        await withClient(remote, (c) => c.cluster.putSettings(signingCasBody(record)));
        const merged = mergeSigningCas(record, [ourCa]);
        assert.deepStrictEqual(merged, { list: [theirCa, ourCa], changed: true });
        await withClient(remote, (c) => c.cluster.putSettings(signingCasBody(merged.list)));
        const reads = await withClient(remote, async (c) => Promise.all([
            c.transport.request({ method: "GET", path: "/_cluster/settings", querystring: { flat_settings: "true" } }),
            c.transport.request({ method: "GET", path: "/_cluster/settings", querystring: { flat_settings: "true", include_defaults: "true", filter_path: "**.cluster.remote.signing*" } }),
            c.transport.request({ method: "GET", path: "/_cluster/state/metadata", querystring: { filter_path: "metadata.cluster_settings,metadata.persistent_settings**" } }),
            c.transport.request({ method: "GET", path: "/_nodes/settings", querystring: { filter_path: "nodes.*.settings.cluster.remote" } }),
        ]));
        assert.deepStrictEqual(reads.map((r) => JSON.stringify(r)), ['{"persistent":{},"transient":{}}', "{}", "{}", "{}"]);
        assert.deepStrictEqual(signingCasIn(await flat(remote)), []);
    });

    it("a setting naming a file that is not on the node is refused by the settings API (local signing certificate and remote CA)", async () => {
        // One file missing at a time: with both missing, the node names either of them (seen both ways).
        const missing = await withClient(local, (c) => c.cluster.putSettings(signingSettingsBody(alias, { certificate: files.certificate, key: "certs/not-there.key" })).then(() => "accepted", (e) => e.meta.statusCode + " " + e.meta.body.error.reason));
        assert.strictEqual(missing, `400 Configured file [${path.join(local.configDir, "certs/not-there.key")}] not found`);
        const missingCert = await withClient(local, (c) => c.cluster.putSettings(signingSettingsBody(alias, { certificate: "certs/not-there.crt", key: files.key })).then(() => "accepted", (e) => e.meta.statusCode + " " + e.meta.body.error.reason));
        assert.strictEqual(missingCert, `400 Configured file [${path.join(local.configDir, "certs/not-there.crt")}] not found`);
        const missingCa = await withClient(remote, (c) => c.cluster.putSettings(signingCasBody([ourCa, "certs/not-there-ca.crt"])).then(() => "accepted", (e) => e.meta.statusCode + " " + e.meta.body.error.reason));
        assert.strictEqual(missingCa, `400 Configured file [${path.join(remote.configDir, "certs/not-there-ca.crt")}] not found`);
    });

    it("certificateIdentity: created, changed in place (same key, same credential), drift on refresh, cleared with null", async () => {
        const dn = subjectDnRfc2253(signer.certPem)!;
        assert.strictEqual(dn, `CN=${SIGNER_CN}`);
        assert.deepStrictEqual(signingCertificateProblems(signer.certPem, { certificateIdentity: dn }), []);
        const { id, outs } = await makeKey(dn);
        assert.strictEqual((await onKey(id)).certificate_identity, dn);
        const changed = await key.update(id, outs, { ...outs, certificateIdentity: "CN=signer-.*" });
        assert.strictEqual(changed.outs!.encoded, outs.encoded);
        assert.strictEqual((await onKey(id)).certificate_identity, "CN=signer-.*");
        await withClient(remote, (c) => c.transport.request({ method: "PUT", path: `/_security/cross_cluster/api_key/${id}`, body: { certificate_identity: "CN=by-hand" } }));
        const drift = await key.read(id, changed.outs as key.ApiKeyOutputs);
        assert.strictEqual((drift.inputs as key.ApiKeyInputs).certificateIdentity, "CN=by-hand");
        const cleared = await key.update(id, drift.props as key.ApiKeyOutputs, { ...outs, certificateIdentity: "" });
        assert.strictEqual((await onKey(id)).certificate_identity, undefined, "cleared: GET _security/api_key has no certificate_identity");
        const left = await key.read(id, cleared.outs as key.ApiKeyOutputs);
        assert.strictEqual((left.inputs as key.ApiKeyInputs).certificateIdentity, "", "no drift after the clear");
        const bad = await key.check({}, { ...outs, certificateIdentity: "CN=(x" });
        assert.deepStrictEqual((bad.failures ?? []).map((f) => f.property), ["certificateIdentity"]);
    });

    it("an 8.19 remote is refused a certificateIdentity at check, naming its node and version", async () => {
        const [old] = await apiKeyPool("ak819local");
        const r = await key.check({}, { remote: connectionTo(old), name: "never-made", access: { search: [{ names: ["x"] }] }, certificateIdentity: "CN=x" });
        assert.deepStrictEqual(r.failures, [{ property: "certificateIdentity", reason:
            `strong identity (certificate_identity) needs Elasticsearch 9.3.0 or later on every node of the remote cluster (${old.url}); ${old.nodeName} runs ${old.version}. Upgrade those nodes first, or leave certificateIdentity out` }]);
        const none = await key.check({}, { remote: connectionTo(old), name: "never-made", access: { search: [{ names: ["x"] }] } });
        assert.deepStrictEqual(none.failures, [], "left out: no version needed");
    });

    it("signed by a certificate whose DN matches → the search through the alias is answered; a DN that does not match, a prefix pattern, no signature → refused", async () => {
        const good = await makeKey(`CN=${SIGNER_CN}`);
        await linkWith(good.outs, files);
        assert.strictEqual(await searchThroughAlias(local, index), "ok 1");

        const other = await makeKey("CN=someone-else");
        await linkWith(other.outs, files);
        assert.strictEqual(await searchThroughAlias(local, index), `DN from provided certificate [CN=${SIGNER_CN}] does not match API Key certificate identity pattern [CN=someone-else]`);

        // The pattern is matched against the whole DN: a prefix is not enough.
        const prefix = await makeKey(`CN=${SIGNER_CN.slice(0, 7)}`);
        await linkWith(prefix.outs, files);
        assert.strictEqual(await searchThroughAlias(local, index), `DN from provided certificate [CN=${SIGNER_CN}] does not match API Key certificate identity pattern [CN=${SIGNER_CN.slice(0, 7)}]`);

        await linkWith(good.outs, null);
        assert.strictEqual(await searchThroughAlias(local, index), `API key (type:[cross_cluster], id:[${good.id}]) requires certificate identity matching [CN=${SIGNER_CN}], but no certificate was provided`);

        // An unbound key still works from a signing link (the signature is verified, nothing required).
        const unbound = await makeKey();
        await linkWith(unbound.outs, files);
        assert.strictEqual(await searchThroughAlias(local, index), "ok 1");
    });

    it("a signer the remote does not trust is refused even when its DN matches", async () => {
        const good = await makeKey(`CN=${SIGNER_CN}`);
        await linkWith(good.outs, files);
        await withClient(remote, (c) => c.cluster.putSettings(signingCasBody([theirCa])));
        try {
            const reason = await searchThroughAlias(local, index);
            assert.match(reason, new RegExp(`^Failed to verify cross cluster api key signature certificate from \\[\\(CN=${SIGNER_CN};X\\.509;SHA1:[0-9a-f]{40}\\)\\]$`), reason);
        } finally {
            await withClient(remote, (c) => c.cluster.putSettings(signingCasBody([theirCa, ourCa])));
        }
    });

    it("the key's passphrase: .signing.secure_key_passphrase is a secure setting the node reads; .signing.key.secure_passphrase is refused at reload", async () => {
        const ks = (name: string, v: string) => assert.strictEqual(keystore(local, ["add", "--stdin", "--force", name], v).code, 0);
        const wrong = `cluster.remote.${alias}.signing.key.secure_passphrase`;
        ks(wrong, "irrelevant");
        const refused = await reload(local);
        assert.strictEqual(refused.reload_exception?.reason, `Setting [${wrong}] is a non-secure setting and must be stored inside elasticsearch.yml, but was found inside the Elasticsearch keystore`);
        assert.strictEqual(keystore(local, ["remove", wrong]).code, 0);

        const passphrase = crypto.randomBytes(12).toString("hex");
        const encrypted = crypto.createPrivateKey(signer.keyPem).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase }) as string;
        place(local, "certs/es-remote-signing-enc.key", encrypted, 0o600);
        ks(signingPassphraseSetting(alias), passphrase);
        const accepted = await reload(local);
        assert.strictEqual(accepted.reload_exception, undefined);
        assert.ok((accepted.secure_setting_names as string[]).includes(signingPassphraseSetting(alias)), JSON.stringify(accepted.secure_setting_names));
        const good = await makeKey(`CN=${SIGNER_CN}`);
        await linkWith(good.outs, { certificate: files.certificate, key: "certs/es-remote-signing-enc.key" });
        assert.strictEqual(await searchThroughAlias(local, index), "ok 1", "signed with the encrypted key, unlocked by the keystore passphrase");
    });

    it("RemoteSigningTrust: places the CA on the node and adds only its entry beside one made by hand; drift when the file goes; destroy leaves the other entry", async () => {
        await withClient(remote, (c) => c.cluster.putSettings(signingCasBody([theirCa])));
        const inputs: trust.TrustInputs = { remote: connectionTo(remote), name: `t-${rand()}`, caPem: signer.caPem, nodes: [{ configDir: remote.configDir }], alsoTrust: [theirCa] };
        const checked = await trust.check({}, inputs);
        assert.deepStrictEqual(checked.failures, []);
        const made = await trust.create(checked.inputs!);
        trustOuts = made.outs!;
        const caFile = trustOuts.caFile;
        assert.strictEqual(caFile, signingCaFileFor(inputs.name));
        assert.deepStrictEqual(trustOuts.trustedList, [theirCa, caFile]);
        const st = fs.statSync(path.join(remote.configDir, caFile));
        assert.strictEqual(st.mode & 0o777, 0o644);
        assert.strictEqual(fs.readFileSync(path.join(remote.configDir, caFile), "utf8"), signer.caPem);
        assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(remote.configDir, trust.REGISTRY_FILE), "utf8")), [theirCa, caFile]);

        const good = await makeKey(`CN=${SIGNER_CN}`);
        await linkWith(good.outs, files);
        assert.strictEqual(await searchThroughAlias(local, index), "ok 1", "the remote trusts the signer through the resource's entry");

        assert.strictEqual((await trust.read(made.id, trustOuts)).props?.caInSync, true);
        fs.writeFileSync(path.join(remote.configDir, caFile), (await generateCa({ commonName: "impostor" })).certPem);
        const drifted = await trust.read(made.id, trustOuts);
        assert.strictEqual(drifted.props?.caInSync, false);
        assert.deepStrictEqual(drifted.props?.observedDrift, [`${remote.configDir}: ${caFile} holds another certificate`]);
        assert.strictEqual((await trust.diff(made.id, drifted.props as trust.TrustOutputs, inputs)).changes, true, "the next up rewrites it");
        trustOuts = (await trust.update(made.id, drifted.props as trust.TrustOutputs, inputs)).outs!;
        assert.strictEqual(fs.readFileSync(path.join(remote.configDir, caFile), "utf8"), signer.caPem);

        await trust.delete(made.id, trustOuts);
        trustOuts = undefined;
        assert.strictEqual(fs.existsSync(path.join(remote.configDir, caFile)), false);
        assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(remote.configDir, trust.REGISTRY_FILE), "utf8")), [theirCa]);
        // The other entry is still trusted (and ours is not): the remote refuses our signer as untrusted.
        assert.match(await searchThroughAlias(local, index), /^Failed to verify cross cluster api key signature certificate from \[\(CN=/);
    });

    /** What pulumi.log.info printed (outside the engine: console.log) while `fn` ran, and its result. */
    async function infosOf<T>(fn: () => Promise<T>): Promise<{ infos: string[]; result: T }> {
        const seen: string[] = [];
        const original = console.log;
        console.log = (...args: unknown[]) => void seen.push(args.map(String).join(" "));
        try {
            return { infos: seen, result: await fn() };
        } finally {
            console.log = original;
        }
    }

    /** Searches through the link's alias until `want(answer)` (or 40 s), and says after how long. */
    async function searchUntil(want: (answer: string) => boolean): Promise<{ answer: string; seconds: number }> {
        const start = Date.now();
        let answer = "";
        while (Date.now() - start < 40_000) {
            answer = await searchThroughAlias(local, index, linkAlias);
            if (want(answer)) break;
            await new Promise((r) => setTimeout(r, 500));
        }
        return { answer, seconds: Math.round((Date.now() - start) / 100) / 10 };
    }

    it("RemoteClusterLink.signing: create signs (search answered), a DN the key refuses is refused at check (and by Elasticsearch if forced), rotation keeps searching, removal and delete leave nothing", async function () {
        this.timeout(600_000);
        const u = ensureEsUser();
        const cn = `lsign-${rand()}`;
        const ca = await generateCa({ commonName: `link-signing-ca-${rand()}` });
        const good = await issueNodeCertificate(ca, { commonName: cn, dnsNames: [cn] });
        const wrong = await issueNodeCertificate(ca, { commonName: `not-${cn}`, dnsNames: [`not-${cn}`] });
        const rotated = await issueNodeCertificate(ca, { commonName: `${cn}-r`, dnsNames: [`${cn}-r`] });
        const made = await trust.create((await trust.check({}, { remote: connectionTo(remote), name: `lt-${rand()}`, caPem: ca.certPem, nodes: [{ configDir: remote.configDir }] })).inputs!);
        linkTrust = made.outs!;
        const k = await makeKey(`CN=${cn}`);
        const lf = signingFilesFor(linkAlias);
        const inputs = (signing?: Record<string, unknown>): any => ({
            local: connectionTo(local), remote: connectionTo(remote), alias: linkAlias, mode: "sniff", seeds: [remote.serverAddress], skipUnavailable: false,
            security: "apiKey", credential: k.outs.encoded, keystoreOn: [{ esHome: local.esHome, configDir: local.configDir, javaHome: local.javaHome }],
            connectionTimeoutSeconds: 120, ...(signing ? { signing } : {}),
        });

        // check: every node 9.3+, the pair, the DN against the key's pattern; the issuer's trust is said to be unchecked.
        const checked = await infosOf(() => link.check({}, inputs({ certPem: good.certPem, keyPem: good.keyPem })));
        assert.deepStrictEqual(checked.result.failures, []);
        assert.ok(checked.infos.some((m) => m.includes("whether the remote cluster trusts the signing certificate's issuer is NOT checked")), checked.infos.join("\n"));

        const created = await link.create(checked.result.inputs);
        linkOuts = created.outs;
        assert.strictEqual(created.outs.connected, true);
        assert.strictEqual(created.outs.signingInSync, true);
        const crt = path.join(local.configDir, lf.certificate);
        const keyFile = path.join(local.configDir, lf.key);
        assert.strictEqual(fs.readFileSync(crt, "utf8"), good.certPem);
        assert.strictEqual(fs.statSync(keyFile).mode & 0o777, 0o600);
        if (u) assert.deepStrictEqual([fs.statSync(keyFile).uid, fs.statSync(crt).uid], [u.uid, u.uid], "owned like the node's other files");
        assert.strictEqual(await searchThroughAlias(local, index, linkAlias), "ok 1", "signed by the link, matching the key's identity");
        // The two signing settings are filtered settings (as the remote's CA list): GET does not report them.
        const seenSettings = Object.keys(await flat(local)).filter((x) => x.startsWith(`cluster.remote.${linkAlias}.signing`));
        assert.deepStrictEqual(seenSettings, [], "the signing settings are not reported by GET _cluster/settings");
        assert.strictEqual((await link.read(linkAlias, created.outs)).props?.signingInSync, true);

        // A certificate whose DN the key refuses: the check names signing.certPem and quotes both.
        const refused = await link.check(created.outs, inputs({ certPem: wrong.certPem, keyPem: wrong.keyPem }));
        assert.deepStrictEqual(refused.failures.map((f: any) => f.property), ["signing.certPem"]);
        assert.match(refused.failures[0].reason, new RegExp(`^its subject DN "CN=not-${cn}" does not match the certificate_identity "CN=${cn}" of API key ${k.id} \\(matched against the whole DN\\)`));
        // Forced (the update runs without the check): new contents of the same paths, no setting written.
        let outs = (await link.update(linkAlias, created.outs, inputs({ certPem: wrong.certPem, keyPem: wrong.keyPem }))).outs;
        linkOuts = outs;
        const forced = await searchUntil((a) => a.startsWith("DN from provided certificate"));
        assert.strictEqual(forced.answer, `DN from provided certificate [CN=not-${cn}] does not match API Key certificate identity pattern [CN=${cn}]`);
        console.log(`      (Elasticsearch signed with the new file contents ${forced.seconds} s after they were written over the same path)`);
        // Its file watcher saw the new contents (no setting was written, no reload asked): the node's log says so.
        const logs = fs.readdirSync(path.join(local.dir, "logs")).filter((n) => n.endsWith(".log")).map((n) => fs.readFileSync(path.join(local.dir, "logs", n), "utf8")).join("\n");
        const watched = logs.split("\n").filter((l) => l.includes("Updated signing configuration") && l.includes(`due to update of file [${crt}]`));
        assert.ok(watched.length > 0, logs.split("\n").filter((l) => l.includes("signing configuration")).join("\n"));
        console.log(`      (the local node's log: ${watched[0].trim().slice(0, 300)})`);

        // Rotation to a certificate the key accepts (the key's pattern widened in place first).
        await key.update(k.id, k.outs, { ...k.outs, certificateIdentity: `CN=${cn}(-r)?` });
        outs = (await link.update(linkAlias, outs, inputs({ certPem: rotated.certPem, keyPem: rotated.keyPem }))).outs;
        linkOuts = outs;
        const back = await searchUntil((a) => a === "ok 1");
        assert.strictEqual(back.answer, "ok 1", "rotated: signed with the new certificate");
        // good → rotated → good while searching: every search answered (both DNs match).
        const during: string[] = [];
        const searching = (async () => {
            for (let n = 0; n < 20; n++) {
                during.push(await searchThroughAlias(local, index, linkAlias));
                await new Promise((r) => setTimeout(r, 250));
            }
        })();
        outs = (await link.update(linkAlias, outs, inputs({ certPem: good.certPem, keyPem: good.keyPem }))).outs;
        linkOuts = outs;
        await searching;
        assert.deepStrictEqual([...new Set(during)], ["ok 1"], "no search failed during the rotation");

        // Removing signing: the settings, the files; the key that requires an identity refuses the unsigned search.
        outs = (await link.update(linkAlias, outs, inputs())).outs;
        linkOuts = outs;
        assert.strictEqual(fs.existsSync(crt), false);
        assert.strictEqual(fs.existsSync(keyFile), false);
        assert.strictEqual(outs.signingInSync, undefined);
        const unsigned = await searchUntil((a) => a.startsWith("API key"));
        assert.strictEqual(unsigned.answer, `API key (type:[cross_cluster], id:[${k.id}]) requires certificate identity matching [CN=${cn}(-r)?], but no certificate was provided`);

        // Again with an encrypted key and its passphrase, then delete: nothing left.
        const passphrase = crypto.randomBytes(12).toString("hex");
        const encrypted = crypto.createPrivateKey(good.keyPem).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase }) as string;
        outs = (await link.update(linkAlias, outs, inputs({ certPem: good.certPem, keyPem: encrypted, keyPassphrase: passphrase }))).outs;
        linkOuts = outs;
        assert.strictEqual((await searchUntil((a) => a === "ok 1")).answer, "ok 1", "signed with the encrypted key, the passphrase from the keystore");
        assert.ok(keystore(local, ["list"]).out.includes(signingPassphraseSetting(linkAlias)));
        const warned = await warningsOf(() => link.delete(linkAlias, outs));
        linkOuts = undefined;
        assert.deepStrictEqual(warned, []);
        assert.strictEqual(fs.existsSync(crt), false);
        assert.strictEqual(fs.existsSync(keyFile), false);
        assert.deepStrictEqual(fs.readdirSync(path.join(local.configDir, "certs")).filter((n) => n.includes(`es-remote-signing-${linkAlias}`)), [], "no kept-aside records");
        const left = keystore(local, ["list"]).out;
        assert.ok(!left.includes(signingPassphraseSetting(linkAlias)) && !left.includes(`cluster.remote.${linkAlias}.credentials`), left);
        assert.deepStrictEqual(Object.keys(await flat(local)).filter((x) => x.startsWith(`cluster.remote.${linkAlias}.`)), []);
        await trust.delete(made.id, linkTrust);
        linkTrust = undefined;
    });

    it("RemoteClusterLink.signing at check: a local or a remote node older than 9.3 is refused, named with its version (nothing written)", async () => {
        const [old] = await apiKeyPool("ak819local");
        const ca = await generateCa({ commonName: `v-ca-${rand()}` });
        const pair = await issueNodeCertificate(ca, { commonName: "v-signer", dnsNames: ["v-signer"] });
        const credential = Buffer.from(`nokey${rand()}:${rand()}`).toString("base64");
        const ks = (c: ApiKeyCluster) => ({ esHome: c.esHome, configDir: c.configDir, javaHome: c.javaHome });
        const news = (l: ApiKeyCluster, r: ApiKeyCluster): any => ({
            local: connectionTo(l), remote: connectionTo(r), alias: `v${rand()}`, mode: "sniff", seeds: [r.serverAddress], security: "apiKey", credential,
            keystoreOn: [ks(l)], signing: { certPem: pair.certPem, keyPem: pair.keyPem },
        });
        const want = (side: string, c: ApiKeyCluster) => [{ property: "signing", reason:
            `signing cross-cluster requests (strong identity) needs Elasticsearch 9.3.0 or later on every node of both clusters; the ${side} cluster (${c.url}) has ${c.nodeName} on ${c.version}. Upgrade those nodes first, or leave signing out` }];
        const asLocal = await link.check({}, news(old, remote));
        assert.deepStrictEqual(asLocal.failures.filter((f: any) => f.property === "signing"), want("local", old), JSON.stringify(asLocal.failures));
        const asRemote = await link.check({}, news(local, old));
        assert.deepStrictEqual(asRemote.failures.filter((f: any) => f.property === "signing"), want("remote", old), JSON.stringify(asRemote.failures));
        for (const c of [old, local]) assert.deepStrictEqual(fs.readdirSync(path.join(c.configDir, "certs")).filter((n) => /^\.?es-remote-signing-v/.test(n)), [], "the check wrote nothing");
    });

    it("ES|QL is not in these zips: POST /_query is not a query endpoint here (ES|QL across clusters is untested)", async () => {
        const r = await withClient(local, (c) => c.transport.request({ method: "POST", path: "/_query", body: { query: `FROM ${alias}:${index} | LIMIT 1` } }).then(() => "answered", (e) => `${e.meta.statusCode} ${JSON.stringify(e.meta.body)}`));
        assert.strictEqual(r, `405 {"error":"Incorrect HTTP method for uri [/_query] and method [POST], allowed: [GET, PUT, DELETE, HEAD]","status":405}`);
    });
});
