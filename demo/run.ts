/**
 * `npm run demo` — the product's story as a user lives it, on this machine: two Elasticsearch
 * clusters of two nodes each, every node on a host of its own (its own file system with
 * /etc/elasticsearch, its own sshd and admin user), and Pulumi on the host reaching them over SSH.
 *
 *   npm run demo              act one: certificates delivered over SSH, a certificate remote cluster,
 *                             a role and a user; a cross-cluster search through every local node
 *   npm run demo -- api-key   act two: the same alias migrated to a cross-cluster API key in one
 *                             `pulumi up`; searches before and after
 *   npm run demo -- down      `pulumi destroy`, remove the stack, stop every node, sshd and namespace,
 *                             remove the demo's folder; then check that nothing is left
 *
 * The clusters are recorded in the rig's state file (`npm run clusters -- status` shows them), the
 * stack in a local file backend under $PULUMI_ES_REMOTE_RUN/demo, every command's full output in
 * $PULUMI_ES_REMOTE_RUN/demo/logs.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Client } from "@elastic/elasticsearch";
import { generateCa, IssuedCa } from "../provider/certs/pem";
import { alive, ClusterInfo, ES_VERSIONS, stopCluster } from "../rig/elasticsearch";
import { mountNamespaceDir } from "../rig/hostfs";
import { createNetwork, destroyNetwork, RigNetwork } from "../rig/netns";
import { repoRoot, runRoot } from "../rig/paths";
import { pulumi, pulumiBinDir, RunResult, runPulumi, workspace, Workspace } from "../rig/pulumi";
import { readRigState, writeRigState } from "../rig/state";
import { ADMIN_USER, nodeClient, startTopology, TopologyInfo } from "../rig/topology";

const STACK = "demo";
const LOCAL = "demo-local";
const REMOTE = "demo-remote";
const INDEX = "logs-demo";
const demoDir = () => path.join(runRoot(), "demo");
const logsDir = () => path.join(demoDir(), "logs");

// ---------------------------------------------------------------------------------------------
// Output: one line per step — its time, its name, what it did.

const tty = process.stdout.isTTY;
const secs = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`.padStart(8);

/** Runs one step; prints `time  name  what it did` (while it runs, on a terminal, `…  name  what it does`). */
async function step<T>(name: string, doing: string, fn: () => Promise<T>, done: (r: T) => string): Promise<T> {
    const t0 = Date.now();
    if (tty) process.stdout.write(`${"…".padStart(8)}  ${name.padEnd(9)} ${doing}`);
    try {
        const r = await fn();
        if (tty) process.stdout.write("\r\x1b[2K");
        console.log(`${secs(t0)}  ${name.padEnd(9)} ${done(r)}`);
        return r;
    } catch (e) {
        if (tty) process.stdout.write("\r\x1b[2K");
        console.log(`${secs(t0)}  ${name.padEnd(9)} FAILED: ${doing}`);
        throw e;
    }
}

/** A line under a step (a search result, a warning). */
const detail = (text: string) => console.log(`${" ".repeat(20)}${text}`);

