/**
 * The examples, as users run them: every one type-checks against the package's published types, and
 * `full-mesh` (3 clusters, 6 links) and `stack-reference` (two projects, one backend) run through
 * `pulumi up` and `pulumi destroy` with the real CLI against real clusters.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exampleConfig } from "../../rig/cli";
import { repoRoot } from "../../rig/paths";
import { pulumi } from "../../rig/pulumi";
import { remoteKeys } from "../support/connections";
import { pool } from "../support/pool";
import { exampleProject, TempProject } from "../support/project";

const EXAMPLES = ["cross-cluster-search", "replication-roles", "replication", "full-mesh", "bring-your-own-ca", "api-key", "strong-identity", "remote-hosts", "stack-reference/clusters", "stack-reference/link"];

describe("e2e: the examples", function () {
    const cleanup: Array<() => void> = [];
    after(() => cleanup.forEach((f) => f()));

    for (const name of EXAMPLES) {
        it(`${name} type-checks against the package's types`, function () {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "example-tsc-"));
            cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
            fs.copyFileSync(path.join(repoRoot(), "examples", name, "index.ts"), path.join(dir, "index.ts"));
            fs.copyFileSync(path.join(repoRoot(), "examples", name, "tsconfig.json"), path.join(dir, "tsconfig.json"));
            fs.symlinkSync(path.join(repoRoot(), "node_modules"), path.join(dir, "node_modules"), "dir");
            // Throws with the compiler's messages on any type error.
            execFileSync(path.join(repoRoot(), "node_modules", ".bin", "tsc"), ["--noEmit", "-p", dir], { encoding: "utf8" });
        });
    }

    it("full-mesh links three clusters both ways (6 links) and destroy removes every key", async function () {
        const clusters = await pool("v9", "v9b", "v819");
        const state = fs.mkdtempSync(path.join(os.tmpdir(), "mesh-state-"));
        const cfg = exampleConfig(clusters).map((c, i) => ({ ...c, name: ["mesh_a", "mesh_b", "mesh_c"][i] }));
        const p = await exampleProject("full-mesh", "test", state, { clusters: JSON.stringify(cfg) }, { elasticPassword: clusters[0].password });
        cleanup.push(() => p.remove(), () => fs.rmSync(state, { recursive: true, force: true }));
        const up = await pulumi(p.ws, ["up", "--yes", "--skip-preview"]);
        assert.match(up.output, /\+ 8 created/); // stack + component + 6 links
        const links = JSON.parse((await pulumi(p.ws, ["stack", "output", "links", "--json"])).stdout);
        assert.deepStrictEqual(Object.keys(links).sort(), ["mesh_a->mesh_b", "mesh_a->mesh_c", "mesh_b->mesh_a", "mesh_b->mesh_c", "mesh_c->mesh_a", "mesh_c->mesh_b"]);
        assert.ok(Object.values(links).every((c) => c === true), JSON.stringify(links));
        for (const [i, c] of clusters.entries()) {
            const others = cfg.filter((_, j) => j !== i).map((o) => o.name).sort();
            const aliases = [...new Set(Object.keys(await remoteKeys(c)).map((k) => k.split(".")[2]))].filter((a) => a.startsWith("mesh_")).sort();
            assert.deepStrictEqual(aliases, others);
        }
        await pulumi(p.ws, ["destroy", "--yes", "--skip-preview"]);
        for (const c of clusters) {
            assert.deepStrictEqual(Object.keys(await remoteKeys(c)).filter((k) => k.startsWith("cluster.remote.mesh_")), []);
        }
    });

    it("stack-reference links clusters whose connections come from another stack", async function () {
        const [v9, v819] = await pool("v9", "v819");
        const state = fs.mkdtempSync(path.join(os.tmpdir(), "ref-state-"));
        cleanup.push(() => fs.rmSync(state, { recursive: true, force: true }));
        const cfg = exampleConfig([v819, v9]).map((c, i) => ({ ...c, name: ["ref_local", "ref_remote"][i] }));
        const clusters = await exampleProject("stack-reference/clusters", "dev", state, { clusters: JSON.stringify(cfg) }, { elasticPassword: v9.password });
        cleanup.push(() => clusters.remove());
        await pulumi(clusters.ws, ["up", "--yes", "--skip-preview"]);
        const link = await exampleProject("stack-reference/link", "dev", state, {
            clustersStack: "organization/es-remote-clusters/dev", local: "ref_local", remote: "ref_remote",
        });
        cleanup.push(() => link.remove());
        const up = await pulumi(link.ws, ["up", "--yes"]);
        assert.ok(!up.output.includes(v9.password));
        assert.strictEqual((await pulumi(link.ws, ["stack", "output", "connected"])).stdout.trim(), "true");
        assert.deepStrictEqual((await remoteKeys(v819, "ref_remote"))["cluster.remote.ref_remote.seeds"], [v9.transportAddress]);
        await pulumi(link.ws, ["destroy", "--yes", "--skip-preview"]);
        await pulumi(clusters.ws, ["destroy", "--yes", "--skip-preview"]);
        assert.deepStrictEqual(await remoteKeys(v819, "ref_remote"), {});
    });
});
