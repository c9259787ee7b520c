/**
 * CrossClusterRole's create and update: every write paired with its undo (provider/core/steps.ts).
 *
 * TEST DOUBLE: each cluster is tests/support/flakyProxy.ts's HTTPS double answering from a small
 * role store (GET/PUT/DELETE _security/role/<name>, the cluster UUID). The moments these tests need
 * (the local side refusing a write just after the remote side took it, the undo refused too, a
 * connection broken after the request arrived) cannot be made to happen on a real node on demand;
 * the integration suites prove the same hooks against Elasticsearch.
 */
import * as assert from "assert";
import * as roleHooks from "../../../../provider/crossClusterRole";
import { HookModule } from "../../../../provider/core/dynamic";
import { ClusterConnection } from "../../../../provider/core/client";
import { CreateInterruptedError } from "../../../../provider/core/errors";
import { clearClusterUuidMemo } from "../../../../provider/security/identity";
import { Double, elastic, Reply, SeenRequest, startDouble } from "../../../support/flakyProxy";

const role: HookModule<any, any> = roleHooks;

interface RoleCluster {
    double: Double;
    conn: ClusterConnection;
    roles: Record<string, unknown>;
    /**
     * The request matching `method` after `skip` others gets `reply`: "refuse" (HTTP 500, nothing
     * applied) or "reset" (the connection closed without an answer, after applying it to the store
     * when `apply`).
     */
    fail(method: string, reply: "refuse" | "reset", opts?: { apply?: boolean; skip?: number }): void;
}

async function roleCluster(uuid: string): Promise<RoleCluster> {
    const roles: Record<string, unknown> = {};
    const faults: Array<{ method: string; reply: "refuse" | "reset"; apply: boolean; skip: number }> = [];
    const answer = (r: SeenRequest): Reply => {
        const p = new URL(r.path, "http://x").pathname;
        if (p === "/_cluster/state/metadata") return elastic({ metadata: { cluster_uuid: uuid } });
        const m = /^\/_security\/role\/([^/]+)$/.exec(p);
        if (!m) return elastic({ error: { type: "fake_unsupported", reason: `the double does not know ${r.method} ${p}` } }, 400);
        const name = decodeURIComponent(m[1]);
        const k = faults.findIndex((f) => f.method === r.method && f.skip-- === 0);
        const fault = k >= 0 ? faults.splice(k, 1)[0] : undefined;
        if (fault && !fault.apply) {
            return fault.reply === "reset" ? "reset" : elastic({ error: { type: "security_exception", reason: "injected refusal" } }, 500);
        }
        let a: Reply;
        if (r.method === "GET") a = name in roles ? elastic({ [name]: roles[name] }) : elastic({}, 404);
        else if (r.method === "PUT") {
            roles[name] = JSON.parse(r.body);
            a = elastic({ role: { created: true } });
        } else {
            const found = name in roles;
            delete roles[name];
            a = elastic({ found }, found ? 200 : 404);
        }
        return fault ? "reset" : a;
    };
    const double = await startDouble({ answer });
    return {
        double, roles,
        conn: { urls: [double.url], username: "elastic", password: "pw-of-elastic", caPem: double.caPem, maxRetries: 0, requestTimeoutSeconds: 5 },
        fail: (method, reply, opts = {}) => void faults.push({ method, reply, apply: opts.apply ?? false, skip: opts.skip ?? 0 }),
    };
}

const SPEC = { name: "remote-search", preset: "search", indices: ["logs-*"] };
const PREVIOUS = { cluster: [], indices: [{ names: ["old-*"], privileges: ["read"] }] };

