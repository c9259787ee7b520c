/**
 * The package as users get it: `npm pack`, installed from the tarball into a separate project (a real
 * copy in node_modules, not a link to the sources), driven by the real CLI. Then an upgrade: state
 * written by the previous version (the same resource with the outputs an older release did not have)
 * is read by the new one, which previews no change, refreshes and destroys cleanly.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repoRoot } from "../../rig/paths";
import { pulumi, runPulumi } from "../../rig/pulumi";
import { connectionTo, remoteKeys } from "../support/connections";
import { pool } from "../support/pool";
import { tempProject, TempProject } from "../support/project";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { RemoteClusterLink } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const link = new RemoteClusterLink("packaged", {
    local: cfg.requireSecretObject("local"),
    remote: cfg.requireSecretObject("remote"),
    alias: "from_tarball",
    seeds: [cfg.require("seed")],
});
exports.connected = link.connected;
exports.packageDir = require.resolve("pulumi-es-remote");
`;

/** Packs the repository (already built) into `dir` and returns the tarball's path. */
function pack(dir: string): string {
    const name = execFileSync("npm", ["pack", repoRoot(), "--pack-destination", dir, "--silent"], { encoding: "utf8" }).trim().split("\n").pop()!;
    return path.join(dir, name);
}

describe("e2e: the package installed from an npm pack tarball", function () {
    let p: TempProject | undefined;
    let consumer: string | undefined;
    after(() => {
        p?.remove();
        if (consumer) fs.rmSync(consumer, { recursive: true, force: true });
    });

    it("works from node_modules (serialized hooks load the installed package), and survives an upgrade of the state", async function () {
        const [v9, v819] = await pool("v9", "v819");
        consumer = fs.mkdtempSync(path.join(os.tmpdir(), "es-remote-consumer-"));
        const tgz = pack(consumer);
        const own = JSON.parse(fs.readFileSync(path.join(repoRoot(), "package.json"), "utf8"));
        fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({
            name: "consumer", private: true,
            dependencies: { "pulumi-es-remote": `file:${tgz}`, "@pulumi/pulumi": own.dependencies["@pulumi/pulumi"].replace("^", "") },
        }));
        execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: consumer, stdio: "ignore" });
        const installed = path.join(consumer, "node_modules", "pulumi-es-remote");
        assert.ok(!fs.lstatSync(installed).isSymbolicLink(), "the package must be a real copy");
        assert.ok(fs.existsSync(path.join(installed, "dist", "provider", "remoteClusterLink.js")));
        assert.ok(!fs.existsSync(path.join(installed, "dist", "tests")), "tests are not shipped");

        p = await tempProject("e2e-package", PROGRAM, { nodeModules: path.join(consumer, "node_modules") });
        await pulumi(p.ws, ["config", "set", "--secret", "local", JSON.stringify(connectionTo(v819))]);
        await pulumi(p.ws, ["config", "set", "--secret", "remote", JSON.stringify(connectionTo(v9))]);
        await pulumi(p.ws, ["config", "set", "seed", v9.transportAddress]);
        await pulumi(p.ws, ["up", "--yes", "--skip-preview"]);
        const out = JSON.parse((await pulumi(p.ws, ["stack", "output", "--json"])).stdout);
        assert.strictEqual(out.connected, true);
        assert.ok(out.packageDir.startsWith(fs.realpathSync(installed)), out.packageDir);
        assert.deepStrictEqual((await remoteKeys(v819, "from_tarball"))["cluster.remote.from_tarball.seeds"], [v9.transportAddress]);

        // Upgrade: rewrite the state as an older release wrote it (no version or count outputs, no
        // mode in the inputs), then run the current code over it.
        const exported = JSON.parse((await pulumi(p.ws, ["stack", "export"])).stdout);
        const res = exported.deployment.resources.find((r: any) => r.type.endsWith("RemoteClusterLink"));
        for (const k of ["localVersion", "remoteVersion", "numNodesConnected", "mode"]) delete res.outputs[k];
        delete res.inputs.mode;
        const file = path.join(consumer, "old-state.json");
        fs.writeFileSync(file, JSON.stringify(exported));
        await pulumi(p.ws, ["stack", "import", "--file", file]);
        const pre = await runPulumi(p.ws, ["preview", "--expect-no-changes"]);
        assert.strictEqual(pre.code, 0, pre.output);
        await pulumi(p.ws, ["refresh", "--yes"]);
        const after = JSON.parse((await pulumi(p.ws, ["stack", "export"])).stdout);
        const refreshed = after.deployment.resources.find((r: any) => r.type.endsWith("RemoteClusterLink"));
        assert.strictEqual(refreshed.outputs.mode, "sniff");

        await pulumi(p.ws, ["destroy", "--yes", "--skip-preview"]);
        assert.deepStrictEqual(await remoteKeys(v819, "from_tarball"), {});
    });
});
