/**
 * Strong identity's settings bodies (pure): the alias's two signing keys and nothing else, the
 * passphrase's keystore name as a real 9.5.4 node accepts it, and the merge of the remote's global
 * signing CA list that adds and removes only our own entries.
 */
import * as assert from "assert";
import {
    mergeSigningCas, signingCasBody, signingCasIn, signingFilesIn, signingPassphraseSetting, signingSettingsBody,
} from "../../../../provider/signing/settings";

describe("signing settings", () => {
    it("the alias's signing body names only its certificate and key; null stops signing", () => {
        assert.deepStrictEqual(signingSettingsBody("eu", { certificate: "certs/s.crt", key: "certs/s.key" }), {
            persistent: { "cluster.remote.eu.signing.certificate": "certs/s.crt", "cluster.remote.eu.signing.key": "certs/s.key" },
        });
        assert.deepStrictEqual(signingSettingsBody("eu", null), {
            persistent: { "cluster.remote.eu.signing.certificate": null, "cluster.remote.eu.signing.key": null },
        });
    });

    it("the passphrase is .signing.secure_key_passphrase (9.5.4 refuses .signing.key.secure_passphrase in the keystore)", () => {
        assert.strictEqual(signingPassphraseSetting("eu"), "cluster.remote.eu.signing.secure_key_passphrase");
    });

    it("reads the signing files of one alias back from flat settings, other aliases ignored", () => {
        const flat = {
            "cluster.remote.eu.signing.certificate": "certs/s.crt", "cluster.remote.eu.signing.key": "certs/s.key",
            "cluster.remote.us.signing.certificate": "certs/u.crt",
        };
        assert.deepStrictEqual(signingFilesIn("eu", flat), { certificate: "certs/s.crt", key: "certs/s.key" });
        assert.strictEqual(signingFilesIn("us", flat), undefined, "a certificate without a key is not signing");
        assert.strictEqual(signingFilesIn("ap", flat), undefined);
    });

    it("reads the global CA list as an array, a comma string (elasticsearch.yml) or indexed keys", () => {
        assert.deepStrictEqual(signingCasIn({ "cluster.remote.signing.certificate_authorities": ["a.crt", " b.crt "] }), ["a.crt", "b.crt"]);
        assert.deepStrictEqual(signingCasIn({ "cluster.remote.signing.certificate_authorities": "a.crt, b.crt" }), ["a.crt", "b.crt"]);
        assert.deepStrictEqual(signingCasIn({
            "cluster.remote.signing.certificate_authorities.1": "b.crt", "cluster.remote.signing.certificate_authorities.0": "a.crt",
        }), ["a.crt", "b.crt"]);
        assert.deepStrictEqual(signingCasIn({}), []);
    });

    const cases: Array<{ name: string; current: string[]; add: string[]; remove?: string[]; list: string[] | null; changed: boolean }> = [
        { name: "adds ours after the others'", current: ["theirs.crt"], add: ["certs/ours.crt"], list: ["theirs.crt", "certs/ours.crt"], changed: true },
        { name: "into an empty list", current: [], add: ["certs/ours.crt"], list: ["certs/ours.crt"], changed: true },
        { name: "not twice (./ and // are the same path)", current: ["./certs/ours.crt"], add: ["certs//ours.crt"], list: ["./certs/ours.crt"], changed: false },
        { name: "removes only ours, the others stay in order", current: ["a.crt", "certs/ours.crt", "b.crt"], add: [], remove: ["certs/ours.crt"], list: ["a.crt", "b.crt"], changed: true },
        { name: "removing the last entry removes the setting", current: ["certs/ours.crt"], add: [], remove: ["certs/ours.crt"], list: null, changed: true },
        { name: "removing what is not there changes nothing", current: ["a.crt"], add: [], remove: ["certs/ours.crt"], list: ["a.crt"], changed: false },
        { name: "rotation: the new CA in, the old one out, in one write", current: ["a.crt", "certs/old.crt"], add: ["certs/new.crt"], remove: ["certs/old.crt"], list: ["a.crt", "certs/new.crt"], changed: true },
    ];
    for (const c of cases) {
        it(`merges the global CA list: ${c.name}`, () => {
            assert.deepStrictEqual(mergeSigningCas(c.current, c.add, c.remove), { list: c.list, changed: c.changed });
        });
    }

    it("the CA list body; null removes the setting", () => {
        assert.deepStrictEqual(signingCasBody(["a.crt"]), { persistent: { "cluster.remote.signing.certificate_authorities": ["a.crt"] } });
        assert.deepStrictEqual(signingCasBody(null), { persistent: { "cluster.remote.signing.certificate_authorities": null } });
    });
});
