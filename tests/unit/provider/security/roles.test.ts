import * as assert from "assert";
import * as fc from "fast-check";
import { UNKNOWN } from "../../../../provider/core/dynamic";
import {
    MAX_NAME_LENGTH, normaliseRole, observedSpec, RESERVED_ROLE_NAMES, securityIndexHint, RESERVED_USERNAMES, roleBodies, RoleBody, RoleSpec, sameRole, specOf, validateIndexPatterns,
    validateRoleBody, validateRoleName, validateRoleSpec, validateUsername, writableRole,
} from "../../../../provider/security/roles";

/**
 * What `GET _security/role/<name>` returns for a body written with `PUT` (seen on 8.19.x and 9.x):
 * the missing lists and objects filled in, `allow_restricted_indices: false` on each index entry,
 * `transient_metadata`, and a `query` object turned into a JSON string.
 */
function esEcho(body: RoleBody): RoleBody {
    const entry = (e: any) => ({
        ...e,
        names: typeof e.names === "string" ? [e.names] : e.names,
        allow_restricted_indices: e.allow_restricted_indices ?? false,
        ...(e.query !== undefined && typeof e.query !== "string" ? { query: JSON.stringify(e.query) } : {}),
    });
    return {
        cluster: [],
        indices: [],
        applications: [],
        run_as: [],
        metadata: {},
        ...body,
        ...(Array.isArray(body.indices) ? { indices: (body.indices as any[]).map(entry) } : {}),
        transient_metadata: { enabled: true },
    };
}

describe("roles: presets as role bodies (Elastic's 'Configure roles and users for remote clusters')", () => {
    it("search: read, read_cross_cluster, view_index_metadata on the remote indices; an empty local role", () => {
        assert.deepStrictEqual(roleBodies({ preset: "search", indices: ["logs-*", "metrics-*"] }), {
            local: {},
            remote: { indices: [{ names: ["logs-*", "metrics-*"], privileges: ["read", "read_cross_cluster", "view_index_metadata"] }] },
        });
    });

    it("search with localIndices: the local side may read those too", () => {
        assert.deepStrictEqual(roleBodies({ preset: "search", indices: ["logs-*"], localIndices: ["local-logs-*"] }).local, {
            indices: [{ names: ["local-logs-*"], privileges: ["read", "view_index_metadata"] }],
        });
    });

    it("replication: read_ccr + monitor/read on the leaders; manage_ccr + monitor/read/write/manage_follow_index on the followers", () => {
        assert.deepStrictEqual(roleBodies({ preset: "replication", indices: ["leader-*"], followerIndices: ["follower-*"] }), {
            local: { cluster: ["manage_ccr"], indices: [{ names: ["follower-*"], privileges: ["monitor", "read", "write", "manage_follow_index"] }] },
            remote: { cluster: ["read_ccr"], indices: [{ names: ["leader-*"], privileges: ["monitor", "read"] }] },
        });
    });

    it("explicit definitions pass through; a side left out is the empty role", () => {
        const remote = { indices: [{ names: ["a"], privileges: ["read"] }], metadata: { team: "x" } };
        assert.deepStrictEqual(roleBodies({ remoteDefinition: remote }), { local: {}, remote });
    });

    it("the preset bodies are fresh copies (mutating one does not change the next)", () => {
        const a = roleBodies({ preset: "search", indices: ["x"] });
        (a.remote!.indices as any[])[0].privileges.push("write");
        assert.deepStrictEqual((roleBodies({ preset: "search", indices: ["x"] }).remote!.indices as any[])[0].privileges, ["read", "read_cross_cluster", "view_index_metadata"]);
    });
});

