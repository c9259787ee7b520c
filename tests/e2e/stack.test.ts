/**
 * The whole stack through the real Pulumi CLI: the demo program (root Pulumi.yaml) on two dedicated
 * clusters (9.x and 8.19.x) that start out trusting only their own bootstrap CAs. up → no-change
 * preview → a setting, a role and a node certificate file changed by hand → refresh reports those →
 * up repairs them → destroy leaves no remote keys, roles, users or certificate files. The state and
 * every line the CLI printed hold no private key or password in plaintext.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "@elastic/elasticsearch";
import { generateCa, issueNodeCertificate, describeCertificate, normalizeSerial } from "../../provider/certs/pem";
import { exampleConfig } from "../../rig/cli";
import { ClusterInfo, ES_VERSIONS, startCluster, stopCluster } from "../../rig/elasticsearch";
import { repoRoot } from "../../rig/paths";
import { pulumi, runPulumi, workspace, Workspace } from "../../rig/pulumi";
import { remoteKeys, withClient } from "../support/connections";

const ROLE = "demo_ccs_reader";
const USER = "demo_ccs_user";

async function roleExists(c: ClusterInfo, name: string): Promise<boolean> {
    return withClient(c, async (client) => Object.keys(await client.security.getRole({ name }, { ignore: [404] })).includes(name));
}

async function userExists(c: ClusterInfo, name: string): Promise<boolean> {
    return withClient(c, async (client) => Object.keys(await client.security.getUser({ username: name }, { ignore: [404] })).includes(name));
}

describe("e2e: the whole stack (demo program) with the real Pulumi CLI", function () {
    let a: ClusterInfo | undefined;
    let b: ClusterInfo | undefined;
    let dir: string | undefined;
    after(async function () {
        await Promise.all([a, b].map((c) => (c ? stopCluster(c) : undefined)));
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("up, no-change preview, refresh finds hand edits, up repairs, destroy removes everything (and puts the nodes' own certificate files back), no secret in plaintext", async function () {
        [a, b] = await Promise.all([
            startCluster({ name: "e2e-a", version: ES_VERSIONS.v9 }),
            startCluster({ name: "e2e-b", version: ES_VERSIONS.v819 }),
        ]);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "es-remote-stack-"));
        const project = path.join(dir, "project");
        fs.mkdirSync(project);
        fs.writeFileSync(path.join(project, "Pulumi.yaml"),
            `name: e2e-stack\nruntime: nodejs\nmain: ${path.join(repoRoot(), "dist", "demo", "program.js")}\n`);
        fs.symlinkSync(path.join(repoRoot(), "node_modules"), path.join(project, "node_modules"), "dir");
        const ws: Workspace = workspace(project, path.join(dir, "state"));
        const printed: string[] = [];
        const run = async (args: string[]) => {
            const r = await pulumi(ws, args);
            printed.push(r.output);
            return r;
        };
        await run(["stack", "init", "e2e"]);
        await run(["config", "set", "clusters", JSON.stringify(exampleConfig([a, b]))]);
        await run(["config", "set", "--secret", "elasticPassword", a.password]);

        // The nodes' own (bootstrap) transport files, which destroy must put back.
        const certFiles = ["transport.crt", "transport.key", "transport-ca.crt"];
        const ownFiles = new Map([a, b].map((c) => [c, certFiles.map((f) => fs.readFileSync(path.join(c.configDir, "certs", f), "utf8"))]));

        // The certificates do not exist yet: the links' trust checks wait for them (waitForCertificates).
        const first = await run(["preview"]);
        assert.match(first.output, /the trust check runs at update time/);
        const up = await run(["up", "--yes", "--skip-preview"]);
        assert.match(up.output, /created/);
        const outs = JSON.parse((await pulumi(ws, ["stack", "output", "--json", "--show-secrets"])).stdout);
        assert.deepStrictEqual(outs.linked.map((l: string) => /connected=true/.test(l)), [true, true], JSON.stringify(outs.linked));
        assert.ok(await roleExists(a, ROLE) && await roleExists(b, ROLE));
        assert.ok(await userExists(b, USER) && !(await userExists(a, USER)));

        // The user searches across: 8.19 (local) → 9.x (remote).
        await withClient(a, (c) => c.index({ index: "demo-logs", id: "1", document: { msg: "from e2e-a" }, refresh: true }));
        const asUser = new Client({ node: b.url, auth: { username: USER, password: outs.searchUserPassword }, tls: { ca: fs.readFileSync(b.httpCaFile, "utf8") } });
        const hits = (await asUser.search({ index: "e2e-a:demo-logs" })).hits.hits;
        await asUser.close();
        assert.deepStrictEqual(hits.map((h) => h._source), [{ msg: "from e2e-a" }]);

        const noChange = await runPulumi(ws, ["preview", "--expect-no-changes"]);
        printed.push(noChange.output);
        assert.strictEqual(noChange.code, 0, noChange.output);

        // Hand edits: a remote setting, the role on the remote side, a node's certificate file.
        await withClient(b, (c) => c.cluster.putSettings({ persistent: { "cluster.remote.e2e-a.skip_unavailable": false } }));
        await withClient(a, (c) => c.security.deleteRole({ name: ROLE }));
        const certsDir = path.join(a.configDir, "certs");
        const rogueCa = await generateCa({ commonName: "hand-made CA" });
        const rogue = await issueNodeCertificate(rogueCa, { commonName: a.nodeName, dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
        const certBefore = describeCertificate(fs.readFileSync(path.join(certsDir, "transport.crt"), "utf8")).serialNumber;
        fs.writeFileSync(path.join(certsDir, "transport.crt"), rogue.certPem);

        const refresh = await run(["refresh", "--yes", "--skip-preview", "--diff"]);
        // Exactly the three hand-edited resources are reported as changed.
        const changed = [...new Set([...refresh.output.matchAll(/~ [^\n]*\(update\)\n(?:\s*\[id=[^\]]*\]\n)?\s*\[urn=[^\]]*::([^\]]+)\]/g)].map((m) => m[1]))].sort();
        assert.deepStrictEqual(changed, ["demo-search-role", "e2e-a-transport", "e2e-b-to-e2e-a"], refresh.output);

        // preview --diff shows what refresh found on the node's disk (read returns it as an input).
        const drift = await run(["preview", "--diff"]);
        const driftLines = drift.output.split("\n").filter((l) => /observedDrift|holds certificate/.test(l));
        process.stderr.write(`[e2e] preview --diff after refresh:\n${driftLines.join("\n")}\n`);
        assert.match(drift.output, /observedDrift/, drift.output);
        assert.ok(drift.output.includes(`"delivery: transport.crt holds serial ${normalizeSerial(rogue.serialNumber)}, not ${certBefore}"`), drift.output);

        const repair = await run(["up", "--yes", "--skip-preview"]);
        assert.match(repair.output, /updated/);
        assert.strictEqual((await remoteKeys(b, "e2e-a"))["cluster.remote.e2e-a.skip_unavailable"], "true");
        assert.ok(await roleExists(a, ROLE));
        const exported = (await pulumi(ws, ["stack", "export"])).stdout;
        const certState = JSON.parse(exported).deployment.resources.find((r: any) => r.urn.endsWith("::e2e-a-transport"));
        assert.strictEqual(describeCertificate(fs.readFileSync(path.join(certsDir, "transport.crt"), "utf8")).fingerprintSha256, certState.outputs.fingerprintSha256);
        const after = await runPulumi(ws, ["preview", "--expect-no-changes"]);
        printed.push(after.output);
        assert.strictEqual(after.code, 0, after.output);

        // Secrets audit over the state and everything printed so far.
        for (const text of [exported, ...printed]) {
            assert.ok(!text.includes("PRIVATE KEY"), "a private key appears in plaintext");
            assert.ok(!text.includes(a.password), "the elastic password appears in plaintext");
            assert.ok(!text.includes(outs.searchUserPassword), "the user's password appears in plaintext");
        }

        await run(["destroy", "--yes", "--skip-preview"]);
        for (const c of [a, b]) {
            assert.deepStrictEqual(await remoteKeys(c), {});
            assert.strictEqual(await roleExists(c, ROLE), false);
            assert.strictEqual(await userExists(c, USER), false);
            // The node's own files are back (a node must stay restartable), and nothing kept aside is left.
            assert.deepStrictEqual(certFiles.map((f) => fs.readFileSync(path.join(c.configDir, "certs", f), "utf8")), ownFiles.get(c), `${c.name}: own files back`);
            assert.deepStrictEqual(fs.readdirSync(path.join(c.configDir, "certs")).filter((f) => f.includes("es-remote")), [], `${c.name}: records left`);
        }
    });
});
