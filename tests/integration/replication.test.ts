/**
 * FollowerIndex / AutoFollowPattern preview refusals on real nodes (trial license, 9.5.4 and 8.19.21).
 *
 * These nodes run Elastic's integ-test-zip, which has no x-pack-ccr module: every CCR endpoint is
 * absent, so what needs it (follow, pause/resume, unfollow, stats, auto-follow) is proved against a
 * double in tests/unit/provider/ccr. Here: Elasticsearch's real answer to a CCR call, the module
 * refusal itself, and every preview check that does not need the module (alias, leader index,
 * follower name, the version rule, privileges through the roles API and _has_privileges), each with
 * nothing written; and the version rule's basis: an index snapshotted on 9.5.4 does not restore on
 * 8.19.21 (CCR's bootstrap is such a restore from the leader), while the reverse restores.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { Client } from "@elastic/elasticsearch";
import * as follower from "../../provider/followerIndex";
import * as pattern from "../../provider/autoFollowPattern";
import { ClusterConnection, closeClients } from "../../provider/core/client";
import { connectionTo } from "../support/connections";
import { ApiKeyCluster, apiKeyPool, stopApiKeyPool } from "../support/apiKeyClusters";
import { ClusterInfo } from "../../rig/elasticsearch";

const ALIAS = "ccrsuite-lead";
const LEADER = "ccrsuite-logs";

function client(c: ClusterInfo): Client {
    const conn = connectionTo(c);
    return new Client({ node: conn.urls[0], auth: { username: conn.username!, password: conn.password! }, tls: { ca: conn.caPem } });
}

async function answer(c: Client, method: string, p: string, body?: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
    try {
        const r = await c.transport.request({ method, path: p, body }, { meta: true });
        return { status: r.statusCode ?? 0, body: r.body };
    } catch (e) {
        const x = e as { statusCode?: number; meta?: { body?: unknown } };
        return { status: x.statusCode ?? 0, body: x.meta?.body };
    }
}

const text = (fs: Array<{ property: string; reason: string }> | undefined) => (fs ?? []).map((f) => `${f.property}: ${f.reason}`).join("\n");

describe("integration: replication preview on real nodes (integ-test-zip: no x-pack-ccr module)", function () {
    this.timeout(300_000);
    let leader: ApiKeyCluster;
    let local9: ApiKeyCluster;
    let local819: ApiKeyCluster;
    let lc9: Client, lc819: Client, rc: Client;

    before(async function () {
        // Starting three nodes on a shared 2-core machine took up to 5 minutes (measured here).
        this.timeout(900_000);
        [leader, local9, local819] = await apiKeyPool("ak9remote", "ak9local", "ak819local");
        [lc9, lc819, rc] = [client(local9), client(local819), client(leader)];
        await rc.transport.request({ method: "PUT", path: `/${LEADER}`, body: { settings: { number_of_replicas: 0 } } });
        for (const c of [lc9, lc819]) {
            await c.transport.request({ method: "PUT", path: "/_cluster/settings", body: { persistent: { [`cluster.remote.${ALIAS}.seeds`]: [leader.transportAddress], "cluster.remote.ccrsuite-dead.seeds": ["127.0.0.1:1"] } } });
        }
        // The link connects on first use; wait until both report it.
        for (const c of [lc9, lc819]) {
            for (let k = 0; k < 60; k++) {
                await answer(c, "GET", `/${ALIAS}:${LEADER}/_search?size=0`);
                const info = (await c.transport.request({ method: "GET", path: "/_remote/info" })) as Record<string, { connected?: boolean }>;
                if (info[ALIAS]?.connected) break;
                await new Promise((r) => setTimeout(r, 500));
            }
        }
    });
    after(async function () {
        this.timeout(180_000);
        for (const c of [lc9, lc819]) {
            await answer(c, "PUT", "/_cluster/settings", { persistent: { [`cluster.remote.${ALIAS}.*`]: null, "cluster.remote.ccrsuite-dead.*": null } });
            await answer(c, "DELETE", "/ccrsuite-*");
            await answer(c, "DELETE", "/_security/user/ccrsuite-user");
            await answer(c, "DELETE", "/_security/role/ccrsuite-weak");
        }
        await answer(rc, "DELETE", `/${LEADER}`);
        await answer(rc, "DELETE", "/_security/role/ccrsuite-weak");
        await Promise.all([lc9, lc819, rc].map((c) => c?.close()));
        await closeClients();
        await stopApiKeyPool();
    });

    const inputs = (local: ClusterInfo, extra: Record<string, unknown> = {}) =>
        ({ local: connectionTo(local), remote: connectionTo(leader), alias: ALIAS, leaderIndex: LEADER, followerIndex: "ccrsuite-follow", ...extra }) as follower.FollowerInputs;

    it("a CCR call on these nodes (9.5.4 and 8.19.21): 400 'no handler found for uri [...] and method [PUT]' — the x-pack-ccr module is absent", async () => {
        for (const c of [lc9, lc819]) {
            const r = await answer(c, "PUT", "/ccrsuite-f/_ccr/follow", { remote_cluster: ALIAS, leader_index: LEADER });
            assert.deepStrictEqual(r, { status: 400, body: { error: "no handler found for uri [/ccrsuite-f/_ccr/follow] and method [PUT]" } });
        }
    });

    it("preview refuses a cluster without the CCR module, on each side, naming x-pack-ccr and the default distribution; nothing written", async () => {
        const before = await indices(lc9);
        const c = await follower.check({}, inputs(local9));
        const t = text(c.failures);
        assert.match(t, /local\.urls: this cluster's distribution has no cross-cluster replication \(module x-pack-ccr\); Elastic's default distribution has it/);
        assert.match(t, /remote\.urls: this cluster's distribution has no cross-cluster replication \(module x-pack-ccr\)/);
        await assert.rejects(follower.create(inputs(local9)), /module x-pack-ccr.*Nothing was written/s);
        assert.deepStrictEqual(await indices(lc9), before);
        const p = await pattern.check({}, { local: connectionTo(local9), alias: ALIAS, name: "ccrsuite-pat", leaderIndexPatterns: ["ccrsuite-*"] } as pattern.PatternInputs);
        assert.match(text(p.failures), /local\.urls: this cluster's distribution has no cross-cluster replication \(module x-pack-ccr\)/);
    });

    it("preview refuses an alias that is not registered, and one registered but not connected", async () => {
        assert.match(text((await follower.check({}, inputs(local9, { alias: "ccrsuite-none" }))).failures), /alias: no remote cluster 'ccrsuite-none' is registered on the local cluster/);
        assert.match(text((await follower.check({}, inputs(local9, { alias: "ccrsuite-dead" }))).failures), /alias: remote cluster 'ccrsuite-dead' is registered on the local cluster but not connected/);
        assert.doesNotMatch(text((await follower.check({}, inputs(local9))).failures), /^alias:/m);
    });

    it("preview refuses a leader index missing on the remote and a follower name taken on the local cluster", async () => {
        await lc9.transport.request({ method: "PUT", path: "/ccrsuite-taken", body: { settings: { number_of_replicas: 0 } } });
        const t = text((await follower.check({}, inputs(local9, { leaderIndex: "ccrsuite-missing", followerIndex: "ccrsuite-taken" }))).failures);
        assert.match(t, /leaderIndex: no index 'ccrsuite-missing' on the remote \(leader\) cluster/);
        assert.match(t, /followerIndex: an index named 'ccrsuite-taken' already exists on the local cluster: it is not a follower, so it cannot be adopted/);
        // The same inputs as an existing resource's (olds) do not count their own index as taken.
        const same = inputs(local9, { followerIndex: "ccrsuite-taken" });
        assert.doesNotMatch(text((await follower.check(same, same)).failures), /followerIndex:/);
    });

    it("version rule: a 9.5.4 leader and an 8.19.21 follower are refused at preview, nothing written; a 9.5.4 follower of the same leader is not", async () => {
        const before = await indices(lc819);
        const t = text((await follower.check({}, inputs(local819))).failures);
        assert.match(t, /remote\.urls: a follower must run the same or a newer Elasticsearch version than its leader: the leader cluster has .* on 9\.5\.4, the follower \(local\) cluster .* on 8\.19\.21/);
        assert.doesNotMatch(text((await follower.check({}, inputs(local9))).failures), /newer Elasticsearch version/);
        assert.deepStrictEqual(await indices(lc819), before);
    });

    it("privileges with certificates: a local user without manage_ccr and the follower privileges (_has_privileges), and no remote role of its role's name (roles API), are refused", async () => {
        await lc9.transport.request({ method: "PUT", path: "/_security/role/ccrsuite-weak", body: { cluster: ["monitor"], indices: [{ names: ["ccrsuite-*"], privileges: ["view_index_metadata"] }] } });
        await lc9.transport.request({ method: "PUT", path: "/_security/user/ccrsuite-user", body: { password: "ccrsuite-pw-123", roles: ["ccrsuite-weak"] } });
        const weak: ClusterConnection = { ...connectionTo(local9), username: "ccrsuite-user", password: "ccrsuite-pw-123" };
        let t = text((await follower.check({}, inputs(local9, { local: weak }))).failures);
        assert.match(t, /local\.username: the local connection's user 'ccrsuite-user' lacks the cluster privilege manage_ccr; .*manage_follow_index.* on ccrsuite-follow/);
        assert.match(t, /remote\.username: with certificates the remote cluster applies its own roles named like the local user's \(ccrsuite-weak\); .* lack the cluster privilege read_ccr; monitor, read on ccrsuite-logs/);
        await rc.transport.request({ method: "PUT", path: "/_security/role/ccrsuite-weak", body: { cluster: ["read_ccr"], indices: [{ names: ["ccrsuite-*"], privileges: ["monitor", "read"] }] } });
        t = text((await follower.check({}, inputs(local9, { local: weak }))).failures);
        assert.doesNotMatch(t, /remote\.username/);
        // The pattern resource checks its leader patterns the same way.
        await rc.transport.request({ method: "PUT", path: "/_security/role/ccrsuite-weak", body: { cluster: ["read_ccr"], indices: [{ names: ["other-*"], privileges: ["monitor", "read"] }] } });
        const p = await pattern.check({}, { local: weak, remote: connectionTo(leader), alias: ALIAS, name: "ccrsuite-pat", leaderIndexPatterns: ["ccrsuite-*"] } as pattern.PatternInputs);
        assert.match(text(p.failures), /remote\.username: .*monitor, read on ccrsuite-\*/);
    });

    it("the version rule's basis: an index snapshotted on 9.5.4 does not restore on 8.19.21 (quoted refusal); one from 8.19.21 restores on 9.5.4", async function () {
        this.timeout(300_000);
        // The pooled 9.5.4 and 8.19.21 clusters share a path.repo (tests/support/apiKeyClusters.ts);
        // CCR's bootstrap is a restore from the leader, so a restore is the rule's basis.
        const repo = leader.snapshotRoot!;
        const [c9, c8] = [client(leader), client(local819)];
        const made: Array<[Client, string]> = [];
        try {
            const roundTrip = async (from: Client, to: Client, name: string) => {
                made.push([from, name], [to, name]);
                await from.transport.request({ method: "PUT", path: `/${name}`, body: { settings: { number_of_replicas: 0 } } });
                await from.transport.request({ method: "PUT", path: `/${name}/_doc/1`, querystring: { refresh: "true" }, body: { a: 1 } });
                await from.transport.request({ method: "PUT", path: `/_snapshot/${name}`, body: { type: "fs", settings: { location: path.join(repo, name) } } });
                await from.transport.request({ method: "PUT", path: `/_snapshot/${name}/s1`, querystring: { wait_for_completion: "true" }, body: { indices: name } });
                await to.transport.request({ method: "PUT", path: `/_snapshot/${name}`, body: { type: "fs", settings: { location: path.join(repo, name), readonly: true } } });
                return answer(to, "POST", `/_snapshot/${name}/s1/_restore?wait_for_completion=true`, { indices: name });
            };
            const down = await roundTrip(c9, c8, "ccrsuite-from9");
            assert.strictEqual(down.status, 500);
            const reason = (down.body as { error: { type: string; reason: string } }).error;
            assert.strictEqual(reason.type, "snapshot_restore_exception");
            assert.match(reason.reason, /the snapshot was created with version \[8\.19\.\d+-\[\d+\]\] which is higher than the version of this node \[[^\]]*8\.19\.21\]/);
            const up = await roundTrip(c8, c9, "ccrsuite-from819");
            assert.strictEqual(up.status, 200);
            assert.strictEqual(((await c9.transport.request({ method: "GET", path: "/ccrsuite-from819/_count" })) as { count: number }).count, 1);
        } finally {
            // What this test made on the shared clusters: the indices, the snapshots and their repositories.
            for (const [c, name] of made) {
                await c.transport.request({ method: "DELETE", path: `/_snapshot/${name}/s1` }, { ignore: [404] }).catch(() => undefined);
                await c.transport.request({ method: "DELETE", path: `/_snapshot/${name}` }, { ignore: [404] }).catch(() => undefined);
                await c.transport.request({ method: "DELETE", path: `/${name}` }, { ignore: [404] }).catch(() => undefined);
            }
            await Promise.all([c9.close(), c8.close()]);
            fs.rmSync(path.join(repo, "ccrsuite-from9"), { recursive: true, force: true });
            fs.rmSync(path.join(repo, "ccrsuite-from819"), { recursive: true, force: true });
        }
    });

    async function indices(c: Client): Promise<string[]> {
        const r = (await c.transport.request({ method: "GET", path: "/_cat/indices/ccrsuite-*", querystring: { h: "index", format: "json", expand_wildcards: "all" } })) as Array<{ index: string }>;
        return r.map((x) => x.index).sort();
    }
});
