/**
 * The real Pulumi CLI (built from the Go module proxy) drives a trivial dynamic resource through
 * up, a no-change preview and destroy, on a local file backend with no network. Under a test leg
 * (scripts/legs.js) it also proves the leg runs what it claims: the program's Node.js, the SDK the
 * program loads and the CLI's own version.
 */
import * as assert from "assert";
import { pulumi, pulumiBinDir, runPulumi } from "../../rig/pulumi";
import { tempProject, TempProject } from "../support/project";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
class Echo extends pulumi.dynamic.Resource {
    constructor(name, args) {
        super({
            async create(inputs) { return { id: "echo-" + inputs.message, outs: { message: inputs.message, length: inputs.message.length } }; },
        }, name, { ...args, length: undefined });
    }
}
const e = new Echo("e", { message: "hello" });
exports.length = e.length;
exports.node = process.version;
exports.sdk = require("@pulumi/pulumi/package.json").version;
`;

describe("e2e smoke: the real Pulumi CLI", function () {
    let p: TempProject | undefined;
    after(() => p?.remove());

    it("runs up, a no-change preview and destroy on a dynamic resource", async function () {
        p = await tempProject("smoke", PROGRAM);
        const up = await pulumi(p.ws, ["up", "--yes", "--skip-preview"]);
        assert.match(up.output, /\+ 2 created/);
        // A Node.js deprecation on the SDK's path (a newer Node's first sign of a coming break) fails here, not in users' stacks.
        assert.doesNotMatch(up.output, /DeprecationWarning|\(node:\d+\) \[DEP/, up.output);
        const out = await pulumi(p.ws, ["stack", "output", "length"]);
        assert.strictEqual(out.stdout.trim(), "5");
        const outputs = JSON.parse((await pulumi(p.ws, ["stack", "output", "--json"])).stdout);
        const cli = (await pulumi(p.ws, ["version"])).stdout.trim();
        console.log(`      program on Node.js ${outputs.node}, @pulumi/pulumi ${outputs.sdk}; CLI ${cli} from ${pulumiBinDir()}`);
        if (process.env.PULUMI_ES_REMOTE_LEG_NODE) assert.strictEqual(outputs.node, `v${process.env.PULUMI_ES_REMOTE_LEG_NODE}`);
        if (process.env.PULUMI_ES_REMOTE_LEG_PULUMI) {
            assert.strictEqual(outputs.sdk, process.env.PULUMI_ES_REMOTE_LEG_PULUMI);
            assert.strictEqual(cli, `v${process.env.PULUMI_ES_REMOTE_LEG_PULUMI}`);
        }

        const pre = await runPulumi(p.ws, ["preview", "--expect-no-changes"]);
        assert.strictEqual(pre.code, 0, pre.output);
        assert.match(pre.output, /2 unchanged/);

        const down = await pulumi(p.ws, ["destroy", "--yes", "--skip-preview"]);
        assert.match(down.output, /- 2 deleted/);
        const exp = await pulumi(p.ws, ["stack", "export"]);
        const resources = JSON.parse(exp.stdout).deployment.resources ?? [];
        assert.strictEqual(resources.length, 0);
    });
});
