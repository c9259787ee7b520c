/**
 * RemoteClusterLink's hooks against real clusters (9.x, 8.19.x, 8.18.x, and a 9.x with a CA
 * nobody trusts): preview-time checks, create/read/update/delete, drift and exact deletes.
 */
import * as assert from "assert";
import * as link from "../../provider/remoteClusterLink";
import { clearProbeMemo } from "../../provider/link/probe";
import { ClusterInfo } from "../../rig/elasticsearch";
import { connectionTo, remoteKeys, withClient } from "../support/connections";
import { pool } from "../support/pool";

function inputs(local: ClusterInfo, remote: ClusterInfo, extra: Record<string, unknown>): any {
    return { local: connectionTo(local), remote: connectionTo(remote), mode: "sniff", seeds: [remote.transportAddress], ...extra };
}

describe("RemoteClusterLink on real clusters", function () {
    let v9: ClusterInfo, v819: ClusterInfo, v818: ClusterInfo, untrusted: ClusterInfo;

    before(async function () {
        [v9, v819, v818, untrusted] = await pool("v9", "v819", "v818", "untrusted9");
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
            assert.ok(created.outs.numNodesConnected >= 1);
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
            const d0 = await link.diff(created.id, r.props, checked.inputs);
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
            assert.ok(created.outs.numProxySocketsConnected >= 1);
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
            assert.strictEqual(r.props.skipUnavailable, false);
            assert.strictEqual(r.props.nodeConnections, 5);
            const d = await link.diff(created.id, r.props, checked.inputs);
            assert.strictEqual(d.changes, true);
            await link.update(created.id, r.props, checked.inputs);
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
        assert.deepStrictEqual(await remoteKeys(v818), before);
    });

    it("bypassing the check shows real Elasticsearch cannot connect 8.18.x to 9.x; create cleans up after the timeout", async function () {
        const news = inputs(v818, v9, { alias: "forced_818_9", connectionTimeoutSeconds: 8 });
        await assert.rejects(link.create(news), (e: Error) => {
            assert.strictEqual(e.name, "RemoteNotConnectedError");
            assert.match(e.message, /did not connect within 8s; the settings this link wrote were removed/);
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
});
