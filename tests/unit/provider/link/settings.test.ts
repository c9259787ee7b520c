import * as assert from "assert";
import * as fc from "fast-check";
import { UNKNOWN } from "../../../../provider/core/dynamic";
import {
    RemoteSettings, SettingsBody, addressProblem, clearBody, diffSettings, parseTimeValue, readRemoteSettings, settingsBody, validateRemoteArgs,
} from "../../../../provider/link/settings";
import { observeRemoteSettings } from "../../../../provider/link/settings";
import { BAD_ARGS, PROXY, SNIFF } from "../../fixtures/remote-args";
import { addressArb, aliasArb, applyToCluster, durationArb, hostArb, portArb, remoteSettingsArb, unitArb } from "../../../support/settingsModel";

/** A character Elasticsearch's `[-\w]+` does not accept. */
const illegalAliasChar = fc.constantFrom(":", " ", "*", ".", ",", "/", "\\", "é", "\t", "#", "?", "\"", "<", "|", "+", "@", "中");

describe("settings: validateRemoteArgs refuses each bad input, naming the property", () => {
    for (const c of BAD_ARGS) {
        it(`${c.property}: ${c.why}`, () => {
            const failures = validateRemoteArgs(c.args);
            const hit = failures.find((f) => f.property === c.property && f.reason.includes(c.fragment));
            assert.ok(hit, `expected ${c.property} ⊃ ${JSON.stringify(c.fragment)}, got ${JSON.stringify(failures, null, 1)}`);
            const others = failures.filter((f) => f.property !== c.property);
            assert.deepStrictEqual(others, [], "one mistake, one property at fault");
        });
    }
});

describe("settings: validateRemoteArgs accepts good input", () => {
    const good: Array<[string, Record<string, unknown>]> = [
        ["sniff, minimal", SNIFF],
        ["sniff, every option", { ...SNIFF, mode: "sniff", seeds: ["es1.example.com:9300", "10.0.0.2:9301", "[fe80::1]:9300", "es_2.internal:9300"], nodeConnections: 5, skipUnavailable: false, transportCompress: "indexing_data", transportCompressionScheme: "lz4", transportPingSchedule: "30s" }],
        ["proxy, minimal", PROXY],
        ["proxy, every option", { ...PROXY, proxySocketConnections: 18, serverName: "es-remote.example.com", skipUnavailable: true, transportCompress: "false", transportCompressionScheme: "deflate", transportPingSchedule: "-1" }],
        ["alias with '-' and '_' and capitals (Elasticsearch accepts them)", { ...SNIFF, alias: "Cluster-Two_2" }],
        ["a leading '_' or '-' (the affix pattern [-\\w]+ allows it)", { ...SNIFF, alias: "_eu-west" }],
        ["null optional values mean unset", { ...SNIFF, nodeConnections: null, proxyAddress: null }],
        ["other properties are left to other validators", { ...SNIFF, local: { urls: [] }, remote: "anything" }],
        ["ping schedule units", { ...SNIFF, transportPingSchedule: "500ms" }],
        ["punycode server name", { ...PROXY, serverName: "xn--bcher-kva.example" }],
    ];
    for (const [name, args] of good) {
        it(name, () => assert.deepStrictEqual(validateRemoteArgs(args), []));
    }

    it("never throws, whatever it is given (property)", () => {
        const keys = ["alias", "mode", "seeds", "proxyAddress", "nodeConnections", "serverName", "transportPingSchedule", "x"];
        fc.assert(fc.property(fc.dictionary(fc.constantFrom(...keys), fc.anything()), (args) => {
            // Every failure names an input the validator owns (never the unrelated "x") with a reason.
            return validateRemoteArgs(args).every((f) => /^(alias|mode|seeds|proxyAddress|nodeConnections|serverName|transportPingSchedule)(\[\d+\])?$/.test(f.property) && f.reason.length > 10);
        }), { numRuns: 500 });
        assert.deepStrictEqual(validateRemoteArgs(null as unknown as Record<string, unknown>).map((f) => f.property), ["alias", "seeds"], "no inputs at all: the alias and the seeds are missing");
    });
});

