/**
 * `RemoteClusterLink.signing`: the pure checks (shape, the certificate and key themselves, versions,
 * the DN against the key's certificate_identity), and the lifecycle's undo paths. The local cluster
 * in the lifecycle cases is a TEST DOUBLE (./fakeCluster.ts: a one-node settings model over HTTPS and
 * a fake keystore tool run by the real keystore code; the signing files are real files in its config
 * directory, written by the real node-file code): a real node cannot be made to refuse the signing
 * settings or a keystore write at the moment these cases need. tests/integration/signing.test.ts
 * runs the same hooks against real 9.5.4 nodes.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as link from "../../../../provider/remoteClusterLink";
import { clearFacts } from "../../../../provider/core/facts";
import { generateCa, issueNodeCertificate } from "../../../../provider/certs/pem";
import {
    identityProblem, pairTarget, signingPemProblems, signingVersionProblem, validateSigningArgs,
} from "../../../../provider/link/signing";
import { inputsOf } from "../../../../provider/link/state";
import { elastic } from "../../../support/flakyProxy";
import { fakeCredential, FakeCluster, startFakeCluster } from "./fakeCluster";

type Pems = { certPem: string; keyPem: string };

describe("RemoteClusterLink.signing: pure checks", () => {
    let a: Pems;
    let b: Pems;
    before(async () => {
        const ca = await generateCa({ commonName: "signing-ca" });
        a = await issueNodeCertificate(ca, { commonName: "signer-a", dnsNames: ["signer-a"] });
        b = await issueNodeCertificate(ca, { commonName: "signer-b", dnsNames: ["signer-b"] });
    });

    it("shape: an object of PEMs on an API-key link; the fields named; no secret echoed", () => {
        const base = { security: "apiKey" };
        assert.deepStrictEqual(validateSigningArgs({ ...base, signing: { certPem: a.certPem, keyPem: a.keyPem } }), []);
        assert.deepStrictEqual(validateSigningArgs({ ...base, signing: "pem" }).map((f) => f.property), ["signing"]);
        assert.deepStrictEqual(validateSigningArgs({ ...base, signing: { certPem: "x", keyPem: a.keyPem } }).map((f) => f.property), ["signing.certPem"]);
        const badKey = validateSigningArgs({ ...base, signing: { certPem: a.certPem, keyPem: "secret-ish" } });
        assert.deepStrictEqual(badKey.map((f) => f.property), ["signing.keyPem"]);
        assert.ok(!JSON.stringify(badKey).includes("secret-ish"));
        assert.deepStrictEqual(validateSigningArgs({ ...base, signing: { certPem: a.certPem, keyPem: a.keyPem, keyPassphrase: "" } }).map((f) => f.property), ["signing.keyPassphrase"]);
        assert.deepStrictEqual(validateSigningArgs({ ...base, signing: { certPem: a.certPem, keyPem: a.keyPem, passphrase: "pw" } }).map((f) => f.property), ["signing.passphrase"]);
        assert.deepStrictEqual(validateSigningArgs({ signing: { certPem: a.certPem, keyPem: a.keyPem } }), [{
            property: "signing", reason: "is only used with security: \"apiKey\" (strong identity signs the requests an API-key link sends); set security: \"apiKey\" with a credential and keystoreOn, or remove signing",
        }]);
    });

    it("the pair itself: a key that is not the certificate's, an encrypted key without (or with a wrong) passphrase, an expired certificate, an Ed25519 key", async () => {
        assert.deepStrictEqual(signingPemProblems({ certPem: a.certPem, keyPem: a.keyPem }), []);
        assert.deepStrictEqual(signingPemProblems({ certPem: a.certPem, keyPem: b.keyPem }), [{ property: "signing.keyPem", reason: "is not the private key of signing.certPem (their public keys differ): give the key the certificate was issued for" }]);
        const enc = crypto.createPrivateKey(a.keyPem).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "right" }) as string;
        assert.deepStrictEqual(signingPemProblems({ certPem: a.certPem, keyPem: enc, keyPassphrase: "right" }), []);
        assert.deepStrictEqual(signingPemProblems({ certPem: a.certPem, keyPem: enc }).map((f) => f.property), ["signing.keyPassphrase"]);
        assert.deepStrictEqual(signingPemProblems({ certPem: a.certPem, keyPem: enc, keyPassphrase: "wrong" }), [{ property: "signing.keyPassphrase", reason: "does not open keyPem (wrong passphrase); its value is not shown" }]);
        const later = new Date(Date.now() + 3 * 365 * 86_400_000);
        assert.match(signingPemProblems({ certPem: a.certPem, keyPem: a.keyPem }, later)[0].reason, /^the signing certificate expired at /);
        const ed = crypto.generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }) as string;
        assert.deepStrictEqual(signingPemProblems({ certPem: a.certPem, keyPem: ed }), [{ property: "signing.keyPem", reason: "is a ed25519 key; Elasticsearch signs cross-cluster requests with RSA or EC keys only" }]);
    });

    it("the DN against the key's certificate_identity (whole DN), and 9.3+ on every node, named", () => {
        assert.strictEqual(identityProblem(a.certPem, "CN=signer-a", "k1"), undefined);
        assert.strictEqual(identityProblem(a.certPem, "CN=signer-.*", "k1"), undefined);
        assert.strictEqual(identityProblem(a.certPem, undefined, "k1"), undefined, "a key without identity requires nothing");
        const p = identityProblem(a.certPem, "CN=signer", "k1")!;
        assert.strictEqual(p.property, "signing.certPem");
        assert.match(p.reason, /^its subject DN "CN=signer-a" does not match the certificate_identity "CN=signer" of API key k1 \(matched against the whole DN\)/);
        assert.strictEqual(signingVersionProblem("local", "https://eu:9200", [{ name: "eu-1", version: "9.3.0" }, { name: "eu-2", version: "9.5.4" }]), undefined);
        assert.deepStrictEqual(signingVersionProblem("remote", "https://us:9200", [{ name: "us-1", version: "9.5.4" }, { name: "us-2", version: "9.2.3" }]), {
            property: "signing",
            reason: "signing cross-cluster requests (strong identity) needs Elasticsearch 9.3.0 or later on every node of both clusters; the remote cluster (https://us:9200) has us-2 on 9.2.3. Upgrade those nodes first, or leave signing out",
        });
    });

    it("the files' place on a node: certs/ of its config directory, one pair per alias", () => {
        assert.deepStrictEqual(pairTarget({ esHome: "/usr/share/es", configDir: "/etc/elasticsearch" }, "us"), {
            directory: "/etc/elasticsearch/certs", access: undefined, certFile: "es-remote-signing-us.crt", keyFile: "es-remote-signing-us.key",
        });
    });
});

describe("RemoteClusterLink.signing: lifecycle and undo (a fake local cluster)", function () {
    this.timeout(60_000);
    let fc: FakeCluster;
    let a: Pems;
    let b: Pems;
    let encB: string;
    before(async () => {
        const ca = await generateCa({ commonName: "signing-ca" });
        a = await issueNodeCertificate(ca, { commonName: "signer-a", dnsNames: ["signer-a"] });
        b = await issueNodeCertificate(ca, { commonName: "signer-b", dnsNames: ["signer-b"] });
        encB = crypto.createPrivateKey(b.keyPem).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw-b" }) as string;
    });
    beforeEach(async () => {
        clearFacts();
        fc = await startFakeCluster({ uuid: "local-uuid-s" });
        fs.mkdirSync(path.join(fc.keystore.configDir, "certs"));
    });
    afterEach(async () => fc.close());

    const inputs = (alias: string, cred: string, signing?: Record<string, unknown>): any => ({
        local: fc.conn, alias, mode: "sniff", seeds: ["127.0.0.1:9443"], security: "apiKey", credential: cred,
        keystoreOn: [fc.keystore], connectionTimeoutSeconds: 2, ...(signing ? { signing } : {}),
    });
    const file = (alias: string, ext: "crt" | "key") => path.join(fc.keystore.configDir, "certs", `es-remote-signing-${alias}.${ext}`);
    const read = (alias: string, ext: "crt" | "key") => (fs.existsSync(file(alias, ext)) ? fs.readFileSync(file(alias, ext), "utf8") : undefined);
    const signingKeys = (alias: string) => Object.keys(fc.persistent).filter((k) => k.startsWith(`cluster.remote.${alias}.signing.`)).sort();
    const passphrase = (alias: string) => `cluster.remote.${alias}.signing.secure_key_passphrase`;
    const failing = elastic({ error: { type: "injected", reason: "injected by the test" } }, 500);
    const isSigningPut = (r: { method: string; path: string; body?: string }) => r.method === "PUT" && r.path.startsWith("/_cluster/settings") && /signing\.certificate/.test(r.body ?? "");

    it("create: files (key 0600), passphrase, then the settings; delete: settings, passphrase, then files — nothing left", async () => {
        const r = await link.create(inputs("s1", fakeCredential(), { certPem: b.certPem, keyPem: encB, keyPassphrase: "pw-b" }));
        assert.strictEqual(read("s1", "crt"), b.certPem);
        assert.strictEqual(read("s1", "key"), encB);
        assert.strictEqual(fs.statSync(file("s1", "key")).mode & 0o777, 0o600);
        assert.strictEqual(fs.statSync(file("s1", "crt")).mode & 0o777, 0o644);
        assert.deepStrictEqual(signingKeys("s1"), ["cluster.remote.s1.signing.certificate", "cluster.remote.s1.signing.key"]);
        assert.strictEqual(fc.persistent["cluster.remote.s1.signing.certificate"], "certs/es-remote-signing-s1.crt");
        assert.ok(fc.keystoreSettings().includes(passphrase("s1")));
        assert.ok(fc.loaded.has(passphrase("s1")), "reloaded before the settings were written");
        assert.strictEqual(r.outs.signingInSync, true);
        assert.deepStrictEqual(inputsOf(r.outs).signing, { certPem: b.certPem, keyPem: encB, keyPassphrase: "pw-b" });

        await link.delete(r.id, r.outs);
        assert.deepStrictEqual(signingKeys("s1"), []);
        assert.deepStrictEqual(fc.keystoreSettings(), []);
        assert.strictEqual(read("s1", "crt"), undefined);
        assert.strictEqual(read("s1", "key"), undefined);
        assert.deepStrictEqual(fs.readdirSync(path.join(fc.keystore.configDir, "certs")), [], "no kept-aside records left either");
    });

    it("create: the signing settings are refused after files and passphrase were written → all of it is taken back, and the message says so", async () => {
        fc.double.script.push({ when: isSigningPut, times: 1, reply: elastic({ error: { type: "illegal_argument_exception", reason: "Configured file [x] not found" } }, 400) });
        await assert.rejects(link.create(inputs("s2", fakeCredential(), { certPem: b.certPem, keyPem: encB, keyPassphrase: "pw-b" })), (e: any) => {
            assert.strictEqual(e.name, "EsRemoteError", e.message);
            assert.match(e.message, /^creating remote cluster 's2' \(security: apiKey\) failed: illegal_argument_exception.*; the credential was removed from the keystores, the signing files were removed, the passphrase was removed from the keystores$/);
            assert.ok(!e.message.includes("pw-b"));
            return true;
        });
        assert.strictEqual(read("s2", "crt"), undefined);
        assert.strictEqual(read("s2", "key"), undefined);
        assert.deepStrictEqual(fc.keystoreSettings(), []);
        assert.deepStrictEqual(Object.keys(fc.persistent), []);
    });

    it("create: a file that was there before the first write is kept aside and put back when the create fails", async () => {
        fs.writeFileSync(file("s3", "crt"), "someone's certificate\n", { mode: 0o644 });
        fc.connectable = () => false;
        await assert.rejects(link.create(inputs("s3", fakeCredential(), { certPem: a.certPem, keyPem: a.keyPem })), /the signing files were removed/);
        assert.strictEqual(read("s3", "crt"), "someone's certificate\n");
        assert.strictEqual(read("s3", "key"), undefined);
    });

    it("update: rotation whose passphrase write fails → the previous files are written back; the update fails and the state keeps the old signing", async () => {
        const cred = fakeCredential();
        const r = await link.create(inputs("s4", cred, { certPem: a.certPem, keyPem: a.keyPem }));
        fc.failKeystore("add");
        await assert.rejects(link.update("s4", r.outs, inputs("s4", cred, { certPem: b.certPem, keyPem: encB, keyPassphrase: "pw-b" })), (e: any) => {
            assert.match(e.message, /^changing the signing of remote cluster 's4' failed: could not add cluster\.remote\.s4\.signing\.secure_key_passphrase .*injected failure of add.*; the previous signing files were written back\. The stack keeps the link's previous signing$/);
            return true;
        });
        assert.strictEqual(read("s4", "crt"), a.certPem);
        assert.strictEqual(read("s4", "key"), a.keyPem);
        fc.heal();
        const up = await link.update("s4", r.outs, inputs("s4", cred, { certPem: b.certPem, keyPem: encB, keyPassphrase: "pw-b" }));
        assert.strictEqual(read("s4", "crt"), b.certPem, "same path, new certificate");
        assert.ok(fc.keystoreSettings().includes(passphrase("s4")));
        await link.delete("s4", up.outs);
    });

    it("update: removing signing when the passphrase cannot be removed → the settings come back; when that fails too, the link is recorded (old signing, unfinished) and the next up finishes the removal", async () => {
        const cred = fakeCredential();
        const r = await link.create(inputs("s5", cred, { certPem: b.certPem, keyPem: encB, keyPassphrase: "pw-b" }));
        fc.failKeystore("remove");
        // The undo's settings write (the paths again, not the nulls) fails as well.
        fc.double.script.push({ when: (q) => isSigningPut(q) && /signing\.certificate":"/.test(q.body ?? ""), times: 1, reply: failing });
        let recorded: any;
        await assert.rejects(link.update("s5", r.outs, { ...inputs("s5", cred), __provider: "p" }), (e: any) => {
            assert.strictEqual(e.name, "CreateInterruptedError", e.message);
            assert.match(e.message, /^stopping the signing of remote cluster 's5' failed: .*taking back what it wrote failed: remove the signing settings .*the stack records the link as not finished/);
            recorded = e.properties;
            return true;
        });
        assert.strictEqual(recorded.createInterrupted, true);
        assert.strictEqual(recorded.signing.certPem, b.certPem, "the old signing is recorded: the next up stops it again");
        assert.strictEqual(recorded.__provider, "p");
        fc.heal();
        assert.strictEqual((await link.diff("s5", recorded, inputs("s5", cred))).changes, true);
        const up = await link.update("s5", recorded, inputs("s5", cred));
        assert.deepStrictEqual(signingKeys("s5"), []);
        assert.ok(!fc.keystoreSettings().includes(passphrase("s5")));
        assert.strictEqual(read("s5", "crt"), undefined);
        assert.strictEqual(up.outs.signingInSync, undefined);
        await link.delete("s5", up.outs);
    });

    it("refresh: a signing file changed or gone on the node is drift; the next up writes it again", async () => {
        const cred = fakeCredential();
        const r = await link.create(inputs("s6", cred, { certPem: a.certPem, keyPem: a.keyPem }));
        fs.writeFileSync(file("s6", "crt"), b.certPem);
        fs.rmSync(file("s6", "key"));
        const seen = await link.read("s6", r.outs);
        const props = seen.props as any;
        assert.strictEqual(props.signingInSync, false);
        const dir = path.join(fc.keystore.configDir, "certs");
        assert.deepStrictEqual(props.signingDrift, [`${dir}: es-remote-signing-s6.crt holds another certificate`, `${dir}: es-remote-signing-s6.key is missing`]);
        assert.strictEqual((await link.diff("s6", props, inputs("s6", cred, { certPem: a.certPem, keyPem: a.keyPem }))).changes, true);
        const up = await link.update("s6", props, inputs("s6", cred, { certPem: a.certPem, keyPem: a.keyPem }));
        assert.strictEqual(read("s6", "crt"), a.certPem);
        assert.strictEqual(read("s6", "key"), a.keyPem);
        assert.strictEqual(up.outs.signingInSync, true);
        await link.delete("s6", up.outs);
    });

    it("a state written before signing existed refreshes and updates as before: no signing write, no signing output", async () => {
        const cred = fakeCredential();
        const r = await link.create(inputs("s7", cred));
        const old: any = { ...r.outs };
        delete old.signingInSync;
        const seen = await link.read("s7", old);
        assert.strictEqual((seen.props as any).signingInSync, undefined);
        assert.strictEqual((seen.props as any).signingDrift, undefined);
        assert.strictEqual((await link.diff("s7", seen.props as any, inputs("s7", cred))).changes, false);
        fc.double.requests.length = 0;
        const up = await link.update("s7", seen.props as any, inputs("s7", cred));
        assert.ok(!fc.double.requests.some((q) => /signing/.test(q.body ?? "")), "nothing about signing was sent");
        assert.deepStrictEqual(fs.readdirSync(path.join(fc.keystore.configDir, "certs")), []);
        assert.strictEqual(up.outs.signingInSync, undefined);
        await link.delete("s7", up.outs);
    });

    it("migration certificate → API key with signing: files, settings and all, and a failed wait takes the signing back with the rest", async () => {
        const cert: any = { local: fc.conn, alias: "m1", mode: "sniff", seeds: ["127.0.0.1:9300"], connectionTimeoutSeconds: 2 };
        const c = await link.create(cert);
        const cred = fakeCredential();
        fc.double.script.push({ when: (q) => q.path.startsWith("/_remote/info") && fc.loaded.has("cluster.remote.m1.credentials"), times: 99, reply: failing });
        await assert.rejects(link.update("m1", c.outs, inputs("m1", cred, { certPem: a.certPem, keyPem: a.keyPem })),
            /Rolled back: .*the signing files were removed, the signing settings were removed, the API-key settings were removed\. The stack still records the certificate link$/);
        assert.strictEqual(read("m1", "crt"), undefined);
        assert.deepStrictEqual(signingKeys("m1"), []);
        fc.heal();
        const m = await link.update("m1", c.outs, inputs("m1", cred, { certPem: a.certPem, keyPem: a.keyPem }));
        assert.strictEqual(read("m1", "crt"), a.certPem);
        assert.deepStrictEqual(signingKeys("m1"), ["cluster.remote.m1.signing.certificate", "cluster.remote.m1.signing.key"]);
        assert.strictEqual(m.outs.signingInSync, true);

        // Back to certificate trust: signing stops first (certificate trust signs nothing).
        const back = await link.update("m1", m.outs, cert);
        assert.deepStrictEqual(signingKeys("m1"), []);
        assert.strictEqual(read("m1", "crt"), undefined);
        assert.strictEqual(read("m1", "key"), undefined);
        assert.strictEqual(back.outs.signingInSync, undefined);
        await link.delete("m1", back.outs);
    });

    it("a node dropped from keystoreOn loses its signing files and passphrase; the nodes kept keep theirs", async () => {
        const second = { esHome: fc.keystore.esHome, configDir: path.join(path.dirname(fc.keystore.configDir), "config2") };
        fs.mkdirSync(path.join(second.configDir, "certs"), { recursive: true });
        fs.mkdirSync(path.join(second.configDir, "fake-keystore"));
        fs.writeFileSync(path.join(second.configDir, "elasticsearch.keystore"), "fake keystore (see fake-keystore/)\n");
        const cred = fakeCredential();
        const signing = { certPem: b.certPem, keyPem: encB, keyPassphrase: "pw-b" };
        const r = await link.create({ ...inputs("k1", cred, signing), keystoreOn: [fc.keystore, second] });
        const secondFile = path.join(second.configDir, "certs", "es-remote-signing-k1.crt");
        assert.strictEqual(fs.readFileSync(secondFile, "utf8"), b.certPem);
        assert.ok(fs.existsSync(path.join(second.configDir, "fake-keystore", passphrase("k1"))));
        const up = await link.update("k1", r.outs, inputs("k1", cred, signing));
        assert.strictEqual(fs.existsSync(secondFile), false);
        assert.strictEqual(fs.existsSync(path.join(second.configDir, "fake-keystore", passphrase("k1"))), false);
        assert.strictEqual(read("k1", "crt"), b.certPem, "the node kept keeps its files");
        assert.ok(fc.keystoreSettings().includes(passphrase("k1")));
        await link.delete("k1", up.outs);
    });

    it("a node added to keystoreOn whose files cannot be written: the nodes already signing keep their files (the setting names them), and the new node gets no key", async () => {
        // No certs/ folder on the new node: its delivery fails before writing anything.
        const added = { esHome: fc.keystore.esHome, configDir: path.join(path.dirname(fc.keystore.configDir), "config-new") };
        fs.mkdirSync(path.join(added.configDir, "fake-keystore"), { recursive: true });
        fs.writeFileSync(path.join(added.configDir, "elasticsearch.keystore"), "fake keystore (see fake-keystore/)\n");
        const cred = fakeCredential();
        const signing = { certPem: a.certPem, keyPem: a.keyPem };
        const r = await link.create(inputs("n1", cred, signing));
        await assert.rejects(link.update("n1", r.outs, { ...inputs("n1", cred, signing), keystoreOn: [fc.keystore, added] }), (e: any) => {
            assert.match(e.message, /could not write the signing files of remote cluster 'n1' on every node: .*config-new\/certs.* is missing/);
            assert.doesNotMatch(e.message, /putting the files back failed/);
            return true;
        });
        assert.strictEqual(read("n1", "crt"), a.certPem, "the signing node keeps its certificate");
        assert.strictEqual(read("n1", "key"), a.keyPem, "and its key");
        assert.deepStrictEqual(signingKeys("n1"), ["cluster.remote.n1.signing.certificate", "cluster.remote.n1.signing.key"]);
        assert.strictEqual(fs.existsSync(path.join(added.configDir, "certs")), false);
        await link.delete("n1", r.outs);
    });

    it("the write itself refuses a local node older than 9.3 (unknown at preview), naming it, before any signing file is written", async () => {
        fc.version = "9.2.3";
        await assert.rejects(link.create(inputs("v1", fakeCredential(), { certPem: a.certPem, keyPem: a.keyPem })), (e: any) => {
            assert.match(e.message, /needs Elasticsearch 9\.3\.0 or later on every node of both clusters; the local cluster \(https:\/\/127\.0\.0\.1:\d+\) has n1 on 9\.2\.3.*Nothing of the signing was written/);
            return true;
        });
        assert.strictEqual(read("v1", "crt"), undefined);
        assert.strictEqual(read("v1", "key"), undefined);
        assert.deepStrictEqual(Object.keys(fc.persistent), [], "the create took the alias back");
        assert.deepStrictEqual(fc.keystoreSettings(), []);
    });

    it("a certificate link refuses signing at check, naming the property", async () => {
        const r = await link.check({}, { local: fc.conn, alias: "c1", seeds: ["127.0.0.1:9300"], signing: { certPem: a.certPem, keyPem: a.keyPem } });
        assert.deepStrictEqual(r.failures.map((f: any) => f.property), ["signing"]);
        assert.deepStrictEqual(fc.seen(), [], "nothing reached the cluster");
    });
});
