/**
 * `remote_cluster` privileges on real nodes (the pooled API-key clusters: ak9local and ak9remote on
 * 9.5.4, ak819local on 8.19.21, trial licenses): a CrossClusterRole (model "apiKey") with
 * `monitor_enrich` through the provider's hooks — stored as declared (`GET _security/role`), drift
 * when changed by hand, repaired by an update, gone after delete; what each version accepts and
 * refuses in a role's `remote_cluster`; and the role descriptor Elasticsearch gives a cross-cluster
 * API key (`GET _security/api_key`), which the key-coverage check reads for `monitor_enrich`.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as roleHooks from "../../provider/crossClusterRole";
import * as key from "../../provider/crossClusterApiKey";
import { HookModule } from "../../provider/core/dynamic";
import { clientFor } from "../../provider/core/client";
import { getKey } from "../../provider/apikey/key";
import { clusterRoleWarnings } from "../../provider/apikey/roleAccess";
import { connectionTo, withClient } from "../support/connections";
import { ApiKeyCluster, apiKeyPool, stopApiKeyPool } from "../support/apiKeyClusters";
import { warningsOf } from "../support/assertions";

const role: HookModule<any, any> = roleHooks;
const rand = () => crypto.randomBytes(3).toString("hex");

async function roleOn(c: ApiKeyCluster, name: string): Promise<Record<string, any> | undefined> {
    return withClient(c, async (client) => {
        const r = await client.transport.request<Record<string, Record<string, any>>>({ method: "GET", path: `/_security/role/${encodeURIComponent(name)}` }, { ignore: [404], meta: true });
        return r.statusCode === 404 ? undefined : r.body[name];
    });
}

/** Status and reason of a role PUT sent as is (what Elasticsearch itself accepts or refuses). */
async function putRaw(c: ApiKeyCluster, name: string, body: unknown): Promise<{ status: number; reason?: string }> {
    return withClient(c, async (client) => {
        const r = await client.transport.request<any>({ method: "PUT", path: `/_security/role/${encodeURIComponent(name)}`, body: body as any }, { ignore: [400], meta: true });
        return { status: r.statusCode ?? 0, reason: r.body?.error?.reason };
    });
}

