/**
 * RemoteSigningTrust (pure parts): input checks naming the property, and the list a write makes
 * from the registry, the declared hand-made entries and this resource's own path.
 */
import * as assert from "assert";
import { generateCa, issueNodeCertificate } from "../../../../provider/certs/pem";
import { trustList, validateTrustInputs } from "../../../../provider/remoteSigningTrust";

const remote = { urls: ["https://r:9200"], username: "elastic", password: "pw" };

describe("RemoteSigningTrust: pure parts", () => {
    it("each input mistake names its property; a leaf certificate is not a CA", async () => {
        const ca = await generateCa({ commonName: "c" });
        const leaf = await issueNodeCertificate(ca, { commonName: "l", dnsNames: ["l"] });
        assert.deepStrictEqual(validateTrustInputs({ remote, name: "eu", caPem: ca.certPem, nodes: [{ configDir: "/etc/elasticsearch" }] }), []);
        const f = validateTrustInputs({ remote, name: "a/b", caPem: leaf.certPem, nodes: [{ configDir: "etc" }], alsoTrust: [""] });
        assert.deepStrictEqual(f.map((x) => x.property), ["name", "caPem", "nodes[0].configDir", "alsoTrust"]);
        assert.match(f[1].reason, /is not a CA certificate/);
        assert.deepStrictEqual(validateTrustInputs({ remote, name: "eu", caPem: "x", nodes: [] }).map((x) => x.property), ["caPem", "nodes"]);
    });

    it("the list: registered and declared entries kept in order, ours added once or removed; empty is null", () => {
        assert.deepStrictEqual(trustList(["certs/a.crt"], ["certs/hand.crt"], "certs/ours.crt", true), ["certs/a.crt", "certs/hand.crt", "certs/ours.crt"]);
        assert.deepStrictEqual(trustList(["certs/ours.crt"], undefined, "certs/ours.crt", true), ["certs/ours.crt"]);
        assert.deepStrictEqual(trustList(["certs/a.crt", "certs/ours.crt"], ["certs/hand.crt"], "certs/ours.crt", false), ["certs/a.crt", "certs/hand.crt"]);
        assert.strictEqual(trustList(["certs/ours.crt"], [], "certs/ours.crt", false), null);
    });
});
