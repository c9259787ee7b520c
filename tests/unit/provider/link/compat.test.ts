import * as assert from "assert";
import * as fc from "fast-check";
import { checkCompatibility, minimumVersion, parseVersion } from "../../../../provider/link/compat";
import { CCS_SUPPORTED, CCS_TABLE_VERSIONS, DEFAULT_TABLES, WIRE_COMPATIBILITY } from "../../../../provider/link/compat-tables";
import { ccsCells } from "../../fixtures/ccs-supported-configurations";
import { wireCases } from "../../fixtures/wire-compatibility";

/** A random `major.minor.patch`, optionally with a pre-release tag. */
const versionArb = fc
    .tuple(fc.integer({ min: 5, max: 11 }), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 30 }), fc.constantFrom("", "-SNAPSHOT", "-beta1", "-rc2"))
    .map(([a, b, c, tag]) => `${a}.${b}.${c}${tag}`);

describe("compat: supported cross-cluster search configurations (Elastic's table, cell by cell)", () => {
    const cells = ccsCells();

    it("the fixture and the shipped table cover the same rows and columns", () => {
        const locals = [...new Set(cells.map((c) => c.local))];
        const remotes = [...new Set(cells.map((c) => c.remote))];
        assert.deepStrictEqual(Object.keys(CCS_SUPPORTED).sort(), [...locals].sort());
        assert.deepStrictEqual([...CCS_TABLE_VERSIONS], remotes);
        assert.strictEqual(cells.length, 25 * 25);
    });

    for (const { local, remote, supported } of cells) {
        it(`local ${local} → remote ${remote}: ${supported ? "✅" : "❌"}`, () => {
            // Patch levels must not matter: try .0 and a high patch on either side.
            for (const [l, r] of [[`${local}.0`, `${remote}.0`], [`${local}.13`, `${remote}.7`]]) {
                const v = checkCompatibility(l, r);
                assert.strictEqual(v.ccsSupported, supported, `${l} → ${r}: ${v.reason}`);
                if (supported) {
                    assert.strictEqual(v.wireCompatible, true, v.reason);
                }
                assert.ok(v.reason.includes(`local ${l}`) && v.reason.includes(`remote ${r}`), v.reason);
                assert.ok(!v.reason.includes("extrapolated"), `a cell of the table is not extrapolated: ${v.reason}`);
            }
        });
    }

    it("names the published row in `rule` and lists it in `reason`", () => {
        const v = checkCompatibility("8.18.6", "8.16.2");
        assert.strictEqual(v.wireCompatible, true);
        assert.strictEqual(v.ccsSupported, false);
        assert.strictEqual(v.rule, "Elastic's supported cross-cluster search table, row 8.18");
        assert.ok(v.reason.startsWith("local 8.18.6 → remote 8.16.2 is not a supported cross-cluster search configuration (Elastic supports 8.18 → 8.17, 8.18, 8.19, 9.0)"), v.reason);
        assert.ok(v.reason.includes("The nodes can talk"), v.reason);
    });

    it("is directional: 8.19 → 9.0 is supported, 9.0 → 8.19 is not (both can talk)", () => {
        assert.deepStrictEqual([checkCompatibility("8.19.2", "9.0.1").ccsSupported, checkCompatibility("9.0.1", "8.19.2").ccsSupported], [true, false]);
        assert.deepStrictEqual([checkCompatibility("8.19.2", "9.0.1").wireCompatible, checkCompatibility("9.0.1", "8.19.2").wireCompatible], [true, true]);
    });

    it("long rows are summarised readably", () => {
        assert.ok(checkCompatibility("8.5.0", "8.1.0").reason.includes("(Elastic supports 8.5 → 8.4 … 8.19)"));
        assert.ok(checkCompatibility("8.19.0", "8.1.0").reason.includes("(Elastic supports 8.19 → 8.18, 8.19, 9.0, 9.1, 9.2, 9.3 and later 9.x)"));
    });
});

