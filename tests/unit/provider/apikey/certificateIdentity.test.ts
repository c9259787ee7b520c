/**
 * CrossClusterApiKey.certificateIdentity (pure parts): what the program's value asks (keep, clear,
 * set), the body Elasticsearch gets (null clears, left out keeps), what an update sends from the
 * recorded and the new value, the diff, the pattern check, and the 9.3+ node check naming the node.
 */
import * as assert from "assert";
import { identityIntent, validateKeyArgs } from "../../../../provider/apikey/keyBody";
import { keyRequestBody } from "../../../../provider/apikey/key";
import { diff, identityChange, identityVersionProblem } from "../../../../provider/crossClusterApiKey";

const access = { search: [{ names: ["logs-*"] }] };
const conn = { urls: ["https://r:9200"], username: "elastic", password: "pw" };

describe("cross-cluster API key: certificateIdentity", () => {
    it("left out keeps, null or \"\" (the SDK's null) clears, a string sets", () => {
        assert.strictEqual(identityIntent(undefined), "keep");
        assert.strictEqual(identityIntent(null), "clear");
        assert.strictEqual(identityIntent(""), "clear");
        assert.deepStrictEqual(identityIntent("CN=eu-.*"), { set: "CN=eu-.*" });
    });

    it("request bodies: a pattern as certificate_identity, null sent as null, left out not sent", () => {
        assert.deepStrictEqual(keyRequestBody({ access, certificateIdentity: "CN=a" }), { access: { search: [{ names: ["logs-*"] }] }, certificate_identity: "CN=a" });
        assert.deepStrictEqual(keyRequestBody({ access, certificateIdentity: null }), { access: { search: [{ names: ["logs-*"] }] }, certificate_identity: null });
        assert.deepStrictEqual(Object.keys(keyRequestBody({ access })), ["access"]);
    });

    const cases: Array<[string | null | undefined, unknown, string | null | undefined, string]> = [
        [undefined, undefined, undefined, "left out before and now: nothing sent"],
        ["CN=a", undefined, undefined, "left out now: the key keeps its pattern"],
        [undefined, "CN=a", "CN=a", "a new pattern is set"],
        ["CN=a", "CN=b", "CN=b", "a changed pattern is set"],
        ["CN=a", "CN=a", undefined, "the same pattern: nothing sent"],
        ["CN=a", null, null, "null clears a pattern the key was given"],
        ["CN=a", "", null, "the SDK's \"\" clears too"],
        [undefined, null, undefined, "clearing what was never set: nothing sent (an older node would not parse the field)"],
        [null, "CN=a", "CN=a", "a pattern removed by hand (read recorded null) is set again"],
    ];
    for (const [old, now, sent, name] of cases) {
        it(`update: ${name}`, () => assert.strictEqual(identityChange(old, now), sent));
    }

    it("diff: a pattern change is in place (no new key, no credential rotation)", async () => {
        const olds: any = { remote: conn, name: "k", access, keyId: "id1", encoded: "x", certificateIdentity: "CN=a" };
        const d = await diff("id1", olds, { remote: conn, name: "k", access, certificateIdentity: "CN=b" });
        assert.deepStrictEqual([d.changes, d.replaces], [true, []]);
        const same = await diff("id1", olds, { remote: conn, name: "k", access });
        assert.deepStrictEqual([same.changes, same.replaces], [false, []]);
        const cleared = await diff("id1", olds, { remote: conn, name: "k", access, certificateIdentity: null });
        assert.deepStrictEqual([cleared.changes, cleared.replaces], [true, []]);
    });

    it("check: a pattern that does not compile names certificateIdentity; null and \"\" are valid", () => {
        const f = validateKeyArgs({ name: "k", access, certificateIdentity: "CN=(x" });
        assert.deepStrictEqual(f.map((x) => x.property), ["certificateIdentity"]);
        assert.match(f[0].reason, /is not a regular expression .*; null clears it, leaving it out keeps the key's/);
        assert.deepStrictEqual(validateKeyArgs({ name: "k", access, certificateIdentity: null }), []);
        assert.deepStrictEqual(validateKeyArgs({ name: "k", access, certificateIdentity: "" }), []);
        assert.deepStrictEqual(validateKeyArgs({ name: "k", access, certificateIdentity: 5 }).map((x) => x.property), ["certificateIdentity"]);
    });

    it("9.3+ on every remote node: the older nodes are named with their versions", () => {
        assert.strictEqual(identityVersionProblem([{ name: "a", version: "9.3.0" }, { name: "b", version: "9.5.4" }], "https://r:9200"), undefined);
        assert.strictEqual(identityVersionProblem([{ name: "a", version: "9.5.4" }, { name: "b", version: "9.2.9" }, { name: "c", version: "8.19.21" }], "https://r:9200"),
            "strong identity (certificate_identity) needs Elasticsearch 9.3.0 or later on every node of the remote cluster (https://r:9200); b runs 9.2.9, c runs 8.19.21. Upgrade those nodes first, or leave certificateIdentity out");
        assert.strictEqual(identityVersionProblem([{ name: "a", version: "weird" }], "u"), undefined);
    });
});
