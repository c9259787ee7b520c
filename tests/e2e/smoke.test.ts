/**
 * The real Pulumi CLI (built from the Go module proxy) drives this package's own dynamic provider —
 * a SharedCa and a NodeCertificate delivered to a folder, no cluster needed — through up, a
 * no-change preview and destroy, on a local file backend with no network. Standalone it checks the
 * program loads the SDK of this repository; under a test leg (scripts/legs.js) also that the leg
 * runs the Node.js and CLI it claims.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pulumi, pulumiBinDir, runPulumi } from "../../rig/pulumi";
import { tempProject, TempProject } from "../support/project";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { SharedCa, NodeCertificate } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const ca = new SharedCa("ca", { commonName: "smoke CA", validityDays: 30 });
const cert = new NodeCertificate("node-1", {
    caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: "node-1", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"],
    validityDays: 20, renewBeforeDays: 5, delivery: { directory: cfg.require("dir") },
});
exports.serial = cert.serialNumber;
exports.certPem = cert.certPem;
exports.node = process.version;
exports.sdk = require("@pulumi/pulumi/package.json").version;
`;

describe("e2e smoke: the real Pulumi CLI runs this package's provider", function () {
    this.timeout(300_000);
    let p: TempProject | undefined;
    let dir: string | undefined;
    after(() => {
        p?.remove();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("up issues and delivers a certificate, a no-change preview, destroy leaves the folder as it was", async function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "smoke-certs-"));
        p = await tempProject("smoke", PROGRAM, { config: { dir } });
        const up = await pulumi(p.ws, ["up", "--yes", "--skip-preview"]);
        assert.match(up.output, /\+ 3 created/);
        // A Node.js deprecation on the SDK's path (a newer Node's first sign of a coming break) fails here, not in users' stacks.
        assert.doesNotMatch(up.output, /DeprecationWarning|\(node:\d+\) \[DEP/, up.output);
        const outputs = JSON.parse((await pulumi(p.ws, ["stack", "output", "--json"])).stdout);
        const delivered = fs.readFileSync(path.join(dir, "transport.crt"), "utf8");
        assert.strictEqual(delivered, outputs.certPem);
        assert.strictEqual(new crypto.X509Certificate(delivered).serialNumber.toLowerCase(), outputs.serial);
        assert.strictEqual(fs.statSync(path.join(dir, "transport.key")).mode & 0o777, 0o600);
        const exported = (await pulumi(p.ws, ["stack", "export"])).stdout;
        assert.ok(!exported.includes("PRIVATE KEY"), "a private key is in the state in plaintext");
        assert.ok(!exported.includes(fs.readFileSync(path.join(dir, "transport.key"), "utf8").split("\n")[1]), "the node's key is in the state in plaintext");

        const cli = (await pulumi(p.ws, ["version"])).stdout.trim();
        console.log(`      program on Node.js ${outputs.node}, @pulumi/pulumi ${outputs.sdk}; CLI ${cli} from ${pulumiBinDir()}`);
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        assert.strictEqual(outputs.sdk, require("@pulumi/pulumi/package.json").version, "the program loads this repository's SDK");
        assert.match(cli, /^v3\.\d+\.\d+/);
        if (process.env.PULUMI_ES_REMOTE_LEG_NODE) assert.strictEqual(outputs.node, `v${process.env.PULUMI_ES_REMOTE_LEG_NODE}`);
        if (process.env.PULUMI_ES_REMOTE_LEG_PULUMI) {
            assert.strictEqual(outputs.sdk, process.env.PULUMI_ES_REMOTE_LEG_PULUMI);
            assert.strictEqual(cli, `v${process.env.PULUMI_ES_REMOTE_LEG_PULUMI}`);
        }

        const pre = await runPulumi(p.ws, ["preview", "--expect-no-changes"]);
        assert.strictEqual(pre.code, 0, pre.output);
        assert.match(pre.output, /3 unchanged/);

        const down = await pulumi(p.ws, ["destroy", "--yes", "--skip-preview"]);
        assert.match(down.output, /- 3 deleted/);
        assert.deepStrictEqual(fs.readdirSync(dir), [], "the files did not exist before: destroy removes them and their records");
        const resources = JSON.parse((await pulumi(p.ws, ["stack", "export"])).stdout).deployment.resources ?? [];
        assert.strictEqual(resources.length, 0);
    });
});
