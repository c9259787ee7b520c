/**
 * `npm run demo` — two local clusters (9.x and 8.19.x) linked by a real `pulumi up`:
 *
 *   npm run demo              start the clusters, `pulumi up`, then a cross-cluster search as the demo user
 *   npm run demo -- down      `pulumi destroy`, remove the stack, stop the clusters
 *
 * The stack lives in a local file backend beside the clusters ($PULUMI_ES_REMOTE_RUN/demo-state).
 */
import * as fs from "fs";
import * as path from "path";
import { Client } from "@elastic/elasticsearch";
import { ClusterInfo, ES_VERSIONS, rigClient, startCluster, stopCluster } from "../rig/elasticsearch";
import { repoRoot, runRoot } from "../rig/paths";
import { pulumi, runPulumi, workspace, Workspace } from "../rig/pulumi";
import { exampleConfig } from "../rig/cli";
import { readState, writeState } from "../rig/state";

const STACK = "demo";
const say = (msg: string) => console.log(`\n==> ${msg}`);

function demoWorkspace(): Workspace {
    return workspace(repoRoot(), path.join(runRoot(), "demo-state"), "pulumi-es-remote-demo");
}

async function clusters(): Promise<[ClusterInfo, ClusterInfo]> {
    const state = readState();
    const found = ["demo-a", "demo-b"].map((n) => state.find((c) => c.name === n));
    if (found[0] && found[1]) {
        say(`using the running demo clusters (${found[0].url}, ${found[1].url})`);
        return found as [ClusterInfo, ClusterInfo];
    }
    say(`starting two clusters: demo-a (Elasticsearch ${ES_VERSIONS.v9}) and demo-b (${ES_VERSIONS.v819}); each trusts only its own bootstrap transport CA, so they cannot link yet`);
    const started = await Promise.allSettled([
        // persistent: the demo's clusters outlive this process until 'npm run demo -- down'.
        startCluster({ name: "demo-a", version: ES_VERSIONS.v9, persistent: true }),
        startCluster({ name: "demo-b", version: ES_VERSIONS.v819, persistent: true }),
    ]);
    const ok = started.filter((r): r is PromiseFulfilledResult<ClusterInfo> => r.status === "fulfilled").map((r) => r.value);
    if (ok.length !== 2) {
        await Promise.all(ok.map((c) => stopCluster(c)));
        throw new Error(started.map((r) => (r.status === "rejected" ? (r.reason as Error).message : "")).join("\n"));
    }
    writeState([...state.filter((c) => !c.name.startsWith("demo-")), ...ok]);
    return ok as [ClusterInfo, ClusterInfo];
}

async function up(): Promise<void> {
    const [a, b] = await clusters();
    const ws = demoWorkspace();
    const stacks = await runPulumi(ws, ["stack", "ls", "--json"]);
    if (!stacks.stdout.includes(`"${STACK}"`)) {
        await pulumi(ws, ["stack", "init", STACK]);
    } else {
        await pulumi(ws, ["stack", "select", STACK]);
    }
    await pulumi(ws, ["config", "set", "clusters", JSON.stringify(exampleConfig([a, b]))]);
    await pulumi(ws, ["config", "set", "--secret", "elasticPassword", a.password]);

    say("pulumi preview (versions, security and trust are checked against both clusters before anything changes)");
    await pulumi(ws, ["preview", "--diff"], { echo: true });
    say("pulumi up");
    await pulumi(ws, ["up", "--yes", "--skip-preview"], { echo: true });

    say("indexing a document on demo-a, then searching demo-b's 'demo-a:demo-logs' as the demo user");
    const outputs = JSON.parse((await pulumi(ws, ["stack", "output", "--json", "--show-secrets"])).stdout);
    const admin = rigClient(a);
    await admin.index({ index: "demo-logs", id: "1", document: { message: "hello from demo-a", version: a.version }, refresh: true });
    await admin.close();
    const asUser = new Client({
        node: b.url,
        auth: { username: outputs.searchUser, password: outputs.searchUserPassword },
        tls: { ca: fs.readFileSync(b.httpCaFile, "utf8"), rejectUnauthorized: true },
    });
    const res = await asUser.search({ index: "demo-a:demo-logs", query: { match_all: {} } });
    await asUser.close();
    console.log(JSON.stringify(res.hits.hits.map((h) => ({ _index: h._index, _source: h._source })), null, 2));
    say(`done: ${res.hits.hits.length} hit(s) across clusters. Links: ${JSON.stringify(outputs.linked)}`);
    say("tear everything down with: npm run demo -- down");
}

async function down(): Promise<void> {
    const ws = demoWorkspace();
    const state = readState();
    const stacks = await runPulumi(ws, ["stack", "ls", "--json"]);
    if (stacks.stdout.includes(`"${STACK}"`)) {
        await pulumi(ws, ["stack", "select", STACK]);
        if (state.some((c) => c.name.startsWith("demo-"))) {
            say("pulumi destroy");
            await pulumi(ws, ["destroy", "--yes", "--skip-preview"], { echo: true });
        }
        await pulumi(ws, ["stack", "rm", "--yes", "--force", STACK]);
    }
    for (const c of state.filter((x) => x.name.startsWith("demo-"))) {
        say(`stopping ${c.name} (pid ${c.pid})`);
        await stopCluster(c);
    }
    writeState(state.filter((c) => !c.name.startsWith("demo-")));
    say("demo removed");
}

if (require.main === module) {
    const cmd = process.argv[2] ?? "up";
    (cmd === "down" ? down() : up()).catch((e) => {
        console.error(`\ndemo failed: ${(e as Error).message}`);
        process.exitCode = 1;
    });
}
