/**
 * RemoteClusterLink's hooks against real clusters (9.x, 8.19.x, 8.18.x, and a 9.x with a CA
 * nobody trusts): preview-time checks, create/read/update/delete, drift and exact deletes.
 */
import * as assert from "assert";
import * as link from "../../provider/remoteClusterLink";
import { clearProbeMemo } from "../../provider/link/probe";
import { ConflictError, EsRemoteError, VersionIncompatibilityError } from "../../provider/core/errors";
import { ClusterInfo } from "../../rig/elasticsearch";
import { connectionTo, remoteKeys, withClient } from "../support/connections";
import { pool } from "../support/pool";
import * as fc from "fast-check";
import { clearBody, readRemoteSettings, RemoteSettings, settingsBody } from "../../provider/link/settings";
import { applyToCluster, loopbackHostArb, remoteSettingsArb } from "../support/settingsModel";

function inputs(local: ClusterInfo, remote: ClusterInfo, extra: Record<string, unknown>): any {
    return { local: connectionTo(local), remote: connectionTo(remote), mode: "sniff", seeds: [remote.transportAddress], ...extra };
}

describe("RemoteClusterLink on real clusters", function () {
    let v9: ClusterInfo, v819: ClusterInfo, v818: ClusterInfo, untrusted: ClusterInfo, v9b: ClusterInfo;

    before(async function () {
        [v9, v819, v818, untrusted, v9b] = await pool("v9", "v819", "v818", "untrusted9", "v9b");
    });
    beforeEach(() => clearProbeMemo());

    it("links 9.x → 8.19.x in sniff mode: check passes, create connects, read matches, delete removes exactly its keys", async function () {
        const news = inputs(v9, v819, { alias: "sniff_819", skipUnavailable: false, nodeConnections: 2 });
        // A remote configured by someone else must survive our delete untouched.
        await withClient(v9, (c) => c.cluster.putSettings({ persistent: { "cluster.remote.foreign.seeds": [v819.transportAddress] } }));
        try {
            const checked = await link.check({}, news);
            assert.deepStrictEqual(checked.failures, []);
            const created = await link.create(checked.inputs);
            assert.strictEqual(created.id, "sniff_819");
            assert.strictEqual(created.outs.connected, true);
            assert.ok(created.outs.numNodesConnected! >= 1);
            assert.deepStrictEqual([created.outs.nodesConnected, created.outs.nodesTotal], [1, 1]);
            assert.match(created.outs.localClusterUuid!, /^[\w-]{20,}$/);
            assert.strictEqual(created.outs.localVersion, v9.version);
            assert.strictEqual(created.outs.remoteVersion, v819.version);
            assert.deepStrictEqual(await remoteKeys(v9, "sniff_819"), {
                "cluster.remote.sniff_819.mode": "sniff",
                "cluster.remote.sniff_819.seeds": [v819.transportAddress],
                "cluster.remote.sniff_819.node_connections": "2",
                "cluster.remote.sniff_819.skip_unavailable": "false",
            });

            // read normalises the strings back to the input types: no drift.
            const r = await link.read(created.id, created.outs);
            const d0 = await link.diff(created.id, r.props!, checked.inputs);
            assert.strictEqual(d0.changes, false);

            await link.delete(created.id, created.outs);
            assert.deepStrictEqual(await remoteKeys(v9, "sniff_819"), {});
            assert.deepStrictEqual(Object.keys(await remoteKeys(v9, "foreign")), ["cluster.remote.foreign.seeds"]);
            // Deleting again (an interrupted destroy run twice) is success.
            await link.delete(created.id, created.outs);
            // And the resource reads as gone.
            assert.deepStrictEqual(await link.read(created.id, created.outs), {});
        } finally {
            await withClient(v9, (c) => c.cluster.putSettings({ persistent: { "cluster.remote.foreign.seeds": null } }));
        }
    });

    it("links 8.19.x → 9.x in proxy mode, then switches to sniff clearing the proxy keys in the same request", async function () {
        const news = { ...inputs(v819, v9, { alias: "proxy_9" }), mode: "proxy", seeds: undefined, proxyAddress: v9.transportAddress, proxySocketConnections: 4 };
        const checked = await link.check({}, news);
        assert.deepStrictEqual(checked.failures, []);
        const created = await link.create(checked.inputs);
        try {
            assert.strictEqual(created.outs.connected, true);
            assert.ok(created.outs.numProxySocketsConnected! >= 1);
            assert.strictEqual((await remoteKeys(v819, "proxy_9"))["cluster.remote.proxy_9.proxy_address"], v9.transportAddress);

            const sniff = { ...inputs(v819, v9, { alias: "proxy_9" }) };
            const d = await link.diff(created.id, created.outs, sniff);
            assert.strictEqual(d.changes, true);
            assert.deepStrictEqual(d.replaces, []);
            const updated = await link.update(created.id, created.outs, (await link.check(created.outs, sniff)).inputs);
            assert.strictEqual(updated.outs!.connected, true);
            assert.deepStrictEqual(await remoteKeys(v819, "proxy_9"), {
                "cluster.remote.proxy_9.mode": "sniff",
                "cluster.remote.proxy_9.seeds": [v9.transportAddress],
            });
        } finally {
            await link.delete(created.id, created.outs);
        }
        assert.deepStrictEqual(await remoteKeys(v819, "proxy_9"), {});
    });

    it("refresh sees hand edits as drift and a hand-removed alias as gone; update repairs the drift", async function () {
        const checked = await link.check({}, inputs(v9, v819, { alias: "drift_819" }));
        const created = await link.create(checked.inputs);
        try {
            await withClient(v9, (c) => c.cluster.putSettings({ persistent: { "cluster.remote.drift_819.skip_unavailable": false, "cluster.remote.drift_819.node_connections": 5 } }));
            const r = await link.read(created.id, created.outs);
            assert.strictEqual(r.props!.skipUnavailable, false);
            assert.strictEqual(r.props!.nodeConnections, 5);
            // The inputs read back are what `pulumi preview --diff` compares the program with: the
            // declared inputs with exactly the two keys edited by hand changed.
            const shown = r.inputs as unknown as link.LinkInputs;
            const declared = JSON.parse(JSON.stringify(checked.inputs));
            assert.deepStrictEqual(shown, { ...declared, skipUnavailable: false, nodeConnections: 5 });
            const d = await link.diff(created.id, r.props!, checked.inputs);
            assert.strictEqual(d.changes, true);
            await link.update(created.id, r.props!, checked.inputs);
            assert.deepStrictEqual(await remoteKeys(v9, "drift_819"), {
                "cluster.remote.drift_819.mode": "sniff",
                "cluster.remote.drift_819.seeds": [v819.transportAddress],
            });

            await withClient(v9, (c) => c.cluster.putSettings({ persistent: { "cluster.remote.drift_819.*": null } }));
            assert.deepStrictEqual(await link.read(created.id, created.outs), {});
        } finally {
            await link.delete(created.id, created.outs);
        }
    });

    it("refuses 8.18.x local with 9.x remote at preview, naming both versions, with nothing written", async function () {
        const before = await remoteKeys(v818);
        const checked = await link.check({}, inputs(v818, v9, { alias: "old_to_new" }));
        assert.strictEqual(checked.failures!.length, 1);
        assert.strictEqual(checked.failures![0].property, "remote.urls");
        assert.match(checked.failures![0].reason, new RegExp(`${v818.version.replace(/\./g, "\\.")}.*${v9.version.replace(/\./g, "\\.")}`));
        // One sentence ends before the next begins (it read "…first Nothing was written.").
        assert.match(checked.failures![0].reason, /8\.19 or later first\. Nothing was written\.$/);
        assert.deepStrictEqual(await remoteKeys(v818), before);
    });

    it("bypassing the check: create refuses the version pair too, with a VersionIncompatibilityError and nothing written", async function () {
        const news = inputs(v818, v9, { alias: "forced_818_9", connectionTimeoutSeconds: 8 });
        await assert.rejects(link.create(news), (e: Error) => {
            assert.ok(e instanceof VersionIncompatibilityError, `${e.name}: ${e.message}`);
            assert.deepStrictEqual([e.details.localVersion, e.details.remoteVersion], [v818.version, v9.version]);
            assert.match(e.message, /first\. Nothing was written\.$/);
            return true;
        });
        assert.deepStrictEqual(await remoteKeys(v818, "forced_818_9"), {});
    });

    it("refuses a remote whose transport CA the local cluster does not trust, saying which side must trust which CA", async function () {
        const checked = await link.check({}, inputs(v9, untrusted, { alias: "untrusted" }));
        const props = checked.failures!.map((f) => f.property).sort();
        assert.deepStrictEqual(props, ["local.urls", "remote.urls"]);
        const local = checked.failures!.find((f) => f.property === "local.urls")!;
        assert.match(local.reason, /the local cluster .* does not trust the CA that issued the remote cluster's transport certificate \(issuer "CN=t-untrusted9 transport CA"/);
        assert.deepStrictEqual(await remoteKeys(v9, "untrusted"), {});
    });

    it("refuses an alias that already exists unless adoptExisting, which takes it over", async function () {
        await withClient(v9, (c) => c.cluster.putSettings({ persistent: { "cluster.remote.handmade.seeds": [v819.transportAddress], "cluster.remote.handmade.skip_unavailable": true } }));
        const news = inputs(v9, v819, { alias: "handmade" });
        const refused = await link.check({}, news);
        assert.strictEqual(refused.failures![0].property, "alias");
        assert.match(refused.failures![0].reason, /already has a remote cluster 'handmade'.*adoptExisting: true/);

        const adopt = { ...news, adoptExisting: true };
        const checked = await link.check({}, adopt);
        assert.deepStrictEqual(checked.failures, []);
        const created = await link.create(checked.inputs);
        assert.strictEqual(created.outs.connected, true);
        // The desired state is now the program's: skip_unavailable (not declared) was removed.
        assert.deepStrictEqual(await remoteKeys(v9, "handmade"), {
            "cluster.remote.handmade.mode": "sniff",
            "cluster.remote.handmade.seeds": [v819.transportAddress],
        });
        await link.delete(created.id, created.outs);
        assert.deepStrictEqual(await remoteKeys(v9, "handmade"), {});
    });

    it("names the unreachable cluster at preview", async function () {
        const news = inputs(v9, v819, { alias: "nowhere" });
        news.local = { ...news.local, urls: ["https://127.0.0.1:1"], maxRetries: 0, requestTimeoutSeconds: 5 };
        const checked = await link.check({}, news);
        assert.strictEqual(checked.failures![0].property, "local.urls");
        assert.match(checked.failures![0].reason, /local cluster \(https:\/\/127\.0\.0\.1:1\) could not be reached/);
    });

    it("transient settings (which win) are seen: an alias set only there is not free, and a transient override is drift", async function () {
        await withClient(v9, (c) => c.cluster.putSettings({ transient: { "cluster.remote.transient_only.seeds": [v819.transportAddress] } }));
        try {
            // Not free, and not adoptable: persistent settings cannot override transient ones.
            const refused = await link.check({}, inputs(v9, v819, { alias: "transient_only", adoptExisting: true }));
            assert.strictEqual(refused.failures![0].property, "alias");
            assert.match(refused.failures![0].reason, /already has a remote cluster 'transient_only' \(sniff .*; set in transient\).*transient settings override/);
            await assert.rejects(link.create(inputs(v9, v819, { alias: "transient_only", adoptExisting: true })), (e: Error) => e instanceof ConflictError && /Nothing was written\.$/.test(e.message));
            assert.deepStrictEqual(await remoteKeys(v9, "transient_only"), {}, "nothing persistent was written");
        } finally {
            await withClient(v9, (c) => c.cluster.putSettings({ transient: { "cluster.remote.transient_only.seeds": null } }));
        }

        const checked = await link.check({}, inputs(v9, v819, { alias: "transient_drift", skipUnavailable: true }));
        const created = await link.create(checked.inputs);
        try {
            // Elasticsearch refuses a transient skip_unavailable alone ("Cannot configure setting [...]
            // if remote cluster is not enabled"): each layer must name the seeds itself.
            await withClient(v9, (c) => c.cluster.putSettings({ transient: { "cluster.remote.transient_drift.seeds": [v819.transportAddress], "cluster.remote.transient_drift.skip_unavailable": false } }));
            const r = await link.read(created.id, created.outs);
            assert.strictEqual(r.props!.skipUnavailable, false, "the transient value is the one the nodes use");
            assert.strictEqual((r.inputs as unknown as link.LinkInputs).skipUnavailable, false);
            assert.strictEqual((await link.diff(created.id, r.props!, checked.inputs)).changes, true);
        } finally {
            await withClient(v9, (c) => c.cluster.putSettings({ transient: { "cluster.remote.transient_drift.skip_unavailable": null, "cluster.remote.transient_drift.seeds": null } }));
            await link.delete(created.id, created.outs);
        }
    });

    it("local URLs that reach another cluster replace the link (the UUID is in state); a state without a UUID keeps updating", async function () {
        const checked = await link.check({}, inputs(v9, v819, { alias: "moved" }));
        const created = await link.create(checked.inputs);
        try {
            assert.ok(created.outs.localClusterUuid && created.outs.remoteClusterUuid);
            const elsewhere = { ...checked.inputs, local: connectionTo(v9b) };
            const d = await link.diff(created.id, created.outs, elsewhere);
            assert.deepStrictEqual(d.replaces, ["local"]);
            // The same cluster through another URL is an update.
            const sameCluster = { ...checked.inputs, local: { ...connectionTo(v9), urls: [v9.url.replace("127.0.0.1", "localhost")] } };
            const same = await link.diff(created.id, created.outs, sameCluster);
            assert.deepStrictEqual([same.changes, same.replaces], [true, []]);
            // A state written by the previous release has no UUID: no spurious replacement.
            const { localClusterUuid: _l, remoteClusterUuid: _r, ...old } = created.outs;
            assert.deepStrictEqual((await link.diff(created.id, old as link.LinkOutputs, elsewhere)).replaces, []);
            // Were the update reached anyway (e.g. the preview could not see the new cluster), it refuses.
            await assert.rejects(link.update(created.id, created.outs, elsewhere), (e: Error) => e instanceof EsRemoteError && /now reaches another cluster.*Nothing was written\./.test(e.message));
            assert.deepStrictEqual(await remoteKeys(v9b, "moved"), {});
        } finally {
            await link.delete(created.id, created.outs);
        }
    });

    it("read refreshes localVersion (diff takes skip_unavailable's default from it) and records the UUIDs old states lack", async function () {
        const checked = await link.check({}, inputs(v9, v819, { alias: "versions" }));
        const created = await link.create(checked.inputs);
        try {
            const stale = { ...created.outs, localVersion: "8.14.0", remoteVersion: "8.18.0", localClusterUuid: undefined };
            const r = await link.read(created.id, stale);
            assert.deepStrictEqual([r.props!.localVersion, r.props!.remoteVersion], [v9.version, v819.version]);
            assert.strictEqual(r.props!.localClusterUuid, created.outs.localClusterUuid);
            // With the stale 8.14 version an unset skipUnavailable compared as false; with the real one as true.
            const explicitTrue = { ...checked.inputs, skipUnavailable: true };
            assert.strictEqual((await link.diff(created.id, stale, explicitTrue)).changes, true);
            assert.strictEqual((await link.diff(created.id, r.props!, explicitTrue)).changes, false);
        } finally {
            await link.delete(created.id, created.outs);
        }
    });

    it("two links with one alias on one cluster in one program: the second create is refused and destroying it keeps the first's keys", async function () {
        const a = await link.create((await link.check({}, inputs(v9, v819, { alias: "twice" }))).inputs);
        try {
            // Declared again (adoptExisting would otherwise take it over silently): refused.
            const second = { ...inputs(v9, v818, { alias: "twice", adoptExisting: true }) };
            await assert.rejects(link.create(second), (e: Error) => e instanceof ConflictError && /another RemoteClusterLink of this program already manages remote cluster 'twice'/.test(e.message));
            assert.deepStrictEqual((await remoteKeys(v9, "twice"))["cluster.remote.twice.seeds"], [v819.transportAddress], "the first link's settings are untouched");
        } finally {
            await link.delete(a.id, a.outs);
        }
        assert.deepStrictEqual(await remoteKeys(v9, "twice"), {});
        // Once the first is destroyed the alias is free for a new link.
        const again = await link.create((await link.check({}, inputs(v9, v819, { alias: "twice" }))).inputs);
        await link.delete(again.id, again.outs);
    });

    it("warns about the 9.0 deprecation once per cluster per process, not once per link", async function () {
        link.forgetWarnings();
        const seen: string[] = [];
        const original = console.warn;
        console.warn = (...args: unknown[]) => void seen.push(args.map(String).join(" "));
        try {
            await link.check({}, inputs(v9b, v819, { alias: "dep_a" }));
            await link.check({}, inputs(v9b, v819, { alias: "dep_b" }));
        } finally {
            console.warn = original;
        }
        const about = seen.filter((m) => m.includes("deprecated since 9.0") && m.includes(v9b.url));
        assert.strictEqual(about.length, 1, `exactly once: ${JSON.stringify(about)}`);
    });
    it("the unit tests' model of the settings store holds on a real node: generated settings, mode switches and clears land exactly as modelled", async function () {
        // The property tests in tests/unit/provider/link/settings.test.ts trust applyToCluster (null
        // removes a key, scalars come back as strings, lists as arrays). Here the same bodies go to
        // a real 9.x node, in sequence over one alias (each after the previous: the update bodies
        // with their nulls), and what the node keeps is compared with the model key by key.
        // Addresses are on loopback only (nothing is dialled outside the machine).
        const samples = fc.sample(remoteSettingsArb(loopbackHostArb), { numRuns: 24, seed: 20261130 });
        const alias = "model_check";
        const persistent = async () => withClient(v9, async (c) => {
            const s = await c.cluster.getSettings({ flat_settings: true });
            return Object.fromEntries(Object.entries(s.persistent ?? {}).filter(([k]) => k.startsWith(`cluster.remote.${alias}.`)));
        });
        let model: Record<string, unknown> = {};
        let previous: RemoteSettings | undefined;
        try {
            for (const [i, s] of samples.entries()) {
                const body = settingsBody(alias, s, previous);
                await withClient(v9, (c) => c.cluster.putSettings({ persistent: body }));
                model = applyToCluster(model, body);
                const real = await persistent();
                assert.deepStrictEqual(real, model, `sample ${i} (${s.mode}${previous ? ` after ${previous.mode}` : ""}): ${JSON.stringify(s)}`);
                assert.deepStrictEqual(readRemoteSettings(alias, real), readRemoteSettings(alias, model));
                previous = s;
            }
        } finally {
            await withClient(v9, (c) => c.cluster.putSettings({ persistent: clearBody(alias) }));
        }
        model = applyToCluster(model, clearBody(alias));
        assert.deepStrictEqual(await persistent(), model);
        assert.deepStrictEqual(model, {});
    });
});