describe("remote_cluster privileges on real nodes (9.5.4 and 8.19.21)", function () {
    this.timeout(900_000);
    let ak9local: ApiKeyCluster;
    let ak9remote: ApiKeyCluster;
    let ak819local: ApiKeyCluster;

    before(async function () {
        [ak9local, ak9remote, ak819local] = await apiKeyPool("ak9local", "ak9remote", "ak819local");
    });
    after(async function () {
        this.timeout(180_000);
        await stopApiKeyPool();
    });

    for (const [label, pick] of [["9.5.4", () => ak9local], ["8.19.21", () => ak819local]] as const) {
        it(`${label}: a role with monitor_enrich is stored as declared, drifts when changed by hand, is repaired by an update and removed by delete`, async function () {
            const c = pick();
            const name = `rcp-enrich-${rand()}`;
            const news = { model: "apiKey", local: connectionTo(c), name, preset: "search", clusters: ["us"], indices: ["logs-*"], remoteClusterPrivileges: ["monitor_enrich"] };
            // check reads the local nodes' versions (every node is 8.15+): no failure.
            const checked = await role.check({}, news);
            assert.deepStrictEqual(checked.failures, []);
            const outs = (await role.create(checked.inputs)).outs;
            try {
                const stored = await roleOn(c, name);
                assert.deepStrictEqual(stored!.remote_cluster, [{ clusters: ["us"], privileges: ["monitor_enrich"] }]);
                assert.deepStrictEqual(stored!.remote_indices.map((e: any) => [e.clusters, e.names, e.privileges]), [[["us"], ["logs-*"], ["read", "read_cross_cluster", "view_index_metadata"]]]);
                const r = await role.read(name, outs);
                assert.deepStrictEqual(r.inputs.remoteClusterPrivileges, ["monitor_enrich"]);
                assert.strictEqual((await role.diff(name, r.props, news)).changes, false, "no false drift");

                // remote_cluster removed by hand: drift in the user's input name, an update puts it back.
                const { remote_cluster: _gone, transient_metadata: _t, ...rest } = stored!;
                await withClient(c, (cl) => cl.transport.request({ method: "PUT", path: `/_security/role/${name}`, body: rest }));
                const drift = await role.read(name, outs);
                assert.deepStrictEqual([drift.inputs.preset, drift.inputs.remoteClusterPrivileges], ["search", undefined]);
                const d = await role.diff(name, drift.props, news);
                assert.deepStrictEqual([d.changes, d.replaces], [true, []]);
                const fixed = (await role.update(name, drift.props, news)).outs;
                assert.deepStrictEqual((await roleOn(c, name))!.remote_cluster, [{ clusters: ["us"], privileges: ["monitor_enrich"] }]);

                // monitor_stats added by hand: shown as such.
                await withClient(c, (cl) => cl.transport.request({ method: "PUT", path: `/_security/role/${name}`, body: { ...rest, remote_cluster: [{ clusters: ["us"], privileges: ["monitor_enrich", "monitor_stats"] }] } }));
                const more = await role.read(name, fixed);
                assert.deepStrictEqual(more.inputs.remoteClusterPrivileges, ["monitor_enrich", "monitor_stats"]);

                // A state of an earlier release (no such field) on a role without remote_cluster reads and diffs unchanged.
                const oldNews = { ...news } as Record<string, unknown>;
                delete oldNews.remoteClusterPrivileges;
                const oldOuts = (await role.update(name, more.props, oldNews)).outs;
                assert.strictEqual((await roleOn(c, name))!.remote_cluster, undefined);
                const oldRead = await role.read(name, oldOuts);
                assert.strictEqual(oldRead.inputs.remoteClusterPrivileges, undefined);
                assert.strictEqual((await role.diff(name, oldRead.props, oldNews)).changes, false);
            } finally {
                await role.delete(name, outs);
            }
            assert.strictEqual(await roleOn(c, name), undefined, "delete removes it");
        });

        it(`${label}: what a role's remote_cluster accepts and refuses (Elasticsearch's own answers), and check refuses the same first`, async function () {
            const c = pick();
            const name = `rcp-raw-${rand()}`;
            try {
                const both = await putRaw(c, name, { remote_cluster: [{ clusters: ["us"], privileges: ["monitor_enrich", "monitor_stats"] }] });
                assert.strictEqual(both.status, 200, JSON.stringify(both));
                const seen: Record<string, { status: number; reason?: string }> = {};
                for (const [why, body] of [
                    ["an index-style privilege", { remote_cluster: [{ clusters: ["us"], privileges: ["monitor"] }] }],
                    ["a cluster privilege no remote_cluster takes", { remote_cluster: [{ clusters: ["us"], privileges: ["manage"] }] }],
                    ["no clusters", { remote_cluster: [{ privileges: ["monitor_enrich"] }] }],
                    ["empty privileges", { remote_cluster: [{ clusters: ["us"], privileges: [] }] }],
                ] as const) {
                    seen[why] = await putRaw(c, `${name}-x`, body);
                }
                // The same answers on 9.5.4 and 8.19.21 (the trailing space is Elasticsearch's).
                const prefix = `failed to parse remote_cluster for role [${name}-x]. `;
                assert.deepStrictEqual(seen, {
                    "an index-style privilege": { status: 400, reason: `${prefix}[monitor_enrich, monitor_stats] are the only values allowed for [privileges] within [remote_cluster]. Found [monitor]` },
                    "a cluster privilege no remote_cluster takes": { status: 400, reason: `${prefix}[monitor_enrich, monitor_stats] are the only values allowed for [privileges] within [remote_cluster]. Found [manage]` },
                    "no clusters": { status: 400, reason: `${prefix}[clusters] must be defined when [privileges] are defined ` },
                    "empty privileges": { status: 400, reason: "remote cluster groups must not be null or empty" },
                });
                // The provider refuses these at check, naming the property, before anything is sent.
                const f = await role.check({}, { model: "apiKey", local: connectionTo(c), name, localDefinition: { remote_cluster: [{ clusters: ["us"], privileges: ["monitor"] }] } });
                assert.deepStrictEqual(f.failures!.map((x: any) => x.property), ["localDefinition.remote_cluster[0].privileges[0]"]);
            } finally {
                await withClient(c, (cl) => cl.transport.request({ method: "DELETE", path: `/_security/role/${name}` }, { ignore: [404] }));
            }
        });
    }

    for (const [label, pick] of [["9.5.4", () => ak9remote], ["8.19.21", () => ak819local]] as const) {
        it(`${label}: a cross-cluster API key's role descriptor: search access brings monitor_enrich; the coverage check finds nothing missing`, async function () {
            const c = pick();
            const made: key.ApiKeyOutputs[] = [];
            try {
                const descriptors: Record<string, string[] | undefined> = {};
                for (const [kind, access] of [
                    ["search", { search: [{ names: ["logs-*"] }] }],
                    ["replication", { replication: [{ names: ["leader-*"] }] }],
                    ["both", { search: [{ names: ["logs-*"] }], replication: [{ names: ["leader-*"] }] }],
                ] as const) {
                    const outs = (await key.create({ remote: connectionTo(c), name: `rcp-${kind}-${rand()}`, access: access as any })).outs!;
                    made.push(outs);
                    descriptors[kind] = (await getKey(clientFor(connectionTo(c)), connectionTo(c), outs.keyId))!.clusterPrivileges;
                }
                // monitor_stats is in no key's descriptor: a role's monitor_stats has no effect through a key (the coverage check warns).
                assert.deepStrictEqual(descriptors, {
                    search: ["cross_cluster_search", "monitor_enrich"],
                    replication: ["cross_cluster_replication"],
                    both: ["cross_cluster_search", "monitor_enrich", "cross_cluster_replication"],
                });
                // A refresh of a current key: no warning about monitor_enrich, nothing for the next up to do.
                let read: any;
                const warnings = await warningsOf(async () => { read = await key.read(made[0].keyId, made[0]); });
                assert.deepStrictEqual(warnings.filter((w) => /monitor_enrich/.test(w)), []);
                assert.strictEqual(read.props.enrichOutdated, undefined);
                assert.strictEqual((await key.diff(made[0].keyId, read.props, made[0])).changes, false);
                // The link's coverage warnings with this key's real descriptor: a monitor_enrich role is served.
                const k = await getKey(clientFor(connectionTo(c)), connectionTo(c), made[0].keyId);
                const roles = { esql: { remote_indices: [{ clusters: ["us"], names: ["logs-*"], privileges: ["read", "read_cross_cluster"] }], remote_cluster: [{ clusters: ["us"], privileges: ["monitor_enrich"] }] } };
                assert.deepStrictEqual(clusterRoleWarnings(roles, k!.access!, "us", k!.id, k!.clusterPrivileges), []);
            } finally {
                for (const outs of made) await key.delete(outs.keyId, outs);
            }
        });
    }
});
