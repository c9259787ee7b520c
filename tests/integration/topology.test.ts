/**
 * RemoteClusterLink on real topologies (issue: per-node verdicts): clusters of several nodes, a
 * local cluster in the middle of a rolling upgrade, nodes on their own hosts whose publish
 * addresses the other side cannot route to, a real SNI proxy, and one node serving a certificate
 * from a CA nobody trusts. Each test starts the clusters it needs (lazily shared) and the suite
 * stops them by PID; start times are printed for the report.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { Client } from "@elastic/elasticsearch";
import { generateCa, issueNodeCertificate } from "../../provider/certs/pem";
import { RemoteNotConnectedError } from "../../provider/core/errors";
import { clearProbeMemo } from "../../provider/link/probe";
import * as link from "../../provider/remoteClusterLink";
import { ClusterInfo, ES_VERSIONS } from "../../rig/elasticsearch";
import { ProxyInfo, startProxy, stopProxy } from "../../rig/proxy";
import { nodeClient, startTopology, stopTopology, TopologyInfo, TopologyOptions } from "../../rig/topology";
import { connectionTo, remoteKeys } from "../support/connections";
import { pool, sharedTransportCa } from "../support/pool";
import { warningsOf } from "../support/assertions";

const HEAP = 384;
const isRoot = process.getuid?.() === 0;

const started = new Map<string, Promise<TopologyInfo>>();
const proxies: ProxyInfo[] = [];

/** Starts (once per run) a topology; prints its start time. */
function topology(opts: TopologyOptions): Promise<TopologyInfo> {
    if (!started.has(opts.name)) {
        const t0 = Date.now();
        started.set(opts.name, startTopology({ heapMb: HEAP, ...opts }).then((t) => {
            console.log(`      [topology] ${opts.name}: ${t.nodes.map((n) => `${n.name} ${n.version} [${n.roles.join(",")}]`).join("; ")}${opts.hosts ? " (--hosts)" : ""} started in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
            return t;
        }));
    }
    return started.get(opts.name)!;
}

function inputs(local: ClusterInfo, remote: ClusterInfo, extra: Record<string, unknown>): link.LinkInputs {
    return { local: connectionTo(local), remote: connectionTo(remote), alias: "x", mode: "sniff", seeds: [remote.transportAddress], ...extra } as link.LinkInputs;
}

/** Cross-cluster search through one local node: the hits it finds of the remote's test index. */
async function searchThrough(t: TopologyInfo, node: number, alias: string): Promise<{ hits: number; skipped: number }> {
    const c: Client = nodeClient(t, node);
    try {
        const r = await c.search({ index: `${alias}:topo`, size: 0, track_total_hits: true });
        const total = typeof r.hits.total === "number" ? r.hits.total : r.hits.total?.value ?? 0;
        return { hits: total, skipped: r._clusters?.skipped ?? 0 };
    } finally {
        await c.close();
    }
}

async function seed(remote: ClusterInfo): Promise<void> {
    const { rigClient } = await import("../../rig/elasticsearch");
    const c = rigClient(remote);
    try {
        await c.index({ index: "topo", id: "1", document: { n: 1 }, refresh: true });
    } finally {
        await c.close();
    }
}

describe("RemoteClusterLink on real topologies", function () {
    this.timeout(900_000);
    const suiteStart = Date.now();
    beforeEach(() => clearProbeMemo());
    after(async () => {
        await Promise.all(proxies.map((p) => stopProxy(p)));
        const all = await Promise.allSettled([...started.values()]);
        started.clear();
        await Promise.all(all.map((r) => (r.status === "fulfilled" ? stopTopology(r.value) : undefined)));
        console.log(`      [topology] suite time ${((Date.now() - suiteStart) / 1000).toFixed(1)}s`);
    });

    /** Local cluster mid rolling upgrade: an 8.19 node (master, started first) and a 9.x node. */
    const rolling = async () => topology({ name: "tl-rolling", nodes: [{ version: ES_VERSIONS.v819 }, { version: ES_VERSIONS.v9 }], transportCa: await sharedTransportCa() });

    it("rolling upgrade: local 8.19 + 9.x nodes, remote 8.18 → refused at preview naming the 9.x node; nothing written", async function () {
        const [local, [v818]] = await Promise.all([rolling(), pool("v818")]);
        const checked = await link.check({}, inputs(local, v818, { alias: "roll_818" }));
        const versions = checked.failures.filter((f) => f.property === "remote.urls");
        assert.strictEqual(versions.length, 1, JSON.stringify(checked.failures));
        const nine = local.nodes.find((n) => n.version === ES_VERSIONS.v9)!;
        const old = local.nodes.find((n) => n.version === ES_VERSIONS.v819)!;
        assert.match(versions[0].reason, new RegExp(`local node ${nine.name} \\(${ES_VERSIONS.v9.replace(/\./g, "\\.")}\\) cannot talk to remote node \\S+ \\(${ES_VERSIONS.v818.replace(/\./g, "\\.")}\\)`));
        assert.ok(!versions[0].reason.includes(`${old.name} (`), "the 8.19 node can talk to 8.18: not named");
        assert.match(versions[0].reason, /Nothing was written\.$/);
        // The minimum version of the local cluster (8.19) alone would have passed this pair.
        assert.deepStrictEqual(await remoteKeys(local, "roll_818"), {});
    });

    it("rolling upgrade: local 8.19 + 9.x nodes, remote 9.x → accepted, and both local nodes connect and search", async function () {
        const [local, [v9]] = await Promise.all([rolling(), pool("v9")]);
        await seed(v9);
        const checked = await link.check({}, inputs(local, v9, { alias: "roll_9", skipUnavailable: false }));
        assert.deepStrictEqual(checked.failures, []);
        const created = await link.create(checked.inputs);
        try {
            assert.strictEqual(created.outs.connected, true);
            assert.deepStrictEqual([created.outs.nodesConnected, created.outs.nodesTotal], [2, 2]);
            for (let i = 0; i < local.nodes.length; i++) {
                assert.deepStrictEqual(await searchThrough(local, i, "roll_9"), { hits: 1, skipped: 0 }, `search through ${local.nodes[i].name}`);
            }
        } finally {
            await link.delete(created.id, created.outs);
        }
    });

    /** 3 nodes each side, one transport CA. */
    const threeByThree = async () => {
        const ca = await sharedTransportCa();
        return Promise.all([
            topology({ name: "tl-three", nodes: [{ version: ES_VERSIONS.v9 }, { version: ES_VERSIONS.v9 }, { version: ES_VERSIONS.v9 }], transportCa: ca }),
            topology({ name: "tr-three", nodes: [{ version: ES_VERSIONS.v9 }, { version: ES_VERSIONS.v9 }, { version: ES_VERSIONS.v9 }], transportCa: ca }),
        ]);
    };

    it("3 nodes each side, sniff: every local node connects to nodeConnections gateways and searches the remote", async function () {
        const [local, remote] = await threeByThree();
        await seed(remote);
        const checked = await link.check({}, inputs(local, remote, { alias: "three", nodeConnections: 2, skipUnavailable: false }));
        assert.deepStrictEqual(checked.failures, []);
        const created = await link.create(checked.inputs);
        try {
            assert.strictEqual(created.outs.connected, true);
            assert.deepStrictEqual([created.outs.nodesConnected, created.outs.nodesTotal], [3, 3]);
            assert.strictEqual(created.outs.numNodesConnected, 2, "each local node holds nodeConnections gateway connections");
            for (let i = 0; i < 3; i++) {
                assert.deepStrictEqual(await searchThrough(local, i, "three"), { hits: 1, skipped: 0 }, `search through ${local.nodes[i].name}`);
            }
            const r = await link.read(created.id, created.outs);
            assert.deepStrictEqual([r.props!.connected, r.props!.nodesConnected, r.props!.nodesTotal], [true, 3, 3]);
        } finally {
            await link.delete(created.id, created.outs);
        }
    });

    it("trust: one remote node of three serving a transport certificate from another CA → the preview names that node", async function () {
        const [local, remote] = await threeByThree();
        const bad = remote.nodes[1];
        const certs = path.join(bad.configDir, "certs");
        const keep = { crt: fs.readFileSync(path.join(certs, "transport.crt"), "utf8"), key: fs.readFileSync(path.join(certs, "transport.key"), "utf8") };
        const foreign = await generateCa({ commonName: "topology foreign CA" });
        const leaf = await issueNodeCertificate(foreign, { commonName: bad.name, dnsNames: [bad.name], ipAddresses: [bad.ip] });
        const write = (file: string, text: string) => {
            const st = fs.statSync(file);
            fs.writeFileSync(file, text);
            fs.chownSync(file, st.uid, st.gid);
        };
        // The node reloads its PEM files when they change (every 5 s by default).
        write(path.join(certs, "transport.key"), leaf.keyPem);
        write(path.join(certs, "transport.crt"), leaf.certPem);
        try {
            const c = nodeClient(remote, 1);
            try {
                const deadline = Date.now() + 60_000;
                for (;;) {
                    const list = await c.transport.request<Array<{ issuer?: string }>>({ method: "GET", path: "/_ssl/certificates" });
                    if (list.some((x) => x.issuer?.includes("topology foreign CA"))) break;
                    if (Date.now() > deadline) assert.fail("the node did not reload its transport certificate within 60s");
                    await new Promise((r) => setTimeout(r, 1000));
                }
            } finally {
                await c.close();
            }
            const checked = await link.check({}, inputs(local, remote, { alias: "foreign_node" }));
            const trust = checked.failures.filter((f) => f.property === "local.urls");
            assert.strictEqual(trust.length, 1, JSON.stringify(checked.failures));
            assert.match(trust[0].reason, new RegExp(`issuer "CN=topology foreign CA", presented by remote node ${bad.name};`));
            for (const ok of [remote.nodes[0], remote.nodes[2]]) assert.ok(!trust[0].reason.includes(`node ${ok.name}`), `${ok.name} is fine`);
        } finally {
            write(path.join(certs, "transport.key"), keep.key);
            write(path.join(certs, "transport.crt"), keep.crt);
        }
    });

    (isRoot ? it : it.skip)("separate hosts, remote publish addresses the local host cannot route to: sniff fails saying so; proxy mode through the real proxy connects and searches", async function () {
        const ca = await sharedTransportCa();
        const [remote, local] = await Promise.all([
            topology({ name: "tr-private", nodes: [{ version: ES_VERSIONS.v9 }], hosts: true, privatePublish: true, transportCa: ca, certificateSans: { dnsNames: ["tr-private.rig.test"] } }),
            topology({ name: "tl-hosts", nodes: [{ version: ES_VERSIONS.v9 }], hosts: true, transportCa: ca }),
        ]);
        await seed(remote);
        const sniff = inputs(local, remote, { alias: "unroutable", connectionTimeoutSeconds: 20 });
        assert.deepStrictEqual((await link.check({}, sniff)).failures, []);
        await assert.rejects(link.create(sniff), (e: Error) => {
            assert.ok(e instanceof RemoteNotConnectedError, `${e.name}: ${e.message}`);
            assert.match(e.message, new RegExp(`publish \\(${remote.nodes[0].publishTransportAddress.replace(/\./g, "\\.")}\\)`));
            assert.match(e.message, /use mode: "proxy" with proxyAddress/);
            assert.match(e.message, /0 of 1 local node\(s\) with the remote_cluster_client role connected: local node \S+ \(tried /);
            return true;
        });
        assert.deepStrictEqual(await remoteKeys(local, "unroutable"), {}, "the failed create took its settings back");

        const proxy = await startProxy({ name: "tp", routes: [{ serverName: "tr-private.rig.test", cluster: remote }] });
        proxies.push(proxy);
        const viaProxy = { ...inputs(local, remote, { alias: "proxied", skipUnavailable: false }), seeds: undefined, mode: "proxy", proxyAddress: proxy.address, serverName: "tr-private.rig.test" } as link.LinkInputs;
        const checked = await link.check({}, viaProxy);
        assert.deepStrictEqual(checked.failures, []);
        const created = await link.create(checked.inputs);
        try {
            assert.strictEqual(created.outs.connected, true);
            assert.ok(created.outs.numProxySocketsConnected! >= 1);
            assert.deepStrictEqual(await searchThrough(local, 0, "proxied"), { hits: 1, skipped: 0 });
        } finally {
            await link.delete(created.id, created.outs);
        }
    });

    it("verification_mode full: SANs without the dialled address → the preview warns naming it, and the real nodes refuse the handshake; SANs right → connects", async function () {
        const ca = await sharedTransportCa();
        const [local, wrong, right] = await Promise.all([
            topology({ name: "tl-full", nodes: [{ version: ES_VERSIONS.v9 }], verificationMode: "full", transportCa: ca }),
            topology({ name: "tr-full-names", nodes: [{ version: ES_VERSIONS.v9 }], verificationMode: "full", transportCa: ca, certificateSans: { addresses: false } }),
            topology({ name: "tr-full-ok", nodes: [{ version: ES_VERSIONS.v9 }], verificationMode: "full", transportCa: ca }),
        ]);
        const warned = async (fn: () => Promise<unknown>) =>
            (await warningsOf(fn)).filter((m) => m.includes("is not in the certificate's SANs"));
        const host = wrong.transportAddress.split(":")[0];
        const bad = inputs(local, wrong, { alias: "full_wrong", connectionTimeoutSeconds: 15 });
        const w = await warned(() => link.check({}, bad));
        assert.strictEqual(w.length, 1, JSON.stringify(w));
        assert.match(w[0], new RegExp(`${host.replace(/\./g, "\\.")} \\(seeds\\[0\\]\\) is not in the certificate's SANs \\(DNS:`));
        // The nodes agree: the handshake fails and the link never connects.
        await assert.rejects(link.create(bad), (e: Error) => e instanceof RemoteNotConnectedError);

        const good = inputs(local, right, { alias: "full_ok" });
        assert.deepStrictEqual(await warned(() => link.check({}, good)), []);
        const created = await link.create(good);
        try {
            assert.strictEqual(created.outs.connected, true);
        } finally {
            await link.delete(created.id, created.outs);
        }
    });

    it("an alias defined in elasticsearch.yml is not free: the preview names the layer; adoptExisting takes it over and drift reads the persistent keys over it", async function () {
        const [[v9], local] = await Promise.all([
            pool("v9"),
            topology({ name: "tl-yml", nodes: [{ version: ES_VERSIONS.v9 }], transportCa: await sharedTransportCa(), extraSettings: { "cluster.remote.from_yml.seeds": ["127.0.0.1:9"] } }),
        ]);
        const refused = await link.check({}, inputs(local, v9, { alias: "from_yml" }));
        assert.strictEqual(refused.failures[0]?.property, "alias", JSON.stringify(refused.failures));
        assert.match(refused.failures[0].reason, /already has a remote cluster 'from_yml' \(sniff 127\.0\.0\.1:9; set in elasticsearch\.yml\)/);
        assert.deepStrictEqual(await remoteKeys(local, "from_yml"), {});

        const adopt = inputs(local, v9, { alias: "from_yml", adoptExisting: true });
        assert.deepStrictEqual((await link.check({}, adopt)).failures, []);
        const created = await link.create(adopt);
        try {
            assert.strictEqual(created.outs.connected, true, "the persistent seeds override the yml ones");
            const r = await link.read(created.id, created.outs);
            assert.deepStrictEqual((r.inputs as unknown as link.LinkInputs).seeds, [v9.transportAddress]);
        } finally {
            await link.delete(created.id, created.outs);
        }
    });
});