describe("roles: names (native realm: 1–507 printable ASCII, no surrounding space, not reserved)", () => {
    const good = ["remote-search", "a", "a".repeat(MAX_NAME_LENGTH), "with space inside", "p@ss.w0rd_-+!#$%&'()*/:;<=>?[\\]^`{|}~\"", "_system", "_mine"];
    for (const n of good) {
        it(`accepts ${JSON.stringify(n.length > 40 ? `${n.slice(0, 10)}…(${n.length})` : n)}`, () => {
            assert.deepStrictEqual(validateRoleName(n), []);
            assert.deepStrictEqual(validateUsername(n === "_system" ? "svc_user" : n), []);
        });
    }
    const bad: Array<[unknown, string]> = [
        [undefined, "a role name is required"],
        ["", "a role name is required"],
        [42, "must be a string"],
        ["a".repeat(MAX_NAME_LENGTH + 1), "at most 507"],
        ["rôle", "contains U+00F4"],
        ["tab\there", "U+0009"],
        [" leading", "leading or trailing whitespace"],
        ["trailing ", "leading or trailing whitespace"],
        ["a,b", 'contains ","'],
        ["superuser", "built-in (reserved) role"],
        ["kibana_system", "built-in (reserved) role"],
    ];
    for (const [n, fragment] of bad) {
        it(`refuses ${JSON.stringify(n)?.slice(0, 30) ?? String(n)}: ${fragment}`, () => {
            const f = validateRoleName(n, "name");
            assert.strictEqual(f.length, 1, JSON.stringify(f));
            assert.strictEqual(f[0].property, "name");
            assert.ok(f[0].reason.includes(fragment), f[0].reason);
        });
    }
    it("refuses every built-in user, naming the property", () => {
        for (const u of RESERVED_USERNAMES) {
            const f = validateUsername(u, "username");
            assert.strictEqual(f[0]?.property, "username");
            assert.match(f[0].reason, /built-in \(reserved\) user/);
        }
    });
    it("the reserved lists hold the names the docs call built-in", () => {
        for (const r of ["superuser", "kibana_system", "kibana_admin", "viewer", "editor", "transport_client", "apm_user"]) assert.ok(RESERVED_ROLE_NAMES.has(r), r);
        for (const u of ["elastic", "kibana_system", "logstash_system", "beats_system", "apm_system", "remote_monitoring_user"]) assert.ok(RESERVED_USERNAMES.has(u), u);
    });
    it("skips values not known yet", () => {
        assert.deepStrictEqual(validateRoleName(UNKNOWN), []);
        assert.deepStrictEqual(validateUsername(UNKNOWN), []);
    });
    it("any printable-ASCII name without surrounding space, comma or reserved name passes (property)", () => {
        fc.assert(fc.property(fc.stringMatching(/^[!-+\--~][ -+\--~]{0,60}[!-+\--~]$/), (n) => {
            fc.pre(!RESERVED_ROLE_NAMES.has(n));
            return validateRoleName(n).length === 0;
        }));
    });
});

describe("roles: index patterns", () => {
    it("refuses an empty list, an empty pattern, surrounding whitespace; names the element", () => {
        assert.strictEqual(validateIndexPatterns([], "indices")[0].property, "indices");
        assert.match(validateIndexPatterns([], "indices")[0].reason, /is empty/);
        assert.strictEqual(validateIndexPatterns(["ok", ""], "indices")[0].property, "indices[1]");
        assert.match(validateIndexPatterns([" logs-*"], "indices")[0].reason, /whitespace/);
        assert.match(validateIndexPatterns("logs-*", "indices")[0].reason, /must be a list/);
    });
    it("on the remote side, an alias: prefix is a mistake (the remote names its own indices); a regex may hold ':'", () => {
        const f = validateIndexPatterns(["cluster_two:logs-*"], "indices", { remoteSide: true });
        assert.strictEqual(f[0].property, "indices[0]");
        assert.match(f[0].reason, /write "logs-\*"/);
        assert.deepStrictEqual(validateIndexPatterns(["/a:b.*/"], "indices", { remoteSide: true }), []);
        assert.deepStrictEqual(validateIndexPatterns(["cluster_two:logs-*"], "localIndices"), []);
    });
});

describe("roles: explicit role bodies", () => {
    const cases: Array<[unknown, string, string]> = [
        ["read", "localDefinition", "must be a role body object"],
        [{ indexes: [] }, "localDefinition.indexes", "is not a field of a role"],
        [{ indices: [{ names: [], privileges: ["read"] }] }, "localDefinition.indices[0].names", "cannot be empty"],
        [{ indices: [{ names: ["a"] }] }, "localDefinition.indices[0].privileges", "is required"],
        [{ indices: [{ privileges: ["read"] }] }, "localDefinition.indices[0].names", "is required"],
        [{ indices: {} }, "localDefinition.indices", "must be a list"],
        [{ cluster: [""] }, "localDefinition.cluster[0]", "non-empty string"],
        [{ metadata: { _internal: 1 } }, "localDefinition.metadata", 'keys starting with "_" are reserved'],
        [{ description: "x".repeat(1001) }, "localDefinition.description", "at most 1000"],
        [{ remote_indices: [{ names: ["a"], privileges: ["read"] }] }, "localDefinition.remote_indices[0].clusters", "is required"],
    ];
    for (const [body, property, fragment] of cases) {
        it(`${property}: ${fragment}`, () => {
            const f = validateRoleBody(body, "localDefinition");
            assert.ok(f.some((x) => x.property === property && x.reason.includes(fragment)), JSON.stringify(f));
        });
    }
    it("accepts the docs' bodies and an empty role", () => {
        assert.deepStrictEqual(validateRoleBody({}, "remoteDefinition"), []);
        assert.deepStrictEqual(validateRoleBody({ cluster: ["read_ccr"], indices: [{ names: ["leader-index-name"], privileges: ["monitor", "read"] }] }, "remoteDefinition"), []);
        assert.deepStrictEqual(validateRoleBody({ indices: [{ names: "one", privileges: ["read"], field_security: { grant: ["*"] }, query: { match_all: {} } }], run_as: ["x"], metadata: { a: 1 } }, "x"), []);
    });
});

