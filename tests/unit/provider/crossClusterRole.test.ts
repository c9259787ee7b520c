/**
 * CrossClusterRole and CrossClusterUser at hook level, without any cluster: check (each bad input
 * names its property), diff (drift, replacement, preview), and create/update refusing bad input
 * before any request (the connections point at a port nothing listens on).
 */
import * as assert from "assert";
import * as util from "util";
import * as roleHooks from "../../../provider/crossClusterRole";
import * as userHooks from "../../../provider/crossClusterUser";
import { HookModule, UNKNOWN } from "../../../provider/core/dynamic";
import { roleBodies, normaliseRole } from "../../../provider/security/roles";
import { warningsOf } from "../../support/assertions";

// The engine hands the hooks any JSON: these tests do too.
const role: HookModule<any, any> = roleHooks;
const user: HookModule<any, any> & { generatePassword(): string } = userHooks;

const CONN = { urls: ["https://127.0.0.1:1"], username: "elastic", password: "pw-of-elastic", maxRetries: 0, requestTimeoutSeconds: 2 };
const REMOTE = { ...CONN, urls: ["https://127.0.0.2:1"] };
const SEARCH = { local: CONN, remote: REMOTE, name: "remote-search", preset: "search", indices: ["logs-*"] };
const REPL = { local: CONN, remote: REMOTE, name: "remote-replication", preset: "replication", indices: ["leader-*"], followerIndices: ["follower-*"] };
const USER = { local: CONN, username: "cross-search-user", roles: ["remote-search"] };

const without = (o: Record<string, unknown>, k: string): Record<string, unknown> => {
    const c = { ...o };
    delete c[k];
    return c;
};

/** Bad CrossClusterRole inputs, one mistake each: the property check must name, and what it must say. */
const BAD_ROLES: Array<{ why: string; news: Record<string, unknown>; property: string; fragment: string }> = [
    { why: "unknown preset", news: { ...SEARCH, preset: "read-only" }, property: "preset", fragment: 'must be one of "search", "replication" (got "read-only")' },
    { why: "presets are lowercase", news: { ...SEARCH, preset: "Search" }, property: "preset", fragment: "must be one of" },
    { why: "empty index patterns", news: { ...SEARCH, indices: [] }, property: "indices", fragment: "is empty" },
    { why: "an empty pattern", news: { ...SEARCH, indices: ["logs-*", ""] }, property: "indices[1]", fragment: "empty index pattern" },
    { why: "preset without indices", news: without(SEARCH, "indices"), property: "indices", fragment: "is required with a preset" },
    { why: "alias prefix on the remote side", news: { ...SEARCH, indices: ["eu:logs-*"] }, property: "indices[0]", fragment: 'write "logs-*"' },
    { why: "replication without followers", news: without(REPL, "followerIndices"), property: "followerIndices", fragment: "is required with the replication preset" },
    { why: "empty follower patterns", news: { ...REPL, followerIndices: [] }, property: "followerIndices", fragment: "is empty" },
    { why: "followerIndices with search", news: { ...SEARCH, followerIndices: ["f"] }, property: "followerIndices", fragment: "replication preset only" },
    { why: "localIndices with replication", news: { ...REPL, localIndices: ["x"] }, property: "localIndices", fragment: "search preset only" },
    { why: "preset and an explicit definition", news: { ...SEARCH, remoteDefinition: { indices: [] } }, property: "remoteDefinition", fragment: "not both" },
    { why: "neither preset nor definitions", news: { local: CONN, remote: REMOTE, name: "r" }, property: "preset", fragment: "give either preset" },
    { why: "indices without a preset", news: { local: CONN, remote: REMOTE, name: "r", indices: ["a"], remoteDefinition: {} }, property: "indices", fragment: "goes with a preset only" },
    { why: "illegal character in the name", news: { ...SEARCH, name: "rôle" }, property: "name", fragment: "printable ASCII" },
    { why: "name too long", news: { ...SEARCH, name: "r".repeat(508) }, property: "name", fragment: "at most 507" },
    { why: "name with a leading space", news: { ...SEARCH, name: " r" }, property: "name", fragment: "leading or trailing whitespace" },
    { why: "reserved role", news: { ...SEARCH, name: "superuser" }, property: "name", fragment: "built-in (reserved) role" },
    { why: "reserved role kibana_system", news: { ...SEARCH, name: "kibana_system" }, property: "name", fragment: "built-in (reserved) role" },
    { why: "missing name", news: without(SEARCH, "name"), property: "name", fragment: "a role name is required" },
    { why: "unknown field in a definition", news: { local: CONN, remote: REMOTE, name: "r", remoteDefinition: { indexes: [] } }, property: "remoteDefinition.indexes", fragment: "is not a field of a role" },
    { why: "reserved metadata key", news: { local: CONN, remote: REMOTE, name: "r", localDefinition: { metadata: { _x: 1 } } }, property: "localDefinition.metadata", fragment: "reserved" },
    { why: "missing remote connection", news: without(SEARCH, "remote"), property: "remote", fragment: "a cluster connection is required" },
    { why: "local and remote are one cluster", news: { ...SEARCH, remote: { ...CONN, urls: ["https://127.0.0.1:1/"] } }, property: "remote.urls", fragment: "is the same cluster as local" },
    { why: "adoptExisting not a boolean", news: { ...SEARCH, adoptExisting: "yes" }, property: "adoptExisting", fragment: "true or false" },
];

