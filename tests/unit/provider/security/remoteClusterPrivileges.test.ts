/**
 * `remote_cluster` privileges of a CrossClusterRole (model "apiKey"), without any cluster: the
 * privileges a role uses and the input that names each, the local nodes' versions against each
 * privilege's first version, the certificate model's refusal, explicit `remote_cluster` entries,
 * drift in input names, and states of earlier releases (no such field). The version table is
 * Elasticsearch's (8.15 monitor_enrich, 8.17 monitor_stats).
 */
import * as assert from "assert";
import * as roleHooks from "../../../../provider/crossClusterRole";
import { HookModule } from "../../../../provider/core/dynamic";
import {
    normaliseRole, observedSpec, remoteClusterUses, remoteClusterVersionProblems, roleBodies, RoleSpec, validateRoleSpec,
} from "../../../../provider/security/roles";
import { warningsOf } from "../../../support/assertions";

const role: HookModule<any, any> = roleHooks;
const CONN = { urls: ["https://127.0.0.1:1"], username: "elastic", password: "pw-of-elastic", maxRetries: 0, requestTimeoutSeconds: 2 };
const KEYED = { model: "apiKey", local: CONN, name: "esql-enrich", preset: "search", clusters: ["us"], indices: ["logs-*"], remoteClusterPrivileges: ["monitor_enrich"] };
const nodes = (...versions: string[]) => versions.map((version, i) => ({ name: `node-${i}`, version }));

