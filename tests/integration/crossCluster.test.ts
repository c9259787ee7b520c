/**
 * CrossClusterRole and CrossClusterUser on real clusters linked by certificate trust (pool v9 and
 * v819): a cross-cluster search as the created user, the remote cluster's real 403 outside the
 * role's patterns, drift on either side repaired by update, the replication preset checked with the
 * has-privileges API on both sides, a create whose local side fails leaving nothing behind, and bad
 * input refused with the clusters' roles and users unchanged.
 *
 * The integ-test-zip cannot store native roles or users as shipped: the `.security` index's settings
 * use the `pattern_capture` and `unique` token filters and the `uax_url_email` tokenizer, which live
 * in the `analysis-common` module that the zip leaves out ("Unknown filter type [pattern_capture]
 * for [email]" on the first PUT of a role or user). The rig installs a test-only plugin providing
 * those three (rig/securityShim.ts) into every distribution it unpacks; this suite asserts the
 * clusters really loaded it.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import * as util from "util";
import { Client } from "@elastic/elasticsearch";
import { ClusterConnection, createClient } from "../../provider/core/client";
import * as roleHooks from "../../provider/crossClusterRole";
import * as userHooks from "../../provider/crossClusterUser";
import { HookModule } from "../../provider/core/dynamic";
import * as link from "../../provider/remoteClusterLink";
import { clearProbeMemo } from "../../provider/link/probe";
import { clearClusterUuidMemo } from "../../provider/security/identity";
import { normaliseRole, RESERVED_ROLE_NAMES, RESERVED_USERNAMES, roleBodies, validateRoleName } from "../../provider/security/roles";
import { ClusterInfo, ES_VERSIONS, startCluster, stopCluster } from "../../rig/elasticsearch";
import { SHIM_NAME } from "../../rig/securityShim";
import { connectionTo, withClient } from "../support/connections";
import { pool } from "../support/pool";
import { errorOf } from "../support/assertions";

// The engine hands the hooks any JSON: these tests do too.
const role: HookModule<any, any> = roleHooks;
const user: HookModule<any, any> = userHooks;

async function assertShimLoaded(c: ClusterInfo): Promise<void> {
    const plugins = await withClient(c, (client) => client.cat.plugins({ format: "json" })) as Array<{ component?: string }>;
    assert.ok(plugins.some((p) => p.component === SHIM_NAME),
        `${c.name} runs without the ${SHIM_NAME} plugin (it was started before this suite installed it), so it cannot store native roles or users`);
}

// ------------------------------------------------------------------------------ helpers

const rand = () => crypto.randomBytes(3).toString("hex");

function asUser(c: ClusterInfo, username: string, password: string): Client {
    return createClient({ urls: [c.url], username, password, caPem: fs.readFileSync(c.httpCaFile, "utf8"), maxRetries: 0 }, { label: `${c.name} as ${username}` });
}

async function roleOn(c: ClusterInfo, name: string): Promise<Record<string, unknown> | undefined> {
    return withClient(c, async (client) => {
        const r = await client.transport.request<Record<string, Record<string, unknown>>>({ method: "GET", path: `/_security/role/${encodeURIComponent(name)}` }, { ignore: [404], meta: true });
        return r.statusCode === 404 ? undefined : r.body[name];
    });
}

/** Removes role `name` from each of `clusters` where it is (cleanup after a test that may fail midway). */
async function dropRole(name: string, ...clusters: ClusterInfo[]): Promise<void> {
    for (const c of clusters) {
        await withClient(c, (client) => client.transport.request({ method: "DELETE", path: `/_security/role/${name}` }, { ignore: [404] }));
    }
}

/** Every role and user that is not built-in, with its definition: to assert "unchanged". */
async function securitySnapshot(c: ClusterInfo): Promise<string> {
    return withClient(c, async (client) => {
        const roles = await client.security.getRole();
        const users = await client.security.getUser();
        const own = <T extends { metadata?: Record<string, unknown> }>(o: Record<string, T>) =>
            Object.fromEntries(Object.entries(o).filter(([, v]) => !v.metadata?._reserved).sort(([a], [b]) => (a < b ? -1 : 1)));
        return JSON.stringify({ roles: own(roles as any), users: own(users as any) });
    });
}

/** What the front does with one request. */
type Fault = "refuse" | "forwardThenReset" | "reset" | undefined;

/**
 * An HTTP front of a real cluster, standing in for a network fault a real node cannot be made to
 * show on demand: for the requests `fault` picks it answers 500 as Elasticsearch would
 * (`refuse`), drops the connection without passing the request on (`reset`), or passes the
 * request on, lets the cluster execute it, and then drops the client's connection before the
 * answer (`forwardThenReset`: the write landed, the client cannot know). Everything else is
 * forwarded over verified TLS. `seen` lists every request as `METHOD path`.
 */
async function faultyFront(c: ClusterInfo, fault: (req: http.IncomingMessage) => Fault | boolean): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
    const ca = fs.readFileSync(c.httpCaFile, "utf8");
    const target = new URL(c.url);
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
        seen.push(`${req.method} ${req.url}`);
        const f = fault(req);
        const what: Fault = f === true ? "refuse" : f === false ? undefined : f;
        if (what === "refuse") {
            req.resume();
            res.writeHead(500, { "content-type": "application/json", "x-elastic-product": "Elasticsearch" });
            res.end(JSON.stringify({ error: { type: "injected_fault", reason: `the test refused ${req.method} ${req.url}` }, status: 500 }));
            return;
        }
        if (what === "reset") {
            req.resume();
            req.socket.destroy();
            return;
        }
        const up = https.request({
            host: target.hostname, port: target.port, method: req.method, path: req.url, ca,
            headers: { ...req.headers, host: target.host },
        }, (r) => {
            if (what === "forwardThenReset") {
                r.resume();
                r.on("end", () => req.socket.destroy());
                return;
            }
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
        });
        up.on("error", (e) => {
            res.writeHead(502);
            res.end(String(e));
        });
        req.pipe(up);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    return {
        url: `http://127.0.0.1:${port}`,
        seen,
        close: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}