describe("roles: validateRoleSpec (preset or definitions)", () => {
    const ok = { preset: "search", indices: ["logs-*"] };
    it("accepts each preset and explicit definitions", () => {
        assert.deepStrictEqual(validateRoleSpec(ok), []);
        assert.deepStrictEqual(validateRoleSpec({ preset: "replication", indices: ["l"], followerIndices: ["f"] }), []);
        assert.deepStrictEqual(validateRoleSpec({ remoteDefinition: { indices: [{ names: ["a"], privileges: ["read"] }] } }), []);
    });
    it("skips values not known yet", () => {
        assert.deepStrictEqual(validateRoleSpec({ preset: UNKNOWN, indices: UNKNOWN }), []);
        assert.deepStrictEqual(validateRoleSpec({ preset: "search", indices: [UNKNOWN, "x"] }), []);
        assert.deepStrictEqual(validateRoleSpec({ localDefinition: UNKNOWN }), []);
    });
});

describe("roles: normal form (no false drift, real drift seen)", () => {
    it("each preset body equals the model of Elasticsearch's echo (esEcho; the real no-drift reads are in tests/integration/crossCluster.test.ts)", () => {
        for (const spec of [
            { preset: "search" as const, indices: ["logs-*"] },
            { preset: "search" as const, indices: ["logs-*"], localIndices: ["l-*"] },
            { preset: "replication" as const, indices: ["leader"], followerIndices: ["follower"] },
        ]) {
            const b = roleBodies(spec);
            assert.ok(sameRole(b.local, esEcho(b.local)), JSON.stringify(b.local));
            assert.ok(sameRole(b.remote, esEcho(b.remote!)), JSON.stringify(b.remote));
        }
    });
    it("the empty role equals Elasticsearch's echo of {} exactly as seen on 8.19/9.x", () => {
        const seen = { cluster: [], indices: [], applications: [], run_as: [], metadata: {}, transient_metadata: { enabled: true } };
        assert.deepStrictEqual(normaliseRole(seen), {});
        assert.ok(sameRole({}, seen));
    });
    it("a query given as an object equals the JSON string Elasticsearch returns; key order does not matter", () => {
        assert.ok(sameRole(
            { indices: [{ names: ["a"], privileges: ["read"], query: { term: { a: 1, b: 2 } } }] },
            { indices: [{ names: ["a"], privileges: ["read"], allow_restricted_indices: false, query: "{\"term\":{\"b\":2,\"a\":1}}" }] },
        ));
    });
    it("an empty field_security.except is a default; a non-empty one matters", () => {
        const base = { names: ["a"], privileges: ["read"] };
        assert.ok(sameRole({ indices: [{ ...base, field_security: { grant: ["x"] } }] }, { indices: [{ ...base, field_security: { grant: ["x"], except: [] } }] }));
        assert.ok(!sameRole({ indices: [{ ...base, field_security: { grant: ["x"] } }] }, { indices: [{ ...base, field_security: { grant: ["x"], except: ["y"] } }] }));
    });
    it("allow_restricted_indices: true, another privilege, another index, another cluster privilege are drift", () => {
        const b = roleBodies({ preset: "replication", indices: ["leader"], followerIndices: ["f"] }).remote!;
        const e = esEcho(b) as any;
        assert.ok(!sameRole(b, { ...e, indices: [{ ...e.indices[0], allow_restricted_indices: true }] }));
        assert.ok(!sameRole(b, { ...e, indices: [{ ...e.indices[0], privileges: ["read"] }] }));
        assert.ok(!sameRole(b, { ...e, indices: [{ ...e.indices[0], names: ["leader", "other"] }] }));
        assert.ok(!sameRole(b, { ...e, cluster: ["read_ccr", "monitor"] }));
        assert.ok(!sameRole(b, { ...e, metadata: { by: "hand" } }));
        assert.ok(!sameRole(b, {}));
    });
    it("writableRole drops only transient_metadata", () => {
        assert.deepStrictEqual(writableRole({ cluster: ["a"], transient_metadata: { enabled: true }, metadata: {} }), { cluster: ["a"], metadata: {} });
    });

    const privilege = fc.constantFrom("read", "write", "monitor", "view_index_metadata", "read_cross_cluster", "manage_follow_index", "all");
    const pattern = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}\*?$/);
    const entry = fc.record({
        names: fc.uniqueArray(pattern, { minLength: 1, maxLength: 4 }),
        privileges: fc.uniqueArray(privilege, { minLength: 1, maxLength: 4 }),
    });
    const body = fc.record({
        cluster: fc.uniqueArray(fc.constantFrom("monitor", "read_ccr", "manage_ccr", "manage"), { maxLength: 3 }),
        indices: fc.array(entry, { maxLength: 3 }),
        metadata: fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.oneof(fc.string(), fc.integer())),
    }, { requiredKeys: [] });

    it("property: any body equals Elasticsearch's echo of it, with its lists in any order", () => {
        fc.assert(fc.property(body, fc.integer(), (b, seed) => {
            const shuffle = <T>(xs: T[]) => xs.map((x, i) => [((i + 1) * 2654435761 + seed) % 1000, x] as const).sort((a, c) => a[0] - c[0]).map(([, x]) => x);
            const echoed = esEcho(b) as any;
            echoed.indices = shuffle(echoed.indices.map((e: any) => ({ ...e, privileges: shuffle([...e.privileges]), names: shuffle([...e.names]) })));
            echoed.cluster = shuffle([...echoed.cluster]);
            return sameRole(b, echoed);
        }));
    });
    it("property: adding a privilege to an index entry is always drift", () => {
        fc.assert(fc.property(entry, (e) => {
            const extra = ["all", "read", "write", "monitor"].find((p) => !(e.privileges as string[]).includes(p))!;
            return !sameRole({ indices: [e] }, esEcho({ indices: [{ ...e, privileges: [...e.privileges, extra] }] }));
        }));
    });
});