describe("CrossClusterRole writes with their undo (against a test double of two clusters)", function () {
    this.timeout(30_000);
    let local: RoleCluster;
    let remote: RoleCluster;
    let news: Record<string, unknown>;
    beforeEach(async () => {
        clearClusterUuidMemo();
        local = await roleCluster("uuid-local");
        remote = await roleCluster("uuid-remote");
        news = { ...SPEC, local: local.conn, remote: remote.conn };
    });
    afterEach(async () => {
        await local.double.close();
        await remote.double.close();
    });

    it("create: the local side refused after the remote side was written — the remote side is removed again, nothing half-created", async () => {
        local.fail("PUT", "refuse");
        await assert.rejects(role.create(news), (e: Error) => {
            assert.ok(!(e instanceof CreateInterruptedError), String(e));
            assert.strictEqual(e.name, "EsRemoteError");
            assert.match(e.message, /^role 'remote-search' could not be written on the local cluster \(.*\): HTTP 500 security_exception: injected refusal\. The remote side was removed again, so neither cluster has the role \(nothing half-created\)\.$/);
            return true;
        });
        assert.deepStrictEqual([Object.keys(remote.roles), Object.keys(local.roles)], [[], []]);
    });

    it("create with adoptExisting: the remote side's previous definition is put back when the local side is refused", async () => {
        remote.roles["remote-search"] = PREVIOUS;
        local.fail("PUT", "refuse");
        await assert.rejects(role.create({ ...news, adoptExisting: true }), /The remote side's previous definition was restored, so both clusters are as before\.$/);
        assert.deepStrictEqual(remote.roles["remote-search"], PREVIOUS);
        assert.deepStrictEqual(Object.keys(local.roles), []);
    });

    it("create: the undo refused too — recorded as an interrupted create that says where the role is", async () => {
        local.fail("PUT", "refuse");
        remote.fail("DELETE", "refuse");
        await assert.rejects(role.create(news), (e: CreateInterruptedError) => {
            assert.ok(e instanceof CreateInterruptedError, String(e));
            assert.match(e.message, /Trying to remove the remote side again failed too \(HTTP 500 security_exception: injected refusal\), so role 'remote-search' now EXISTS on the remote cluster \(.*\) with the new definition and does NOT exist on the local cluster\. What it wrote may be on the clusters, so the stack records the role as not finished/);
            assert.strictEqual(e.id, "remote-search");
            assert.strictEqual(e.properties.createInterrupted, true);
            assert.strictEqual(e.details.outcomeUnknown, true);
            return true;
        });
        assert.ok(remote.roles["remote-search"], "the remote side is still there, as the message says");
    });

    it("create: the local write's connection broke after it arrived (it landed) — both sides are taken back, and the error keeps its class", async () => {
        // Before withUndo this was recorded as an interrupted create with the remote side left in
        // place; now the write whose outcome is unknown is undone like the others, and only an
        // undo that fails is recorded (the next test).
        local.fail("PUT", "reset", { apply: true });
        await assert.rejects(role.create(news), (e: Error) => {
            assert.strictEqual(e.name, "ClusterUnreachableError");
            assert.ok(!(e instanceof CreateInterruptedError));
            assert.match(e.message, /could not be written on the local cluster .*; the request was sent, so it may have been applied\. The remote side was removed again, the local side was removed again, so neither cluster has the role \(nothing half-created\)\.$/);
            return true;
        });
        assert.deepStrictEqual([Object.keys(remote.roles), Object.keys(local.roles)], [[], []]);
    });

    it("create: a broken local write whose undo is refused — recorded, saying the local side may hold the role", async () => {
        local.fail("PUT", "reset", { apply: true });
        local.fail("DELETE", "refuse");
        await assert.rejects(role.create(news), (e: CreateInterruptedError) => {
            assert.ok(e instanceof CreateInterruptedError, String(e));
            assert.match(e.message, /; the request was sent, so it may have been applied\. Trying to remove the local side again failed too \(HTTP 500 security_exception: injected refusal\), so role 'remote-search' may EXIST on the local cluster \(.*\) with the new definition\. What it wrote may be on the clusters/);
            assert.strictEqual(e.properties.createInterrupted, true);
            return true;
        });
        assert.deepStrictEqual(Object.keys(remote.roles), [], "the remote side's undo ran");
        assert.ok(local.roles["remote-search"], "the local side holds the role, as the message says it may");
    });

    it("update: the local side refused — the remote side gets its previous definition back, the pair is never half-updated", async () => {
        // Fails on the code before withUndo: the remote side kept the new definition and the error
        // said "updated on the remote cluster but not on the local cluster".
        remote.roles["remote-search"] = PREVIOUS;
        local.roles["remote-search"] = PREVIOUS;
        local.fail("PUT", "refuse");
        await assert.rejects(role.update("remote-search", { ...news, localExists: true, remoteExists: true }, news), (e: Error) => {
            assert.strictEqual(e.name, "EsRemoteError");
            assert.match(e.message, /^role 'remote-search' could not be updated on the local cluster \(.*\): HTTP 500 security_exception: injected refusal\. The remote side's previous definition was restored, so neither side was changed; fix the cause and run pulumi up again\.$/);
            assert.deepStrictEqual((e as any).details, { name: "remote-search", remoteUpdated: false, localUpdated: false });
            return true;
        });
        assert.deepStrictEqual(remote.roles["remote-search"], PREVIOUS);
        assert.deepStrictEqual(local.roles["remote-search"], PREVIOUS);
    });

    it("update: the remote side's restore refused too — the error says which side has the new definition", async () => {
        remote.roles["remote-search"] = PREVIOUS;
        local.roles["remote-search"] = PREVIOUS;
        local.fail("PUT", "refuse");
        remote.fail("PUT", "refuse", { skip: 1 }); // the update's write passes, its undo is refused
        await assert.rejects(role.update("remote-search", { ...news, localExists: true, remoteExists: true }, news), (e: Error) => {
            assert.strictEqual(e.name, "EsRemoteError");
            assert.match(e.message, /^role 'remote-search' could not be updated on the local cluster \(.*\): HTTP 500 security_exception: injected refusal\. Taking back what it wrote failed: write the remote side \(.*\), so role 'remote-search' has the new definition on the remote cluster \(.*\); fix the cause and run pulumi up again \(it writes every side\)\.$/);
            assert.deepStrictEqual((e as any).details, { name: "remote-search", remoteUpdated: true, localUpdated: false });
            return true;
        });
        assert.notDeepStrictEqual(remote.roles["remote-search"], PREVIOUS, "the remote side has the new definition, as the message says");
        assert.deepStrictEqual(local.roles["remote-search"], PREVIOUS);
    });
});