describe("settings: values not known during preview are not judged", () => {
    const cases: Array<[string, Record<string, unknown>]> = [
        ["unknown alias", { ...SNIFF, alias: UNKNOWN }],
        ["unknown seeds list", { ...SNIFF, seeds: UNKNOWN }],
        ["one unknown seed", { ...SNIFF, seeds: ["10.0.0.1:9300", UNKNOWN] }],
        ["unknown proxyAddress", { ...PROXY, proxyAddress: UNKNOWN }],
        ["unknown mode, with proxy keys", { ...PROXY, mode: UNKNOWN }],
        ["unknown mode, with sniff keys", { ...SNIFF, mode: UNKNOWN, nodeConnections: 3 }],
        ["unknown serverName in sniff mode is not called misplaced", { ...SNIFF, serverName: UNKNOWN }],
        ["unknown counts and durations", { ...SNIFF, nodeConnections: UNKNOWN, transportPingSchedule: UNKNOWN, skipUnavailable: UNKNOWN }],
    ];
    for (const [name, args] of cases) {
        it(name, () => assert.deepStrictEqual(validateRemoteArgs(args), []));
    }

    it("a known bad value beside an unknown one is still reported", () => {
        const f = validateRemoteArgs({ ...SNIFF, seeds: [UNKNOWN, "es1"] });
        assert.deepStrictEqual(f.map((x) => x.property), ["seeds[1]"]);
    });
});

describe("settings: property-based validation", () => {
    it("valid aliases never fail", () => {
        fc.assert(fc.property(aliasArb, (alias) => validateRemoteArgs({ ...SNIFF, alias }).length === 0), { numRuns: 500 });
    });

    it("an alias with one illegal character always fails, naming alias", () => {
        fc.assert(fc.property(aliasArb, illegalAliasChar, fc.nat(), (alias, ch, at) => {
            const i = at % (alias.length + 1);
            const bad = alias.slice(0, i) + ch + alias.slice(i);
            const f = validateRemoteArgs({ ...SNIFF, alias: bad });
            return f.length === 1 && f[0].property === "alias" && f[0].reason.includes("contains");
        }), { numRuns: 500 });
    });

    it("valid seeds and proxy addresses never fail (host names, IPv4, bracketed IPv6)", () => {
        fc.assert(fc.property(fc.array(addressArb, { minLength: 1, maxLength: 6 }), addressArb, (seeds, proxyAddress) => {
            return validateRemoteArgs({ ...SNIFF, seeds }).length === 0 && validateRemoteArgs({ ...PROXY, proxyAddress }).length === 0;
        }), { numRuns: 500 });
    });

    const mutations: Array<[string, (host: string, port: number) => string]> = [
        ["no port", (h) => h],
        ["port 0", (h) => `${h}:0`],
        ["port above 65535", (h, p) => `${h}:${65535 + p}`],
        ["port not a number", (h, p) => `${h}:${p}x`],
        ["empty port", (h) => `${h}:`],
        ["whitespace", (h, p) => ` ${h}:${p}`],
        ["a scheme", (h, p) => `tcp://${h}:${p}`],
        ["no host", (_h, p) => `:${p}`],
    ];
    for (const [name, mutate] of mutations) {
        it(`a seed or proxy address with ${name} always fails, naming it`, () => {
            fc.assert(fc.property(hostArb, portArb, fc.nat({ max: 3 }), (host, port, at) => {
                const bad = mutate(host, port);
                const seeds = ["10.0.0.1:9300", "10.0.0.2:9300", "10.0.0.3:9300"];
                seeds.splice(at, 0, bad);
                const fs = validateRemoteArgs({ ...SNIFF, seeds });
                const fp = validateRemoteArgs({ ...PROXY, proxyAddress: bad });
                return fs.length === 1 && fs[0].property === `seeds[${at}]` && fp.length === 1 && fp[0].property === "proxyAddress";
            }), { numRuns: 200 });
        });
    }

    it("an unbracketed IPv6 address with a port always fails", () => {
        fc.assert(fc.property(fc.ipV6(), portArb, (ip, port) => {
            const f = validateRemoteArgs({ ...SNIFF, seeds: [`${ip}:${port}`] });
            return f.length === 1 && f[0].property === "seeds[0]";
        }), { numRuns: 300 });
    });

    it("valid durations never fail", () => {
        fc.assert(fc.property(durationArb, (d) => validateRemoteArgs({ ...SNIFF, transportPingSchedule: d }).length === 0), { numRuns: 500 });
    });

    const durationMutations: Array<[string, (n: number, u: string) => string]> = [
        ["a fraction", (n, u) => `${n}.5${u}`],
        ["no unit", (n) => `${n}`],
        ["M for minutes", (n) => `${n}M`],
        ["a negative value", (n, u) => `-${n + 1}${u}`],
        ["an unknown unit", (n) => `${n}${["w", "y", "sec", "min", "hrs", "us"][n % 6]}`],
        ["a space inside", (n, u) => `${n} ${u} ${u}`],
    ];
    for (const [name, mutate] of durationMutations) {
        it(`a duration with ${name} always fails, naming transportPingSchedule`, () => {
            fc.assert(fc.property(fc.integer({ min: 1, max: 100000 }), unitArb, (n, u) => {
                const f = validateRemoteArgs({ ...SNIFF, transportPingSchedule: mutate(n, u) });
                return f.length === 1 && f[0].property === "transportPingSchedule";
            }), { numRuns: 200 });
        });
    }

    it("valid server names never fail; with a port or as an IP always fail", () => {
        fc.assert(fc.property(fc.domain(), portArb, fc.ipV4(), (name, port, ip) => {
            const ok = validateRemoteArgs({ ...PROXY, serverName: name }).length === 0;
            const withPort = validateRemoteArgs({ ...PROXY, serverName: `${name}:${port}` });
            const asIp = validateRemoteArgs({ ...PROXY, serverName: ip });
            return ok && withPort.length === 1 && withPort[0].property === "serverName" && asIp.length === 1 && asIp[0].property === "serverName";
        }), { numRuns: 300 });
    });
});