describe("roles: securityIndexHint", () => {
    it("explains the integ-test-zip's missing analysis-common module, as real 8.19/9.x answer a first PUT of a role", () => {
        assert.match(securityIndexHint("HTTP 400 illegal_argument_exception: Unknown filter type [pattern_capture] for [email]"), /lacks the analysis-common module/);
        assert.strictEqual(securityIndexHint("HTTP 400 action_request_validation_exception: Role [superuser] is reserved"), "");
    });
});

describe("roles: the API-key model (a local role with remote_indices, nothing on the remote)", () => {
    it("search: remote_indices read, read_cross_cluster, view_index_metadata on indices of the clusters; no remote body", () => {
        assert.deepStrictEqual(roleBodies({ model: "apiKey", preset: "search", clusters: ["us"], indices: ["logs-*"] }), {
            local: { remote_indices: [{ clusters: ["us"], names: ["logs-*"], privileges: ["read", "read_cross_cluster", "view_index_metadata"] }] },
            remote: null,
        });
    });
    it("search with localIndices and remoteClusterPrivileges", () => {
        assert.deepStrictEqual(roleBodies({ model: "apiKey", preset: "search", clusters: ["us", "eu-*"], indices: ["a"], localIndices: ["l"], remoteClusterPrivileges: ["monitor_enrich"] }).local, {
            indices: [{ names: ["l"], privileges: ["read", "view_index_metadata"] }],
            remote_indices: [{ clusters: ["us", "eu-*"], names: ["a"], privileges: ["read", "read_cross_cluster", "view_index_metadata"] }],
            remote_cluster: [{ clusters: ["us", "eu-*"], privileges: ["monitor_enrich"] }],
        });
    });
    it("replication: manage_ccr, cross_cluster_replication on the leaders, the follower privileges on the local followers", () => {
        assert.deepStrictEqual(roleBodies({ model: "apiKey", preset: "replication", clusters: ["us"], indices: ["leader-*"], followerIndices: ["f-*"] }).local, {
            cluster: ["manage_ccr"],
            indices: [{ names: ["f-*"], privileges: ["monitor", "read", "write", "manage_follow_index"] }],
            remote_indices: [{ clusters: ["us"], names: ["leader-*"], privileges: ["cross_cluster_replication"] }],
        });
    });
    it("explicit: localDefinition only", () => {
        const local = { remote_indices: [{ clusters: ["x"], names: ["i"], privileges: ["read"] }] };
        assert.deepStrictEqual(roleBodies({ model: "apiKey", localDefinition: local }), { local, remote: null });
    });

    const base = { model: "apiKey", preset: "search", clusters: ["us"], indices: ["logs-*"] };
    const bad: Array<[Record<string, unknown>, string, string]> = [
        [{ ...base, clusters: undefined }, "clusters", "is required with model \"apiKey\""],
        [{ ...base, clusters: [] }, "clusters", "is empty"],
        [{ ...base, clusters: "us" }, "clusters", "must be a list"],
        [{ ...base, clusters: ["us", "bad alias"] }, "clusters[1]", "only accepts ASCII letters"],
        [{ ...base, clusters: ["us:x"] }, "clusters[0]", "only accepts ASCII letters"],
        [{ ...base, clusters: [""] }, "clusters[0]", "is empty"],
        [{ ...base, indices: ["us:logs-*"] }, "indices[0]", 'write "logs-*"'],
        [{ ...base, remoteClusterPrivileges: ["read_ccr"] }, "remoteClusterPrivileges[0]", "is not a remote cluster privilege"],
        [{ model: "apiKey", localDefinition: {}, remoteDefinition: {} }, "remoteDefinition", 'goes with model "certificate" only'],
        [{ model: "apiKey", localDefinition: {}, clusters: ["us"] }, "clusters", "goes with a preset only"],
        [{ preset: "search", indices: ["a"], clusters: ["us"] }, "clusters", 'goes with model: "apiKey" only'],
        [{ ...base, model: "api-key" }, "model", 'must be one of "certificate", "apiKey"'],
    ];
    for (const [spec, property, fragment] of bad) {
        it(`refuses ${property}: ${fragment}`, () => {
            const f = validateRoleSpec(spec);
            assert.ok(f.some((x) => x.property === property && x.reason.includes(fragment)), JSON.stringify(f));
        });
    }
    it("accepts aliases with wildcards and both remote cluster privileges", () => {
        assert.deepStrictEqual(validateRoleSpec({ ...base, clusters: ["us", "eu-*", "*"], remoteClusterPrivileges: ["monitor_enrich", "monitor_stats"] }), []);
    });
});

