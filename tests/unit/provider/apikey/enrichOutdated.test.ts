/**
 * A cross-cluster API key made before Elasticsearch 8.15 (its role descriptor lacks `monitor_enrich`)
 * through the link preview's key-coverage warnings and
 * through CrossClusterApiKey's read, diff and update. No node of the test set can make such a key
 * (the oldest is 8.18), so a TEST DOUBLE (tests/support/flakyProxy.ts) stands in for the remote: it
 * answers `GET _security/api_key` with the descriptor such a key has (`cluster:
 * ["cross_cluster_search"]`, what the 8.14 builder gave) and `GET _nodes` with the versions a case
 * needs; after a `PUT _security/cross_cluster/api_key/<id>` it answers with the descriptor 8.19.21
 * and 9.5.4 were seen to build (`["cross_cluster_search", "monitor_enrich"]`).
 */
import * as assert from "assert";
import * as key from "../../../../provider/crossClusterApiKey";
import { keyAccessWarnings } from "../../../../provider/link/apiKeyModel";
import { clientFor } from "../../../../provider/core/client";
import { clearClusterUuidMemo } from "../../../../provider/security/identity";
import { Double, elastic, SeenRequest, startDouble } from "../../../support/flakyProxy";
import { warningsOf } from "../../../support/assertions";

describe("CrossClusterApiKey: a key made before 8.15 (no monitor_enrich in its descriptor), against a test double", function () {
    this.timeout(30000);
    let double: Double;
    let versions: string[] = [];
    let updated = false;

    const answer = (req: SeenRequest) => {
        if (req.path.startsWith("/_security/api_key?")) {
            return elastic({ api_keys: [{
                id: "KEY1", name: "eu-reads-us", type: "cross_cluster", invalidated: false, metadata: {},
                access: { search: [{ names: ["logs-*"] }] },
                role_descriptors: { cross_cluster: { cluster: updated ? ["cross_cluster_search", "monitor_enrich"] : ["cross_cluster_search"], indices: [] } },
            }] });
        }
        if (req.path === "/_security/role") {
            return elastic({ esql_enrich: { cluster: [], indices: [], remote_cluster: [{ clusters: ["us"], privileges: ["monitor_enrich"] }], remote_indices: [{ clusters: ["us"], names: ["logs-*"], privileges: ["read"] }] } });
        }
        if (req.path.startsWith("/_nodes")) return elastic({ nodes: Object.fromEntries(versions.map((v, i) => [`n${i}`, { name: `us-${i}`, version: v }])) });
        if (req.path.startsWith("/_cluster/state/metadata")) return elastic({ metadata: { cluster_uuid: "UUID-US" } });
        if (req.method === "PUT" && req.path.startsWith("/_security/cross_cluster/api_key/KEY1")) {
            updated = true;
            return elastic({ updated: true });
        }
        return elastic({}, 404);
    };

    before(async () => {
        double = await startDouble({ answer });
    });
    after(async () => {
        await double.close();
    });
    beforeEach(() => {
        double.requests.length = 0;
        updated = false;
        clearClusterUuidMemo();
    });

    const state = (): key.ApiKeyOutputs => ({
        remote: { urls: [double.url], username: "elastic", password: "pw", caPem: double.caPem, maxRetries: 0 },
        name: "eu-reads-us", access: { search: [{ names: ["logs-*"] }] }, keyId: "KEY1", encoded: "S0VZMTpzZWNyZXQ=", remoteClusterUuid: "UUID-US",
    });
    const inputsOf = (s: key.ApiKeyOutputs): key.ApiKeyInputs => ({ remote: s.remote, name: s.name, access: s.access });

    it("remote on 8.15+: refresh warns and records enrichOutdated; diff is an update in place; the update rewrites the access and the descriptor then has monitor_enrich", async () => {
        versions = ["8.19.21", "9.5.4"];
        let r: any;
        const w = await warningsOf(async () => { r = await key.read("KEY1", state()); });
        assert.strictEqual(r.props.enrichOutdated, true);
        assert.ok(w.some((x) => /\(KEY1\).*grants cross_cluster_search, without monitor_enrich: it was made before Elasticsearch 8\.15.*The next pulumi up updates the key in place/.test(x)), w.join("\n"));
        const d = await key.diff("KEY1", r.props, inputsOf(state()));
        assert.deepStrictEqual([d.changes, d.replaces], [true, []]);
        let u: any;
        const after = await warningsOf(async () => { u = await key.update("KEY1", r.props, inputsOf(state())); });
        const put = double.requests.find((q) => q.method === "PUT")!;
        assert.deepStrictEqual(JSON.parse(put.body).access, { search: [{ names: ["logs-*"] }] });
        assert.strictEqual(u.outs.encoded, "S0VZMTpzZWNyZXQ=", "same credential");
        assert.strictEqual(u.outs.enrichOutdated, undefined);
        assert.deepStrictEqual(after.filter((x) => /monitor_enrich/.test(x)), []);
        const again = await key.read("KEY1", u.outs);
        assert.strictEqual(again.props!.enrichOutdated, undefined);
        assert.strictEqual((await key.diff("KEY1", again.props as key.ApiKeyOutputs, inputsOf(state()))).changes, false);
    });

    it("a remote node older than 8.15: refresh warns naming it, records nothing (an update there would rebuild the same descriptor)", async () => {
        versions = ["8.15.0", "8.14.3"];
        let r: any;
        const w = await warningsOf(async () => { r = await key.read("KEY1", state()); });
        assert.strictEqual(r.props.enrichOutdated, undefined);
        assert.ok(w.some((x) => /without monitor_enrich.*us-1 runs 8\.14\.3: once every node runs 8\.15\+/.test(x)), w.join("\n"));
        assert.strictEqual((await key.diff("KEY1", r.props, inputsOf(state()))).changes, false);
    });

    it("RemoteClusterLink preview: a local role with remote_cluster monitor_enrich through a link whose key lacks it is warned about, with the fix (update the key), not 'widen its access'", async () => {
        const conn = state().remote;
        const news = { local: conn, remote: conn, alias: "us", seeds: ["127.0.0.1:9443"], security: "apiKey", credential: "S0VZMTpzZWNyZXQ=" } as any;
        const w = await warningsOf(() => keyAccessWarnings(clientFor(conn), clientFor(conn), news));
        const enrich = w.filter((x) => /esql_enrich/.test(x) && /monitor_enrich/.test(x));
        assert.strictEqual(enrich.length, 1, w.join("\n"));
        assert.match(enrich[0], /API key KEY1/);
        assert.doesNotMatch(enrich[0], /secret/);
        updated = true;
        const after = await warningsOf(() => keyAccessWarnings(clientFor(conn), clientFor(conn), news));
        assert.deepStrictEqual(after.filter((x) => /monitor_enrich/.test(x)), [], "a key whose descriptor has monitor_enrich serves the role");
    });
});
