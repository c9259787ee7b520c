/**
 * FollowerIndex and AutoFollowPattern hooks and the link's migration pause/resume, against a double
 * of the CCR endpoints (tests/unit/provider/ccr/fakeCcr.ts): real nodes here have no x-pack-ccr
 * module, so follow, pause/resume, unfollow, info, stats, the auto-follow calls and a follower that
 * Elasticsearch paused by itself cannot run on them. Shapes from Elastic's REST API specification.
 */
import { strict as assert } from "assert";
import * as follower from "../../../../provider/followerIndex";
import * as pattern from "../../../../provider/autoFollowPattern";
import * as migration from "../../../../provider/ccr/migration";
import { clientFor, closeClients } from "../../../../provider/core/client";
import { validateTuning, tuningBody } from "../../../../provider/ccr/params";
import { versionProblem, keyCoverageProblem } from "../../../../provider/ccr/preflight";
import { FakeCcr, startFakeCcr } from "./fakeCcr";

describe("provider/ccr (a double of the CCR endpoints: real nodes here have no x-pack-ccr module)", function () {
    this.timeout(20000);
    let fc: FakeCcr;
    beforeEach(async () => { fc = await startFakeCcr(); });
    afterEach(async () => { await closeClients(); await fc.close(); });

    const inputs = (extra: Record<string, unknown> = {}) => ({ local: fc.conn, alias: "leader", leaderIndex: "logs", followerIndex: "logs-copy", ...extra }) as follower.FollowerInputs;

    it("follow (fake CCR): create sends remote_cluster, leader_index, the tuning in Elasticsearch's names and settings; outputs status, checkpoints and lag", async () => {
        const r = await follower.create(inputs({ maxReadRequestOperationCount: 1024, readPollTimeout: "30s", settings: { "index.number_of_replicas": 0 } }));
        assert.equal(r.id, "logs-copy");
        const f = fc.followers["logs-copy"];
        assert.equal(f.remoteCluster, "leader");
        assert.equal(f.parameters.max_read_request_operation_count, 1024);
        assert.equal(f.parameters.read_poll_timeout, "30s");
        assert.deepEqual(f.settings, { "index.number_of_replicas": 0 });
        assert.equal(r.outs!.status, "active");
        assert.equal(r.outs!.lagOperations, 0);
        assert.equal(r.outs!.fatalError, null);
        assert.ok(fc.seen().includes("PUT /logs-copy/_ccr/follow"));
    });

    it("preview (fake CCR): a taken follower name, an unknown alias and a disconnected one are refused, nothing written", async () => {
        fc.indices.add("logs-copy");
        let c = await follower.check({}, inputs());
        assert.match(c.failures!.map((x) => `${x.property}: ${x.reason}`).join("\n"), /followerIndex: an index named 'logs-copy' already exists .* not a follower/);
        c = await follower.check({}, inputs({ alias: "nope", followerIndex: "other" }));
        assert.match(c.failures![0].reason, /no remote cluster 'nope' is registered/);
        fc.aliases.leader.connected = false;
        c = await follower.check({}, inputs({ followerIndex: "other" }));
        assert.match(c.failures![0].reason, /registered .* but not connected/);
        assert.ok(!fc.seen().some((s) => !s.startsWith("GET") && !s.includes("_has_privileges")), fc.seen().join(", "));
    });

    it("status paused then active (fake CCR): update pauses, then resumes with the declared tuning (a resume without it would reset to the defaults)", async () => {
        const made = await follower.create(inputs({ maxOutstandingReadRequests: 4 }));
        const paused = await follower.update("logs-copy", made.outs!, inputs({ maxOutstandingReadRequests: 4, status: "paused" }));
        assert.equal(paused.outs!.status, "paused");
        assert.equal(fc.followers["logs-copy"].paused, true);
        const resumed = await follower.update("logs-copy", paused.outs!, inputs({ maxOutstandingReadRequests: 6 }));
        assert.equal(resumed.outs!.status, "active");
        assert.equal(fc.followers["logs-copy"].parameters.max_outstanding_read_requests, 6);
        const d = await follower.diff("logs-copy", resumed.outs!, inputs({ maxOutstandingReadRequests: 8 }));
        assert.deepEqual([d.changes, d.replaces], [true, []]);
        assert.deepEqual((await follower.diff("logs-copy", resumed.outs!, inputs({ maxOutstandingReadRequests: 6, leaderIndex: "logs2" }))).replaces, ["leaderIndex"]);
    });

    it("a follower Elasticsearch paused by itself (fake CCR: a shard's fatal_exception): refresh shows paused with the error, in inputs too; up resumes it", async () => {
        const made = await follower.create(inputs());
        fc.followers["logs-copy"].fatal = { type: "index_not_found_exception", reason: "no such index [logs]" };
        const r = await follower.read("logs-copy", made.outs!);
        assert.equal(r.props!.status, "paused");
        assert.equal(r.props!.pausedByElasticsearch, true);
        assert.equal(r.props!.fatalError, "index_not_found_exception: no such index [logs]");
        assert.equal((r.inputs as follower.FollowerInputs).status, "paused");
        assert.equal((await follower.diff("logs-copy", r.props!, inputs())).changes, true);
        const u = await follower.update("logs-copy", r.props!, inputs());
        assert.equal(u.outs!.status, "active");
        assert.equal(u.outs!.fatalError, null);
    });

    it("a follower whose leader is gone (fake CCR): up fails naming the cause and the error that paused it", async () => {
        const made = await follower.create(inputs());
        fc.followers["logs-copy"].fatal = { type: "index_not_found_exception", reason: "no such index [logs]" };
        fc.leaders.delete("logs");
        const r = await follower.read("logs-copy", made.outs!);
        await assert.rejects(follower.update("logs-copy", r.props!, inputs()), /the leader index leader:logs is gone, so following cannot resume \(Elasticsearch paused it: index_not_found_exception: no such index \[logs\]\)/);
    });

    it("destroy, onDestroy unfollow (fake CCR): pause → close → unfollow → open leaves a regular open index; delete removes it", async () => {
        const made = await follower.create(inputs());
        await follower.delete("logs-copy", made.outs!);
        assert.ok(fc.indices.has("logs-copy"));
        assert.ok(!fc.followers["logs-copy"]);
        const order = fc.seen().filter((s) => /pause_follow|_close|unfollow|_open/.test(s));
        assert.deepEqual(order, ["POST /logs-copy/_ccr/pause_follow", "POST /logs-copy/_close", "POST /logs-copy/_ccr/unfollow", "POST /logs-copy/_open"]);
        const again = await follower.create(inputs({ followerIndex: "logs-copy2", onDestroy: "delete" }));
        await follower.delete("logs-copy2", again.outs!);
        assert.ok(!fc.followers["logs-copy2"] && !fc.indices.has("logs-copy2"));
        await follower.delete("logs-copy2", again.outs!); // already gone: success
    });

    it("adoptExisting (fake CCR): a follower of the same leader is taken over; without it the name is refused", async () => {
        await follower.create(inputs());
        await assert.rejects(follower.create(inputs()), /already exists/);
        const a = await follower.create(inputs({ adoptExisting: true }));
        assert.equal(a.outs!.adopted, true);
    });

    it("no CCR module (the double answers as these real nodes do, 400 no handler found): the preview refuses naming x-pack-ccr; the migration pauses nothing and says so", async () => {
        fc.module = false;
        const c = await follower.check({}, inputs());
        assert.match(c.failures![0].reason, /this cluster's distribution has no cross-cluster replication \(module x-pack-ccr\); Elastic's default distribution has it/);
        const log: string[] = [];
        const p = await migration.pauseReplicationFor(clientFor(fc.conn), "leader", (m) => log.push(m));
        assert.deepEqual([p.followers, p.patterns], [[], []]);
        assert.match(log.join("\n"), /no follower index or auto-follow pattern to pause: this cluster's distribution has no cross-cluster replication/);
    });

    it("migration (fake CCR): pauses the active followers and patterns of the alias only, resumes exactly those with their parameters", async () => {
        await follower.create(inputs({ maxReadRequestOperationCount: 100 }));
        await follower.create(inputs({ followerIndex: "already-paused", status: "paused" }));
        fc.aliases.other = { connected: true };
        await follower.create(inputs({ followerIndex: "elsewhere", alias: "other" }));
        fc.patterns.p1 = { body: { remote_cluster: "leader", leader_index_patterns: ["a*"] }, active: true };
        fc.patterns.p2 = { body: { remote_cluster: "other", leader_index_patterns: ["a*"] }, active: true };
        const c = clientFor(fc.conn);
        const paused = await migration.pauseReplicationFor(c, "leader", () => undefined);
        assert.deepEqual([paused.followers, paused.patterns], [["logs-copy"], ["p1"]]);
        assert.equal(fc.followers.elsewhere.paused, false);
        assert.equal(fc.patterns.p2.active, true);
        await migration.resumeReplication(c, "leader", paused, () => undefined);
        assert.equal(fc.followers["logs-copy"].paused, false);
        assert.equal(fc.followers["logs-copy"].parameters.max_read_request_operation_count, 100);
        assert.equal(fc.followers["already-paused"].paused, true);
        assert.equal(fc.patterns.p1.active, true);
    });

    it("API-key alias (fake: _remote/info lists cluster_credentials): keyAccess whose replication does not cover the leader is refused at preview; one that covers it passes", async () => {
        fc.aliases.leader.apiKey = true;
        const bad = await follower.check({}, inputs({ keyAccess: { replication: [{ names: ["metrics-*"] }] } }));
        assert.match(bad.failures!.map((x) => `${x.property}: ${x.reason}`).join("\n"), /keyAccess\.replication: the cross-cluster API key of 'leader' grants replication of metrics-\*, which does not cover logs/);
        assert.deepEqual((await follower.check({}, inputs({ keyAccess: { replication: [{ names: ["log*"] }] } }))).failures, []);
    });

    const pin = (extra: Record<string, unknown> = {}) => ({ local: fc.conn, alias: "leader", name: "logs", leaderIndexPatterns: ["logs-*"], ...extra }) as pattern.PatternInputs;

    it("auto-follow put/get/pause/resume/delete (fake CCR): create, outputs followed indices and recent errors, update through pause → put → resume, delete", async () => {
        const made = await pattern.create(pin({ followIndexPattern: "{{leader_index}}-copy", leaderIndexExclusionPatterns: ["logs-tmp*"], maxRetryDelay: "1s" }));
        assert.deepEqual(fc.patterns.logs.body, { remote_cluster: "leader", leader_index_patterns: ["logs-*"], leader_index_exclusion_patterns: ["logs-tmp*"], follow_index_pattern: "{{leader_index}}-copy", max_retry_delay: "1s" });
        fc.leaders.add("logs-1");
        await follower.create(inputs({ leaderIndex: "logs-1", followerIndex: "logs-1-copy" }));
        fc.autoFollowErrors.push({ leader_index: "logs:logs-2", timestamp: 1, auto_follow_exception: { type: "illegal_argument_exception", reason: "leader index [logs-2] does not have soft deletes enabled" } });
        const r = await pattern.read("logs", made.outs!);
        assert.deepEqual(r.props!.followedIndices, ["logs-1-copy"]);
        assert.deepEqual(r.props!.recentErrors, ["logs:logs-2: illegal_argument_exception: leader index [logs-2] does not have soft deletes enabled"]);
        const u = await pattern.update("logs", r.props!, pin({ leaderIndexPatterns: ["logs-*", "metrics-*"], status: "paused" }));
        assert.equal(u.outs!.status, "paused");
        assert.deepEqual(fc.patterns.logs.body.leader_index_patterns, ["logs-*", "metrics-*"]);
        assert.ok(fc.seen().indexOf("POST /_ccr/auto_follow/logs/pause") < fc.seen().lastIndexOf("PUT /_ccr/auto_follow/logs"));
        fc.patterns.logs.active = true; // resumed by hand
        const drift = await pattern.read("logs", u.outs!);
        assert.equal((drift.inputs as pattern.PatternInputs).status, "active");
        await pattern.delete("logs", u.outs!);
        assert.ok(!fc.patterns.logs);
        assert.deepEqual(await pattern.read("logs", u.outs!), {});
        assert.deepEqual((await pattern.diff("logs", u.outs!, pin({ name: "other" }))).replaces, ["name"]);
    });

    it("auto-follow preview (fake CCR): a taken pattern name is refused unless adoptExisting", async () => {
        fc.patterns.logs = { body: { remote_cluster: "leader", leader_index_patterns: ["x*"] }, active: true };
        const c = await pattern.check({}, pin());
        assert.match(c.failures![0].reason, /an auto-follow pattern named 'logs' already exists/);
        assert.deepEqual((await pattern.check({}, pin({ adoptExisting: true }))).failures, []);
    });
});

describe("provider/ccr pure rules", () => {
    it("tuning: camelCase inputs to Elasticsearch's names; counts, sizes and times validated naming the property", () => {
        assert.deepEqual(tuningBody({ maxWriteBufferSize: "1gb", maxOutstandingWriteRequests: 3 }), { max_outstanding_write_requests: 3, max_write_buffer_size: "1gb" });
        assert.deepEqual(validateTuning({ maxReadRequestSize: "32 megs", maxRetryDelay: "5", maxWriteBufferCount: 0 }).map((f) => f.property).sort(), ["maxReadRequestSize", "maxRetryDelay", "maxWriteBufferCount"]);
    });
    it("version rule: a follower node older than a leader node is refused; equal or newer passes", () => {
        const n = (version: string) => [{ name: "n", version, modules: [] }];
        assert.match(versionProblem(n("8.19.21"), n("9.5.4"), "remote.urls")!.reason, /same or a newer Elasticsearch version than its leader/);
        assert.equal(versionProblem(n("9.5.4"), n("8.19.21"), "remote.urls"), undefined);
        assert.equal(versionProblem(n("9.5.4"), n("9.5.4"), "remote.urls"), undefined);
    });
    it("API-key coverage: a leader the key's replication access does not cover is refused", () => {
        assert.equal(keyCoverageProblem({ replication: [{ names: ["logs-*"] }] }, ["logs-1"], "us", "keyAccess"), undefined);
        assert.match(keyCoverageProblem({ replication: [{ names: ["logs-*"] }] }, ["metrics"], "us", "keyAccess")!.reason, /does not cover metrics/);
        assert.match(keyCoverageProblem({ search: [{ names: ["*"] }] }, ["logs"], "us", "keyAccess")!.reason, /nothing \(no access.replication\)/);
    });
});