describe("remote_cluster privileges of a CrossClusterRole", () => {
    it("the uses are named by the input that declares them: remoteClusterPrivileges[i], or the path in localDefinition", () => {
        assert.deepStrictEqual(remoteClusterUses(KEYED), [{ property: "remoteClusterPrivileges[0]", privilege: "monitor_enrich" }]);
        const explicit = {
            model: "apiKey", localDefinition: {
                remote_indices: [{ clusters: ["us"], names: ["logs-*"], privileges: ["read", "read_cross_cluster"] }],
                remote_cluster: [{ clusters: ["us"], privileges: ["monitor_enrich"] }, { clusters: ["eu"], privileges: ["monitor_enrich", "monitor_stats"] }],
            },
        };
        assert.deepStrictEqual(remoteClusterUses(explicit).map((u) => u.property), [
            "localDefinition.remote_cluster[0].privileges[0]", "localDefinition.remote_cluster[1].privileges[0]", "localDefinition.remote_cluster[1].privileges[1]",
        ]);
        assert.deepStrictEqual(remoteClusterUses({ ...KEYED, model: "certificate" }), [], "the certificate model writes none");
        assert.deepStrictEqual(remoteClusterUses({ ...KEYED, remoteClusterPrivileges: undefined }), []);
    });

    it("a local node older than a privilege's first version is named with its version; 8.15+ and unparsable versions pass", () => {
        const urls = "https://es-eu:9200";
        assert.deepStrictEqual(remoteClusterVersionProblems(remoteClusterUses(KEYED), nodes("8.15.0", "9.5.4"), urls), []);
        assert.deepStrictEqual(remoteClusterVersionProblems(remoteClusterUses(KEYED), nodes("8.19.21", "weird"), urls), []);
        const old = remoteClusterVersionProblems(remoteClusterUses(KEYED), nodes("8.19.21", "8.14.3"), urls);
        assert.deepStrictEqual(old, [{
            property: "remoteClusterPrivileges[0]",
            reason: "the remote_cluster privilege 'monitor_enrich' needs Elasticsearch 8.15.0 or later on every node of the local cluster (https://es-eu:9200), where the role is stored; " +
                "node-1 runs 8.14.3. Upgrade those nodes first, or leave 'monitor_enrich' out",
        }]);
        // monitor_stats came two minors later: an 8.16 node takes monitor_enrich only.
        const both = remoteClusterUses({ ...KEYED, remoteClusterPrivileges: ["monitor_enrich", "monitor_stats"] });
        assert.deepStrictEqual(remoteClusterVersionProblems(both, nodes("8.16.6"), urls).map((f) => f.property), ["remoteClusterPrivileges[1]"]);
        assert.match(remoteClusterVersionProblems(both, nodes("8.16.6"), urls)[0].reason, /'monitor_stats' needs Elasticsearch 8\.17\.0 .* node-0 runs 8\.16\.6/);
    });

    it("check reads the local nodes' versions only for a role that uses remote_cluster; an unreadable cluster is a warning, not a failure", async () => {
        let r: any;
        const warnings = await warningsOf(async () => { r = await role.check({}, KEYED); });
        assert.deepStrictEqual(r.failures, []);
        assert.ok(warnings.some((w) => /could not read the local nodes' versions to check its remote_cluster privileges/.test(w)), warnings.join("\n"));
        const none = await warningsOf(async () => { r = await role.check({}, { ...KEYED, remoteClusterPrivileges: undefined }); });
        assert.deepStrictEqual(none.filter((w) => /nodes' versions/.test(w)), [], "no request for a role without remote_cluster");
    });

    it("refused with the certificate model, naming the property and the fix", () => {
        const f = validateRoleSpec({ ...KEYED, model: "certificate" });
        assert.deepStrictEqual(f.map((x) => x.property).sort(), ["clusters", "remoteClusterPrivileges"]);
        assert.match(f.find((x) => x.property === "remoteClusterPrivileges")!.reason, /^goes with model: "apiKey" only: .*cross-cluster API key.*Set model: "apiKey"/);
    });

    it("unknown privileges are refused, in the preset input and in an explicit remote_cluster entry", () => {
        assert.deepStrictEqual(validateRoleSpec({ ...KEYED, remoteClusterPrivileges: ["monitor"] }).map((x) => x.property), ["remoteClusterPrivileges[0]"]);
        const bad = (remote_cluster: unknown) => validateRoleSpec({ model: "apiKey", localDefinition: { remote_cluster } }).map((x) => x.property);
        assert.deepStrictEqual(bad([{ clusters: ["us"], privileges: ["monitor_enrich", "manage"] }]), ["localDefinition.remote_cluster[0].privileges[1]"]);
        assert.deepStrictEqual(bad([{ clusters: ["us"], privileges: [] }]), ["localDefinition.remote_cluster[0].privileges"]);
        assert.deepStrictEqual(bad([{ privileges: ["monitor_enrich"] }]), ["localDefinition.remote_cluster[0].clusters"]);
        assert.deepStrictEqual(bad([{ clusters: ["us"], privileges: ["monitor_enrich"], names: ["x"] }]), ["localDefinition.remote_cluster[0].names"]);
        assert.deepStrictEqual(bad({ clusters: ["us"] }), ["localDefinition.remote_cluster"]);
        assert.deepStrictEqual(bad([{ clusters: ["us"], privileges: ["monitor_enrich", "monitor_stats"] }]), []);
    });

    it("drift: privileges removed or changed by hand show in remoteClusterPrivileges; a state without the field reads unchanged", () => {
        const spec = KEYED as unknown as RoleSpec;
        const declared = roleBodies(spec).local;
        assert.deepStrictEqual(declared.remote_cluster, [{ clusters: ["us"], privileges: ["monitor_enrich"] }]);
        // As Elasticsearch returns it (defaults added): no drift.
        const stored = { ...declared, cluster: [], indices: [], applications: [], run_as: [], metadata: {}, transient_metadata: { enabled: true } };
        assert.deepStrictEqual(observedSpec(spec, { local: stored }).remoteClusterPrivileges, ["monitor_enrich"]);
        // Removed by hand: the preset stays, the privileges become none.
        const removed = observedSpec(spec, { local: { ...stored, remote_cluster: [] } });
        assert.deepStrictEqual([removed.preset, removed.remoteClusterPrivileges], ["search", undefined]);
        // monitor_stats added by hand.
        const added = observedSpec(spec, { local: { ...stored, remote_cluster: [{ clusters: ["us"], privileges: ["monitor_enrich", "monitor_stats"] }] } });
        assert.deepStrictEqual(added.remoteClusterPrivileges, ["monitor_enrich", "monitor_stats"]);
        // A state of an earlier release: no remoteClusterPrivileges, no remote_cluster on the cluster.
        const old = { ...KEYED } as Record<string, unknown>;
        delete old.remoteClusterPrivileges;
        const oldSeen = observedSpec(old as unknown as RoleSpec, { local: { ...normaliseRole(roleBodies(old as unknown as RoleSpec).local), transient_metadata: { enabled: true } } });
        assert.ok(!("remoteClusterPrivileges" in oldSeen) || oldSeen.remoteClusterPrivileges === undefined);
        assert.strictEqual(oldSeen.preset, "search");
    });

    it("diff: a state of an earlier release (no such field) is no change; adding the privilege is an update, never a replace", async () => {
        const old = { ...KEYED } as Record<string, unknown>;
        delete old.remoteClusterPrivileges;
        const outs = { ...old, localRole: normaliseRole(roleBodies(old as unknown as RoleSpec).local), remoteRole: null, localExists: true, remoteExists: false };
        assert.strictEqual((await role.diff("esql-enrich", outs, old)).changes, false);
        const d = await role.diff("esql-enrich", outs, KEYED);
        assert.deepStrictEqual([d.changes, d.replaces], [true, []]);
    });
});