describe("compat: beyond the table (extrapolated)", () => {
    const rule95 = "local 9.N with N beyond the table: remote 9.(N-1) … latest supported, 8.x not";

    for (const [remote, supported] of [["9.4.0", true], ["9.5.2", true], ["9.9.0", true], ["9.3.9", false], ["9.0.0", false], ["8.19.4", false]] as const) {
        it(`local 9.5.1 → remote ${remote}: ${supported ? "✅" : "❌"}, derived from the 9.3 row`, () => {
            const v = checkCompatibility("9.5.1", remote);
            assert.strictEqual(v.ccsSupported, supported, v.reason);
            assert.ok(v.rule.startsWith(rule95), v.rule);
            assert.ok(v.reason.includes("extrapolated: local 9.5 is newer than Elastic's table, which ends at 9.3"), v.reason);
        });
    }

    it("local 9.6 supports 9.5 and later, not 9.4 (the window moves with N)", () => {
        assert.strictEqual(checkCompatibility("9.6.0", "9.5.0").ccsSupported, true);
        assert.strictEqual(checkCompatibility("9.6.0", "9.4.0").ccsSupported, false);
        assert.ok(checkCompatibility("9.6.0", "9.4.0").reason.includes("(Elastic supports 9.6 → 9.5 and later 9.x)"));
    });

    for (const [local, remote, supported] of [
        ["8.19.3", "9.7.0", true], // 8.19 row supports 9.3, the newest 9.x column: "any remote 9.x"
        ["9.0.2", "9.5.0", true], // a newer minor in the same major
        ["9.3.0", "9.4.0", true],
        ["9.2.0", "9.8.0", true],
        ["8.17.0", "9.5.0", false],
    ] as const) {
        it(`remote beyond the table: local ${local} → remote ${remote}: ${supported ? "✅" : "❌"}`, () => {
            const v = checkCompatibility(local, remote);
            assert.strictEqual(v.ccsSupported, supported, v.reason);
            if (v.wireCompatible) {
                assert.ok(v.reason.includes(`remote ${remote.split(".").slice(0, 2).join(".")} is newer than Elastic's table, which ends at 9.3`), v.reason);
            }
        });
    }

    it("a major beyond every table: same-major remotes only, and no wire rule to cross majors", () => {
        const same = checkCompatibility("10.2.0", "10.1.0");
        assert.deepStrictEqual([same.wireCompatible, same.ccsSupported], [true, true]);
        assert.ok(same.reason.includes("extrapolated"), same.reason);
        const across = checkCompatibility("10.0.0", "9.3.0");
        assert.deepStrictEqual([across.wireCompatible, across.ccsSupported], [false, false]);
        assert.ok(across.reason.includes("10.x is newer than this package's wire compatibility table"), across.reason);
        assert.deepStrictEqual(checkCompatibility("9.3.0", "10.0.0").wireCompatible, false);
    });

    it("older than the table: not a supported configuration, even when the nodes talk", () => {
        const v = checkCompatibility("7.16.3", "7.17.0");
        assert.deepStrictEqual([v.wireCompatible, v.ccsSupported], [true, false]);
        assert.ok(v.reason.includes("local 7.16 is older than Elastic's current table of supported configurations, which covers 7.17 … 9.3"), v.reason);
        const r = checkCompatibility("7.17.0", "7.16.0");
        assert.deepStrictEqual([r.wireCompatible, r.ccsSupported], [true, false]);
        assert.ok(r.reason.includes("remote 7.16 is older than Elastic's current table, which starts at 7.17"), r.reason);
    });
});

