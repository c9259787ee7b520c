/**
 * A network partition between the two sides, through the real Pulumi CLI, on clusters on separate
 * hosts (each node in its own network namespace, rig/netns.ts): a local cluster of two 9.x nodes
 * and a remote of one, both trusting the shared transport CA. The cut sits between the sides'
 * namespaces only; the provider (on the host) still reaches both HTTP endpoints — a user's "our two
 * data centres lost their link while CI ran `pulumi up`".
 *
 * When the cut is made: BEFORE `pulumi up`. A cut after the settings are written races with the
 * nodes' own connect (sniff mode dials the seed within milliseconds of the PUT), so a test cutting
 * "after the write" could not say which case it had tested. Cut before, the up takes the same path
 * every run — probes pass over HTTP, the settings are written, no local node can dial the remote,
 * the wait times out, the create takes its settings back — and the preview is shown to pass under
 * the cut (nothing in the checks needs the nodes to reach each other).
 *
 * Second part: a cut AFTER a successful up, then `pulumi refresh`. An idle transport connection
 * over a silent cut stays "connected" until TCP gives up on it (Linux defaults: keepalive after
 * 2 h; measured with the rig's defaults: a local 9.5.4 node still reported the remote connected 300 s
 * into the cut — neither `_remote/info` nor a refresh can see such a cut), so the local cluster
 * here runs with short transport keepalives
 * (`transport.tcp.keep_idle` 5 s, `keep_interval` 2 s, `keep_count` 3 — the knob Elastic's docs name
 * for idle inter-node connections); the test measures how long the nodes took to notice. After the
 * heal, sniff links do not reconnect by themselves (Elasticsearch reconnects on demand, when a
 * request needs the remote): the refresh asks each local node that lost the remote to try once
 * (`_resolve/cluster`), so the first refresh after the heal says "connected" on both nodes, and a
 * cross-cluster search through each local node finds the remote's document.
 * After a refresh the link's truth is in the state (`stack export`): `pulumi stack output` keeps what
 * the last `up` computed, since a refresh does not run the program.
 *
 * Needs root (namespaces); skipped otherwise. The cut is always healed in `finally`.
 */
import * as assert from "assert";
import * as fs from "fs";
import { Client } from "@elastic/elasticsearch";
import { ES_VERSIONS } from "../../rig/elasticsearch";
import { execIn, partition, Partition } from "../../rig/netns";
import { pulumi, runPulumi } from "../../rig/pulumi";
import { nodeClient, TopologyInfo, topologyEndpoints } from "../../rig/topology";
import { remoteKeys, withClient } from "../support/connections";
import { waitFor } from "../support/haltable";
import { poolTopology, sharedTransportCa } from "../support/pool";
import { tempProject, TempProject } from "../support/project";