function logTo(name: string): (msg: string) => void {
    fs.mkdirSync(logsDir(), { recursive: true });
    const file = path.join(logsDir(), name);
    return (msg: string) => fs.appendFileSync(file, `${new Date().toISOString()} ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// The clusters: recorded in the rig's state file like `npm run clusters -- up`'s.

interface Clusters {
    local: TopologyInfo;
    remote: TopologyInfo;
    /** The transport CA both clusters trust; the program adopts it. */
    transportCa: IssuedCa;
    reused: boolean;
}

const caFile = () => path.join(demoDir(), "transport-ca.json");

function recorded(): TopologyInfo[] {
    return readRigState().clusters.filter((c): c is TopologyInfo => c.name.startsWith("demo-") && Array.isArray((c as TopologyInfo).nodes));
}

function running(t: TopologyInfo): boolean {
    return t.nodes.every((n) => alive(n.pid) && (!n.sshdPid || alive(n.sshdPid)));
}

async function clusters(): Promise<Clusters> {
    const found = recorded();
    const local = found.find((c) => c.name === LOCAL);
    const remote = found.find((c) => c.name === REMOTE);
    if (local && remote && running(local) && running(remote) && fs.existsSync(caFile())) {
        return { local, remote, transportCa: JSON.parse(fs.readFileSync(caFile(), "utf8")), reused: true };
    }
    if (found.length) throw new Error(`the demo's clusters are recorded but not all running (${found.map((c) => c.name).join(", ")}): run 'npm run demo -- down' first`);

    const log = logTo("clusters.log");
    const transportCa = await generateCa({ commonName: "demo transport CA" });
    const serverCa = await generateCa({ commonName: "demo remote cluster server CA" });
    fs.mkdirSync(demoDir(), { recursive: true, mode: 0o700 });
    fs.writeFileSync(caFile(), JSON.stringify(transportCa), { mode: 0o600 });
    const network: RigNetwork = createNetwork({ persistent: true });
    const state = readRigState();
    writeRigState({ ...state, networks: [...state.networks, network] }); // so 'down' finds the bridge even if this is killed
    const common = {
        nodes: [{ version: ES_VERSIONS.v9 }, { version: ES_VERSIONS.v9 }],
        hosts: network,
        isolated: true,
        transportCa,
        license: "trial" as const,
        persistent: true,
        log,
    };
    const started = await Promise.allSettled([
        startTopology({ ...common, name: LOCAL, remoteClusterClient: { trustedCaPems: [serverCa.certPem] } }),
        startTopology({ ...common, name: REMOTE, remoteClusterServer: { ca: serverCa } }),
    ]);
    const ok = started.filter((r): r is PromiseFulfilledResult<TopologyInfo> => r.status === "fulfilled").map((r) => r.value);
    if (ok.length !== 2) {
        await Promise.all(ok.map((c) => stopCluster(c)));
        destroyNetwork(network);
        const now = readRigState();
        writeRigState({ ...now, networks: now.networks.filter((n) => n.id !== network.id) });
        throw new Error(started.map((r) => (r.status === "rejected" ? (r.reason as Error).message : "")).filter(Boolean).join("\n"));
    }
    const now = readRigState();
    writeRigState({ ...now, clusters: [...now.clusters, ...ok] });
    return { local: ok[0], remote: ok[1], transportCa, reused: false };
}

// ---------------------------------------------------------------------------------------------
// The stack.

function demoWorkspace(): Workspace {
    return workspace(repoRoot(), path.join(demoDir(), "pulumi"), "pulumi-es-remote-demo");
}

/** Runs the CLI, keeps its whole output in logs/<name>.log, throws with the tail on failure. */
async function cli(ws: Workspace, name: string, args: string[]): Promise<RunResult> {
    const r = await runPulumi(ws, args);
    fs.mkdirSync(logsDir(), { recursive: true });
    fs.writeFileSync(path.join(logsDir(), `${name}.log`), `$ pulumi ${args.join(" ")}\n${r.output}`);
    if (r.code !== 0) {
        throw new Error(`pulumi ${args.join(" ")} exited with ${r.code} (whole output: ${path.join(logsDir(), `${name}.log`)}):\n${r.output.slice(-4000)}`);
    }
    return r;
}

async function stackExists(ws: Workspace): Promise<boolean> {
    const r = await runPulumi(ws, ["stack", "ls", "--json"]);
    return r.code === 0 && (JSON.parse(r.stdout || "[]") as Array<{ name: string }>).some((s) => s.name === STACK);
}

/** The program's view of a cluster: what its admin knows (no rig internals). */
function clusterConfig(t: TopologyInfo) {
    return {
        name: t.name,
        httpCaPem: fs.readFileSync(t.httpCaFile, "utf8"),
        nodes: t.nodes.map((n) => ({
            name: n.name, url: n.url, ip: n.ip, transport: n.transportAddress, remoteClusterServer: n.remoteClusterServerAddress,
            ssh: { host: n.ssh!.host, port: n.ssh!.port }, hostKey: n.ssh!.hostKeyLine, javaHome: n.javaHome,
        })),
    };
}

async function configure(ws: Workspace, c: Clusters, act: "certificate" | "apiKey"): Promise<void> {
    if (!(await stackExists(ws))) await cli(ws, "stack-init", ["stack", "init", STACK]);
    else await cli(ws, "stack-select", ["stack", "select", STACK]);
    await cli(ws, "config", ["config", "set-all",
        "--plaintext", `act=${act}`,
        "--plaintext", `local=${JSON.stringify(clusterConfig(c.local))}`,
        "--plaintext", `remote=${JSON.stringify(clusterConfig(c.remote))}`,
        "--plaintext", `sshUser=${ADMIN_USER}`,
        "--plaintext", `transportCaCertPem=${c.transportCa.certPem}`,
        "--secret", `transportCaKeyPem=${c.transportCa.keyPem}`,
        "--secret", `localSshKey=${c.local.nodes[0].ssh!.privateKeyPem}`,
        "--secret", `remoteSshKey=${c.remote.nodes[0].ssh!.privateKeyPem}`,
        "--secret", `elasticPassword=${c.local.password}`,
    ]);
}

/** `+ 9 to create`, `~ 1 to update` … from the CLI's "Resources:" summary, joined by commas. */
function summary(out: string): string {
    const block = /Resources:\n((?:\s{4}.*\n?)+)/.exec(out)?.[1] ?? "";
    // The CLI's lines: "+ 1 to create", "~ 1 updated", "3 changes. 7 unchanged" — the count of changes is the sum of the others.
    return block.split("\n").map((l) => l.trim().replace(/^\d+ changes?\. /, "")).filter(Boolean).join(", ") || "no summary printed";
}

/** The package's warnings in the CLI's output (its Diagnostics section), each once. */
function warnings(out: string): string[] {
    return [...new Set([...out.matchAll(/^\s*warning: (.+)$/gm)].map((m) => m[1].trim()))];
}

const DEPRECATION = /certificate-based remote clusters are deprecated since 9\.0/;

/**
 * Prints the warnings the CLI printed. In act one the only one expected is the package's notice
 * that certificate remote clusters are deprecated (once per 9.x cluster): the step line says so,
 * act two is the answer. Anything else is printed as it came.
 */
function reportWarnings(out: string): string {
    const all = warnings(out);
    const deprecation = all.filter((w) => DEPRECATION.test(w));
    for (const w of all.filter((x) => !DEPRECATION.test(x))) detail(`warning: ${w}`);
    return deprecation.length ? `Pulumi printed the package's expected notice (logs/up-1.log): certificate remote clusters are deprecated since 9.0; act two moves this link to an API key` : "";
}

async function outputs(ws: Workspace): Promise<Record<string, any>> {
    return JSON.parse((await cli(ws, "stack-output", ["stack", "output", "--json", "--show-secrets"])).stdout);
}

// ---------------------------------------------------------------------------------------------
// Searches: as the created user, through every node of the local cluster.

async function indexDocument(remote: TopologyInfo): Promise<void> {
    const admin = nodeClient(remote, 0);
    try {
        await admin.index({ index: INDEX, id: "1", document: { message: `hello from ${remote.name}`, cluster: remote.name }, refresh: true });
    } finally {
        await admin.close();
    }
}

interface NodeSearch {
    node: string;
    hits: Array<{ _index: string; _source: unknown }>;
    skipped: number;
}

async function searchEveryNode(local: TopologyInfo, user: string, password: string, alias: string): Promise<NodeSearch[]> {
    return Promise.all(local.nodes.map(async (n) => {
        const client = new Client({
            node: n.url,
            auth: { username: user, password },
            tls: { ca: fs.readFileSync(local.httpCaFile, "utf8"), rejectUnauthorized: true },
            requestTimeout: 30000,
        });
        try {
            const res = await client.search({ index: `${alias}:${INDEX}`, query: { match_all: {} } });
            return {
                node: n.name,
                hits: res.hits.hits.map((h) => ({ _index: h._index, _source: h._source })),
                skipped: res._clusters?.skipped ?? 0,
            };
        } finally {
            await client.close();
        }
    }));
}

function searchLine(results: NodeSearch[]): string {
    const bad = results.filter((r) => r.hits.length !== 1 || r.skipped);
    if (bad.length) throw new Error(`cross-cluster search: ${bad.map((r) => `${r.node}: ${r.hits.length} hit(s), ${r.skipped} cluster(s) skipped`).join("; ")}`);
    return `1 hit through each of ${results.map((r) => r.node).join(" and ")}`;
}

/** `_remote/info` of every local node, as the admin: how each one reaches the alias. */
async function remoteInfo(local: TopologyInfo, alias: string): Promise<string> {
    const seen = await Promise.all(local.nodes.map(async (n, i) => {
        const client = nodeClient(local, i);
        try {
            const info = (await client.cluster.remoteInfo())[alias] as Record<string, any> | undefined;
            return info ? `${n.name} connected=${info.connected}${info.cluster_credentials ? ` credentials ${info.cluster_credentials}` : ""}` : `${n.name}: no '${alias}'`;
        } finally {
            await client.close();
        }
    }));
    return `_remote/info: ${seen.join(", ")}`;
}

// ---------------------------------------------------------------------------------------------
// The acts.

function header(text: string): void {
    console.log(`\npulumi-es-remote demo — ${text}\n`);
}

async function prepare(act: "certificate" | "apiKey"): Promise<{ c: Clusters; ws: Workspace }> {
    await step("pulumi", "finding the Pulumi CLI", async () => pulumiBinDir(), (bin) => `Pulumi CLI ${path.basename(path.dirname(bin)) || bin} on this host (file backend, offline)`);
    const c = await step("clusters",
        `starting ${LOCAL} and ${REMOTE}: Elasticsearch ${ES_VERSIONS.v9}, 2 nodes each, every node on a host of its own (log: ${path.join(logsDir(), "clusters.log")})`,
        clusters,
        (r) => `${r.reused ? "already running: " : ""}${LOCAL} and ${REMOTE}, Elasticsearch ${ES_VERSIONS.v9}, 2 nodes each, every node a host of its own`);
    if (!c.reused) {
        detail(`each node: its own file system (/etc/elasticsearch root:esrig, /usr/share/elasticsearch), sshd, admin '${ADMIN_USER}' with sudo`);
        detail(`both trust one transport CA; trial licenses; ${REMOTE}'s nodes run the remote cluster server (port 9443)`);
    }
    const ws = demoWorkspace();
    await step("stack", "stack and config", () => configure(ws, c, act),
        () => `stack '${STACK}', act ${act}: each node's URL, SSH address, pinned host key; secrets: SSH keys, CA key, password`);
    return { c, ws };
}

/** `node X serves certificate S (after N s)` lines of the CLI's output: how long each node took to pick up its files. */
function served(out: string): string {
    const after = [...out.matchAll(/node (\S+) serves certificate \S+ \(after (\d+) s\)/g)].map((m) => Number(m[2]));
    return after.length ? ` within ${Math.min(...after)}–${Math.max(...after)} s, no restart` : "";
}

/** The act the stack was last brought up with (its `security` output), if there is a stack. */
async function stackAct(): Promise<string | undefined> {
    const ws = demoWorkspace();
    if (!(await stackExists(ws))) return undefined;
    await cli(ws, "stack-select", ["stack", "select", STACK]);
    const r = await runPulumi(ws, ["stack", "output", "security"]);
    return r.code === 0 ? r.stdout.trim() : undefined;
}

async function actOne(): Promise<void> {
    header("act one: certificates delivered over SSH, a certificate remote cluster");
    if ((await stackAct()) === "apiKey") {
        // Act two is one way, as Elastic's migration is: going back to certificates is not what a user does.
        console.log("the stack is at act two already (the link uses an API key): 'npm run demo -- api-key' searches again, 'npm run demo -- down' starts over");
        return;
    }
    const { c, ws } = await prepare("certificate");
    const pre = await step("preview", "pulumi preview", () => cli(ws, "preview-1", ["preview"]),
        (r) => `${summary(r.output)}; nothing written. Checked per node: SSH (pinned host key, login, sudo -n, certs folder writable), versions`);
    const up = await step("up", "pulumi up", () => cli(ws, "up-1", ["up", "--yes", "--skip-preview"]), (r) => summary(r.output));
    const o = await outputs(ws);
    detail(`certificates: written over SSH + sudo into each node's /etc/elasticsearch/certs (root:esrig, key 0640); ${o.certificatesServed}/4 nodes serve theirs${served(up.output)}`);
    detail(`link '${o.alias}': certificate trust, seeds ${o.seeds.join(" ")}; connected on ${o.nodesConnected} local nodes (${o.versions})`);
    detail(`role logs_reader on both clusters, user '${o.searchUser}' on ${LOCAL}`);
    const note = reportWarnings(pre.output + up.output);
    if (note) detail(note);
    await step("index", `one document into ${REMOTE}`, () => indexDocument(c.remote), () => `${REMOTE}: ${INDEX}/1, as elastic`);
    const found = await step("search", `as ${o.searchUser}, ${o.alias}:${INDEX}`, () => searchEveryNode(c.local, o.searchUser, o.searchUserPassword, o.alias),
        (r) => `as '${o.searchUser}': GET ${o.alias}:${INDEX}/_search → ${searchLine(r)}`);
    detail(JSON.stringify(found[0].hits[0]));
    console.log(`\nnext: npm run demo -- api-key   (the same alias on a cross-cluster API key)   ·   npm run demo -- down   (remove everything)`);
}

async function actTwo(): Promise<void> {
    header("act two: the same alias migrated to a cross-cluster API key, in one pulumi up");
    if (!recorded().length || !(await stackExists(demoWorkspace()))) {
        throw new Error("act two starts from act one: run 'npm run demo' first");
    }
    const { c, ws } = await prepare("apiKey");
    const before = await outputs(ws);
    await step("search", "before", () => searchEveryNode(c.local, before.searchUser, before.searchUserPassword, before.alias),
        (r) => `before, over ${before.security === "apiKey" ? "the API key" : "certificate trust"}: ${searchLine(r)}`);
    const pre = await step("preview", "pulumi preview", () => cli(ws, "preview-2", ["preview"]),
        (r) => `${summary(r.output)}; nothing written. Checked: licenses, ${REMOTE}'s remote cluster server and its CA, each local keystore over SSH, role within key`);
    const up = await step("up", "pulumi up", () => cli(ws, "up-2", ["up", "--yes", "--skip-preview"]), (r) => summary(r.output));
    const o = await outputs(ws);
    detail(`key ${o.keyId} made on ${REMOTE} (search on logs-*), written over SSH into both local nodes' keystores, reloaded`);
    detail(`link '${o.alias}': API key, seeds ${o.seeds.join(" ")} (remote cluster server); connected on ${o.nodesConnected} local nodes`);
    detail(`role logs_reader: now on ${LOCAL} only, with remote_indices for '${o.alias}'; user '${o.searchUser}' unchanged`);
    const note = reportWarnings(pre.output + up.output);
    if (note) detail(note);
    await step("nodes", "GET _remote/info on every local node", () => remoteInfo(c.local, o.alias), (s) => s);
    const found = await step("search", "after", () => searchEveryNode(c.local, o.searchUser, o.searchUserPassword, o.alias),
        (r) => `after, over the API key: ${searchLine(r)}`);
    detail(JSON.stringify(found[0].hits[0]));
    console.log(`\nnext: npm run demo -- down   (remove everything)`);
}

// ---------------------------------------------------------------------------------------------
// down: everything the demo made, then a check that nothing is left.

/** What is still there of the given topologies: namespaces, mount-namespace files, host folders, processes, folders. */
function leftovers(ts: TopologyInfo[]): string[] {
    const names = ts.flatMap((t) => t.nodes.map((n) => n.namespace).filter((x): x is string => !!x));
    const netns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
    const bridges = ts.map((t) => t.network?.bridge).filter((b): b is string => !!b && spawnSync("ip", ["link", "show", b], { stdio: "ignore" }).status === 0);
    const mnt = fs.existsSync(mountNamespaceDir()) ? fs.readdirSync(mountNamespaceDir()) : [];
    const pids = ts.flatMap((t) => t.nodes.flatMap((n) => [n.pid, n.serverPid, n.sshdPid, ...(n.pids ?? [])])).filter((p): p is number => !!p && alive(p));
    return [
        ...netns.filter((n) => names.includes(n) || /-demo-/.test(n)).map((n) => `network namespace ${n}`),
        ...mnt.filter((m) => names.includes(m) || /-demo-/.test(m)).map((m) => `mount namespace ${path.join(mountNamespaceDir(), m)}`),
        ...[...new Set(bridges)].map((b) => `bridge ${b}`),
        ...ts.flatMap((t) => t.nodes.map((n) => n.hostDir).filter((d): d is string => !!d && fs.existsSync(d))).map((d) => `host folder ${d}`),
        ...[...new Set(pids)].map((p) => `process ${p}`),
        ...ts.map((t) => t.dir).filter((d) => fs.existsSync(d)).map((d) => `folder ${d}`),
        ...(fs.existsSync(demoDir()) ? [`folder ${demoDir()}`] : []),
    ];
}

async function down(): Promise<void> {
    header("down: destroy, remove the stack, stop every node");
    const ts = recorded();
    const old = readRigState().clusters.filter((c) => c.name.startsWith("demo-") && !ts.some((t) => t.name === c.name)); // the earlier demo's single nodes
    const ws = demoWorkspace();
    if (await stackExists(ws)) {
        await cli(ws, "stack-select", ["stack", "select", STACK]);
        if (ts.length === 2 && ts.every(running)) {
            await step("destroy", "pulumi destroy", () => cli(ws, "destroy", ["destroy", "--yes", "--skip-preview"]),
                (r) => `${summary(r.output)}: everything the stack made is gone from both clusters; each node's own certificate files are back`);
        }
        await step("stack", "pulumi stack rm", () => cli(ws, "stack-rm", ["stack", "rm", "--yes", "--force", STACK]), () => `stack '${STACK}' removed`);
    }
    const all: ClusterInfo[] = [...ts, ...old];
    if (all.length) {
        await step("clusters", `stopping ${all.map((c) => c.name).join(", ")}`, () => Promise.all(all.map((c) => stopCluster(c))),
            () => `stopped ${all.map((c) => c.name).join(", ")}: nodes, sshd, mount and network namespaces, host folders (users and sudoers lived inside them)`);
    }
    const state = readRigState();
    const clustersLeft = state.clusters.filter((c) => !all.some((x) => x.name === c.name));
    const networks = state.networks.filter((n) => ts.some((t) => t.network?.id === n.id) && !clustersLeft.some((c) => (c as TopologyInfo).network?.id === n.id));
    for (const n of networks) destroyNetwork(n);
    writeRigState({ ...state, clusters: clustersLeft, networks: state.networks.filter((n) => !networks.includes(n)) });
    fs.rmSync(demoDir(), { recursive: true, force: true });
    fs.rmSync(path.join(runRoot(), "demo-state"), { recursive: true, force: true }); // the earlier demo's stack folder
    await step("check", "looking for leftovers", async () => leftovers(ts), (left) => {
        if (left.length) throw new Error(`left behind: ${left.join("; ")}`);
        return `nothing left: no demo namespace (ip netns), mount namespace (${mountNamespaceDir()}), host folder, process or folder${networks.length ? `; bridge ${networks.map((n) => n.bridge).join(", ")} removed` : ""}`;
    });
}

if (require.main === module) {
    const cmd = process.argv[2] ?? "up";
    const acts: Record<string, () => Promise<void>> = { up: actOne, "api-key": actTwo, down };
    const act = acts[cmd];
    if (!act) {
        console.error(`usage: npm run demo [-- api-key | -- down]  (got '${cmd}')`);
        process.exitCode = 2;
    } else {
        const t0 = Date.now();
        act().then(() => console.log(`\n${cmd === "up" ? "act one" : cmd === "api-key" ? "act two" : "down"} done in ${((Date.now() - t0) / 1000).toFixed(1)} s${cmd === "down" ? "" : `; every command's whole output: ${logsDir()}`}`),
            (e) => {
                console.error(`\ndemo failed: ${(e as Error).message}`);
                process.exitCode = 1;
            });
    }
}