describe("settings: time values", () => {
    const cases: Array<[string, bigint | undefined]> = [
        ["30s", 30_000_000_000n], ["500ms", 500_000_000n], ["5m", 300_000_000_000n], ["1h", 3_600_000_000_000n], ["1d", 86_400_000_000_000n],
        ["10micros", 10_000n], ["7nanos", 7n], ["30S", 30_000_000_000n], ["-1", -1n], ["0", 0n],
        ["5M", undefined], ["1.5s", undefined], ["30", undefined], ["-2", undefined], ["s", undefined], ["", undefined],
    ];
    for (const [v, ns] of cases) {
        it(`${JSON.stringify(v)} → ${ns === undefined ? "rejected" : `${ns} ns`}`, () => assert.strictEqual(parseTimeValue(v), ns));
    }
    it("addressProblem is undefined for a good address", () => assert.strictEqual(addressProblem("[::1]:9300"), undefined));
});

describe("settings: settingsBody and clearBody", () => {
    const sniff: RemoteSettings = { mode: "sniff", seeds: ["10.0.0.1:9300", "10.0.0.2:9300"], nodeConnections: 5, skipUnavailable: true, transportPingSchedule: "30s" };
    const proxy: RemoteSettings = { mode: "proxy", proxyAddress: "proxy.example.com:9400", serverName: "es.example.com", skipUnavailable: true, transportPingSchedule: "30s" };

    it("a first body names every key: values, and null for the rest (leftovers of an earlier setup go)", () => {
        assert.deepStrictEqual(settingsBody("cluster_two", sniff), {
            "cluster.remote.cluster_two.mode": "sniff",
            "cluster.remote.cluster_two.seeds": ["10.0.0.1:9300", "10.0.0.2:9300"],
            "cluster.remote.cluster_two.node_connections": 5,
            "cluster.remote.cluster_two.proxy_address": null,
            "cluster.remote.cluster_two.proxy_socket_connections": null,
            "cluster.remote.cluster_two.server_name": null,
            "cluster.remote.cluster_two.skip_unavailable": true,
            "cluster.remote.cluster_two.transport.compress": null,
            "cluster.remote.cluster_two.transport.compression_scheme": null,
            "cluster.remote.cluster_two.transport.ping_schedule": "30s",
        });
    });

    it("the keys of a first body are exactly clearBody's keys", () => {
        assert.deepStrictEqual(Object.keys(settingsBody("a", proxy)).sort(), Object.keys(clearBody("a")).sort());
    });

    it("nothing changed → empty body", () => {
        assert.deepStrictEqual(settingsBody("a", sniff, { ...sniff }), {});
    });

    it("update changes only what changed", () => {
        assert.deepStrictEqual(settingsBody("a", { ...sniff, nodeConnections: 7 }, sniff), { "cluster.remote.a.node_connections": 7 });
        assert.deepStrictEqual(settingsBody("a", { ...sniff, transportPingSchedule: "1m" }, sniff), { "cluster.remote.a.transport.ping_schedule": "1m" });
    });

    it("a same duration in other words, or reordered seeds, is no change", () => {
        assert.deepStrictEqual(settingsBody("a", { ...sniff, transportPingSchedule: "30000ms" }, sniff), {});
        assert.deepStrictEqual(settingsBody("a", { ...sniff, seeds: ["10.0.0.2:9300", "10.0.0.1:9300"] }, sniff), {});
    });

    it("keys the user removed become null", () => {
        const { skipUnavailable: _s, transportPingSchedule: _t, ...rest } = sniff;
        assert.deepStrictEqual(settingsBody("a", rest, sniff), {
            "cluster.remote.a.skip_unavailable": null,
            "cluster.remote.a.transport.ping_schedule": null,
        });
    });

    it("sniff → proxy: the sniff keys are null in the same body; unchanged common keys stay out", () => {
        assert.deepStrictEqual(settingsBody("a", proxy, sniff), {
            "cluster.remote.a.mode": "proxy",
            "cluster.remote.a.seeds": null,
            "cluster.remote.a.node_connections": null,
            "cluster.remote.a.proxy_address": "proxy.example.com:9400",
            "cluster.remote.a.proxy_socket_connections": null,
            "cluster.remote.a.server_name": "es.example.com",
        });
    });

    it("proxy → sniff: the proxy keys are null in the same body", () => {
        const body = settingsBody("a", { mode: "sniff", seeds: ["h:9300"], skipUnavailable: false }, proxy);
        assert.deepStrictEqual(body, {
            "cluster.remote.a.mode": "sniff",
            "cluster.remote.a.seeds": ["h:9300"],
            "cluster.remote.a.node_connections": null,
            "cluster.remote.a.proxy_address": null,
            "cluster.remote.a.proxy_socket_connections": null,
            "cluster.remote.a.server_name": null,
            "cluster.remote.a.skip_unavailable": false,
            "cluster.remote.a.transport.ping_schedule": null,
        });
    });

    it("state from an older version without mode reads as sniff", () => {
        const old = { seeds: ["10.0.0.1:9300"] } as RemoteSettings;
        assert.deepStrictEqual(settingsBody("a", { mode: "sniff", seeds: ["10.0.0.1:9300"] }, old), {});
    });

    it("clearBody nulls every key of the alias and touches no other alias", () => {
        const body = clearBody("cluster_two");
        assert.strictEqual(Object.keys(body).length, 10);
        assert.ok(Object.entries(body).every(([k, v]) => k.startsWith("cluster.remote.cluster_two.") && v === null));
        let cluster = applyToCluster({}, settingsBody("cluster_two", sniff));
        cluster = applyToCluster(cluster, settingsBody("cluster_one", proxy));
        cluster = applyToCluster(cluster, body);
        assert.strictEqual(readRemoteSettings("cluster_two", cluster), undefined);
        assert.deepStrictEqual(readRemoteSettings("cluster_one", cluster), proxy);
    });
});

