import * as assert from "assert";
import {
    gatewayNodes, hostnameVerdict, hostOf, nameInSans, NodeFacts, nodeTrustVerdict, normalDn, parseSans, summarizeConnections, versionVerdict,
} from "../../../../provider/link/nodes";
import { dnKey } from "../../../../provider/apikey/checks";

const RCC = ["data", "ingest", "master", "remote_cluster_client"];

function node(name: string, version: string, roles: string[] = RCC, tls?: NodeFacts["tls"]): NodeFacts {
    return { id: name, name, version, roles, tls };
}

describe("provider/link/nodes: versions per node pair", () => {
    // [local nodes, remote nodes, mode, failing local nodes named, warnings]
    const table: Array<{ why: string; local: NodeFacts[]; remote: NodeFacts[]; mode?: "sniff" | "proxy"; fails: RegExp | null; warns?: number }> = [
        { why: "one node each, same major", local: [node("l1", "9.1.0")], remote: [node("r1", "9.0.8")], fails: null },
        {
            why: "rolling upgrade 8.19 → 9.5 on the local side, remote 8.18: the 9.5 node cannot talk to 8.18 (seen on real nodes)",
            local: [node("l-old", "8.19.21"), node("l-new", "9.5.4")], remote: [node("r1", "8.18.6")],
            fails: /local node l-new \(9\.5\.4\) cannot talk to remote node r1 \(8\.18\.6\)/,
        },
        { why: "rolling upgrade local 8.19,9 with remote 9: every pair talks", local: [node("l-old", "8.19.21"), node("l-new", "9.5.4")], remote: [node("r1", "9.5.4")], fails: null },
        {
            why: "the minimum-version verdict passed this pair; the 8.19 node is fine, the 9.0 one is fine too (9.0 talks to 8.18)",
            local: [node("l-old", "8.19.21"), node("l-new", "9.0.8")], remote: [node("r1", "8.18.6")], fails: null,
        },
        {
            why: "a local 9.5 node reaches the remote's 9.x gateway but not its 8.18 one (sniff skips it): a warning",
            local: [node("l1", "9.5.4")], remote: [node("r-old", "8.18.6"), node("r-new", "9.5.4")], fails: null, warns: 1,
        },
        {
            why: "the same in proxy mode: the proxy may route to the 8.18 node, so it fails",
            local: [node("l1", "9.5.4")], remote: [node("r-old", "8.18.6"), node("r-new", "9.5.4")], mode: "proxy", fails: /l1 \(9\.5\.4\) cannot talk to remote node r-old \(8\.18\.6\)/,
        },
        {
            why: "a local node without remote_cluster_client never connects: its version does not matter",
            local: [node("l-client", "8.19.21"), node("l-noclient", "9.5.4", ["data", "master"])], remote: [node("r1", "8.18.6")], fails: null,
        },
        {
            why: "a dedicated master of the remote is never a sniff gateway",
            local: [node("l1", "9.5.4")], remote: [node("r-master", "8.18.6", ["master"]), node("r-data", "9.5.4", ["data"])], fails: null, warns: 0,
        },
    ];
    for (const c of table) {
        it(c.why, () => {
            const v = versionVerdict(c.local, c.remote, c.mode ?? "sniff");
            if (c.fails) {
                assert.strictEqual(v.failures.length, 1, JSON.stringify(v.failures));
                assert.strictEqual(v.failures[0].property, "remote.urls");
                assert.match(v.failures[0].reason, c.fails);
                assert.match(v.failures[0].reason, /Nothing was written\.$/);
                assert.doesNotMatch(v.failures[0].reason, /[^.]\s+Nothing/, "full stop before 'Nothing was written'");
            } else {
                assert.deepStrictEqual(v.failures, []);
            }
            if (c.warns !== undefined) assert.strictEqual(v.warnings.length, c.warns, JSON.stringify(v.warnings));
        });
    }

    it("a local cluster with no remote_cluster_client node fails, naming the nodes and their roles", () => {
        const v = versionVerdict([node("a", "9.1.0", ["master", "data"]), node("b", "9.1.0", ["data"])], [node("r", "9.1.0")]);
        assert.strictEqual(v.failures[0].property, "local.urls");
        assert.match(v.failures[0].reason, /no node of the local cluster has the remote_cluster_client role \(nodes: a \[master, data\]; b \[data\]\)/);
    });

    it("the CCS verdict uses the same pairs: one unsupported pair makes it unsupported, naming the pair", () => {
        // 8.19 → 9.x is wire compatible; 9.x → 8.19 search is; a 9.5 local to an 8.18 remote is not wire compatible at all.
        const ok = versionVerdict([node("l", "9.1.0")], [node("r", "9.1.0")]);
        assert.strictEqual(ok.ccs.supported, true);
        const mixed = versionVerdict([node("l-old", "8.18.6"), node("l-new", "8.19.21")], [node("r", "9.1.0")]);
        // 8.18 cannot talk to 9.x: a failure, and the CCS verdict only covers usable pairs.
        assert.match(mixed.failures[0]?.reason ?? "", /l-old \(8\.18\.6\) cannot talk to remote node r \(9\.1\.0\)/);
    });

    it("gateways: sniff excludes dedicated masters; proxy keeps every node", () => {
        const nodes = [node("m", "9.1.0", ["master"]), node("d", "9.1.0", ["data_hot"]), node("mi", "9.1.0", ["master", "ingest"])];
        assert.deepStrictEqual(gatewayNodes(nodes).map((n) => n.name), ["d", "mi"]);
        assert.deepStrictEqual(gatewayNodes(nodes, "proxy").map((n) => n.name), ["m", "d", "mi"]);
    });
});

