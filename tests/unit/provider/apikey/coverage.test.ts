/**
 * The key-access coverage check (pure): index-pattern containment, the privileges each part of a
 * key's access grants, regular expressions reported as "cannot check", entries for other aliases
 * skipped. The privilege lists are Elasticsearch's (CrossClusterApiKeyRoleDescriptorBuilder).
 */
import * as assert from "assert";
import { clusterMatches, keyCoverage, patternCovers } from "../../../../provider/apikey/coverage";
import { lacksEnrich } from "../../../../provider/apikey/key";
import * as keyHooks from "../../../../provider/crossClusterApiKey";
import { clusterRoleWarnings } from "../../../../provider/apikey/roleAccess";

const SEARCH = ["read", "read_cross_cluster", "view_index_metadata"];
const values = (gaps: Array<{ value: string }>) => gaps.map((g) => g.value);

describe("key access coverage", () => {
    it("pattern containment: the key's wildcards against the role pattern's text", () => {
        const cases: Array<[string, string, boolean]> = [
            ["logs-*", "logs-*", true],
            ["logs-*", "logs-eu-*", true],
            ["logs-*", "logs-a", true],
            ["*", "anything-*", true],
            ["logs-*", "log*", false], // log* also matches "logbook"
            ["logs-*", "*", false],
            ["logs-a", "logs-*", false],
            ["logs-?", "logs-a", true],
            ["logs-?", "logs-?", true],
            ["logs-?", "logs-*", false], // ? is one character; * is any number
            ["logs-*-eu", "logs-x-eu", true],
            ["logs-*-eu", "logs-*-eu", true],
            ["logs-*-eu", "logs-*", false],
            ["a\\*b", "a\\*b", true], // an escaped star is a literal star
            ["a\\*b", "a*b", false], // the role's a*b also matches axb
            ["a*", "a\\*b", true],
        ];
        for (const [k, r, want] of cases) assert.strictEqual(patternCovers(k, r), want, `${k} covers ${r}`);
        assert.strictEqual(patternCovers("/logs-.*/", "logs-a"), undefined);
        assert.strictEqual(patternCovers("logs-*", "/logs-.*/"), undefined);
    });

    it("cluster patterns of a role match the alias with wildcards", () => {
        assert.strictEqual(clusterMatches("us", "us"), true);
        assert.strictEqual(clusterMatches("u*", "us"), true);
        assert.strictEqual(clusterMatches("*", "us"), true);
        assert.strictEqual(clusterMatches("eu", "us"), false);
        assert.strictEqual(clusterMatches("/u./", "us"), undefined);
    });

    it("search privileges need search access with the pattern; replication privileges replication access", () => {
        const access = { search: [{ names: ["logs-*"] }], replication: [{ names: ["leader-*"] }] };
        const role = {
            remote_indices: [
                { clusters: ["us"], names: ["logs-a", "metrics-*"], privileges: SEARCH },
                { clusters: ["us"], names: ["leader-1", "logs-b"], privileges: ["cross_cluster_replication"] },
            ],
        };
        const c = keyCoverage(access, role, "us");
        assert.deepStrictEqual(c.uncovered.map((g) => [g.entry, g.name, g.value, g.needs]), [[0, 1, "metrics-*", "search"], [1, 1, "logs-b", "replication"]]);
        assert.match(c.uncovered[0].reason, /'metrics-\*' \(privileges read, read_cross_cluster, view_index_metadata\) on remote cluster 'us' is not covered by the key's search access \(logs-\*\)/);
        assert.deepStrictEqual(c.unchecked, []);
        assert.deepStrictEqual(c.notGranted, []);
        assert.strictEqual(c.entries, 2);
    });

    it("a key without the needed part covers nothing of it", () => {
        const c = keyCoverage({ replication: [{ names: ["*"] }] }, { remote_indices: [{ clusters: ["us"], names: ["logs-*"], privileges: ["read"] }] }, "us");
        assert.deepStrictEqual(values(c.uncovered), ["logs-*"]);
        assert.match(c.uncovered[0].reason, /search access \(none\)/);
    });

    it("entries for other aliases are not the key's business; all of them covered is a clean result", () => {
        const role = { remote_indices: [{ clusters: ["eu"], names: ["x-*"], privileges: SEARCH }, { clusters: ["u*"], names: ["logs-*"], privileges: ["read"] }] };
        const c = keyCoverage({ search: [{ names: ["logs-*", "x-*"] }] }, role, "us");
        assert.deepStrictEqual([c.uncovered, c.unchecked, c.notGranted, c.entries], [[], [], [], 1]);
        assert.deepStrictEqual(keyCoverage({ search: [{ names: ["a"] }] }, {}, "us").entries, 0);
    });

    it("regular expressions on either side are reported as 'cannot check', never passed", () => {
        const role = { remote_indices: [{ clusters: ["us"], names: ["/logs-.*/", "logs-a", "other"], privileges: ["read"] }] };
        const c = keyCoverage({ search: [{ names: ["logs-*", "/oth.*/"] }] }, role, "us");
        assert.deepStrictEqual(values(c.unchecked), ["/logs-.*/", "other"]);
        assert.deepStrictEqual(c.uncovered, []);
        const byCluster = keyCoverage({ search: [{ names: ["a"] }] }, { remote_indices: [{ clusters: ["/u./"], names: ["b"], privileges: ["read"] }] }, "us");
        assert.strictEqual(byCluster.unchecked.length, 1);
        assert.match(byCluster.unchecked[0].reason, /regular expressions/);
    });

    it("privileges no key grants are reported apart; 'all' is covered by either part; action names are not compared", () => {
        const role = { remote_indices: [{ clusters: ["us"], names: ["leader-1"], privileges: ["all", "write", "monitor", "indices:data/read/search"] }] };
        const c = keyCoverage({ replication: [{ names: ["leader-*"] }] }, role, "us");
        assert.deepStrictEqual(c.uncovered, []);
        assert.deepStrictEqual(values(c.notGranted), ["write", "monitor"]);
        assert.deepStrictEqual(c.notGranted.map((g) => g.privilege), [1, 2]);
        assert.deepStrictEqual(values(c.unchecked), ["indices:data/read/search"]);
        assert.deepStrictEqual(values(keyCoverage({ search: [{ names: ["x"] }] }, { remote_indices: [{ clusters: ["us"], names: ["leader-1"], privileges: ["all"] }] }, "us").uncovered), ["leader-1"]);
    });

    it("allow_restricted_indices needs a search entry of the key that allows them", () => {
        const role = { remote_indices: [{ clusters: ["us"], names: [".security*"], privileges: ["read"], allow_restricted_indices: true }] };
        assert.deepStrictEqual(values(keyCoverage({ search: [{ names: ["*"] }] }, role, "us").uncovered), [".security*"]);
        assert.deepStrictEqual(keyCoverage({ search: [{ names: ["*"], allowRestrictedIndices: true }] }, role, "us").uncovered, []);
    });

    it("remote_cluster: monitor_enrich needs search access; other cluster privileges no key grants", () => {
        const role = { remote_cluster: [{ clusters: ["us"], privileges: ["monitor_enrich", "monitor_stats"] }] };
        const none = keyCoverage({ replication: [{ names: ["a"] }] }, role, "us");
        assert.deepStrictEqual(none.uncovered.map((g) => [g.list, g.privilege, g.value]), [["remote_cluster", 0, "monitor_enrich"]]);
        assert.deepStrictEqual(keyCoverage({ search: [{ names: ["a"] }] }, role, "us").uncovered, []);
    });

    it("remote_cluster: monitor_enrich against the key's role descriptor as the remote reports it (a key made before 8.15 lacks it)", () => {
        const role = { remote_cluster: [{ clusters: ["us"], privileges: ["monitor_enrich"] }] };
        const access = { search: [{ names: ["logs-*"] }] };
        // What 8.19.21 and 9.5.4 answered for a search key (GET _security/api_key role_descriptors.cross_cluster.cluster).
        assert.deepStrictEqual(keyCoverage(access, role, "us", ["cross_cluster_search", "monitor_enrich"]).uncovered, []);
        const old = keyCoverage(access, role, "us", ["cross_cluster_search"]);
        assert.deepStrictEqual(old.uncovered.map((g) => [g.list, g.entry, g.privilege, g.value, g.needs]), [["remote_cluster", 0, 0, "monitor_enrich", "search"]]);
        assert.match(old.uncovered[0].reason, /is not in the role descriptor \(cluster: cross_cluster_search\)/);
        assert.match(old.uncovered[0].fix!, /added it to search access in 8\.15.*update the key on the 8\.15\+ remote cluster/);
        // Unknown descriptor (not reported): judged on the access alone, as before.
        assert.deepStrictEqual(keyCoverage(access, role, "us").uncovered, []);
        // Another alias's entry is not this key's business.
        assert.deepStrictEqual(keyCoverage(access, { remote_cluster: [{ clusters: ["eu"], privileges: ["monitor_enrich"] }] }, "us", ["cross_cluster_search"]).uncovered, []);
    });

    it("the link's warning for a role on the cluster names the old key and says to update it, not to widen its access", () => {
        const roles = { esql: { remote_cluster: [{ clusters: ["us"], privileges: ["monitor_enrich"] }] }, builtin: { metadata: { _reserved: true }, remote_cluster: [{ clusters: ["*"], privileges: ["monitor_enrich"] }] } };
        const w = clusterRoleWarnings(roles, { search: [{ names: ["*"] }] }, "us", "KEYID", ["cross_cluster_search"]);
        assert.strictEqual(w.length, 1, w.join("\n"));
        assert.match(w[0], /^remote cluster 'us': local role 'esql' remote_cluster\[0\]: .* of API key KEYID, so the remote cluster refuses it\. Elasticsearch added it to search access in 8\.15/);
        assert.ok(!/Add it to the key's access/.test(w[0]));
        assert.deepStrictEqual(clusterRoleWarnings(roles, { search: [{ names: ["*"] }] }, "us", "KEYID", ["cross_cluster_search", "monitor_enrich"]), []);
    });

    it("lacksEnrich: a search key without monitor_enrich in its descriptor; replication-only keys and unreported descriptors are not", () => {
        assert.strictEqual(lacksEnrich({ access: { search: [{ names: ["a"] }] }, clusterPrivileges: ["cross_cluster_search"] }), true);
        assert.strictEqual(lacksEnrich({ access: { search: [{ names: ["a"] }] }, clusterPrivileges: ["cross_cluster_search", "monitor_enrich"] }), false);
        assert.strictEqual(lacksEnrich({ access: { replication: [{ names: ["a"] }] }, clusterPrivileges: ["cross_cluster_replication"] }), false);
        assert.strictEqual(lacksEnrich({ access: { search: [{ names: ["a"] }] } }), false);
        assert.strictEqual(lacksEnrich(undefined), false);
    });

    it("CrossClusterApiKey.diff: a state a refresh marked enrichOutdated is an update in place (same key), never a replace", async () => {
        const remote = { urls: ["https://127.0.0.1:1"], username: "elastic", password: "pw", maxRetries: 0, requestTimeoutSeconds: 2 };
        const inputs = { remote, name: "k", access: { search: [{ names: ["logs-*"] }] } };
        const outs = { ...inputs, keyId: "id1", encoded: "ZW5j", remoteClusterUuid: "u1" };
        assert.strictEqual((await keyHooks.diff("id1", outs as any, inputs as any)).changes, false);
        const d = await keyHooks.diff("id1", { ...outs, enrichOutdated: true } as any, inputs as any);
        assert.deepStrictEqual([d.changes, d.replaces], [true, []]);
    });

    it("never throws on odd role bodies", () => {
        for (const role of [{ remote_indices: "x" }, { remote_indices: [null, 1, { clusters: "us" }] }, { remote_cluster: [{}] }]) {
            assert.doesNotThrow(() => keyCoverage({ search: [{ names: ["a"] }] }, role as any, "us"));
        }
    });
});