describe("settings: readRemoteSettings normalises what the cluster returns", () => {
    it("strings become booleans and numbers; a missing mode is sniff", () => {
        assert.deepStrictEqual(readRemoteSettings("a", {
            "cluster.remote.a.seeds": ["10.0.0.1:9300"],
            "cluster.remote.a.node_connections": "3",
            "cluster.remote.a.skip_unavailable": "true",
            "cluster.remote.a.transport.compress": "INDEXING_DATA",
            "cluster.remote.a.transport.ping_schedule": "30s",
        }), { mode: "sniff", seeds: ["10.0.0.1:9300"], nodeConnections: 3, skipUnavailable: true, transportCompress: "indexing_data", transportPingSchedule: "30s" });
    });

    const seedForms: Array<[string, unknown]> = [
        ["an array", ["a:1", "b:2"]],
        ["a comma string", "a:1,b:2"],
        ["a comma string with spaces", " a:1 , b:2 "],
        ["a bracketed list", "[a:1, b:2]"],
        ["a JSON array string", '["a:1","b:2"]'],
    ];
    for (const [name, value] of seedForms) {
        it(`seeds as ${name}`, () => {
            assert.deepStrictEqual(readRemoteSettings("a", { "cluster.remote.a.seeds": value })?.seeds, ["a:1", "b:2"]);
        });
    }

    it("seeds as indexed keys (seeds.0, seeds.1)", () => {
        assert.deepStrictEqual(readRemoteSettings("a", { "cluster.remote.a.seeds.1": "b:2", "cluster.remote.a.seeds.0": "a:1" })?.seeds, ["a:1", "b:2"]);
    });

    it("reads proxy mode; booleans and numbers already typed pass through", () => {
        assert.deepStrictEqual(readRemoteSettings("a", {
            "cluster.remote.a.mode": "proxy",
            "cluster.remote.a.proxy_address": "p:9400",
            "cluster.remote.a.proxy_socket_connections": 18,
            "cluster.remote.a.server_name": "es.example.com",
            "cluster.remote.a.skip_unavailable": false,
            "cluster.remote.a.transport.compression_scheme": "lz4",
        }), { mode: "proxy", proxyAddress: "p:9400", proxySocketConnections: 18, serverName: "es.example.com", skipUnavailable: false, transportCompressionScheme: "lz4" });
    });

    it("only the alias asked for: `a` is not `ab`, other settings are ignored", () => {
        const flat = { "cluster.remote.ab.mode": "proxy", "cluster.remote.ab.proxy_address": "p:1", "cluster.routing.allocation.enable": "all" };
        assert.strictEqual(readRemoteSettings("a", flat), undefined);
        assert.strictEqual(readRemoteSettings("ab", flat)?.mode, "proxy");
    });

    it("no keys, or an empty section → undefined", () => {
        assert.strictEqual(readRemoteSettings("a", {}), undefined);
        assert.strictEqual(readRemoteSettings("a", undefined as unknown as Record<string, unknown>), undefined);
    });
});

