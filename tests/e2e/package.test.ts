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

/** A program using only a SharedCa (no cluster): proves a dynamic resource registers. */
const ONE_COPY_PROGRAM = `
const path = require("path");
const { SharedCa } = require("pulumi-es-remote");
const ca = new SharedCa("one-copy", { commonName: "one copy of @pulumi/pulumi" });
exports.certPem = ca.certPem;
exports.sdkOfProgram = require.resolve("@pulumi/pulumi");
exports.sdkOfPackage = require.resolve("@pulumi/pulumi", { paths: [path.dirname(require.resolve("pulumi-es-remote/package.json"))] });
`;

describe("e2e: the package installed from an npm pack tarball", function () {
    let p: TempProject | undefined;
    let consumer = "";
    // The @pulumi/pulumi this test run uses (3.248.0 in the oldest leg, the newest in the current
    // one): the consumer program has it before it installs the tarball, as a user's program does.
    const sdkVersion: string = require("@pulumi/pulumi/package.json").version;
    before(function () {
        this.timeout(15 * 60 * 1000);
        consumer = fs.mkdtempSync(path.join(os.tmpdir(), "es-remote-consumer-"));
        const tgz = pack(consumer);
        fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, dependencies: { "@pulumi/pulumi": sdkVersion } }));
        const npm = (...args: string[]) => execFileSync("npm", [...args, "--no-audit", "--no-fund", "--prefer-offline"], { cwd: consumer, stdio: "ignore" });
        npm("install");
        npm("install", tgz);
    });
    after(() => {
        p?.remove();
        if (consumer) fs.rmSync(consumer, { recursive: true, force: true });
    });

    it("installed into a program that already has @pulumi/pulumi: exactly one copy of it, and a dynamic resource registers", async function () {
        const own = JSON.parse(fs.readFileSync(path.join(repoRoot(), "package.json"), "utf8"));
        const range: string = own.dependencies["@pulumi/pulumi"];
        const installed = JSON.parse(fs.readFileSync(path.join(consumer, "node_modules", "pulumi-es-remote", "package.json"), "utf8"));
        assert.strictEqual(installed.dependencies["@pulumi/pulumi"], range, "the tarball ships the range, not a test pin");
        const copies = execFileSync("npm", ["ls", "@pulumi/pulumi", "--all", "--parseable"], { cwd: consumer, encoding: "utf8" }).trim().split("\n").filter(Boolean);
        assert.deepStrictEqual(copies, [fs.realpathSync(path.join(consumer, "node_modules", "@pulumi", "pulumi"))], `@pulumi/pulumi ${sdkVersion} with ${range}: one copy`);

        const q = await tempProject("e2e-one-copy", ONE_COPY_PROGRAM, { nodeModules: path.join(consumer, "node_modules") });
        try {
            const up = await pulumi(q.ws, ["up", "--yes", "--skip-preview"]);
            assert.match(up.output, /\+ 2 created/);
            const out = JSON.parse((await pulumi(q.ws, ["stack", "output", "--json", "--show-secrets"])).stdout);
            assert.strictEqual(out.sdkOfPackage, out.sdkOfProgram);
            assert.match(out.certPem, /^-----BEGIN CERTIFICATE-----/);
            await pulumi(q.ws, ["destroy", "--yes", "--skip-preview"]);
        } finally {
            q.remove();
        }
    });

    it("works from node_modules (serialized hooks load the installed package), and survives an upgrade of the state", async function () {
        const [v9, v819] = await pool("v9", "v819");
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
