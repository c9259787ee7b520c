/**
 * RemoteClusterMesh refuses what one set of link options cannot mean for every pair — above all the
 * API-key model's credential, which is one key of one remote cluster — before registering anything.
 */
import * as assert from "assert";
import { InputError } from "../../../provider/core/errors";
import { RemoteClusterMesh } from "../../../sdk/remoteClusterMesh";

const conn = (n: number) => ({ urls: [`https://es${n}:9200`], username: "elastic", password: "pw" });
const members = [1, 2, 3].map((n) => ({ alias: `c${n}`, connection: conn(n), seeds: [`es${n}:9300`] }));

describe("sdk/RemoteClusterMesh", () => {
    for (const [k, v] of [["security", "apiKey"], ["credential", "aWQ6c2VjcmV0"], ["keystoreOn", [{ esHome: "/usr/share/elasticsearch", configDir: "/etc/elasticsearch" }]]] as const) {
        it(`refuses linkOptions.${k} (one key for all ${3 * 2} links), naming the property and what to do instead`, () => {
            assert.throws(() => new RemoteClusterMesh("m", { members, linkOptions: { [k]: v } as any }), (e: Error) => {
                assert.ok(e instanceof InputError, String(e));
                assert.strictEqual(e.property, `linkOptions.${k}`);
                assert.match(e.message, /would give all 6 links one .*a cross-cluster API key belongs to one remote cluster.*link each pair with its own RemoteClusterLink and a CrossClusterApiKey/);
                assert.ok(!e.message.includes("aWQ6c2VjcmV0"), "the credential is not echoed");
                return true;
            });
        });
    }

    it("refuses one member or a repeated alias, naming members", () => {
        assert.throws(() => new RemoteClusterMesh("m", { members: members.slice(0, 1) }), (e: InputError) => e instanceof InputError && e.property === "members");
        assert.throws(() => new RemoteClusterMesh("m", { members: [members[0], { ...members[1], alias: "c1" }] }), (e: InputError) => e instanceof InputError && /'c1' appears twice/.test(e.message));
    });
});
