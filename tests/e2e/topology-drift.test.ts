/**
 * Drift through the real Pulumi CLI: after `pulumi refresh` finds a hand edit, `pulumi preview
 * --diff` shows `old => new` for exactly the key changed (read returns the observed inputs), and the
 * connection read back into the state's inputs stays a secret.
 */
import * as assert from "assert";
import { ClusterInfo } from "../../rig/elasticsearch";
import { pulumi } from "../../rig/pulumi";
import { connectionTo, remoteKeys, withClient } from "../support/connections";
import { pool } from "../support/pool";
import { tempProject, TempProject } from "../support/project";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { RemoteClusterLink } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const link = new RemoteClusterLink("link", {
    local: cfg.requireSecretObject("local"),
    remote: cfg.requireSecretObject("remote"),
    alias: "e2e_drift",
    seeds: [cfg.require("seed")],
    skipUnavailable: true,
    nodeConnections: 2,
    connectionTimeoutSeconds: 30,
});
exports.nodesConnected = link.nodesConnected;
exports.nodesTotal = link.nodesTotal;
`;

describe("e2e: drift after refresh is shown as old => new", function () {
    let v9: ClusterInfo, v819: ClusterInfo;
    const projects: TempProject[] = [];
    before(async function () {
        [v9, v819] = await pool("v9", "v819");
    });
    after(() => projects.forEach((p) => p.remove()));

    it("refresh after a hand edit → preview --diff shows exactly that key, old => new; the connection stays secret in the inputs", async function () {
        const p = await tempProject("e2e-drift", PROGRAM);
        projects.push(p);
        await pulumi(p.ws, ["config", "set", "--secret", "local", JSON.stringify(connectionTo(v819))]);
        await pulumi(p.ws, ["config", "set", "--secret", "remote", JSON.stringify(connectionTo(v9))]);
        await pulumi(p.ws, ["config", "set", "seed", v9.transportAddress]);
        try {
            await pulumi(p.ws, ["up", "--yes"]);
            const out = JSON.parse((await pulumi(p.ws, ["stack", "output", "--json"])).stdout);
            assert.deepStrictEqual([out.nodesConnected, out.nodesTotal], [1, 1]);

            await withClient(v819, (c) => c.cluster.putSettings({ persistent: { "cluster.remote.e2e_drift.skip_unavailable": false } }));
            await pulumi(p.ws, ["refresh", "--yes"]);
            const pre = await pulumi(p.ws, ["preview", "--diff"]);
            assert.match(pre.output, /~\s*skipUnavailable\s*:\s*false\s*=>\s*true/, pre.output);
            // Only that key: nothing else is shown as changed.
            assert.doesNotMatch(pre.output, /nodeConnections\s*:\s*\S+\s*=>/);
            assert.doesNotMatch(pre.output, /seeds[^\n]*=>/);

            const exported = JSON.parse((await pulumi(p.ws, ["stack", "export"])).stdout);
            const res = exported.deployment.resources.find((r: { type: string }) => r.type.includes("RemoteClusterLink"));
            assert.ok(res, "the link is in the state");
            assert.strictEqual(res.inputs.skipUnavailable, false, "the refreshed inputs hold the observed value");
            for (const side of ["local", "remote"]) {
                assert.ok(res.inputs[side]?.ciphertext, `inputs.${side} is still a secret after refresh: ${JSON.stringify(res.inputs[side]).slice(0, 80)}`);
            }
            assert.ok(!JSON.stringify(exported).includes(v819.password), "no plaintext password in the state");

            await pulumi(p.ws, ["up", "--yes"]);
            assert.strictEqual((await remoteKeys(v819, "e2e_drift"))["cluster.remote.e2e_drift.skip_unavailable"], "true");
        } finally {
            await pulumi(p.ws, ["destroy", "--yes"]).catch(() => undefined);
        }
        assert.deepStrictEqual(await remoteKeys(v819, "e2e_drift"), {});
    });
});