describe("provider/link/nodes: trust per node", () => {
    const shared = { transportCertIssuers: ["CN=Shared CA"], trustedCaSubjects: ["CN=Shared CA"], known: true };
    const foreign = { transportCertIssuers: ["CN=Other CA"], trustedCaSubjects: ["CN=Shared CA"], known: true };
    const where = { local: "https://l:9200", remote: "https://r:9200" };

    it("one remote node of three with a certificate from another CA: the failure names that node, not the others", () => {
        const v = nodeTrustVerdict([node("l1", "9.1.0", RCC, shared)], [node("r1", "9.1.0", RCC, shared), node("r2", "9.1.0", RCC, foreign), node("r3", "9.1.0", RCC, shared)], where);
        assert.deepStrictEqual(v.failures.map((f) => f.property), ["local.urls"]);
        assert.match(v.failures[0].reason, /issuer "CN=Other CA", presented by remote node r2; not trusted by any local node/);
        assert.doesNotMatch(v.failures[0].reason, /r1|r3/);
        assert.deepStrictEqual(v.unchecked, []);
    });

    it("a local node that does not trust the remote's CA is named (the others do)", () => {
        const narrow = { transportCertIssuers: ["CN=Shared CA"], trustedCaSubjects: ["CN=Only Mine"], known: true };
        const v = nodeTrustVerdict([node("l1", "9.1.0", RCC, shared), node("l2", "9.1.0", RCC, narrow)], [node("r1", "9.1.0", RCC, shared)], where);
        assert.match(v.failures[0].reason, /not trusted by local node l2/);
    });

    it("nodes that could not be read are listed with the reason, never passed silently", () => {
        const unread: NodeFacts = { ...node("r2", "9.1.0"), tlsUnchecked: "its HTTP address https://10.0.0.9:9200 did not answer" };
        const v = nodeTrustVerdict([node("l1", "9.1.0", RCC, shared)], [node("r1", "9.1.0", RCC, shared), unread], where);
        assert.deepStrictEqual(v.failures, []);
        assert.deepStrictEqual(v.unchecked, ["remote node r2: its HTTP address https://10.0.0.9:9200 did not answer"]);
    });

    it("a CA whose DN Elasticsearch prints most-specific first and Node's TLS least-specific first is the same CA, in both models' checks", () => {
        const ca = { transportCertIssuers: ["CN=Shared CA, O=Acme\\, Inc, C=DE"], trustedCaSubjects: ["C=DE,O=Acme\\, Inc,CN=Shared CA"], known: true };
        const v = nodeTrustVerdict([node("l1", "9.1.0", RCC, ca)], [node("r1", "9.1.0", RCC, ca)], where);
        assert.deepStrictEqual(v.failures, []);
        assert.strictEqual(dnKey("CN=Shared CA, O=Acme\\, Inc"), normalDn("O=Acme\\, Inc,CN=Shared CA"));
        assert.notStrictEqual(normalDn("CN=Shared CA, O=Acme\\, Inc"), normalDn("CN=Shared CA, O=Acme"));
    });

    it("one node each keeps the message of a one-node check (no node names)", () => {
        const v = nodeTrustVerdict([node("l1", "9.1.0", RCC, shared)], [node("r1", "9.1.0", RCC, foreign)], where);
        assert.match(v.failures[0].reason, /^the local cluster \(https:\/\/l:9200\) does not trust the CA that issued the remote cluster's transport certificate \(issuer "CN=Other CA"; local trusts "CN=Shared CA"\)/);
    });
});

describe("provider/link/nodes: connection over every local node", () => {
    const a = node("a", "9.1.0");
    const b = node("b", "9.1.0");
    it("connected only when every node that answered is connected", () => {
        const s = summarizeConnections([{ node: a, asked: true, connected: true }, { node: b, asked: true, connected: false }]);
        assert.deepStrictEqual([s.connected, s.nodesConnected, s.nodesTotal, s.notConnected.map((n) => n.name)], [false, 1, 2, ["b"]]);
    });
    it("nodes that could not be asked are listed, and none answering is not connected", () => {
        const s = summarizeConnections([{ node: a, asked: true, connected: true }, { node: b, asked: false, connected: false, error: "timeout" }]);
        assert.deepStrictEqual([s.connected, s.nodesConnected, s.nodesTotal, s.unasked], [true, 1, 2, ["b: timeout"]]);
        assert.strictEqual(summarizeConnections([{ node: b, asked: false, connected: false }]).connected, false);
    });
});

describe("provider/link/nodes: hostname verification", () => {
    const sans = parseSans("DNS:es1.example, DNS:*.nodes.example, IP Address:10.0.0.2, IP Address:0:0:0:0:0:0:0:1");
    const table: Array<[string, boolean]> = [
        ["es1.example", true], ["ES1.example", true], ["es2.example", false], ["a.nodes.example", true], ["a.b.nodes.example", false],
        ["10.0.0.2", true], ["10.0.0.3", false], ["::1", true], ["nodes.example", false],
    ];
    for (const [name, ok] of table) {
        it(`${name} ${ok ? "is" : "is not"} in the SANs`, () => assert.strictEqual(nameInSans(name, sans), ok));
    }
    it("hostOf takes the host of host:port and [v6]:port", () => {
        assert.deepStrictEqual(["a:9300", "10.0.0.1:9300", "[::1]:9300", "a"].map(hostOf), ["a", "10.0.0.1", "::1", "a"]);
    });
    it("names missing from the SANs and names not checked are reported apart", () => {
        const v = hostnameVerdict([
            { name: "es1.example", source: "seeds[0]", sans },
            { name: "10.9.9.9", source: "the publish address of remote node r2", sans },
            { name: "far", source: "seeds[1]", error: "timeout" },
        ]);
        assert.strictEqual(v.missing.length, 1);
        assert.match(v.missing[0], /^10\.9\.9\.9 \(the publish address of remote node r2\) is not in the certificate's SANs \(DNS:es1\.example, DNS:\*\.nodes\.example, IP:10\.0\.0\.2/);
        assert.deepStrictEqual(v.unchecked, ["far (seeds[1]): timeout"]);
    });
});