describe("compat: wire compatibility (symmetric)", () => {
    for (const c of wireCases()) {
        it(`${c.a} ↔ ${c.b}: ${c.talk ? "✅" : "❌"} — ${c.why}`, () => {
            for (const [l, r] of [[`${c.a}.2`, `${c.b}.0`], [`${c.b}.1`, `${c.a}.0`]]) {
                const v = checkCompatibility(l, r);
                assert.strictEqual(v.wireCompatible, c.talk, `${l} ↔ ${r}: ${v.reason}`);
                if (!c.talk) {
                    assert.strictEqual(v.ccsSupported, false);
                    assert.ok(v.reason.startsWith(`local ${l} cannot connect to remote ${r}: `), v.reason);
                }
            }
        });
    }

    it("explains a refused 8.x ↔ 9.x pair and what to upgrade", () => {
        const v = checkCompatibility("8.18.6", "9.5.4");
        assert.strictEqual(v.reason,
            "local 8.18.6 cannot connect to remote 9.5.4: 9.1 and later 9.x nodes only talk to 8.x nodes on 8.19 or later, and the local cluster is on 8.18. " +
            "Upgrade the local cluster to 8.19 or later first");
        assert.strictEqual(v.rule, "9.1 and later 9.x nodes only talk to 8.x nodes on 8.19 or later");
        const back = checkCompatibility("9.5.4", "8.18.6");
        assert.ok(back.reason.includes("and the remote cluster is on 8.18. Upgrade the remote cluster to 8.19 or later first"), back.reason);
    });

    it("majors two apart: says so and names the version to upgrade to", () => {
        const v = checkCompatibility("7.17.3", "9.1.0");
        assert.strictEqual(v.rule, "majors more than one apart never talk");
        assert.ok(v.reason.includes("7.x and 9.x are 2 apart. Upgrade the local cluster to 8.19 or later first"), v.reason);
    });

    it("is symmetric for any two versions (property)", () => {
        fc.assert(fc.property(versionArb, versionArb, (a, b) => checkCompatibility(a, b).wireCompatible === checkCompatibility(b, a).wireCompatible), { numRuns: 2000 });
    });

    it("same major always talks; majors two or more apart never do (property)", () => {
        fc.assert(fc.property(versionArb, versionArb, (a, b) => {
            const [ma, mb] = [parseVersion(a)!.major, parseVersion(b)!.major];
            const w = checkCompatibility(a, b).wireCompatible;
            return ma === mb ? w : Math.abs(ma - mb) > 1 ? !w : true;
        }), { numRuns: 2000 });
    });

    it("a supported configuration always has wire-compatible nodes (property)", () => {
        fc.assert(fc.property(versionArb, versionArb, (a, b) => {
            const v = checkCompatibility(a, b);
            return !v.ccsSupported || v.wireCompatible;
        }), { numRuns: 2000 });
    });

    it("only the 8.18 ↔ 9.0 row is still to be confirmed on real nodes (9.1+ ↔ 8.19 was seen on 8.18.6/8.19.21/9.5.4)", () => {
        const unconfirmed = WIRE_COMPATIBILITY.filter((r) => r.unconfirmed).map((r) => r.from);
        assert.deepStrictEqual(unconfirmed, ["9.0"]);
        assert.ok(checkCompatibility("8.17.0", "9.0.0").rule.includes("not yet confirmed on real nodes"));
        assert.ok(!checkCompatibility("8.18.0", "9.3.0").reason.includes("not yet confirmed on real nodes"));
    });

    it("a test on real nodes can adjust one entry by passing adjusted tables", () => {
        const wire = WIRE_COMPATIBILITY.map((r) => (r.from === "9.1" ? { ...r, oldestPreviousMajor: "8.18", unconfirmed: false } : r));
        const tables = { ...DEFAULT_TABLES, wire };
        assert.strictEqual(checkCompatibility("8.18.2", "9.2.0").wireCompatible, false);
        const v = checkCompatibility("8.18.2", "9.2.0", tables);
        assert.strictEqual(v.wireCompatible, true);
        assert.strictEqual(v.ccsSupported, false, "the supported-configurations table is unchanged");
        assert.strictEqual(WIRE_COMPATIBILITY.find((r) => r.from === "9.1")!.oldestPreviousMajor, "8.19", "the shipped table is untouched");
    });
});