/** A connection to `c` through `front` (plain http to the front; no retries, so one fault is one failure). */
function through(front: { url: string }, c: ClusterInfo): ClusterConnection {
    return { urls: [front.url], username: c.username, password: c.password, maxRetries: 0 };
}

// ---------------------------------------------------------------------------------- tests

describe("CrossClusterRole and CrossClusterUser on real clusters", function () {
    let v9: ClusterInfo, v819: ClusterInfo;

    before(async function () {
        [v9, v819] = await pool("v9", "v819");
        await assertShimLoaded(v9);
        await assertShimLoaded(v819);
    });
    beforeEach(() => {
        clearProbeMemo();
        clearClusterUuidMemo();
    });

    it("the built-in role and user names the check refuses are the ones real 9.x and 8.19.x nodes mark reserved", async function () {
        for (const c of [v9, v819]) {
            const reserved = await withClient(c, async (client) => ({
                roles: Object.entries(await client.security.getRole()).filter(([, r]) => (r as any).metadata?._reserved).map(([n]) => n),
                users: Object.entries(await client.security.getUser()).filter(([, u]) => (u as any).metadata?._reserved).map(([n]) => n),
            }));
            assert.ok(reserved.roles.length > 20, `${c.version}: ${reserved.roles}`);
            assert.deepStrictEqual(reserved.roles.filter((r) => !RESERVED_ROLE_NAMES.has(r)), [], `${c.version} has reserved roles the check does not know`);
            assert.deepStrictEqual(reserved.users.filter((u) => !RESERVED_USERNAMES.has(u)), [], `${c.version} has reserved users the check does not know`);
        }
    });

    it("the role name rules agree with what real nodes accept and refuse", async function () {
        const names = ["ok-name", "a".repeat(507), "a".repeat(508), "rôle", " lead", "trail ", "tab\tin", "sp ace!#$%&()*+/:;<=>?@[]^`{|}~", "_system", "superuser", "kibana_system"];
        for (const c of [v9, v819]) {
            for (const n of names) {
                const accepted = await withClient(c, async (client) => {
                    const r = await client.transport.request({ method: "PUT", path: `/_security/role/${encodeURIComponent(n)}`, body: {} }, { ignore: [400], meta: true });
                    if (r.statusCode === 200) await client.transport.request({ method: "DELETE", path: `/_security/role/${encodeURIComponent(n)}` });
                    return r.statusCode === 200;
                });
                assert.strictEqual(validateRoleName(n).length === 0, accepted, `${c.version}: ${JSON.stringify(n.slice(0, 20))}(${n.length}) accepted by Elasticsearch: ${accepted}`);
            }
        }
    });

    describe("search preset: local 8.19.x searches remote 9.x", function () {
        const alias = `ccx_${rand()}`;
        const roleName = `ccx-search-${rand()}`;
        const username = `ccx-searcher-${rand()}`;
        let linkOuts: any;
        let roleInputs: any, roleOuts: any, roleCreated: any;
        let userNews: any, userChecked: any, userCreated: any, userOuts: any;

        // The link and the documents are made once (no test changes them); the role and the user
        // afresh for each test, which edits them by hand: each test runs alone (--grep), in any order.
        before(async function () {
            const news = { local: connectionTo(v819), remote: connectionTo(v9), alias, mode: "sniff", seeds: [v9.transportAddress], skipUnavailable: false };
            const checked = await link.check({}, news);
            assert.deepStrictEqual(checked.failures, []);
            linkOuts = (await link.create(checked.inputs)).outs;
            assert.strictEqual(linkOuts.connected, true);
            await withClient(v9, async (client) => {
                await client.index({ index: "ccx-logs-1", id: "1", document: { msg: "one" } });
                await client.index({ index: "ccx-logs-1", id: "2", document: { msg: "two" } });
                await client.index({ index: "ccx-logs-2", id: "3", document: { msg: "three" } });
                await client.index({ index: "ccx-secret", id: "4", document: { msg: "secret" } });
                await client.indices.refresh({ index: "ccx-*" });
            });
            await withClient(v819, (client) => client.index({ index: "ccx-local", id: "1", document: { msg: "local" }, refresh: true }));
        });

        beforeEach(async function () {
            roleInputs = { local: connectionTo(v819), remote: connectionTo(v9), name: roleName, preset: "search", indices: ["ccx-logs-*"] };
            const roleChecked = await role.check({}, roleInputs);
            assert.deepStrictEqual(roleChecked.failures, []);
            roleCreated = await role.create(roleChecked.inputs);
            roleOuts = roleCreated.outs;

            userNews = { local: connectionTo(v819), username, roles: [roleName] };
            userChecked = await user.check({}, userNews);
            assert.deepStrictEqual(userChecked.failures, []);
            userCreated = await user.create(userChecked.inputs);
            userOuts = userCreated.outs;
        });

        afterEach(async function () {
            if (userOuts) await user.delete(username, userOuts);
            if (roleOuts) await role.delete(roleName, roleOuts);
            userOuts = roleOuts = undefined;
        });

        after(async function () {
            if (linkOuts) await link.delete(alias, linkOuts);
            await withClient(v9, (client) => client.indices.delete({ index: "ccx-logs-1,ccx-logs-2,ccx-secret", ignore_unavailable: true }));
            await withClient(v819, (client) => client.indices.delete({ index: "ccx-local", ignore_unavailable: true }));
        });

        it("creates the role on both clusters exactly as the docs prescribe, with no drift on read", async function () {
            assert.strictEqual(roleCreated.id, roleName);
            assert.deepStrictEqual([roleCreated.outs.localExists, roleCreated.outs.remoteExists], [true, true]);

            const remote = await roleOn(v9, roleName);
            assert.deepStrictEqual((remote as any).indices, [{ names: ["ccx-logs-*"], privileges: ["read", "read_cross_cluster", "view_index_metadata"], allow_restricted_indices: false }]);
            assert.deepStrictEqual(normaliseRole(await roleOn(v819, roleName)), {}, "the local side is the empty role");

            const r = await role.read(roleName, roleOuts);
            assert.deepStrictEqual([r.props.localExists, r.props.remoteExists], [true, true]);
            assert.strictEqual((await role.diff(roleName, r.props, roleInputs)).changes, false, "no false drift");
        });

        it("a user with the role (generated password) searches <alias>:<index> and gets the documents the role allows", async function () {
            assert.strictEqual(userCreated.outs.passwordGenerated, true);
            assert.match(userCreated.outs.password, /^[A-Za-z0-9_-]{32}$/);
            assert.strictEqual("password" in userChecked.inputs, false, "nothing generated at check time");

            const r = await user.read(username, userOuts);
            assert.strictEqual(r.props.passwordInSync, true);
            assert.strictEqual((await user.diff(username, r.props, userNews)).changes, false, "the generated password is kept");

            const client = asUser(v819, username, userOuts.password);
            try {
                const res = await client.search({ index: `${alias}:ccx-logs-*`, size: 10, sort: ["_doc"] });
                assert.deepStrictEqual(res.hits.hits.map((h) => h._source).map((s: any) => s.msg).sort(), ["one", "three", "two"]);
                assert.ok(res.hits.hits.every((h) => h._index.startsWith(`${alias}:`)), "the hits come from the remote cluster");
            } finally {
                await client.close();
            }
        });

        it("an index outside the role's patterns is refused by the remote cluster with a real 403; a local index by the local one", async function () {
            const client = asUser(v819, username, userOuts.password);
            try {
                const remoteDenied = await errorOf(client.search({ index: `${alias}:ccx-secret` }));
                assert.strictEqual(remoteDenied.statusCode, 403);
                const cause = remoteDenied.body.error.root_cause[0];
                assert.strictEqual(cause.type, "security_exception");
                assert.match(cause.reason, new RegExp(`unauthorized for user \\[${username}\\] with effective roles \\[${roleName}\\] on indices \\[ccx-secret\\]`));
                const localDenied = await errorOf(client.search({ index: "ccx-local" }));
                assert.strictEqual(localDenied.statusCode, 403);
            } finally {
                await client.close();
            }
        });

        it("with skip_unavailable: true (the default since 8.15) the same refusal is no 403: the remote is skipped, its security_exception reported under its alias", async function () {
            const client = asUser(v819, username, userOuts.password);
            const skip = (v: boolean) => withClient(v819, (c) => c.cluster.putSettings({ persistent: { [`cluster.remote.${alias}.skip_unavailable`]: v } }));
            await skip(true);
            try {
                for (const index of [`${alias}:ccx-secret`, `${alias}:ccx-secret,${alias}:ccx-logs-*`]) {
                    const res = await client.search({ index });
                    const details = (res._clusters as any).details[alias];
                    assert.strictEqual(details.status, "skipped", index);
                    assert.strictEqual(details.failures[0].reason.type, "security_exception", index);
                    assert.match(details.failures[0].reason.reason, /on indices \[ccx-secret\]/);
                    // One forbidden pattern costs the whole remote cluster, the allowed indices included.
                    assert.strictEqual((res.hits.total as { value: number }).value, 0, index);
                }
            } finally {
                await skip(false);
                await client.close();
            }
        });

        it("the remote role deleted by hand: read reports it, diff sees the change, update restores it and the search works again", async function () {
            await withClient(v9, (client) => client.security.deleteRole({ name: roleName }));
            const client = asUser(v819, username, userOuts.password);
            try {
                const denied = await errorOf(client.search({ index: `${alias}:ccx-logs-*` }));
                assert.strictEqual(denied.statusCode, 403, "without the remote role the remote cluster refuses the user");

                const r = await role.read(roleName, roleOuts);
                assert.strictEqual(r.id, roleName);
                assert.deepStrictEqual([r.props.localExists, r.props.remoteExists, r.props.remoteRole], [true, false, null]);
                // In input names, for preview --diff: the remote definition is gone, the local one as declared.
                assert.deepStrictEqual([r.inputs.name, r.inputs.preset, r.inputs.localDefinition, "remoteDefinition" in r.inputs], [roleName, undefined, {}, false]);
                const d = await role.diff(roleName, r.props, roleInputs);
                assert.deepStrictEqual([d.changes, d.replaces], [true, []]);

                roleOuts = (await role.update(roleName, r.props, (await role.check(r.props, roleInputs)).inputs)).outs;
                assert.ok(await roleOn(v9, roleName));
                assert.strictEqual((await role.diff(roleName, (await role.read(roleName, roleOuts)).props, roleInputs)).changes, false);
                const res = await client.search({ index: `${alias}:ccx-logs-*` });
                assert.strictEqual((res.hits.total as { value: number }).value, 3);
            } finally {
                await client.close();
            }
        });

        it("the local role edited by hand is drift too, and update puts it back", async function () {
            await withClient(v819, (client) => client.security.putRole({ name: roleName, cluster: ["monitor"] }));
            const r = await role.read(roleName, roleOuts);
            assert.deepStrictEqual(r.props.localRole, { cluster: ["monitor"] });
            // preview --diff then shows localDefinition {} => { cluster: [monitor] } and the preset's remote side unchanged.
            assert.deepStrictEqual(r.inputs.localDefinition, { cluster: ["monitor"] });
            assert.deepStrictEqual(r.inputs.remoteDefinition, roleBodies(roleInputs).remote);
            assert.strictEqual(r.inputs.preset, undefined);
            assert.strictEqual((await role.diff(roleName, r.props, roleInputs)).changes, true);
            roleOuts = (await role.update(roleName, r.props, roleInputs)).outs;
            assert.deepStrictEqual(normaliseRole(await roleOn(v819, roleName)), {});
        });

        it("the user's roles and password changed by hand are drift; update restores both", async function () {
            const news = { local: connectionTo(v819), username, roles: [roleName] };
            await withClient(v819, async (client) => {
                await client.security.putUser({ username, roles: [roleName, "viewer"] });
                await client.security.changePassword({ username, password: "changed-by-hand" });
            });
            const r = await user.read(username, userOuts);
            assert.deepStrictEqual(r.props.roles, [roleName, "viewer"]);
            assert.deepStrictEqual(r.inputs.roles, [roleName, "viewer"], "drift in input names, for preview --diff");
            assert.ok(!("password" in r.inputs), "a read's inputs never hold the password (they are not covered by additionalSecretOutputs)");
            assert.strictEqual(r.props.passwordInSync, false);
            assert.strictEqual((await user.diff(username, r.props, news)).changes, true);
            userOuts = (await user.update(username, r.props, news)).outs;
            const again = await user.read(username, userOuts);
            assert.deepStrictEqual([again.props.roles, again.props.passwordInSync], [[roleName], true]);
            assert.strictEqual((await user.diff(username, again.props, news)).changes, false);
        });
    });

    describe("users: passwords, deletion by hand, errors without secrets", function () {
        const username = `ccx-user-${rand()}`;
        const news = { local: () => connectionTo(v9), username, roles: ["viewer"], password: "first-password-1", fullName: "Cross Cluster", email: "ccx@example.com", metadata: { team: "search" } };
        let outs: any;
        let currentPassword = news.password;
        // The user is made afresh for each test (one changes its password, one deletes it by hand):
        // each test runs alone (--grep), in any order.
        beforeEach(async function () {
            currentPassword = news.password;
            outs = (await user.create((await user.check({}, { ...news, local: news.local() })).inputs)).outs;
        });
        afterEach(async function () {
            if (outs) await user.delete(username, outs);
            outs = undefined;
        });

        it("a password input, then a new one: the old stops working, the new one works", async function () {
            const given = { ...news, local: news.local(), password: currentPassword };
            assert.strictEqual(outs.passwordGenerated, false);
            const r = await user.read(username, outs);
            assert.deepStrictEqual([r.props.fullName, r.props.email, r.props.metadata], ["Cross Cluster", "ccx@example.com", { team: "search" }]);
            assert.strictEqual((await user.diff(username, r.props, given)).changes, false);

            const next = { ...given, password: "second-password-2" };
            assert.strictEqual((await user.diff(username, r.props, next)).changes, true);
            outs = (await user.update(username, r.props, next)).outs;
            currentPassword = next.password;
            for (const [pw, ok] of [["first-password-1", false], ["second-password-2", true]] as const) {
                const c = asUser(v9, username, pw);
                try {
                    const res = await c.security.authenticate().then(() => 200, (e) => e.statusCode);
                    assert.strictEqual(res, ok ? 200 : 401, pw);
                } finally {
                    await c.close();
                }
            }
        });

        it("an existing user is refused at create (nothing written); a user deleted by hand is gone on read", async function () {
            const e = await errorOf(user.create({ local: connectionTo(v9), username, roles: [], password: "third-password-3" }));
            assert.strictEqual(e.name, "ConflictError");
            assert.deepStrictEqual([e.details.kind, e.details.name], ["user", username]);
            assert.match(e.message, new RegExp(`user '${username}' already exists on the local cluster .*adoptExisting: true.*Nothing was written`));
            const still = asUser(v9, username, currentPassword);
            try {
                await still.security.authenticate();
            } finally {
                await still.close();
            }
            await withClient(v9, (client) => client.security.deleteUser({ username }));
            assert.deepStrictEqual(await user.read(username, outs), {});
            await user.delete(username, outs); // already absent: success
            outs = undefined;
        });

        it("a cluster refusal names the cluster and the reason, never the password", async function () {
            const limited = `ccx-limited-${rand()}`;
            await withClient(v9, async (client) => {
                await client.security.putRole({ name: limited, cluster: ["monitor"] });
                await client.security.putUser({ username: limited, password: "limited-password", roles: [limited] });
            });
            try {
                const secret = `Sup3r-Secret-${rand()}`;
                const conn: ClusterConnection = { ...connectionTo(v9), username: limited, password: "limited-password" };
                const e = await errorOf(user.create({ local: conn, username: `ccx-never-${rand()}`, roles: [], password: secret }));
                assert.match(e.message, /local cluster \(https:\/\/127\.0\.0\.1:\d+\) denied the request .*HTTP 403/);
                assert.ok(!util.inspect(e, { depth: 20 }).includes(secret), "the password is not in the error or anything attached to it");
                assert.ok(!String(e.stack).includes(secret));
            } finally {
                await withClient(v9, async (client) => {
                    await client.security.deleteUser({ username: limited });
                    await client.security.deleteRole({ name: limited });
                });
            }
        });
    });

    describe("replication preset: local 9.x follows remote 8.19.x", function () {
        const roleName = `ccx-repl-${rand()}`;
        const username = `ccx-replicator-${rand()}`;
        const probe = `ccx-remote-probe-${rand()}`;
        let roleOuts: any, userOuts: any;

        after(async function () {
            if (userOuts) await user.delete(username, userOuts);
            if (roleOuts) await role.delete(roleName, roleOuts);
            await withClient(v819, (client) => client.transport.request({ method: "DELETE", path: `/_security/user/${probe}` }, { ignore: [404] }));
        });

        it("grants what cross-cluster replication needs on each side, checked with the has-privileges API", async function () {
            const news = { local: connectionTo(v9), remote: connectionTo(v819), name: roleName, preset: "replication", indices: ["ccx-leader-*"], followerIndices: ["ccx-follower-*"] };
            const checked = await role.check({}, news);
            assert.deepStrictEqual(checked.failures, []);
            roleOuts = (await role.create(checked.inputs)).outs;
            const expected = roleBodies(news as any);
            assert.deepStrictEqual(normaliseRole(await roleOn(v9, roleName)), normaliseRole(expected.local));
            assert.deepStrictEqual(normaliseRole(await roleOn(v819, roleName)), normaliseRole(expected.remote));
            assert.strictEqual((await role.diff(roleName, (await role.read(roleName, roleOuts)).props, news)).changes, false);

            userOuts = (await user.create({ local: connectionTo(v9), username, roles: [roleName] })).outs;
            const local = asUser(v9, username, userOuts.password);
            try {
                const has = await local.security.hasPrivileges({
                    cluster: ["manage_ccr", "manage", "read_ccr"],
                    index: [
                        { names: ["ccx-follower-1"], privileges: ["monitor", "read", "write", "manage_follow_index"] },
                        { names: ["ccx-leader-1"], privileges: ["read"] },
                    ],
                });
                assert.strictEqual(has.cluster.manage_ccr, true);
                assert.strictEqual(has.cluster.manage, false);
                assert.deepStrictEqual(has.index["ccx-follower-1"], { monitor: true, read: true, write: true, manage_follow_index: true });
                assert.deepStrictEqual(has.index["ccx-leader-1"], { read: false }, "the leaders are not local indices of this role");
            } finally {
                await local.close();
            }

            // On the remote side the role is applied to the user's role *name*: check it through a
            // probe user there holding the same role (the replicating user exists on the local cluster only).
            await withClient(v819, (client) => client.security.putUser({ username: probe, password: "probe-password", roles: [roleName] }));
            const remote = asUser(v819, probe, "probe-password");
            try {
                const has = await remote.security.hasPrivileges({
                    cluster: ["read_ccr", "manage_ccr"],
                    index: [{ names: ["ccx-leader-1"], privileges: ["monitor", "read", "write"] }],
                });
                assert.deepStrictEqual(has.cluster, { read_ccr: true, manage_ccr: false });
                assert.deepStrictEqual(has.index["ccx-leader-1"], { monitor: true, read: true, write: false });
            } finally {
                await remote.close();
            }
        });
    });

    describe("partial failures leave no half-created pair", function () {
        it("the local side refused: the remote side is removed again and the error says so", async function () {
            const name = `ccx-half-${rand()}`;
            const news = {
                local: connectionTo(v9), remote: connectionTo(v819), name,
                localDefinition: { cluster: ["not_a_privilege"] }, // check leaves privilege names to Elasticsearch
                remoteDefinition: { indices: [{ names: ["ccx-any"], privileges: ["read"] }] },
            };
            assert.deepStrictEqual((await role.check({}, news)).failures, []);
            const e = await errorOf(role.create(news));
            assert.ok(!e.message.includes("\n"), "one line");
            assert.match(e.message, new RegExp(`role '${name}' could not be written on the local cluster \\(https://127\\.0\\.0\\.1:\\d+\\): HTTP 400 action_request_validation_exception: .*unknown cluster privilege \\[not_a_privilege\\].*The remote side was removed again, so neither cluster has the role`));
            assert.strictEqual(await roleOn(v819, name), undefined);
            assert.strictEqual(await roleOn(v9, name), undefined);
        });

        it("and if removing the remote side fails too, the error says exactly which side exists", async function () {
            const name = `ccx-stuck-${rand()}`;
            const front = await faultyFront(v819, (req) => req.method === "DELETE");
            try {
                const remote: ClusterConnection = { urls: [front.url], username: v819.username, password: v819.password, maxRetries: 0 };
                const news = { local: connectionTo(v9), remote, name, localDefinition: { cluster: ["not_a_privilege"] }, remoteDefinition: {} };
                const e = await errorOf(role.create(news));
                assert.match(e.message, new RegExp(`Trying to remove the remote side again failed too .*injected_fault.*role '${name}' now EXISTS on the remote cluster \\(${front.url}\\) with the new definition and does NOT exist on the local cluster`));
                assert.ok(await roleOn(v819, name), "the remote side is really there");
                assert.strictEqual(await roleOn(v9, name), undefined);
                // Recorded, so the next up finishes it instead of refusing the name as taken.
                assert.deepStrictEqual([e.name, e.id, e.properties.createInterrupted, e.details.outcomeUnknown], ["CreateInterruptedError", name, true, true]);
            } finally {
                await front.close();
                await withClient(v819, (client) => client.security.deleteRole({ name }));
            }
        });

        it("two connections that reach one cluster are refused at create (cluster_uuid), nothing written", async function () {
            const name = `ccx-self-${rand()}`;
            const other = { ...connectionTo(v9), urls: [v9.url.replace("127.0.0.1", "localhost")] };
            const news = { local: connectionTo(v9), remote: other, name, preset: "search", indices: ["ccx-x"] };
            assert.deepStrictEqual((await role.check({}, news)).failures, [], "different URLs: check cannot tell");
            const e = await errorOf(role.create(news));
            assert.match(e.message, /reach the same cluster \(cluster_uuid [\w-]+\).*Nothing was written\.$/);
            assert.strictEqual(await roleOn(v9, name), undefined);
        });

        it("a role that already exists is refused before anything is written, unless adoptExisting", async function () {
            const name = `ccx-handmade-${rand()}`;
            await withClient(v819, (client) => client.security.putRole({ name, cluster: ["monitor"] }));
            const news = { local: connectionTo(v9), remote: connectionTo(v819), name, preset: "search", indices: ["ccx-x"] };
            try {
                const e = await errorOf(role.create(news));
                assert.strictEqual(e.name, "ConflictError");
                assert.match(e.message, /already exists on the remote cluster .*adoptExisting: true.*Nothing was written/);
                assert.strictEqual(await roleOn(v9, name), undefined);
                assert.deepStrictEqual(normaliseRole(await roleOn(v819, name)), { cluster: ["monitor"] });

                const outs = (await role.create({ ...news, adoptExisting: true })).outs;
                assert.deepStrictEqual(outs.adoptedFrom.remote.cluster, ["monitor"]);
                assert.deepStrictEqual(normaliseRole(await roleOn(v819, name)), normaliseRole(roleBodies(news as any).remote));
                await role.delete(name, outs);
                await role.delete(name, outs); // both sides already absent: success
                assert.deepStrictEqual(await role.read(name, outs), {});
            } finally {
                await dropRole(name, v819);
            }
        });
    });


    describe("unknown outcome: a write that may have landed is taken back; only a failed undo is recorded, and the next up converges", function () {
        // The front resets the connection after the cluster executed the request: what a network
        // failure or a proxy timeout does at the worst moment. A real node cannot be made to do this
        // on demand, so a test double (faultyFront) stands between the hooks and the real cluster.
        it("role: the remote PUT landed but its answer was lost → the remote side is removed again, nothing recorded; the next create succeeds", async function () {
            const name = `ccx-lost-${rand()}`;
            const front = await faultyFront(v819, (req) => (req.method === "PUT" && req.url?.startsWith("/_security/role/") ? "forwardThenReset" : undefined));
            const news = { local: connectionTo(v9), remote: through(front, v819), name, preset: "search", indices: ["ccx-lost-*"] };
            try {
                const e = await errorOf(role.create(news));
                assert.strictEqual(e.name, "ClusterUnreachableError", e.message);
                assert.strictEqual(e.id, undefined, "nothing recorded: the undo made sure nothing is there");
                assert.match(e.message, /could not be written on the remote cluster .*may have been applied\. The remote side was removed again, so neither cluster has the role/);
                assert.ok(front.seen.includes(`DELETE /_security/role/${name}`), `the undo went through the same front: ${front.seen.join(", ")}`);
                assert.strictEqual(await roleOn(v819, name), undefined, "the PUT that landed was taken back");
                assert.strictEqual(await roleOn(v9, name), undefined);
                // The next up runs create again, and nothing is in its way.
                const healed = { ...news, remote: connectionTo(v819) };
                const outs = (await role.create(healed)).outs;
                assert.deepStrictEqual([outs.localExists, outs.remoteExists], [true, true]);
                await role.delete(name, outs);
                assert.deepStrictEqual([await roleOn(v9, name), await roleOn(v819, name)], [undefined, undefined]);
            } finally {
                await front.close();
                await dropRole(name, v819, v9);
            }
        });

        it("role: the PUT landed, its answer was lost and the undo was refused → CreateInterruptedError; update finishes the pair, destroy removes it", async function () {
            const name = `ccx-lost-stuck-${rand()}`;
            const front = await faultyFront(v819, (req) => (req.method === "PUT" && req.url?.startsWith("/_security/role/") ? "forwardThenReset" : req.method === "DELETE"));
            const news = { local: connectionTo(v9), remote: through(front, v819), name, preset: "search", indices: ["ccx-lost-*"] };
            try {
                const e = await errorOf(role.create(news));
                assert.strictEqual(e.name, "CreateInterruptedError", e.message);
                assert.strictEqual(e.details.outcomeUnknown, true);
                assert.match(e.message, new RegExp(
                    `could not be written on the remote cluster .*may have been applied\\. Trying to remove the remote side again failed too \\(.*injected_fault.*\\), ` +
                    `so role '${name}' may EXIST on the remote cluster \\(${front.url}\\) with the new definition and does NOT exist on the local cluster\\. ` +
                    `.*records the role as not finished: run 'pulumi up' again`));
                assert.deepStrictEqual([e.id, e.properties.createInterrupted, e.properties.name], [name, true, name]);
                assert.ok(await roleOn(v819, name), "the PUT did land on the remote cluster");
                assert.strictEqual(await roleOn(v9, name), undefined);
                // The next up runs update on the recorded state (diff says changed), not a create
                // that would refuse the role as already existing:
                assert.strictEqual((await role.diff(name, e.properties, news)).changes, true);
                const healed = { ...news, remote: connectionTo(v819) };
                const outs = (await role.update(name, { ...e.properties, remote: healed.remote }, healed)).outs;
                assert.deepStrictEqual([outs.localExists, outs.remoteExists, outs.createInterrupted], [true, true, undefined]);
                assert.strictEqual((await role.diff(name, (await role.read(name, outs)).props, healed)).changes, false);
                await role.delete(name, outs);
                assert.deepStrictEqual([await roleOn(v9, name), await roleOn(v819, name)], [undefined, undefined]);
            } finally {
                await front.close();
                await dropRole(name, v819, v9);
            }
        });

        it("role: the connection broke before the PUT reached the cluster → the undo finds nothing to remove, nothing recorded, neither cluster has the role", async function () {
            const name = `ccx-never-${rand()}`;
            const front = await faultyFront(v819, (req) => (req.method === "PUT" ? "reset" : undefined));
            try {
                const e = await errorOf(role.create({ local: connectionTo(v9), remote: through(front, v819), name, preset: "search", indices: ["x"] }));
                assert.strictEqual(e.name, "ClusterUnreachableError", e.message);
                assert.strictEqual(e.id, undefined, "nothing recorded");
                assert.match(e.message, /may have been applied\. The remote side was removed again, so neither cluster has the role/);
                assert.strictEqual(await roleOn(v819, name), undefined);
                assert.strictEqual(await roleOn(v9, name), undefined);
            } finally {
                await front.close();
            }
        });

        it("user: the PUT landed but its answer was lost → recorded without any password; update writes it with a password that works", async function () {
            const username = `ccx-lost-user-${rand()}`;
            const secret = `Lost-Secret-${rand()}`;
            const front = await faultyFront(v9, (req) => (req.method === "PUT" ? "forwardThenReset" : undefined));
            try {
                const news = { local: through(front, v9), username, roles: ["viewer"], password: secret };
                const e = await errorOf(user.create(news));
                assert.strictEqual(e.name, "CreateInterruptedError", e.message);
                assert.strictEqual(e.details.outcomeUnknown, true);
                assert.ok(!util.inspect(e, { depth: 30 }).includes(secret), "no password in the error, its cause or the recorded properties");
                assert.strictEqual("password" in e.properties, false);
                assert.ok(await withClient(v9, (c) => c.security.getUser({ username })), "the PUT did land");
                const healed = { ...news, local: connectionTo(v9) };
                const outs = (await user.update(username, { ...e.properties, local: healed.local }, healed)).outs;
                const c = asUser(v9, username, secret);
                try {
                    assert.strictEqual((await c.security.authenticate()).username, username);
                } finally {
                    await c.close();
                }
                await user.delete(username, outs);
            } finally {
                await front.close();
                await withClient(v9, (c) => c.transport.request({ method: "DELETE", path: `/_security/user/${username}` }, { ignore: [404] }));
            }
        });

        it("a PUT the cluster answered is no unknown outcome (nothing recorded); an unreachable cluster keeps its class through the wrappers", async function () {
            const name = `ccx-refused-${rand()}`;
            const front = await faultyFront(v819, (req) => req.method === "PUT");
            try {
                const e = await errorOf(role.create({ local: connectionTo(v9), remote: through(front, v819), name, preset: "search", indices: ["x"] }));
                assert.strictEqual(e.name, "EsRemoteError", e.message);
                assert.match(e.message, /could not be written on the remote cluster .*injected_fault.*Nothing was written\.$/);
                assert.strictEqual(e.id, undefined, "nothing recorded: the cluster answered");
                assert.ok(e.cause, "the cause is kept (a role body holds no secret)");
                const shown = util.inspect(e, { depth: 30 });
                assert.ok(!shown.includes(v819.password), "not even the connection's password is in the cause");
                assert.ok(!shown.includes(Buffer.from(`${v819.username}:${v819.password}`).toString("base64")), "nor its Basic auth header");
            } finally {
                await front.close();
            }
            const down: ClusterConnection = { urls: ["https://127.0.0.1:1"], username: "elastic", password: "x", maxRetries: 0 };
            const u = await errorOf(user.create({ local: down, username: `ccx-down-${rand()}`, roles: [] }));
            assert.strictEqual(u.name, "ClusterUnreachableError");
            const r = await errorOf(role.create({ local: down, remote: connectionTo(v9), name: `ccx-down-${rand()}`, preset: "search", indices: ["x"] }));
            assert.strictEqual(r.name, "ClusterUnreachableError");
            assert.strictEqual(u.details.outcomeUnknown, false, "a refused connection proves nothing was sent");
        });
    });

    describe("cluster identity: cluster_uuid in state", function () {
        it("URLs that now reach another cluster replace the role or user; another URL of the same cluster is an update; old states gain the UUID on read", async function () {
            const name = `ccx-uuid-${rand()}`;
            const username = `ccx-uuid-user-${rand()}`;
            const news = { local: connectionTo(v819), remote: connectionTo(v9), name, preset: "search", indices: ["ccx-uuid-*"] };
            const outs = (await role.create(news)).outs;
            const uouts = (await user.create({ local: connectionTo(v9), username, roles: [] })).outs;
            try {
                const ids = {
                    v9: (await withClient(v9, (c) => c.cluster.state({ metric: "metadata", filter_path: "metadata.cluster_uuid" })) as any).metadata.cluster_uuid,
                    v819: (await withClient(v819, (c) => c.cluster.state({ metric: "metadata", filter_path: "metadata.cluster_uuid" })) as any).metadata.cluster_uuid,
                };
                assert.deepStrictEqual([outs.localClusterUuid, outs.remoteClusterUuid, uouts.localClusterUuid], [ids.v819, ids.v9, ids.v9]);

                const sameByName = { ...news, local: { ...news.local, urls: [v819.url.replace("127.0.0.1", "localhost")] } };
                const d1 = await role.diff(name, outs, sameByName);
                assert.deepStrictEqual([d1.changes, d1.replaces], [true, []], "another URL of the same cluster: an update");

                const swapped = { ...news, local: connectionTo(v9), remote: connectionTo(v819) };
                assert.deepStrictEqual((await role.diff(name, outs, swapped)).replaces, ["local", "remote"]);
                assert.deepStrictEqual((await user.diff(username, uouts, { local: connectionTo(v819), username, roles: [] })).replaces, ["local"]);
                // An update that gets there anyway (a preview that could not tell) refuses to write.
                const e = await errorOf(user.update(username, uouts, { local: connectionTo(v819), username, roles: [] }));
                assert.match(e.message, /now reach another cluster .*Nothing was written/);

                // A state written by an earlier release (no UUIDs) keeps working, and gains them on refresh.
                const { localClusterUuid: _a, remoteClusterUuid: _b, ...legacy } = outs;
                assert.deepStrictEqual((await role.diff(name, legacy, swapped)).replaces, [], "no UUID recorded: no spurious replace");
                const r = await role.read(name, legacy);
                assert.deepStrictEqual([r.props.localClusterUuid, r.props.remoteClusterUuid], [ids.v819, ids.v9]);
            } finally {
                await role.delete(name, outs);
                await user.delete(username, uouts);
            }
        });

        it("a connection whose user has manage_security but not monitor still manages users (no UUID recorded, nothing replaced)", async function () {
            const admin = `ccx-secadmin-${rand()}`;
            const username = `ccx-by-secadmin-${rand()}`;
            await withClient(v9, async (client) => {
                await client.security.putRole({ name: admin, cluster: ["manage_security"] });
                await client.security.putUser({ username: admin, password: "secadmin-password", roles: [admin] });
            });
            const conn: ClusterConnection = { ...connectionTo(v9), username: admin, password: "secadmin-password" };
            let outs: any;
            try {
                outs = (await user.create({ local: conn, username, roles: [] })).outs;
                assert.strictEqual(outs.localClusterUuid, undefined);
                assert.ok(await withClient(v9, (c) => c.security.getUser({ username })));
                const r = await user.read(username, outs);
                assert.strictEqual(r.props.localClusterUuid, undefined);
            } finally {
                if (outs) await user.delete(username, outs);
                await withClient(v9, async (client) => {
                    await client.security.deleteUser({ username: admin });
                    await client.security.deleteRole({ name: admin });
                });
            }
        });

        it("each cluster's UUID is read once per process and connection, however many roles and users", async function () {
            const front = await faultyFront(v9, () => undefined);
            const names = [`ccx-once-a-${rand()}`, `ccx-once-b-${rand()}`];
            const made: any[] = [];
            try {
                for (const username of names) made.push((await user.create({ local: through(front, v9), username, roles: [] })).outs);
                assert.strictEqual(front.seen.filter((r) => r.startsWith("GET /_cluster/state/metadata")).length, 1, front.seen.join("\n"));
            } finally {
                for (const outs of made) await user.delete(outs.username, outs);
                await front.close();
            }
        });
    });

    describe("API-key model: the local user's role with remote_indices, on real trial-licensed nodes", function () {
        // Own single nodes with a trial license (remote_indices belong to the API-key model, an
        // Enterprise feature); no link is needed to store and read the role.
        const trials: ClusterInfo[] = [];
        before(async function () {
            const started = await Promise.allSettled([ES_VERSIONS.v9, ES_VERSIONS.v819].map((version, i) => startCluster({
                name: `t-trial-${i}-${rand()}`, version, extraSettings: { "xpack.license.self_generated.type": "trial" },
            })));
            for (const r of started) if (r.status === "fulfilled") trials.push(r.value);
            const failed = started.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
            if (failed) throw failed.reason;
        });
        after(async function () {
            await Promise.all(trials.map((c) => stopCluster(c)));
        });

        for (const [i, label] of [[0, "9.x"], [1, "8.19.x"]] as const) {
            it(`${label}: the search and replication presets are accepted and read back with no drift; nothing else is written`, async function () {
                const c = trials[i];
                const license = await withClient(c, (cl) => cl.license.get());
                assert.strictEqual(license.license.type, "trial");
                for (const preset of ["search", "replication"] as const) {
                    const name = `ccx-key-${preset}-${rand()}`;
                    const news = {
                        model: "apiKey", local: connectionTo(c), name, preset, clusters: ["cluster_two", "eu-*"], indices: ["logs-*"],
                        ...(preset === "replication" ? { followerIndices: ["follow-*"] } : { remoteClusterPrivileges: ["monitor_enrich", "monitor_stats"] }),
                    };
                    const checked = await role.check({}, news);
                    assert.deepStrictEqual(checked.failures, []);
                    const outs = (await role.create(checked.inputs)).outs;
                    try {
                        assert.deepStrictEqual([outs.localExists, outs.remoteExists, outs.remoteRole, outs.remoteClusterUuid], [true, false, null, undefined]);
                        const stored = await roleOn(c, name) as any;
                        assert.deepStrictEqual(stored.remote_indices.map((e: any) => [e.clusters, e.names, e.privileges]),
                            [[["cluster_two", "eu-*"], ["logs-*"], preset === "search" ? ["read", "read_cross_cluster", "view_index_metadata"] : ["cross_cluster_replication"]]]);
                        if (preset === "search") assert.deepStrictEqual(stored.remote_cluster, [{ clusters: ["cluster_two", "eu-*"], privileges: ["monitor_enrich", "monitor_stats"] }]);
                        const r = await role.read(name, outs);
                        assert.deepStrictEqual(r.props.localRole, outs.localRole);
                        assert.strictEqual((await role.diff(name, r.props, news)).changes, false, "no false drift");
                        assert.strictEqual(r.inputs.preset, preset);

                        // An alias changed by hand: drift, shown as clusters old => new; update puts it back.
                        await withClient(c, (cl) => cl.transport.request({ method: "PUT", path: `/_security/role/${name}`, body: { ...roleBodies({ ...news, clusters: ["other"] } as any).local } }));
                        const drift = await role.read(name, outs);
                        assert.deepStrictEqual(drift.inputs.clusters, ["other"]);
                        assert.strictEqual((await role.diff(name, drift.props, news)).changes, true);
                        const fixed = (await role.update(name, drift.props, news)).outs;
                        assert.strictEqual((await role.diff(name, (await role.read(name, fixed)).props, news)).changes, false);
                    } finally {
                        await role.delete(name, outs);
                    }
                    assert.strictEqual(await roleOn(c, name), undefined, "destroy removes it");
                }
            });
        }
    });

    describe("bad input", function () {
        const bad: Array<{ kind: "role" | "user"; why: string; news: () => Record<string, unknown>; property: string }> = [
            { kind: "role", why: "unknown preset", news: () => ({ ...base(), preset: "ccr" }), property: "preset" },
            { kind: "role", why: "empty index patterns", news: () => ({ ...base(), indices: [] }), property: "indices" },
            { kind: "role", why: "a blank pattern", news: () => ({ ...base(), indices: ["  "] }), property: "indices[0]" },
            { kind: "role", why: "an alias-prefixed remote pattern", news: () => ({ ...base(), indices: ["ccx:logs"] }), property: "indices[0]" },
            { kind: "role", why: "a non-ASCII role name", news: () => ({ ...base(), name: "lecture-à-distance" }), property: "name" },
            { kind: "role", why: "a 508-character role name", news: () => ({ ...base(), name: "r".repeat(508) }), property: "name" },
            { kind: "role", why: "a reserved role name", news: () => ({ ...base(), name: "superuser" }), property: "name" },
            { kind: "role", why: "another reserved role name", news: () => ({ ...base(), name: "viewer" }), property: "name" },
            { kind: "role", why: "preset with an explicit definition", news: () => ({ ...base(), localDefinition: {} }), property: "localDefinition" },
            { kind: "role", why: "replication without followers", news: () => ({ ...base(), preset: "replication" }), property: "followerIndices" },
            { kind: "role", why: "an unknown role field", news: () => ({ local: connectionTo(v9), remote: connectionTo(v819), name: "ccx-bad", remoteDefinition: { privileges: [] } }), property: "remoteDefinition.privileges" },
            { kind: "user", why: "a reserved user", news: () => ({ local: connectionTo(v9), username: "elastic", roles: [] }), property: "username" },
            { kind: "user", why: "a short password", news: () => ({ local: connectionTo(v9), username: "ccx-bad-user", roles: [], password: "12345" }), property: "password" },
            { kind: "user", why: "a username with trailing space", news: () => ({ local: connectionTo(v9), username: "ccx-bad ", roles: [] }), property: "username" },
        ];
        function base(): Record<string, unknown> {
            return { local: connectionTo(v9), remote: connectionTo(v819), name: "ccx-bad", preset: "search", indices: ["ccx-*"] };
        }

        it(`is refused at check naming the property (${bad.length} cases), by create too, and leaves both clusters' roles and users unchanged`, async function () {
            const before = [await securitySnapshot(v9), await securitySnapshot(v819)];
            for (const c of bad) {
                const hooks = c.kind === "role" ? role : user;
                const checked = await hooks.check({}, c.news());
                assert.ok(checked.failures!.some((f) => f.property === c.property), `${c.why}: expected ${c.property}, got ${JSON.stringify(checked.failures)}`);
                const e = await errorOf(hooks.create(c.news()));
                assert.strictEqual(e.name, "InputError", `${c.why}: ${e.message}`);
                assert.match(e.message, /Nothing was written\.$/);
            }
            assert.deepStrictEqual([await securitySnapshot(v9), await securitySnapshot(v819)], before);
        });
    });
});