describe("CrossClusterRole.check refuses each bad input, naming the property", () => {
    for (const c of BAD_ROLES) {
        it(`${c.property}: ${c.why}`, async () => {
            const r = await role.check({}, c.news);
            const hit = r.failures!.find((f) => f.property === c.property && f.reason.includes(c.fragment));
            assert.ok(hit, `expected ${c.property} ⊃ ${JSON.stringify(c.fragment)}, got ${JSON.stringify(r.failures, null, 1)}`);
            assert.deepStrictEqual(r.failures!.filter((f) => f.property.split(/[.[]/)[0] !== c.property.split(/[.[]/)[0]), [], "one mistake, one property at fault");
        });
    }
    it("accepts both presets and explicit definitions", async () => {
        for (const n of [SEARCH, REPL, { local: CONN, remote: REMOTE, name: "r", localDefinition: {}, remoteDefinition: { indices: [{ names: ["a"], privileges: ["read"] }] } }]) {
            assert.deepStrictEqual((await role.check({}, n)).failures, []);
        }
    });
    it("skips what is not known yet during preview", async () => {
        const r = await role.check({}, { ...SEARCH, local: UNKNOWN, name: UNKNOWN, indices: UNKNOWN });
        assert.deepStrictEqual(r.failures, []);
    });
});

describe("CrossClusterRole hooks refuse bad input before any request", () => {
    it("create and update throw an InputError naming the property (nothing is sent: the URL would fail otherwise)", async () => {
        await assert.rejects(role.create({ ...SEARCH, name: "superuser" }), (e: Error) => {
            assert.strictEqual(e.name, "InputError");
            assert.match(e.message, /^name: "superuser" is a built-in \(reserved\) role.*Nothing was written\.$/);
            return true;
        });
        await assert.rejects(role.update("r", {}, { ...SEARCH, indices: [] }), /indices: is empty.*Nothing was written/);
    });
});

function outsOf(news: any): any {
    const b = roleBodies(news);
    return { ...news, localRole: normaliseRole(b.local), remoteRole: normaliseRole(b.remote), localExists: true, remoteExists: true };
}

describe("CrossClusterRole.diff", () => {
    it("no change when both sides are as declared", async () => {
        assert.strictEqual((await role.diff("remote-search", outsOf(SEARCH), SEARCH)).changes, false);
    });
    it("a side deleted by hand (refresh wrote remoteExists: false) is a change, also when the declared side is the empty role", async () => {
        const d1 = await role.diff("r", { ...outsOf(SEARCH), remoteExists: false, remoteRole: null }, SEARCH);
        assert.strictEqual(d1.changes, true);
        const d2 = await role.diff("r", { ...outsOf(SEARCH), localExists: false, localRole: null }, SEARCH);
        assert.strictEqual(d2.changes, true);
    });
    it("a side edited by hand is a change", async () => {
        const o = outsOf(SEARCH);
        o.remoteRole = normaliseRole({ indices: [{ names: ["logs-*", "secret"], privileges: ["read", "read_cross_cluster", "view_index_metadata"] }] });
        assert.strictEqual((await role.diff("r", o, SEARCH)).changes, true);
    });
    it("new index patterns are an update; a new name replaces the pair", async () => {
        const d = await role.diff("r", outsOf(SEARCH), { ...SEARCH, indices: ["logs-*", "metrics-*"] });
        assert.deepStrictEqual([d.changes, d.replaces], [true, []]);
        const r = await role.diff("r", outsOf(SEARCH), { ...SEARCH, name: "other" });
        assert.deepStrictEqual([r.changes, r.replaces], [true, ["name"]]);
    });
    it("during preview, unknown inputs are a change (and a known new name still replaces)", async () => {
        const d = await role.diff("r", outsOf(SEARCH), { ...SEARCH, indices: UNKNOWN });
        assert.deepStrictEqual([d.changes, d.replaces], [true, []]);
    });
    it("state written without localRole/remoteRole (an older version) compares the declared bodies", async () => {
        const legacy: any = { ...SEARCH };
        assert.strictEqual((await role.diff("r", legacy, SEARCH)).changes, false);
        assert.strictEqual((await role.diff("r", legacy, { ...SEARCH, indices: ["other"] })).changes, true);
    });
});

/** Bad CrossClusterUser inputs, one mistake each. */
const BAD_USERS: Array<{ why: string; news: Record<string, unknown>; property: string; fragment: string }> = [
    { why: "reserved user elastic", news: { ...USER, username: "elastic" }, property: "username", fragment: "built-in (reserved) user" },
    { why: "reserved user kibana_system", news: { ...USER, username: "kibana_system" }, property: "username", fragment: "built-in (reserved) user" },
    { why: "the anonymous user", news: { ...USER, username: "_anonymous" }, property: "username", fragment: "built-in (reserved) user" },
    { why: "non-ASCII username", news: { ...USER, username: "jürgen" }, property: "username", fragment: "printable ASCII" },
    { why: "username with a comma", news: { ...USER, username: "a,b" }, property: "username", fragment: 'contains ","' },
    { why: "missing roles", news: without(USER, "roles"), property: "roles", fragment: "is required" },
    { why: "roles not a list", news: { ...USER, roles: "remote-search" }, property: "roles", fragment: "must be a list" },
    { why: "an illegal role name", news: { ...USER, roles: ["ok", "bad\tname"] }, property: "roles[1]", fragment: "printable ASCII" },
    { why: "password too short", news: { ...USER, password: "12345" }, property: "password", fragment: "at least 6 characters" },
    { why: "reserved metadata key", news: { ...USER, metadata: { _k: 1 } }, property: "metadata", fragment: "reserved" },
    { why: "email not a string", news: { ...USER, email: 5 }, property: "email", fragment: "must be a string" },
    { why: "enabled not a boolean", news: { ...USER, enabled: "true" }, property: "enabled", fragment: "true or false" },
];

describe("CrossClusterUser.check refuses each bad input, naming the property", () => {
    for (const c of BAD_USERS) {
        it(`${c.property}: ${c.why}`, async () => {
            const r = await user.check({}, c.news);
            const hit = r.failures!.find((f) => f.property === c.property && f.reason.includes(c.fragment));
            assert.ok(hit, `expected ${c.property} ⊃ ${JSON.stringify(c.fragment)}, got ${JSON.stringify(r.failures, null, 1)}`);
        });
    }
    it("a built-in role may be granted (only the name rules apply to roles)", async () => {
        assert.deepStrictEqual((await user.check({}, { ...USER, roles: ["viewer", "remote-search"] })).failures, []);
    });
    it("never quotes the password, even when refusing it", async () => {
        const r = await user.check({}, { ...USER, password: "s3cr" });
        assert.ok(!JSON.stringify(r.failures).includes("s3cr"));
    });
    it("create refuses bad input before any request, without the password in the error", async () => {
        await assert.rejects(user.create({ ...USER, username: "elastic", password: "TopSecret-123" }), (e: Error) => {
            assert.strictEqual(e.name, "InputError");
            assert.ok(!util.inspect(e, { depth: 10 }).includes("TopSecret-123"));
            return true;
        });
    });
});

describe("CrossClusterUser: passwords", () => {
    it("generates 32 base64url characters, different each time", () => {
        const seen = new Set<string>();
        for (let i = 0; i < 50; i++) {
            const p = user.generatePassword();
            assert.match(p, /^[A-Za-z0-9_-]{32}$/);
            seen.add(p);
        }
        assert.strictEqual(seen.size, 50);
    });

    const generated = { ...USER, password: "generated-password-0123456789ab", passwordGenerated: true, passwordInSync: true };
    const explicit = { ...USER, password: "my-password", passwordGenerated: false, passwordInSync: true };
    it("a generated password is kept: no password input is no change", async () => {
        assert.strictEqual((await user.diff("u", generated, USER)).changes, false);
    });
    it("a new password input is an update; dropping the input generates a new one", async () => {
        assert.strictEqual((await user.diff("u", explicit, { ...USER, password: "my-password" })).changes, false);
        assert.strictEqual((await user.diff("u", explicit, { ...USER, password: "other-password" })).changes, true);
        assert.strictEqual((await user.diff("u", explicit, USER)).changes, true);
        assert.strictEqual((await user.diff("u", generated, { ...USER, password: "now-explicit" })).changes, true);
    });
    it("a password changed by hand (refresh: passwordInSync false), changed roles, a new username", async () => {
        assert.strictEqual((await user.diff("u", { ...generated, passwordInSync: false }, USER)).changes, true);
        assert.strictEqual((await user.diff("u", { ...generated, roles: ["remote-search", "superuser"] }, USER)).changes, true);
        assert.strictEqual((await user.diff("u", { ...generated, roles: ["remote-search", "remote-search"] }, USER)).changes, false);
        assert.deepStrictEqual((await user.diff("u", generated, { ...USER, username: "other" })).replaces, ["username"]);
    });
});

describe("CrossClusterRole in the API-key model, at hook level", () => {
    const KEYED = { model: "apiKey", local: CONN, name: "remote-search-key", preset: "search", clusters: ["us"], indices: ["logs-*"] };
    it("needs no remote connection, and refuses one (no role is written on the remote)", async () => {
        assert.deepStrictEqual((await role.check({}, KEYED)).failures, []);
        const r = await role.check({}, { ...KEYED, remote: REMOTE });
        assert.deepStrictEqual(r.failures!.map((f) => f.property), ["remote"]);
        assert.match(r.failures![0].reason, /leave remote out/);
    });
    it("create refuses a bad alias before any request (InputError, nothing written)", async () => {
        await assert.rejects(role.create({ ...KEYED, clusters: ["no spaces"] }), (e: Error) => {
            assert.strictEqual(e.name, "InputError");
            assert.match(e.message, /^clusters\[0\]: contains whitespace.*Nothing was written\.$/);
            return true;
        });
    });
    it("diff: no remote side to drift; a changed alias is an update; another model replaces, deleting first (same name)", async () => {
        const outs = outsOf(KEYED);
        outs.remoteRole = null;
        outs.remoteExists = false;
        assert.strictEqual((await role.diff("r", outs, KEYED)).changes, false);
        assert.deepStrictEqual((await role.diff("r", outs, { ...KEYED, clusters: ["eu"] })).replaces, []);
        assert.strictEqual((await role.diff("r", outs, { ...KEYED, clusters: ["eu"] })).changes, true);
        const d = await role.diff("r", outs, { ...SEARCH, name: KEYED.name });
        assert.deepStrictEqual([d.replaces, d.deleteBeforeReplace], [["model"], true]);
    });

    describe("keyAccess: the role against the key's access, at preview, without any request", () => {
        const KEY = { search: [{ names: ["logs-*"] }] };
        it("a pattern the key does not grant fails naming the property, the alias, the pattern and the fix; create refuses it too", async () => {
            const r = await role.check({}, { ...KEYED, indices: ["logs-eu", "metrics-*"], keyAccess: { us: KEY } });
            assert.deepStrictEqual(r.failures!.map((f) => f.property), ["indices[1]"]);
            assert.match(r.failures![0].reason, /'metrics-\*' .* on remote cluster 'us' is not covered by the key's search access \(logs-\*\), so the remote cluster refuses it\. Add it to CrossClusterApiKey\.access\.search of the key 'us' uses, or remove it from the role/);
            await assert.rejects(role.create({ ...KEYED, indices: ["metrics-*"], keyAccess: { us: KEY } }), (e: Error) => e.name === "InputError" && /^indices\[0\]: .*Nothing was written\.$/.test(e.message));
        });
        it("explicit definitions are named by their path; replication needs replication access; other aliases are not checked against this key", async () => {
            const localDefinition = {
                remote_indices: [
                    { clusters: ["eu"], names: ["x-*"], privileges: ["read"] },
                    { clusters: ["us"], names: ["logs-*", "leader-1"], privileges: ["cross_cluster_replication"] },
                ],
            };
            const r = await role.check({}, { model: "apiKey", local: CONN, name: "mixed", localDefinition, keyAccess: { us: { search: [{ names: ["*"] }], replication: [{ names: ["leader-*"] }] } } });
            assert.deepStrictEqual(r.failures!.map((f) => f.property), ["localDefinition.remote_indices[1].names[0]"]);
            assert.match(r.failures![0].reason, /access\.replication/);
        });
        it("covered roles pass; a regular expression is a warning, never a silent pass", async () => {
            assert.deepStrictEqual((await role.check({}, { ...KEYED, keyAccess: { us: KEY } })).failures, []);
            const warnings = await warningsOf(async () => {
                const r = await role.check({}, { ...KEYED, indices: ["/logs-.*/"], keyAccess: { us: KEY } });
                assert.deepStrictEqual(r.failures, []);
            });
            assert.ok(warnings.some((w) => /role 'remote-search-key': indices\[0\]: '\/logs-\.\*\/' .* cannot be compared .*regular expression/.test(w)), warnings.join("\n"));
        });
        it("skips the check while the key's access is not known (preview of a new key elsewhere); refuses keyAccess with certificate trust and bad accesses", async () => {
            assert.deepStrictEqual((await role.check({}, { ...KEYED, indices: ["metrics-*"], keyAccess: UNKNOWN })).failures, []);
            assert.deepStrictEqual((await role.check({}, { ...KEYED, indices: ["metrics-*"], keyAccess: { us: UNKNOWN } })).failures, []);
            assert.deepStrictEqual((await role.check({}, { ...SEARCH, keyAccess: { us: KEY } })).failures!.map((f) => f.property), ["keyAccess"]);
            assert.deepStrictEqual((await role.check({}, { ...KEYED, keyAccess: { "u s": KEY, us: { search: [{ names: [] }] } } })).failures!.map((f) => f.property),
                ["keyAccess.u s", "keyAccess.us.search[0].names"]);
        });
    });
});

describe("CrossClusterRole/User diff: interrupted creates and cluster identity", () => {
    it("a state recorded by an interrupted create is always a change (the next up finishes it)", async () => {
        assert.strictEqual((await role.diff("r", { ...outsOf(SEARCH), createInterrupted: true }, SEARCH)).changes, true);
        const u = { ...USER, password: "p-123456", passwordGenerated: false, passwordInSync: true };
        assert.strictEqual((await user.diff("u", { ...u, createInterrupted: true }, { ...USER, password: "p-123456" })).changes, true);
    });
    it("a state of an earlier release (no cluster_uuid) with new URLs is an update, never a replace, and asks no cluster", async () => {
        const moved = { ...SEARCH, local: { ...CONN, urls: ["https://127.0.0.3:1"] } };
        const d = await role.diff("r", outsOf(SEARCH), moved);
        assert.deepStrictEqual([d.changes, d.replaces], [true, []]);
        const u = await user.diff("u", { ...USER, password: "p", passwordGenerated: true }, { ...USER, local: moved.local });
        assert.deepStrictEqual([u.changes, u.replaces], [true, []]);
    });
});