describe("compat: versions that are not versions", () => {
    for (const bad of ["", "abc", "8", "8.x", "8.18.6.1", "eight.one", " .1.2", "8.18.6 beta"]) {
        it(`${JSON.stringify(bad)} → wireCompatible:false with a reason, on either side`, () => {
            const l = checkCompatibility(bad, "9.0.0");
            assert.deepStrictEqual([l.wireCompatible, l.ccsSupported], [false, false]);
            assert.ok(l.reason.includes(`local version ${JSON.stringify(bad)} is not an Elasticsearch version`), l.reason);
            const r = checkCompatibility("9.0.0", bad);
            assert.ok(r.reason.includes(`remote version ${JSON.stringify(bad)} is not an Elasticsearch version`), r.reason);
        });
    }

    it("never throws, whatever it is given (property)", () => {
        fc.assert(fc.property(fc.anything(), fc.anything(), (a, b) => {
            const v = checkCompatibility(a as string, b as string);
            return typeof v.reason === "string" && typeof v.rule === "string" && v.reason.length > 0;
        }), { numRuns: 1000 });
    });

    it("ignores patch and pre-release tags: 9.0.0-SNAPSHOT ≡ 9.0.7", () => {
        const snap = checkCompatibility("8.18.0", "9.0.0-SNAPSHOT");
        const rel = checkCompatibility("8.18.0", "9.0.7");
        assert.deepStrictEqual([snap.wireCompatible, snap.ccsSupported, snap.rule], [rel.wireCompatible, rel.ccsSupported, rel.rule]);
        const a = checkCompatibility("8.19.1-beta1", "9.0.0-SNAPSHOT");
        const b = checkCompatibility("8.19.9", "9.0.7");
        assert.deepStrictEqual([a.wireCompatible, a.ccsSupported, a.rule], [b.wireCompatible, b.ccsSupported, b.rule]);
        assert.strictEqual(checkCompatibility("8.18", "9.0").ccsSupported, true);
    });
});

describe("compat: minimumVersion (mixed clusters)", () => {
    const cases: Array<[string[], string, string]> = [
        [["8.19.1", "8.18.6", "9.0.0"], "8.18.6", "a rolling upgrade across majors"],
        [["8.18.10", "8.18.9"], "8.18.9", "numeric, not lexicographic, patch"],
        [["8.10.0", "8.9.4"], "8.9.4", "numeric, not lexicographic, minor"],
        [["10.0.0", "9.3.1"], "9.3.1", "numeric, not lexicographic, major"],
        [["9.0.0-SNAPSHOT", "9.0.0"], "9.0.0-SNAPSHOT", "pre-release ignored: the first of equals"],
        [["9.0.0", "9.0.0-SNAPSHOT"], "9.0.0", "pre-release ignored: the first of equals"],
        [["8.19.3"], "8.19.3", "one node"],
        [["9.1.0", "weird", "8.19.0"], "weird", "an unparseable version wins, so the check reports it"],
        [[], "", "no nodes"],
    ];
    for (const [versions, expected, why] of cases) {
        it(`${JSON.stringify(versions)} → ${JSON.stringify(expected)} (${why})`, () => {
            assert.strictEqual(minimumVersion(versions), expected);
        });
    }

    it("returns one of the versions, not above any of them (property)", () => {
        fc.assert(fc.property(fc.array(versionArb, { minLength: 1, maxLength: 12 }), (vs) => {
            const min = minimumVersion(vs);
            const p = parseVersion(min)!;
            return vs.includes(min) && vs.every((v) => {
                const q = parseVersion(v)!;
                return p.major < q.major || (p.major === q.major && (p.minor < q.minor || (p.minor === q.minor && p.patch <= q.patch)));
            });
        }));
    });

    it("feeds checkCompatibility: a mixed 8.18/8.19 local cluster is judged by its 8.18 nodes", () => {
        const local = minimumVersion(["8.19.2", "8.18.7", "8.19.2"]);
        assert.strictEqual(checkCompatibility(local, "9.1.0").wireCompatible, false);
        assert.strictEqual(checkCompatibility(minimumVersion(["8.19.2", "8.19.0"]), "9.1.0").wireCompatible, true);
    });
});