describe("settings: diffSettings", () => {
    const base: RemoteSettings = { mode: "sniff", seeds: ["a:1", "b:2"] };

    const cases: Array<[string, RemoteSettings, RemoteSettings, string[], string?]> = [
        ["equal", base, { ...base }, []],
        ["unset nodeConnections equals the default 3", base, { ...base, nodeConnections: 3 }, []],
        ["unset nodeConnections differs from 5", base, { ...base, nodeConnections: 5 }, ["nodeConnections"]],
        ["unset proxySocketConnections equals the default 18", { mode: "proxy", proxyAddress: "p:1" }, { mode: "proxy", proxyAddress: "p:1", proxySocketConnections: 18 }, []],
        ["seeds compare as a set", base, { ...base, seeds: ["b:2", "a:1"] }, []],
        ["a seed added", base, { ...base, seeds: ["a:1"] }, ["seeds"]],
        ["durations compare by length", { ...base, transportPingSchedule: "60s" }, { ...base, transportPingSchedule: "1m" }, []],
        ["a removed serverName is a change", { mode: "proxy", proxyAddress: "p:1" }, { mode: "proxy", proxyAddress: "p:1", serverName: "x.example" }, ["serverName"]],
        ["a removed transport.compress is a change (its default is node-wide)", base, { ...base, transportCompress: "true" }, ["transportCompress"]],
        ["mode switch", { mode: "proxy", proxyAddress: "p:1" }, base, ["mode", "seeds", "proxyAddress"]],
        ["skipUnavailable unset vs true without a version: a change", base, { ...base, skipUnavailable: true }, ["skipUnavailable"]],
        ["skipUnavailable unset vs true on 8.15: the default", base, { ...base, skipUnavailable: true }, [], "8.15.0"],
        ["skipUnavailable unset vs true on 9.1: the default", base, { ...base, skipUnavailable: true }, [], "9.1.2"],
        ["skipUnavailable unset vs true on 8.14: not the default", base, { ...base, skipUnavailable: true }, ["skipUnavailable"], "8.14.3"],
        ["skipUnavailable false vs unset on 8.14: the default", { ...base, skipUnavailable: false }, base, [], "8.14.3"],
        ["skipUnavailable false vs unset on 8.18: a change", { ...base, skipUnavailable: false }, base, ["skipUnavailable"], "8.18.0"],
    ];
    for (const [name, desired, actual, expected, version] of cases) {
        it(name, () => assert.deepStrictEqual(diffSettings(desired, actual, version ? { localVersion: version } : undefined), expected));
    }
});

