/**
 * RemoteClusterLink through the real Pulumi CLI against real clusters: up, a no-change preview,
 * a hand edit reported by refresh and repaired by up, destroy leaving no keys; an 8.18 → 9.x stack
 * refused at preview with nothing written; no password in the state or the CLI's output.
 */
import * as assert from "assert";
import { ClusterInfo } from "../../rig/elasticsearch";
import { pulumi, runPulumi } from "../../rig/pulumi";
import { connectionTo, remoteKeys, withClient } from "../support/connections";
import { pool } from "../support/pool";
import { tempProject, TempProject } from "../support/project";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { RemoteClusterLink } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const local = cfg.requireSecretObject("local");
const remote = cfg.requireSecretObject("remote");
const link = new RemoteClusterLink("link", {
    local, remote,
    alias: cfg.require("alias"),
    seeds: [cfg.require("seed")],
    skipUnavailable: true,
    connectionTimeoutSeconds: 20,
});
exports.connected = link.connected;
exports.localVersion = link.localVersion;
`;

async function configure(p: TempProject, local: ClusterInfo, remote: ClusterInfo, alias: string): Promise<void> {
    await pulumi(p.ws, ["config", "set", "--secret", "local", JSON.stringify(connectionTo(local))]);
    await pulumi(p.ws, ["config", "set", "--secret", "remote", JSON.stringify(connectionTo(remote))]);
    await pulumi(p.ws, ["config", "set", "alias", alias]);
    await pulumi(p.ws, ["config", "set", "seed", remote.transportAddress]);
}

describe("e2e: RemoteClusterLink with the real Pulumi CLI", function () {
    let v9: ClusterInfo, v819: ClusterInfo, v818: ClusterInfo;
    const projects: TempProject[] = [];
    before(async function () {
        [v9, v819, v818] = await pool("v9", "v819", "v818");
    });
    after(() => projects.forEach((p) => p.remove()));

    it("up → no-change preview → refresh reports a hand edit → up repairs it → destroy removes the keys", async function () {
        const p = await tempProject("e2e-link", PROGRAM);
        projects.push(p);
        await configure(p, v819, v9, "e2e_9");
        const transcript: string[] = [];

        const up = await pulumi(p.ws, ["up", "--yes"]);
        transcript.push(up.output);
        assert.match(up.output, /\+ 2 created/);
        assert.strictEqual(JSON.parse((await pulumi(p.ws, ["stack", "output", "--json"])).stdout).connected, true);
        assert.deepStrictEqual(await remoteKeys(v819, "e2e_9"), {
            "cluster.remote.e2e_9.mode": "sniff",
            "cluster.remote.e2e_9.seeds": [v9.transportAddress],
            "cluster.remote.e2e_9.skip_unavailable": "true",
        });

        const pre = await runPulumi(p.ws, ["preview", "--expect-no-changes"]);
        transcript.push(pre.output);
        assert.strictEqual(pre.code, 0, pre.output);

        await withClient(v819, (c) => c.cluster.putSettings({ persistent: { "cluster.remote.e2e_9.skip_unavailable": false } }));
        const refresh = await pulumi(p.ws, ["refresh", "--yes", "--diff"]);
        transcript.push(refresh.output);
        assert.match(refresh.output, /skipUnavailable\s*:\s*true\s*=>\s*false/);

        const repair = await pulumi(p.ws, ["up", "--yes", "--diff"]);
        transcript.push(repair.output);
        assert.match(repair.output, /~ 1 updated/);
        assert.strictEqual((await remoteKeys(v819, "e2e_9"))["cluster.remote.e2e_9.skip_unavailable"], "true");

        const exported = (await pulumi(p.ws, ["stack", "export"])).stdout;
        const destroy = await pulumi(p.ws, ["destroy", "--yes"]);
        transcript.push(destroy.output);
        assert.deepStrictEqual(await remoteKeys(v819, "e2e_9"), {});

        // Secrets audit: the password is in the state only encrypted, and never printed.
        for (const text of [exported, ...transcript]) {
            assert.ok(!text.includes(v819.password), "the elastic password appears in plaintext");
        }
        assert.match(exported, /"ciphertext": "v1:/);
    });

    it("a stack linking 8.18.x to 9.x fails at preview with the version message, and nothing is written", async function () {
        const p = await tempProject("e2e-old-new", PROGRAM);
        projects.push(p);
        await configure(p, v818, v9, "e2e_refused");
        const before = await remoteKeys(v818);
        const pre = await runPulumi(p.ws, ["preview"]);
        assert.notStrictEqual(pre.code, 0);
        assert.match(pre.output, new RegExp(`local ${v818.version.replace(/\./g, "\\.")} cannot connect to remote ${v9.version.replace(/\./g, "\\.")}`));
        const up = await runPulumi(p.ws, ["up", "--yes"]);
        assert.notStrictEqual(up.code, 0);
        assert.deepStrictEqual(await remoteKeys(v818), before);
    });

    it("a check failure about a cluster never prints its password, even one given as plain config", async function () {
        const plainProgram = PROGRAM
            .replace('const local = cfg.requireSecretObject("local");', 'const local = { ...cfg.requireObject("localPlain"), password: cfg.require("pw") };')
            .replace('const remote = cfg.requireSecretObject("remote");', 'const remote = { ...cfg.requireObject("remotePlain"), password: cfg.require("pw") };');
        const p = await tempProject("e2e-plain-pw", plainProgram);
        projects.push(p);
        const strip = (c: ClusterInfo) => { const { password: _pw, ...rest } = connectionTo(c); return rest; };
        await pulumi(p.ws, ["config", "set", "localPlain", JSON.stringify(strip(v818))]);
        await pulumi(p.ws, ["config", "set", "remotePlain", JSON.stringify(strip(v9))]);
        await pulumi(p.ws, ["config", "set", "pw", v818.password]);
        await pulumi(p.ws, ["config", "set", "alias", "e2e_plain"]);
        await pulumi(p.ws, ["config", "set", "seed", v9.transportAddress]);
        const pre = await runPulumi(p.ws, ["preview", "--diff"]);
        assert.notStrictEqual(pre.code, 0);
        assert.match(pre.output, /cannot connect to remote/);
        assert.ok(!pre.output.includes(v818.password), `the password appears in the preview's output:\n${pre.output}`);
    });
});