const isRoot = process.getuid?.() === 0;

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { RemoteClusterLink, CrossClusterRole } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const local = cfg.requireSecretObject("local");
const remote = cfg.requireSecretObject("remote");
// Needs nothing from the remote's transport layer (written over HTTP on both sides).
const role = new CrossClusterRole("role", { local, remote, name: cfg.require("role"), preset: "search", indices: ["part-*"] });
const link = new RemoteClusterLink("link", {
    local,
    remote,
    alias: cfg.require("alias"),
    mode: "sniff",
    seeds: [cfg.require("seed")],
    skipUnavailable: false,
    connectionTimeoutSeconds: 20,
});
exports.roleName = role.name;
exports.connected = link.connected;
exports.nodesConnected = link.nodesConnected;
exports.nodesTotal = link.nodesTotal;
`;

const figures: string[] = [];
function figure(line: string): void {
    figures.push(line);
    process.stderr.write(`[e2e-partition] ${line}\n`);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The provider-side connection to a topology: every node's URL. */
function connection(t: TopologyInfo) {
    return { urls: t.nodes.map((n) => n.url), username: t.username, password: t.password, caPem: fs.readFileSync(t.httpCaFile, "utf8") };
}

async function start(key: string, opts: Parameters<typeof poolTopology>[1]): Promise<TopologyInfo> {
    const t0 = Date.now();
    const t = await poolTopology(key, opts);
    console.log(`      [topology] ${t.name}: ${t.nodes.map((n) => `${n.name} ${n.version} @${n.ip}`).join("; ")} (--hosts) started in ${t.startSeconds.toFixed(1)}s (awaited here ${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    return t;
}

/** Local: two 9.x nodes on their own hosts, short transport keepalives (see the header). Remote: one 9.x node. */
async function sides(): Promise<[TopologyInfo, TopologyInfo]> {
    const ca = await sharedTransportCa();
    return Promise.all([
        start("9x2-hosts-part", {
            nodes: [{ version: ES_VERSIONS.v9 }, { version: ES_VERSIONS.v9 }], hosts: true, transportCa: ca,
            extraSettings: { "transport.tcp.keep_idle": 5, "transport.tcp.keep_interval": 2, "transport.tcp.keep_count": 3 },
        }),
        start("9x1-hosts-part-remote", { nodes: [{ version: ES_VERSIONS.v9 }], hosts: true, transportCa: ca }),
    ]);
}

/** Can `from`'s namespace open a TCP connection to `addr` (ip:port) within 3 s? */
function canDial(fromNamespace: string, addr: string): boolean {
    const [host, port] = addr.split(":");
    try {
        execIn(fromNamespace, "timeout", ["3", "bash", "-c", `exec 3<>/dev/tcp/${host}/${port}`]);
        return true;
    } catch {
        return false;
    }
}

/** Each local node's own `_remote/info` entry for the alias. */
async function remoteInfoPerNode(local: TopologyInfo, alias: string): Promise<Array<{ node: string; connected: boolean; numNodesConnected: number }>> {
    return Promise.all(local.nodes.map(async (n, i) => {
        const c: Client = nodeClient(local, i);
        try {
            const info = (await c.cluster.remoteInfo())[alias] as { connected?: boolean; num_nodes_connected?: number } | undefined;
            return { node: n.name, connected: info?.connected === true, numNodesConnected: info?.num_nodes_connected ?? 0 };
        } finally {
            await c.close();
        }
    }));
}

/** Cross-cluster search through one local node: hits of the remote's `part-docs`, and skipped clusters. */
async function searchThrough(t: TopologyInfo, node: number, alias: string): Promise<{ hits: number; skipped: number }> {
    const c: Client = nodeClient(t, node);
    try {
        const r = await c.search({ index: `${alias}:part-docs`, size: 0, track_total_hits: true });
        const total = typeof r.hits.total === "number" ? r.hits.total : r.hits.total?.value ?? 0;
        return { hits: total, skipped: r._clusters?.skipped ?? 0 };
    } finally {
        await c.close();
    }
}

async function roleOn(t: TopologyInfo, name: string): Promise<boolean> {
    return withClient(t, async (c) => Object.keys(await c.security.getRole({ name }, { ignore: [404] }) ?? {}).includes(name));
}

interface Exported {
    text: string;
    resources: Array<{ type: string; urn: string; inputs?: any; outputs?: any; initErrors?: string[]; pendingReplacement?: boolean }>;
    pending: unknown[];
}

async function exportState(p: TempProject): Promise<Exported> {
    const text = (await pulumi(p.ws, ["stack", "export"])).stdout;
    const d = JSON.parse(text).deployment;
    return { text, resources: d.resources ?? [], pending: d.pending_operations ?? [] };
}

/** The link's outputs as the state holds them (what the last refresh or up recorded). */
async function linkOutputs(p: TempProject): Promise<{ connected?: boolean; nodesConnected?: number; nodesTotal?: number }> {
    const r = (await exportState(p)).resources.find((x) => x.urn.endsWith("::link"));
    assert.ok(r, "the link is in the state");
    return r!.outputs;
}

async function project(name: string, local: TopologyInfo, remote: TopologyInfo, alias: string, role: string): Promise<TempProject> {
    const p = await tempProject(name, PROGRAM);
    await pulumi(p.ws, ["config", "set", "--secret", "local", JSON.stringify(connection(local))]);
    await pulumi(p.ws, ["config", "set", "--secret", "remote", JSON.stringify(connection(remote))]);
    await pulumi(p.ws, ["config", "set", "seed", remote.nodes[0].transportAddress]);
    await pulumi(p.ws, ["config", "set", "alias", alias]);
    await pulumi(p.ws, ["config", "set", "role", role]);
    return p;
}

(isRoot ? describe : describe.skip)("e2e: a network partition between the two sides (separate hosts)", function () {
    this.timeout(1_200_000);
    const projects: TempProject[] = [];
    after(() => {
        projects.forEach((p) => p.remove());
        if (figures.length) console.log(`      [e2e-partition] figures:\n${figures.map((f) => `        ${f}`).join("\n")}`);
    });

    it("partition during `pulumi up`: clear error naming the local nodes and the gateway addresses, nothing half-written in state or on the cluster; healed, the next up converges", async function () {
        const [local, remote] = await sides();
        const alias = "e2e_part";
        const role = "e2e_part_reader";
        await withClient(remote, (c) => c.index({ index: "part-docs", id: "1", document: { side: "remote" }, refresh: true }));
        const p = await project("e2e-partition-up", local, remote, alias, role);
        projects.push(p);
        const gateway = remote.nodes[0].publishTransportAddress;
        let cut: Partition | undefined;
        try {
            cut = partition(topologyEndpoints(local), topologyEndpoints(remote), "drop");
            // The cut is real between the sides, and only there.
            for (const n of local.nodes) {
                assert.strictEqual(canDial(n.namespace!, remote.nodes[0].transportAddress), false, `${n.name} still reaches the remote's transport port`);
            }
            assert.strictEqual(canDial(local.nodes[0].namespace!, local.nodes[1].transportAddress), true, "the local nodes still reach each other");

            // The checks only need HTTP from the provider's host: the preview passes under the cut.
            const pre = await runPulumi(p.ws, ["preview"]);
            assert.strictEqual(pre.code, 0, pre.output.slice(-4000));
            assert.match(pre.output, /\+\s+\S*RemoteClusterLink\S*\s+link\s+create/);

            const t0 = Date.now();
            const up = await runPulumi(p.ws, ["up", "--yes"]);
            figure(`up under the partition failed after ${((Date.now() - t0) / 1000).toFixed(1)}s (connectionTimeoutSeconds 20), exit ${up.code}`);
            assert.notStrictEqual(up.code, 0, up.output.slice(-4000));
            const flat = up.output.replace(/\s*\n\s*/g, " ");
            assert.match(flat, new RegExp(`remote cluster '${alias}' was registered on the local cluster \\(.*\\) but did not connect within 20s; the settings this link wrote were removed`), up.output.slice(-4000));
            assert.match(flat, /0 of 2 local node\(s\) with the remote_cluster_client role connected/);
            for (const n of local.nodes) {
                // Each local node is named with what it dialled: the seed, then the remote's gateway address.
                assert.match(flat, new RegExp(`${escape(n.name)} \\(tried [^)]*${escape(remote.nodes[0].transportAddress)}[^)]*gateway addresses ${escape(gateway)}; 0 connected\\)`), `${n.name} not named with its addresses:\n${up.output.slice(-4000)}`);
            }
            figure(`the error: ${flat.match(/remote cluster '[^']+' was registered.*?did not connect\./)?.[0] ?? "(not found)"}`);

            // Nothing half-written: the link is not in the state, its keys are not on the cluster.
            const state = await exportState(p);
            const links = state.resources.filter((r) => r.type.includes("RemoteClusterLink") || r.urn.includes("RemoteClusterLink"));
            assert.deepStrictEqual(links.map((r) => r.urn), [], "a link that did not connect is not claimed in the state");
            assert.deepStrictEqual(state.pending, [], "no pending operation left behind");
            assert.deepStrictEqual(await remoteKeys(local, alias), {}, "the create took its settings back");
            // The rest of the up went on: the role (HTTP only, both sides) was created and is in the state.
            assert.ok(state.resources.some((r) => r.urn.endsWith("::role") && r.outputs?.name === role), "the role is in the state");
            assert.deepStrictEqual([await roleOn(local, role), await roleOn(remote, role)], [true, true]);
            for (const secret of [local.password, remote.password]) {
                assert.ok(!state.text.includes(secret), "no password in plaintext in the state");
            }
            assert.ok(!up.output.includes(local.password), "no password in the CLI's output");
        } finally {
            cut?.heal();
        }
        assert.strictEqual(canDial(local.nodes[0].namespace!, remote.nodes[0].transportAddress), true, "healed: the local node reaches the remote again");

        // Healed: the next up converges without any manual step.
        try {
            const up2 = await runPulumi(p.ws, ["up", "--yes"]);
            assert.strictEqual(up2.code, 0, up2.output.slice(-4000));
            assert.match(up2.output, /\+\s+\S*RemoteClusterLink\S*\s+link\s+created/);
            const out = JSON.parse((await pulumi(p.ws, ["stack", "output", "--json"])).stdout);
            assert.deepStrictEqual([out.connected, out.nodesConnected, out.nodesTotal], [true, 2, 2]);
            for (let i = 0; i < local.nodes.length; i++) {
                assert.deepStrictEqual(await searchThrough(local, i, alias), { hits: 1, skipped: 0 }, `search through ${local.nodes[i].name}`);
            }
            const again = await runPulumi(p.ws, ["preview", "--expect-no-changes"]);
            assert.strictEqual(again.code, 0, `the preview after the converged up shows changes:\n${again.output.slice(-4000)}`);
        } finally {
            const d = await runPulumi(p.ws, ["destroy", "--yes"]);
            assert.strictEqual(d.code, 0, d.output.slice(-4000));
        }
        assert.deepStrictEqual(await remoteKeys(local, alias), {});
        assert.deepStrictEqual([await roleOn(local, role), await roleOn(remote, role)], [false, false]);
    });

    it("partition after a successful up: refresh reports the link not connected without failing or dropping it; healed, the next refresh makes the nodes redial and reports it connected", async function () {
        const [local, remote] = await sides();
        const alias = "e2e_part_refresh";
        const role = "e2e_part_refresh_reader";
        await withClient(remote, (c) => c.index({ index: "part-docs", id: "1", document: { side: "remote" }, refresh: true }));
        const p = await project("e2e-partition-refresh", local, remote, alias, role);
        projects.push(p);
        let cut: Partition | undefined;
        let keysBefore: Record<string, unknown> = {};
        try {
            await pulumi(p.ws, ["up", "--yes"]);
            const out = JSON.parse((await pulumi(p.ws, ["stack", "output", "--json"])).stdout);
            assert.deepStrictEqual([out.connected, out.nodesConnected, out.nodesTotal], [true, 2, 2]);
            keysBefore = await remoteKeys(local, alias);

            cut = partition(topologyEndpoints(local), topologyEndpoints(remote), "drop");
            const t0 = Date.now();
            await waitFor("every local node to notice the cut", 180_000, async () => (await remoteInfoPerNode(local, alias)).every((n) => !n.connected));
            figure(`after a silent cut (blackhole routes), the local nodes reported the remote disconnected after ${((Date.now() - t0) / 1000).toFixed(1)}s (transport.tcp.keep_idle 5, keep_interval 2, keep_count 3)`);

            const r1 = await runPulumi(p.ws, ["refresh", "--yes"]);
            assert.strictEqual(r1.code, 0, r1.output.slice(-4000));
            const st = await exportState(p);
            const linkState = st.resources.find((r) => r.urn.endsWith("::link"));
            assert.ok(linkState, "the link is still in the state after the refresh under the cut");
            assert.deepStrictEqual([linkState!.outputs.connected, linkState!.outputs.nodesConnected, linkState!.outputs.nodesTotal], [false, 0, 2]);
            const stale = JSON.parse((await pulumi(p.ws, ["stack", "output", "--json"])).stdout);
            assert.strictEqual(stale.connected, true, "the stack's outputs are the last up's (a refresh does not run the program)");
            assert.deepStrictEqual(await remoteKeys(local, alias), keysBefore, "the refresh wrote nothing: the settings are as the up left them");
            assert.ok(!st.text.includes(local.password), "no password in plaintext in the state");
        } finally {
            cut?.heal();
        }
        try {
            // Healed. A sniff link does not reconnect by itself with nothing asking for the remote
            // (measured: see the figure); the refresh asks each node that lost it to try once, so
            // it reports what the link's next use will find: connected on both nodes.
            const t1 = Date.now();
            let reconnectedAlone = true;
            await waitFor("the local nodes to reconnect by themselves", 30_000, async () => (await remoteInfoPerNode(local, alias)).every((n) => n.connected))
                .catch(() => { reconnectedAlone = false; });
            figure(reconnectedAlone
                ? `healed: every local node reconnected by itself after ${((Date.now() - t1) / 1000).toFixed(1)}s`
                : `healed: 30s later the local nodes had NOT reconnected by themselves (${JSON.stringify(await remoteInfoPerNode(local, alias))}); a cross-cluster request reconnects them`);
            const t2 = Date.now();
            const r2 = await runPulumi(p.ws, ["refresh", "--yes"]);
            assert.strictEqual(r2.code, 0, r2.output.slice(-4000));
            // Read from the resource's state: a refresh does not run the program, so the stack's
            // outputs (`pulumi stack output`) keep what the last `up` computed.
            const out2 = await linkOutputs(p);
            assert.deepStrictEqual([out2.connected, out2.nodesConnected, out2.nodesTotal], [true, 2, 2]);
            figure(`refresh right after the heal, before any search: connected ${out2.connected}, nodesConnected ${out2.nodesConnected} of ${out2.nodesTotal} (refresh ${((Date.now() - t2) / 1000).toFixed(1)}s)`);
            assert.deepStrictEqual((await remoteInfoPerNode(local, alias)).map((n) => n.connected), [true, true], "the nodes themselves are connected again");
            assert.deepStrictEqual(await remoteKeys(local, alias), keysBefore, "the refresh wrote nothing");
            // A search through each node (what a user's next query does) finds the remote's document.
            for (let i = 0; i < local.nodes.length; i++) {
                assert.deepStrictEqual(await searchThrough(local, i, alias), { hits: 1, skipped: 0 }, `search through ${local.nodes[i].name} after the heal`);
            }
            const stale = JSON.parse((await pulumi(p.ws, ["stack", "output", "--json"])).stdout);
            figure(`after the refreshes, \`pulumi stack output\` still shows the up's connected: ${stale.connected} (the program did not run); the link's state says ${out2.connected}`);
        } finally {
            const d = await runPulumi(p.ws, ["destroy", "--yes"]);
            assert.strictEqual(d.code, 0, d.output.slice(-4000));
        }
        assert.deepStrictEqual(await remoteKeys(local, alias), {});
    });
});