// Concrete examples, independent of the code under test: the bodies in the setting names of
// Elastic's remote-cluster settings reference, and what `GET _cluster/settings?flat_settings=true`
// answers for them (every value a string, seeds a list of strings, as shared/REFERENCE.md records).
describe("settings: bodies and read-backs, against what Elasticsearch documents and stores", () => {
    const keys = (alias: string, v: Record<string, unknown>) => Object.fromEntries(Object.entries(v).map(([k, x]) => [`cluster.remote.${alias}.${k}`, x]));
    const NULLS = { mode: null, seeds: null, node_connections: null, proxy_address: null, proxy_socket_connections: null, server_name: null,
        skip_unavailable: null, "transport.compress": null, "transport.compression_scheme": null, "transport.ping_schedule": null };

    it("a create names every key of the alias: the declared ones, null for the rest (an adopted alias ends as declared)", () => {
        assert.deepStrictEqual(settingsBody("eu-1", { mode: "sniff", seeds: ["es1:9300", "es2:9300"], nodeConnections: 5, skipUnavailable: false, transportPingSchedule: "30s" }),
            keys("eu-1", { ...NULLS, mode: "sniff", seeds: ["es1:9300", "es2:9300"], node_connections: 5, skip_unavailable: false, "transport.ping_schedule": "30s" }));
        assert.deepStrictEqual(settingsBody("p", { mode: "proxy", proxyAddress: "proxy:9400", serverName: "es.example.com", transportCompress: "indexing_data" }),
            keys("p", { ...NULLS, mode: "proxy", proxy_address: "proxy:9400", server_name: "es.example.com", "transport.compress": "indexing_data" }));
    });

    it("an update sends only what changed; a mode switch also nulls the old mode's keys", () => {
        const before: RemoteSettings = { mode: "sniff", seeds: ["es1:9300"], skipUnavailable: true };
        assert.deepStrictEqual(settingsBody("a", { ...before, seeds: ["es1:9300", "es2:9300"] }, before), keys("a", { seeds: ["es1:9300", "es2:9300"] }));
        assert.deepStrictEqual(settingsBody("a", { ...before, seeds: ["es1:9300"], skipUnavailable: undefined }, before), keys("a", { skip_unavailable: null }));
        assert.deepStrictEqual(settingsBody("a", { ...before, transportPingSchedule: "1m" }, { ...before, transportPingSchedule: "60s" }), {}, "60s and 1m are one duration");
        assert.deepStrictEqual(settingsBody("a", { mode: "proxy", proxyAddress: "p:9400", skipUnavailable: true }, before),
            keys("a", { mode: "proxy", seeds: null, node_connections: null, proxy_address: "p:9400", proxy_socket_connections: null, server_name: null }));
    });

    it("what a cluster answers reads back in the inputs' words and types", () => {
        const stored = {
            ...keys("eu-1", { mode: "sniff", seeds: ["es1:9300", "es2:9300"], node_connections: "5", skip_unavailable: "false", "transport.ping_schedule": "30s" }),
            ...keys("p", { mode: "proxy", proxy_address: "proxy:9400", proxy_socket_connections: "18", server_name: "es.example.com", "transport.compress": "indexing_data", "transport.compression_scheme": "lz4" }),
            "cluster.remote.eu-10.seeds": ["other:9300"],
        };
        assert.deepStrictEqual(readRemoteSettings("eu-1", stored), { mode: "sniff", seeds: ["es1:9300", "es2:9300"], nodeConnections: 5, skipUnavailable: false, transportPingSchedule: "30s" });
        assert.deepStrictEqual(readRemoteSettings("p", stored),
            { mode: "proxy", proxyAddress: "proxy:9400", proxySocketConnections: 18, serverName: "es.example.com", transportCompress: "indexing_data", transportCompressionScheme: "lz4" });
        assert.deepStrictEqual(readRemoteSettings("eu-10", stored), { mode: "sniff", seeds: ["other:9300"] }, "a missing mode is sniff, Elasticsearch's default");
    });

    it("the generators the other suites use produce only valid input", () => {
        fc.assert(fc.property(aliasArb, remoteSettingsArb(), (alias, s) => validateRemoteArgs({ alias, ...s }).length === 0), { numRuns: 300 });
    });

    it("any body touches only its own alias's keys, under cluster.remote.<alias>.", () => {
        fc.assert(fc.property(aliasArb, remoteSettingsArb(), remoteSettingsArb(), (alias, a, b) => {
            for (const body of [settingsBody(alias, a), settingsBody(alias, b, a), clearBody(alias)]) {
                for (const k of Object.keys(body)) {
                    const rest = k.slice(`cluster.remote.${alias}.`.length);
                    assert.ok(k.startsWith(`cluster.remote.${alias}.`) && Object.prototype.hasOwnProperty.call(NULLS, rest), k);
                }
            }
        }), { numRuns: 300 });
    });
});

