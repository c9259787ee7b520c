/**
 * The real Pulumi CLI previews a FollowerIndex against a real node (9.5.4 integ-test-zip, which has
 * no x-pack-ccr module): the preview fails with the module refusal naming local.urls, and nothing
 * is written on the cluster or in the state. Following itself needs Elastic's default distribution
 * and is tested against a double (tests/unit/provider/ccr).
 */
import * as assert from "assert";
import * as fs from "fs";
import { Client } from "@elastic/elasticsearch";
import { runPulumi } from "../../rig/pulumi";
import { tempProject, TempProject } from "../support/project";
import { connectionTo } from "../support/connections";
import { apiKeyPool, stopApiKeyPool } from "../support/apiKeyClusters";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const fs = require("fs");
const { FollowerIndex } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const local = { urls: [cfg.require("url")], username: "elastic", password: cfg.requireSecret("password"), caPem: fs.readFileSync(cfg.require("caFile"), "utf8") };
new FollowerIndex("logs", { local, alias: "ccre2e-lead", leaderIndex: "logs", followerIndex: "ccre2e-follow" });
`;

describe("e2e replication: the real CLI's preview refuses a follower on a cluster without the CCR module", function () {
    this.timeout(900_000);
    let p: TempProject | undefined;
    after(async function () {
        this.timeout(180_000);
        p?.remove();
        await stopApiKeyPool();
    });

    it("pulumi preview fails naming local.urls and x-pack-ccr; no index, no resource in the state", async () => {
        const [local] = await apiKeyPool("ak9local");
        const conn = connectionTo(local);
        p = await tempProject("ccr-e2e", PROGRAM, { config: { url: conn.urls[0], caFile: local.httpCaFile } });
        await runPulumi(p.ws, ["config", "set", "--secret", "password", conn.password!]);
        const pre = await runPulumi(p.ws, ["preview"]);
        assert.notStrictEqual(pre.code, 0, pre.output);
        // The engine prints a check failure as "property <name> value … has a problem: <reason>".
        assert.match(pre.output, /property local\.urls value .* has a problem: this cluster's distribution has no cross-cluster replication \(module x-pack-ccr\); Elastic's default distribution has it/, pre.output);
        assert.ok(!pre.output.includes(conn.password!), "the password is printed");
        const c = new Client({ node: conn.urls[0], auth: { username: conn.username!, password: conn.password! }, tls: { ca: fs.readFileSync(local.httpCaFile, "utf8") } });
        try {
            const r = await c.transport.request({ method: "HEAD", path: "/ccre2e-follow" }, { ignore: [404], meta: true });
            assert.strictEqual(r.statusCode, 404);
        } finally {
            await c.close();
        }
        const exported = await runPulumi(p.ws, ["stack", "export"]);
        assert.doesNotMatch(exported.stdout, /FollowerIndex/);
    });
});
