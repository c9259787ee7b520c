/**
 * The pure parts of API-key remote clusters: key access validation and bodies, keystore targets,
 * the link's API-key arguments, and the server-port and trust verdicts, each failure naming the
 * property and never echoing the credential.
 */
import * as assert from "assert";
import { accessBody, accessFromBody, normaliseAccess, validateAccess, validateKeyArgs } from "../../provider/apikey/keyBody";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { removeCredential, validateKeystoreTargets } from "../../provider/link/keystoreTool";
import { dnKey, serverProblems, trustProblem, versionProblem } from "../../provider/apikey/checks";
import { keyIdOf, validateApiKeyLinkArgs } from "../../provider/link/apiKeyModel";
import { clusterRoleWarnings } from "../../provider/apikey/roleAccess";
import { validateApiKeyInputs } from "../../provider/crossClusterApiKey";

const conn = { urls: ["https://r:9200"], username: "elastic", password: "pw" };
const props = (f: Array<{ property: string }>) => f.map((x) => x.property).sort();

describe("API-key remote clusters: pure checks", () => {
    it("access: search and replication entries round-trip in Elasticsearch's words", () => {
        const a = { search: [{ names: ["logs-*"], fieldSecurity: { grant: ["*"] }, allowRestrictedIndices: true, query: { term: { t: "eu" } } }], replication: [{ names: ["leader"] }] };
        const b = accessBody(a);
        assert.deepStrictEqual(b, { search: [{ names: ["logs-*"], query: { term: { t: "eu" } }, field_security: { grant: ["*"] }, allow_restricted_indices: true }], replication: [{ names: ["leader"] }] });
        assert.strictEqual(normaliseAccess(accessFromBody(b)), normaliseAccess(a));
        // Elasticsearch reports allow_restricted_indices: false: not a difference
        assert.strictEqual(normaliseAccess(accessFromBody({ search: [{ names: ["b", "a"], allow_restricted_indices: false }] })), normaliseAccess({ search: [{ names: ["a", "b"] }] }));
    });

    it("access: each mistake names its property", () => {
        assert.deepStrictEqual(props(validateAccess({})), ["access"]);
        assert.deepStrictEqual(props(validateAccess({ search: [{ names: [] }], replication: [{ names: ["x"], query: "{}" }], other: 1 })),
            ["access.other", "access.replication[0].query", "access.search[0].names"]);
        assert.match(validateAccess({ search: [{ names: ["r:logs"] }] })[0].reason, /names a cluster/);
        assert.deepStrictEqual(props(validateAccess({ search: [{ names: ["a"], query: "{nope" }] })), ["access.search[0].query"]);
        assert.deepStrictEqual(validateAccess({ search: [{ names: ["a"] }] }), []);
    });

    it("key arguments: name, expiration, metadata, rotation; an API-key connection is refused", () => {
        assert.deepStrictEqual(props(validateKeyArgs({ name: " x", access: { search: [{ names: ["a"] }] }, expiration: "1 week", metadata: { _x: 1 }, rotation: {} })),
            ["expiration", "metadata._x", "name", "rotation"]);
        assert.deepStrictEqual(validateKeyArgs({ name: "k", access: { replication: [{ names: ["a"] }] }, expiration: "30d", rotation: 2 }), []);
        assert.deepStrictEqual(props(validateApiKeyInputs({ remote: { urls: ["https://r:9200"], apiKey: "abc" }, name: "k", access: { search: [{ names: ["a"] }] } })), ["remote.apiKey"]);
    });

    it("keystoreOn: absolute paths, one entry per config directory", () => {
        assert.deepStrictEqual(props(validateKeystoreTargets([{ esHome: "es", configDir: "/c" }, { esHome: "/es", configDir: "/c/", extra: 1 }])),
            ["keystoreOn[0].esHome", "keystoreOn[1].configDir", "keystoreOn[1].extra"]);
        assert.deepStrictEqual(validateKeystoreTargets([{ esHome: "/es", configDir: "/c1", javaHome: "/jdk" }, { esHome: "/es", configDir: "/c2" }]), []);
        assert.deepStrictEqual(props(validateKeystoreTargets([])), ["keystoreOn"]);
    });

    it("link: apiKey needs a credential and keystores; certificate mode refuses them; the credential is never echoed", () => {
        const secret = Buffer.from("id1:s3cr3tvalue").toString("base64");
        assert.deepStrictEqual(validateApiKeyLinkArgs({ security: "apiKey", credential: secret, keystoreOn: [{ esHome: "/es", configDir: "/c" }] }), []);
        assert.deepStrictEqual(props(validateApiKeyLinkArgs({ security: "apiKey" })), ["credential", "keystoreOn"]);
        const bad = validateApiKeyLinkArgs({ security: "apiKey", credential: "s3cr3t plain", keystoreOn: [{ esHome: "/es", configDir: "/c" }] });
        assert.deepStrictEqual(props(bad), ["credential"]);
        assert.ok(!bad[0].reason.includes("s3cr3t"));
        assert.deepStrictEqual(props(validateApiKeyLinkArgs({ credential: secret, keystoreOn: [] })), ["credential", "keystoreOn"]);
        assert.deepStrictEqual(props(validateApiKeyLinkArgs({ security: "mtls" })), ["security"]);
    });

    it("server checks: no server, a seed at the transport port (with the port to use), and a good seed", () => {
        const facts = { serverAddresses: ["127.0.0.1:9443"], transportAddresses: ["127.0.0.1:9300"] };
        assert.deepStrictEqual(props(serverProblems({ serverAddresses: [], transportAddresses: facts.transportAddresses }, [], conn)), ["remote.urls"]);
        const f = serverProblems(facts, [{ property: "seeds[0]", address: "localhost:9300" }, { property: "seeds[1]", address: "127.0.0.1:9443" }], conn);
        assert.deepStrictEqual(props(f), ["seeds[0]"]);
        assert.match(f[0].reason, /transport port.*127\.0\.0\.1:9443/);
    });

    it("trust: the server's issuer among the local nodes' certificates, client TLS off, versions below 8.14", () => {
        const chain = { issuers: ["CN=Remote CA, O=Acme"], subjects: ["CN=node-1"] };
        assert.strictEqual(trustProblem({ subjects: ["O=Acme, CN=Remote CA"], clientSslDisabled: false }, chain, "r:9443", conn), undefined);
        assert.match(trustProblem({ subjects: ["CN=Other CA"], clientSslDisabled: false }, chain, "r:9443", conn)!.reason, /does not trust the CA.*certificate_authorities/);
        assert.match(trustProblem({ subjects: ["CN=Remote CA, O=Acme"], clientSslDisabled: true }, chain, "r:9443", conn)!.reason, /ssl.enabled: false/);
        assert.strictEqual(dnKey("CN=a, O=b"), dnKey("O=b,CN=a"));
        assert.match(versionProblem("remote", conn, [{ name: "n1", version: "8.13.4" }, { name: "n2", version: "8.14.0" }])!.reason, /n1 on 8\.13\.4/);
        assert.strictEqual(versionProblem("local", conn, [{ name: "n", version: "9.0.0" }]), undefined);
    });

    it("link preview: the key id (never the key) from the credential; local roles beyond the key's access are named, reserved roles skipped", () => {
        const credential = Buffer.from("keyId42:s3cr3tvalue").toString("base64");
        assert.strictEqual(keyIdOf(credential), "keyId42");
        const roles = {
            "eu-readers": { remote_indices: [{ clusters: ["us"], names: ["logs-*", "other-*"], privileges: ["read", "read_cross_cluster"] }] },
            "other-alias": { remote_indices: [{ clusters: ["eu"], names: ["x"], privileges: ["read"] }] },
            superuser: { metadata: { _reserved: true }, remote_indices: [{ clusters: ["*"], names: ["*"], privileges: ["all"] }] },
        };
        const w = clusterRoleWarnings(roles, { search: [{ names: ["logs-*"] }] }, "us", keyIdOf(credential));
        assert.strictEqual(w.length, 1, w.join("\n"));
        assert.match(w[0], /^remote cluster 'us': local role 'eu-readers' remote_indices\[0\]: 'other-\*' .* not covered by the key's search access \(logs-\*\) of API key keyId42, so the remote cluster refuses it\. Add it to the key's access\.search/);
        assert.ok(!w[0].includes("s3cr3t"));
    });

    it("keystore: the tool runs beside the event loop (a spawnSync of the JVM stalled every other hook's sockets and timers for as long as it ran)", async () => {
        // A stand-in tool that takes 1.5 s, as one JVM start does on a quiet machine; a real node's
        // tool cannot be made slow on demand.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-slow-"));
        try {
            fs.mkdirSync(path.join(dir, "es", "bin"), { recursive: true });
            fs.mkdirSync(path.join(dir, "config"));
            fs.writeFileSync(path.join(dir, "es", "bin", "elasticsearch-keystore"), "#!/bin/sh\nsleep 1.5\necho 'Setting [x] does not exist in the keystore.' >&2\nexit 78\n", { mode: 0o755 });
            let ticks = 0;
            const timer = setInterval(() => ticks++, 100);
            const started = Date.now();
            try {
                assert.strictEqual(await removeCredential({ esHome: path.join(dir, "es"), configDir: path.join(dir, "config") }, "eu"), false, "exit 78: not there");
            } finally {
                clearInterval(timer);
            }
            assert.ok(Date.now() - started >= 1400, "the tool ran");
            assert.ok(ticks >= 10, `the timer ticked ${ticks} times during 1.5 s`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
