import * as assert from "assert";
import { clearProbeMemo, factsFrom, probeCluster, publishAddress } from "../../../../provider/link/probe";
import { trustFailures } from "../../../../provider/link/trust";

/** Answers of one 9.x node as real Elasticsearch gives them: SSL file settings are filtered out of _nodes/settings. */
const NODES = { n1: { version: "9.5.4", settings: { xpack: { security: { enabled: "true", transport: { ssl: { enabled: "true" } } } } } } };
const CERTS = [
    { path: "certs/http.crt", format: "PEM", subject_dn: "CN=node", issuer: "CN=HTTP CA", has_private_key: true, serial_number: "0a1b" },
    { path: "certs/transport-ca.crt", format: "PEM", subject_dn: "CN=Shared CA", issuer: "CN=Shared CA", has_private_key: false, serial_number: "77" },
    { path: "certs/transport.crt", format: "PEM", subject_dn: "CN=node", issuer: "CN=Shared CA", has_private_key: true, serial_number: "0c2d" },
];

describe("provider/link/probe", () => {
    beforeEach(() => clearProbeMemo());

    it("tells the transport certificate from the HTTP one by the serial the HTTP layer presented", () => {
        const f = factsFrom(NODES, CERTS, "0A1B");
        assert.deepStrictEqual(f.transportCertIssuers, ["CN=Shared CA"]);
        // One node: what it answered is its own, so the node carries it.
        assert.deepStrictEqual(f.nodes[0].tls, { transportCertIssuers: ["CN=Shared CA"], trustedCaSubjects: ["CN=Shared CA"], known: true });
        assert.deepStrictEqual(f.trustedCaSubjects, ["CN=Shared CA"]);
        assert.strictEqual(f.trustKnown, true);
        assert.strictEqual(f.minVersion, "9.5.4");
        assert.strictEqual(f.transportTls, true);
    });

    it("uses the configured paths when the node reports them", () => {
        const nodes = { n1: { version: "8.19.21", settings: { xpack: { security: { transport: { ssl: { enabled: "true", certificate: "certs/transport.crt", certificate_authorities: ["certs/transport-ca.crt"] } } } } } } };
        const f = factsFrom(nodes, CERTS);
        assert.deepStrictEqual([f.transportCertIssuers, f.trustedCaSubjects], [["CN=Shared CA"], ["CN=Shared CA"]]);
    });

    it("reports security or transport TLS that is off", () => {
        const off = { n1: { version: "8.19.21", settings: { xpack: { security: { enabled: "false" } } } } };
        const f = factsFrom(off, []);
        assert.deepStrictEqual([f.securityEnabled, f.transportTls], [false, false]);
        const t = trustFailures(f, factsFrom(NODES, CERTS, "0a1b"), { local: "https://l", remote: "https://r" });
        assert.deepStrictEqual(t.failures.map((x) => x.property), ["local.urls", "local.urls"]);
        assert.match(t.failures[0].reason, /security disabled: set xpack\.security\.enabled: true/);
    });

    it("probes a cluster once per generation: two links to one cluster share it, a certificate delivery does not reuse it", async () => {
        let requests = 0;
        const client: any = {
            transport: {
                request: async (p: { path: string }) => {
                    requests++;
                    return p.path === "/_cluster/state/metadata" ? { metadata: { cluster_uuid: "u1" } } : p.path === "/_nodes" ? { nodes: NODES } : CERTS;
                },
            },
        };
        const conn = { urls: ["http://127.0.0.1:9"], username: "u", password: "p" };
        const f = await probeCluster("local", conn, client, "[\"fp1\"]");
        assert.strictEqual(f.clusterUuid, "u1");
        await probeCluster("local", conn, client, "[\"fp1\"]");
        assert.strictEqual(requests, 3, "GET _cluster/state/metadata, GET _nodes, GET _ssl/certificates");
        await probeCluster("local", conn, client, "[\"fp2\"]");
        assert.strictEqual(requests, 6);
        await probeCluster("local", { ...conn, password: "other" }, client, "[\"fp2\"]");
        assert.strictEqual(requests, 9, "other credentials, other answers");
    });

    it("a cluster that answers without 'nodes' is a clear error, and the failure is not memoised", async () => {
        let calls = 0;
        const client: any = { transport: { request: async (p: { path: string }) => (p.path === "/_cluster/state/metadata" ? {} : calls++ === 0 ? "<html>proxy error</html>" : { nodes: NODES }) } };
        const conn = { urls: ["http://127.0.0.1:9"] };
        await assert.rejects(probeCluster("remote", conn, client), /remote cluster \(http:\/\/127\.0\.0\.1:9\) gave an answer that is not Elasticsearch's JSON while trying to read the node versions/);
        const f = await probeCluster("remote", conn, client);
        assert.strictEqual(f.minVersion, "9.5.4");
    });
});

describe("provider/link/probe publish addresses", () => {
    const cases: Array<[unknown, string | undefined]> = [
        ["10.0.0.2:9200", "10.0.0.2:9200"],
        ["es1.example/10.0.0.2:9200", "es1.example:9200"],
        ["/10.0.0.2:9300", "10.0.0.2:9300"],
        ["[::1]:9200", "[::1]:9200"],
        ["", undefined],
        [undefined, undefined],
    ];
    for (const [raw, expected] of cases) {
        it(`${JSON.stringify(raw)} → ${JSON.stringify(expected)}`, () => assert.strictEqual(publishAddress(raw), expected));
    }

    it("with several nodes, factsFrom gives each node its roles and addresses and no TLS facts of another node", () => {
        const nodes = {
            a: { name: "es-a", version: "8.19.21", roles: ["master", "data", "remote_cluster_client"], http: { publish_address: "127.0.0.1:9200" }, transport: { publish_address: "127.0.0.1:9300" } },
            b: { name: "es-b", version: "9.5.4", roles: ["data"], http: { publish_address: "h2/10.1.0.3:9200" } },
        };
        const f = factsFrom(nodes, CERTS, "0a1b");
        assert.deepStrictEqual(f.nodes.map((n) => [n.name, n.version, n.roles, n.httpAddress, n.transportAddress, n.tls]), [
            ["es-a", "8.19.21", ["master", "data", "remote_cluster_client"], "127.0.0.1:9200", "127.0.0.1:9300", undefined],
            ["es-b", "9.5.4", ["data"], "h2:9200", undefined, undefined],
        ]);
        assert.strictEqual(f.minVersion, "8.19.21");
    });
});