describe("roles: observedSpec (drift in input names, for preview --diff)", () => {
    const search = { preset: "search" as const, indices: ["logs-*"] };
    const echo = (s: RoleSpec) => { const b = roleBodies(s); return { local: esEcho(b.local), remote: b.remote ? esEcho(b.remote) : undefined }; };
    it("as declared: the declared spec, untouched", () => {
        assert.deepStrictEqual(observedSpec(search, echo(search)), specOf(search));
    });
    it("a preset edited within its shape stays a preset with what was found (indices old => new)", () => {
        const found = echo({ ...search, indices: ["logs-*", "secret"] });
        const seen = observedSpec(search, found);
        assert.strictEqual(seen.preset, "search");
        assert.deepStrictEqual(seen.indices, ["logs-*", "secret"]);
    });
    it("API-key model: another alias found is shown as clusters", () => {
        const spec = { model: "apiKey" as const, preset: "search" as const, clusters: ["us"], indices: ["a"] };
        const seen = observedSpec(spec, echo({ ...spec, clusters: ["eu"] }));
        assert.deepStrictEqual([seen.preset, seen.clusters, seen.indices], ["search", ["eu"], ["a"]]);
    });
    it("a body outside the preset's shape becomes explicit definitions in normal form; the unchanged side keeps its declared form", () => {
        const found = echo(search);
        found.remote = { ...found.remote!, cluster: ["monitor"] };
        const seen = observedSpec(search, found);
        assert.strictEqual(seen.preset, undefined);
        assert.deepStrictEqual(seen.localDefinition, {});
        assert.deepStrictEqual(seen.remoteDefinition, normaliseRole(found.remote));
    });
    it("a side deleted by hand is left out", () => {
        const seen = observedSpec(search, { local: esEcho({}) });
        assert.deepStrictEqual([seen.preset, seen.localDefinition, seen.remoteDefinition], [undefined, {}, undefined]);
    });
});
