/**
 * The link's lifecycle where a real node cannot be made to fail at the moment that matters: the
 * local cluster here is a TEST DOUBLE (./fakeCluster.ts: a one-node model over HTTPS and a fake
 * keystore tool run by the real keystore code), scripted to fail the wait, the node listing or the
 * undo right after the credential and the settings were written. The same hooks run against real
 * nodes in tests/integration/linkLifecycle.test.ts and apiKey.test.ts.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as link from "../../../../provider/remoteClusterLink";
import { clearFacts } from "../../../../provider/core/facts";
import { inputsOf } from "../../../../provider/link/state";
import { elastic } from "../../../support/flakyProxy";
import { fakeCredential, FakeCluster, startFakeCluster } from "./fakeCluster";

const FIXTURES = path.join(__dirname, "..", "..", "..", "..", "..", "tests", "unit", "fixtures", "link");

function apiKeyInputs(fc: FakeCluster, alias: string, credential: string, extra: Record<string, unknown> = {}): any {
    return {
        local: fc.conn, alias, mode: "sniff", seeds: ["127.0.0.1:9443"], security: "apiKey", credential,
        keystoreOn: [fc.keystore], connectionTimeoutSeconds: 2, ...extra,
    };
}

function certInputs(fc: FakeCluster, alias: string, extra: Record<string, unknown> = {}): any {
    return { local: fc.conn, alias, mode: "sniff", seeds: ["127.0.0.1:9300"], connectionTimeoutSeconds: 2, ...extra };
}

const aliasKeys = (fc: FakeCluster, alias: string) => Object.keys(fc.persistent).filter((k) => k.startsWith(`cluster.remote.${alias}.`)).sort();
const credentialFile = (fc: FakeCluster, alias: string) => path.join(fc.keystore.configDir, "fake-keystore", `cluster.remote.${alias}.credentials`);
const held = (fc: FakeCluster, alias: string) => (fs.existsSync(credentialFile(fc, alias)) ? fs.readFileSync(credentialFile(fc, alias), "utf8") : undefined);
const isRemoteInfo = (r: { path: string }) => r.path.startsWith("/_remote/info");
const isPut = (r: { method: string; path: string }) => r.method === "PUT" && r.path.startsWith("/_cluster/settings");
const failing = elastic({ error: { type: "injected", reason: "injected by the test" } }, 500);

describe("RemoteClusterLink lifecycle (a fake local cluster)", function () {
    this.timeout(60_000);
    let fc: FakeCluster;
    beforeEach(async () => {
        clearFacts();
        fc = await startFakeCluster({ uuid: "local-uuid-1" });
    });
    afterEach(async () => fc.close());

    describe("API-key create: every failure after the first write is taken back or recorded", () => {
        it("the wait throws after the credential and settings are written: both are taken back, and the alias is free for the next create", async () => {
            const cred = fakeCredential();
            fc.double.script.push({ when: isRemoteInfo, times: 99, reply: failing });
            await assert.rejects(link.create(apiKeyInputs(fc, "ak1", cred)), (e: any) => {
                assert.strictEqual(e.name, "EsRemoteError");
                assert.match(e.message, /^creating remote cluster 'ak1' \(security: apiKey\) failed: .*the credential was removed from the keystores, the settings this link wrote were removed$/);
                assert.strictEqual(e.id, undefined, "nothing left, nothing recorded");
                return true;
            });
            assert.deepStrictEqual(aliasKeys(fc, "ak1"), []);
            assert.strictEqual(held(fc, "ak1"), undefined);
            fc.heal();
            const r = await link.create(apiKeyInputs(fc, "ak1", cred));
            assert.strictEqual(r.outs.connected, true, "the claim was given back");
            await link.delete(r.id, r.outs);
        });

        it("the node listing fails: it is read before the first write, so the create fails with nothing written and the alias free", async () => {
            const cred = fakeCredential();
            fc.double.script.push({ when: (r) => r.path.startsWith("/_nodes?") || r.path === "/_nodes", times: 99, reply: failing });
            const writes = () => fc.double.requests.filter((r) => r.method === "PUT" || r.path.includes("reload_secure_settings")).length;
            const before = writes();
            await assert.rejects(link.create(apiKeyInputs(fc, "ak-nodes", cred)), (e: any) => e.name !== "CreateInterruptedError");
            assert.strictEqual(writes(), before, "no settings written and no reload");
            assert.deepStrictEqual(aliasKeys(fc, "ak-nodes"), []);
            assert.strictEqual(held(fc, "ak-nodes"), undefined, "no credential in the keystore");
            fc.heal();
            const r = await link.create(apiKeyInputs(fc, "ak-nodes", cred));
            await link.delete(r.id, r.outs);
        });

        it("the wait fails after the writes and the undo fails too: CreateInterruptedError records the link (with its UUID and the provider), and the next up finishes it", async () => {
            const cred = fakeCredential();
            fc.double.script.push({ when: (r) => r.path.startsWith("/_remote/info"), times: 99, reply: failing });
            // Every write after the settings' own fails: the undo of the settings.
            fc.double.script.push({ when: (r) => isPut(r) && aliasKeys(fc, "ak2").length > 0, times: 99, reply: failing });
            let recorded: any;
            await assert.rejects(link.create({ ...apiKeyInputs(fc, "ak2", cred), __provider: "serialized-provider" }), (e: any) => {
                assert.strictEqual(e.name, "CreateInterruptedError", e.message);
                assert.strictEqual(e.id, "ak2");
                assert.match(e.message, /taking back what it wrote failed: write the settings .*the stack records the link as not finished: run 'pulumi up' again/);
                assert.ok(!e.message.includes(cred), "the credential is never in a message");
                recorded = e.properties;
                return true;
            });
            assert.strictEqual(recorded.createInterrupted, true);
            assert.strictEqual(recorded.security, "apiKey");
            assert.strictEqual(recorded.localClusterUuid, "local-uuid-1");
            assert.strictEqual(recorded.__provider, "serialized-provider");
            assert.strictEqual(recorded.connected, false);
            assert.ok(aliasKeys(fc, "ak2").length > 0, "the settings are still there (the undo failed): the state knows");
            // The next up: the engine runs update on the recorded state; it writes everything and finishes.
            fc.heal();
            const d = await link.diff("ak2", recorded, apiKeyInputs(fc, "ak2", cred));
            assert.strictEqual(d.changes, true);
            const up = await link.update("ak2", recorded, apiKeyInputs(fc, "ak2", cred));
            assert.strictEqual(up.outs.connected, true);
            assert.strictEqual(up.outs.createInterrupted, undefined);
            assert.strictEqual(held(fc, "ak2"), cred);
            await link.delete("ak2", up.outs);
            assert.deepStrictEqual(aliasKeys(fc, "ak2"), []);
            assert.strictEqual(held(fc, "ak2"), undefined);
        });

        it("a failed adopt gives the adopted link its settings and its keystore credential back, and says so", async () => {
            const previous = fakeCredential("previous");
            fs.writeFileSync(credentialFile(fc, "adopted"), previous);
            fc.persistent["cluster.remote.adopted.seeds"] = ["10.1.1.1:9443"];
            fc.persistent["cluster.remote.adopted.skip_unavailable"] = "true";
            fc.connectable = () => false;
            const cred = fakeCredential("new");
            await assert.rejects(link.create(apiKeyInputs(fc, "adopted", cred, { adoptExisting: true })), (e: any) => {
                assert.strictEqual(e.name, "RemoteNotConnectedError", e.message);
                assert.match(e.message, /the keystores hold their previous credential again, its previous settings were restored/);
                return true;
            });
            assert.strictEqual(held(fc, "adopted"), previous, "the previous credential, not removed");
            assert.deepStrictEqual(fc.persistent["cluster.remote.adopted.seeds"], ["10.1.1.1:9443"]);
            assert.strictEqual(fc.persistent["cluster.remote.adopted.skip_unavailable"], "true");
        });

        it("two API-key links with one alias in one program: the second create is refused and nothing of the first is touched", async () => {
            const a = await link.create(apiKeyInputs(fc, "twice", fakeCredential("a")));
            const first = held(fc, "twice");
            await assert.rejects(link.create(apiKeyInputs(fc, "twice", fakeCredential("b"), { adoptExisting: true })),
                (e: any) => e.name === "ConflictError" && /another RemoteClusterLink of this program already manages remote cluster 'twice'/.test(e.message));
            assert.strictEqual(held(fc, "twice"), first);
            await link.delete(a.id, a.outs);
            const again = await link.create(apiKeyInputs(fc, "twice", fakeCredential("c")));
            await link.delete(again.id, again.outs);
        });
    });

    describe("API-key links know their cluster", () => {
        let other: FakeCluster;
        beforeEach(async () => {
            other = await startFakeCluster({ uuid: "local-uuid-2" });
        });
        afterEach(async () => other.close());

        it("create records localClusterUuid; `local` pointed at another cluster is a replacement, and an update that gets there anyway refuses", async () => {
            const cred = fakeCredential();
            const r = await link.create(apiKeyInputs(fc, "moved", cred));
            assert.strictEqual(r.outs.localClusterUuid, "local-uuid-1");
            const elsewhere = { ...apiKeyInputs(fc, "moved", cred), local: other.conn };
            const d = await link.diff("moved", r.outs, elsewhere);
            assert.deepStrictEqual(d.replaces, ["local"]);
            assert.strictEqual(d.deleteBeforeReplace, false, "another cluster: the new one is made first");
            await assert.rejects(link.update("moved", r.outs, elsewhere), /now reaches another cluster .*Nothing was written\./);
            assert.deepStrictEqual(aliasKeys(other, "moved"), []);
            await link.delete("moved", r.outs);
        });
    });

    describe("migration certificate → API key", () => {
        it("an exception after the write (the wait throws) rolls back to the certificate settings of the state, and keeps the UUIDs and adoptedFrom", async () => {
            const c = await link.create(certInputs(fc, "mig"));
            assert.strictEqual(c.outs.localClusterUuid, "local-uuid-1");
            const cred = fakeCredential();
            fc.double.script.push({ when: (r) => isRemoteInfo(r) && fc.loaded.has("cluster.remote.mig.credentials"), times: 99, reply: failing });
            await assert.rejects(link.update("mig", c.outs, apiKeyInputs(fc, "mig", cred)), (e: any) => {
                assert.strictEqual(e.name, "RemoteNotConnectedError", e.message);
                assert.match(e.message, /Rolled back: what it paused was resumed, the certificate settings were restored, the credential was removed from the keystores, the API-key settings were removed\. The stack still records the certificate link$/);
                return true;
            });
            assert.deepStrictEqual(fc.persistent["cluster.remote.mig.seeds"], ["127.0.0.1:9300"]);
            assert.strictEqual(held(fc, "mig"), undefined);
            fc.heal();
            const m = await link.update("mig", c.outs, apiKeyInputs(fc, "mig", cred));
            assert.strictEqual(m.outs.credentialsInUse, true);
            assert.strictEqual(m.outs.localClusterUuid, "local-uuid-1", "the migration keeps the UUID");
            assert.deepStrictEqual(fc.persistent["cluster.remote.mig.seeds"], ["127.0.0.1:9443"]);
            await link.delete("mig", m.outs);
        });

        it("an exception after the write whose rollback fails too is recorded as an unfinished API-key link; the retry finishes it forward, never 'restoring' API-key settings as certificate ones", async () => {
            const c = await link.create(certInputs(fc, "mig2"));
            const cred = fakeCredential();
            fc.double.script.push({ when: (r) => isRemoteInfo(r) && fc.loaded.has("cluster.remote.mig2.credentials"), times: 99, reply: failing });
            // The rollback's first write fails: nulling the API-key settings (while the credential is loaded).
            fc.double.script.push({ when: (r) => isPut(r) && fc.loaded.has("cluster.remote.mig2.credentials") && !r.body.includes("9443"), times: 99, reply: failing });
            let recorded: any;
            await assert.rejects(link.update("mig2", c.outs, { ...apiKeyInputs(fc, "mig2", cred), __provider: "p" }), (e: any) => {
                assert.strictEqual(e.name, "CreateInterruptedError", e.message);
                recorded = e.properties;
                return true;
            });
            assert.strictEqual(recorded.security, "apiKey");
            assert.strictEqual(recorded.createInterrupted, true);
            assert.strictEqual(recorded.localClusterUuid, "local-uuid-1");
            assert.strictEqual(recorded.__provider, "p");
            fc.heal();
            const up = await link.update("mig2", recorded, apiKeyInputs(fc, "mig2", cred));
            assert.strictEqual(up.outs.connected, true);
            assert.deepStrictEqual(fc.persistent["cluster.remote.mig2.seeds"], ["127.0.0.1:9443"]);
            assert.strictEqual(held(fc, "mig2"), cred);
            await link.delete("mig2", up.outs);
        });
    });

    describe("API key → certificate", () => {
        it("runs the certificate checks at preview (it skipped every one)", async () => {
            const a = await link.create(apiKeyInputs(fc, "back", fakeCredential()));
            // Without `remote` the certificate checks say so; the API-key path returned [] silently.
            const logged: string[] = [];
            const original = console.log;
            const originalErr = console.error;
            console.log = (...x: unknown[]) => void logged.push(x.map(String).join(" "));
            console.error = console.log;
            try {
                const r = await link.check(a.outs, certInputs(fc, "back"));
                assert.deepStrictEqual(r.failures, []);
            } finally {
                console.log = original;
                console.error = originalErr;
            }
            assert.ok(logged.some((l) => l.includes("no 'remote' connection given, so version and trust checks are skipped")), logged.join("\n"));
            await link.delete("back", a.outs);
        });

        it("the update itself refuses a remote the certificate model cannot reach from this local version (it ran no version rule), before anything is paused or nulled", async () => {
            const cred = fakeCredential();
            const a = await link.create(apiKeyInputs(fc, "back3", cred));
            const old = await startFakeCluster({ version: "7.17.25", uuid: "remote-uuid-old" });
            try {
                const before = JSON.stringify(fc.persistent);
                await assert.rejects(link.update("back3", a.outs, certInputs(fc, "back3", { remote: old.conn })), (e: any) => {
                    assert.strictEqual(e.name, "VersionIncompatibilityError", e.message);
                    assert.match(e.message, /remote cluster 'back3'/);
                    return true;
                });
                assert.strictEqual(JSON.stringify(fc.persistent), before, "no setting changed");
                assert.deepStrictEqual(fc.persistent["cluster.remote.back3.seeds"], ["127.0.0.1:9443"]);
                assert.strictEqual(held(fc, "back3"), cred);
            } finally {
                await old.close();
            }
            await link.delete("back3", a.outs);
        });

        it("a failure after the switch rolls back to the API key: its settings and the credential are back", async () => {
            const cred = fakeCredential();
            const a = await link.create(apiKeyInputs(fc, "back2", cred));
            fc.connectable = (_alias, credential) => credential;
            await assert.rejects(link.update("back2", a.outs, certInputs(fc, "back2")), (e: any) => {
                assert.strictEqual(e.name, "RemoteNotConnectedError", e.message);
                assert.match(e.message, /^migrating remote cluster 'back2' to certificate trust failed: .*Rolled back: what it paused was resumed, the API-key settings were restored, the keystores hold the API key again, the certificate settings were removed\. The stack still records the API-key link$/);
                return true;
            });
            assert.deepStrictEqual(fc.persistent["cluster.remote.back2.seeds"], ["127.0.0.1:9443"]);
            assert.strictEqual(held(fc, "back2"), cred);
            assert.ok(fc.loaded.has("cluster.remote.back2.credentials"), "reloaded with the credential");
            await link.delete("back2", a.outs);
        });
    });

    describe("the wait where the nodes' publish addresses do not route from here", () => {
        it("asks through the connection's URL, says which node was judged how, and a working link is created", async () => {
            const nat = await startFakeCluster({ uuid: "nat-uuid", unroutableNodes: 2 });
            try {
                const logged: string[] = [];
                const original = console.log;
                const originalErr = console.error;
                const originalWarn = console.warn;
                console.log = (...x: unknown[]) => void logged.push(x.map(String).join(" "));
                console.error = console.log;
                console.warn = console.log;
                let r;
                try {
                    r = await link.create(apiKeyInputs(nat, "nat", fakeCredential()));
                } finally {
                    console.log = original;
                    console.error = originalErr;
                    console.warn = originalWarn;
                }
                assert.strictEqual(r.outs.connected, true, logged.join("\n"));
                assert.deepStrictEqual([r.outs.nodesConnected, r.outs.nodesTotal], [1, 2]);
                assert.ok(logged.some((l) => l.includes(`n1 was asked through ${nat.double.url}`)), logged.join("\n"));
                assert.ok(logged.some((l) => /could not ask 1 local node\(s\).*n2: https:\/\/127\.0\.0\.1:1 \(its HTTP publish address\) did not answer/.test(l)), logged.join("\n"));
                await link.delete("nat", r.outs);
            } finally {
                await nat.close();
            }
        });
    });

    describe("read", () => {
        it("refreshes localVersion after an upgrade, and a keystore whose path is gone is drift, not a failed refresh", async () => {
            const cred = fakeCredential();
            const a = await link.create(apiKeyInputs(fc, "rd", cred));
            fc.version = "9.6.0";
            clearFacts();
            const gone = { ...a.outs, keystoreOn: [{ esHome: "/nonexistent/es", configDir: "/nonexistent/config" }] };
            const r = await link.read("rd", gone);
            assert.strictEqual(r.props!.localVersion, "9.6.0");
            assert.strictEqual(r.props!.keystoresInSync, false);
            // Which keystore, and what was found there: its config directory is gone.
            assert.deepStrictEqual(r.props!.keystoreDrift, ["/nonexistent/config/elasticsearch.keystore: could not be read (reading cluster.remote.rd.credentials in /nonexistent/config/elasticsearch.keystore on this host failed (exit 90): /nonexistent/es/bin/elasticsearch-keystore is missing or not executable)"]);
            assert.ok(!("keystoreDrift" in inputsOf(r.props!)), "an output, not an input");
            const d = await link.diff("rd", r.props!, { ...apiKeyInputs(fc, "rd", cred), keystoreOn: gone.keystoreOn });
            assert.strictEqual(d.changes, true, "the next up writes the credential again");
            await link.delete("rd", a.outs);
        });
    });

    describe("states written by the previous release", () => {
        const load = (name: string, fcNow: FakeCluster) => {
            const s = JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8"));
            s.local = fcNow.conn;
            delete s.remote;
            if (s.keystoreOn) s.keystoreOn = [fcNow.keystore];
            return s;
        };

        it("a certificate link: read, diff and update work and keep the output names", async () => {
            const old = load("certificateLink.previous.json", fc);
            fc.persistent["cluster.remote.eu.mode"] = "sniff";
            fc.persistent["cluster.remote.eu.seeds"] = old.seeds;
            fc.persistent["cluster.remote.eu.skip_unavailable"] = "false";
            const r = await link.read("eu", { ...old, localClusterUuid: "local-uuid-1" });
            assert.strictEqual(r.id, "eu");
            for (const k of Object.keys(old).filter((k) => k !== "remote" && k !== "remoteVersion" && k !== "remoteClusterUuid")) assert.ok(k in r.props!, `output ${k} kept`);
            const news = { ...inputsOf(old) };
            const d = await link.diff("eu", r.props!, news);
            assert.strictEqual(d.changes, false);
            const up = await link.update("eu", r.props!, { ...news, skipUnavailable: true });
            assert.strictEqual(up.outs.skipUnavailable, true);
            assert.strictEqual(fc.persistent["cluster.remote.eu.skip_unavailable"], "true");
            await link.delete("eu", up.outs);
        });

        it("an API-key link (no UUID, as migrated links were too): read records the UUID, diff sees no change, update rotates the credential", async () => {
            const old = load("apiKeyLink.previous.json", fc);
            assert.strictEqual(old.localClusterUuid, undefined);
            fc.persistent["cluster.remote.us.mode"] = "sniff";
            fc.persistent["cluster.remote.us.seeds"] = old.seeds;
            fs.writeFileSync(credentialFile(fc, "us"), old.credential);
            fc.loaded.add("cluster.remote.us.credentials");
            const r = await link.read("us", old);
            assert.strictEqual(r.props!.localClusterUuid, "local-uuid-1");
            assert.strictEqual(r.props!.keystoresInSync, true);
            const news = inputsOf(old);
            assert.strictEqual((await link.diff("us", r.props!, news)).changes, false);
            assert.strictEqual((await link.diff("us", old, news)).changes, false, "the old state itself shows no change either");
            const cred = fakeCredential("rotated");
            const up = await link.update("us", old, { ...news, credential: cred });
            assert.strictEqual(held(fc, "us"), cred);
            assert.strictEqual(up.outs.localClusterUuid, "local-uuid-1");
            await link.delete("us", up.outs);
            assert.deepStrictEqual(aliasKeys(fc, "us"), []);
        });
    });
});