describe("observeRemoteSettings: what the nodes apply (transient over persistent over elasticsearch.yml)", () => {
    it("an alias only in elasticsearch.yml is seen (seeds as seeds.0, seeds.1)", () => {
        const o = observeRemoteSettings("y", { "elasticsearch.yml": { "cluster.remote.y.seeds.0": "a:9300", "cluster.remote.y.seeds.1": "b:9300" } });
        assert.deepStrictEqual(o?.effective, { mode: "sniff", seeds: ["a:9300", "b:9300"] });
        assert.deepStrictEqual(o?.layers, ["elasticsearch.yml"]);
    });
    it("transient wins key by key: only the keys it sets", () => {
        const o = observeRemoteSettings("r", {
            persistent: { "cluster.remote.r.seeds": ["a:9300"], "cluster.remote.r.skip_unavailable": "true", "cluster.remote.r.node_connections": "2" },
            transient: { "cluster.remote.r.skip_unavailable": "false" },
        });
        assert.deepStrictEqual(o?.effective, { mode: "sniff", seeds: ["a:9300"], nodeConnections: 2, skipUnavailable: false });
        assert.deepStrictEqual(o?.layers, ["persistent", "transient"]);
    });
    it("persistent seeds replace yml seeds as a whole, whatever form either has", () => {
        const o = observeRemoteSettings("r", {
            "elasticsearch.yml": { "cluster.remote.r.seeds.0": "old:9300", "cluster.remote.r.seeds.1": "old2:9300" },
            persistent: { "cluster.remote.r.seeds": ["new:9300"] },
        });
        assert.deepStrictEqual(o?.effective.seeds, ["new:9300"]);
    });
    it("no layer with the alias → undefined; another alias is not this one", () => {
        assert.strictEqual(observeRemoteSettings("r", { persistent: { "cluster.remote.rr.seeds": ["a:1"] }, transient: {} }), undefined);
    });
});
