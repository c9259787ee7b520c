/**
 * `npm run clusters -- <command>`: local Elasticsearch clusters for the demo, the tests and you.
 *
 *   up [NAME:SPEC ...] [options]   start clusters (default: local:9 remote:8.19)
 *   status                         print the state file and each cluster's health
 *   down [NAME ...]                stop clusters (all by default) by PID, remove their files,
 *                                  namespaces, bridges and proxies
 *   config [NAME ...]              print the clusters as the demo and examples take them
 *                                  (`pulumi config set clusters "$(npm run -s clusters -- config)"`)
 *
 * SPEC: comma-separated nodes, each `VERSION[xN][@ROLE+ROLE...]`:
 *   9              one 9.x node            9x3            three 9.x nodes
 *   8.19,9         a rolling upgrade: an 8.19 node (started first, the master) and a 9.x node
 *   9@master,9x2   a dedicated master and two nodes with every role
 *   9x2,9@master+data+ingest   a third node without remote_cluster_client
 * Versions: 9, 8.19, 8.18 (the rig's pinned versions) or an exact x.y.z.
 *
 * Options: --shared-ca (one transport CA for all clusters), --hosts (each node in its own network
 * namespace with its own address; root), --private-publish=NAME[,NAME] (with --hosts: those
 * clusters publish transport addresses the others cannot route to), --verification-full,
 * --api-key (remote cluster server on 9443, trial license, remote cluster client trusting one
 * shared CA), --proxy (HAProxy routing SNI <name>.rig.test to each cluster's transport ports and
 * <name>-rcs.rig.test to its remote cluster servers), --isolated (implies --hosts: each node on a
 * host of its own — own file system view with Elasticsearch at the packages' paths, own sshd on
 * port 22, admin user `rigadmin` with passwordless sudo; `up` prints each node's ssh command),
 * --bastion (implies --isolated: the nodes' sshd only reachable through a jump host), --heap=MB.
 * The state file (machine-readable JSON) is printed by `status` and lives in $PULUMI_ES_REMOTE_RUN.
 */
import * as fs from "fs";
import * as path from "path";
import { generateCa } from "../provider/certs/pem";
import { ClusterInfo, ES_VERSIONS, rigClient, stopCluster } from "./elasticsearch";
import { createNetwork, destroyNetwork, RigNetwork } from "./netns";
import { ProxyInfo, ProxyRoute, startProxy, stopProxy } from "./proxy";
import { readRigState, stateFile, writeRigState } from "./state";
import { NodeSpec, startTopology, TopologyInfo } from "./topology";

/** Resolves `9`, `8.19`, `8.18` to the pinned patch versions; anything else is taken as is. */
export function resolveVersion(v: string): string {
    const aliases: Record<string, string> = { "9": ES_VERSIONS.v9, "8.19": ES_VERSIONS.v819, "8.18": ES_VERSIONS.v818 };
    return aliases[v] ?? v;
}

/** Parses a SPEC (`9`, `9x3`, `8.19,9`, `9@master,9x2`, `9@master+data+ingest`) into nodes. */
export function parseSpec(spec: string): NodeSpec[] {
    const nodes: NodeSpec[] = [];
    for (const part of spec.split(",")) {
        const m = /^(\d+(?:\.\d+){0,2})(?:x(\d+))?(?:@([a-z_]+(?:\+[a-z_]+)*))?$/.exec(part.trim());
        if (!m) {
            throw new Error(`'${part}' in '${spec}': write each node as VERSION[xN][@ROLE+ROLE], e.g. 9, 9x3, 8.19,9 or 9@master,9x2`);
        }
        const count = m[2] ? Number(m[2]) : 1;
        if (count < 1 || count > 9) throw new Error(`'${part}': between 1 and 9 nodes per element`);
        for (let i = 0; i < count; i++) {
            nodes.push({ version: resolveVersion(m[1]), ...(m[3] ? { roles: m[3].split("+") } : {}) });
        }
    }
    return nodes;
}

/** Parsed `up` arguments. */
export interface UpArgs {
    clusters: Array<{ name: string; nodes: NodeSpec[] }>;
    sharedCa: boolean;
    hosts: boolean;
    privatePublish: string[];
    verificationFull: boolean;
    apiKey: boolean;
    proxy: boolean;
    /** Each node on a host of its own (implies hosts). */
    isolated: boolean;
    /** With isolated: the nodes' sshd behind a bastion (implies isolated). */
    bastion: boolean;
    heapMb?: number;
}

/** Parses the arguments of `up`. */
export function parseUpArgs(args: string[]): UpArgs {
    const flags = args.filter((a) => a.startsWith("--"));
    const known = ["--shared-ca", "--hosts", "--verification-full", "--api-key", "--proxy", "--isolated", "--bastion"];
    const out: UpArgs = { clusters: [], sharedCa: false, hosts: false, privatePublish: [], verificationFull: false, apiKey: false, proxy: false, isolated: false, bastion: false };
    for (const f of flags) {
        const [k, v] = f.split("=", 2);
        if (k === "--private-publish" && v) out.privatePublish = v.split(",");
        else if (k === "--heap" && v && /^\d+$/.test(v)) out.heapMb = Number(v);
        else if (known.includes(f)) {
            out.sharedCa ||= f === "--shared-ca";
            out.hosts ||= f === "--hosts";
            out.verificationFull ||= f === "--verification-full";
            out.apiKey ||= f === "--api-key";
            out.proxy ||= f === "--proxy";
            out.bastion ||= f === "--bastion";
            out.isolated ||= f === "--isolated" || f === "--bastion";
            out.hosts ||= out.isolated;
        } else {
            throw new Error(`unknown option '${f}': use ${known.join(", ")}, --private-publish=NAME[,NAME], --heap=MB`);
        }
    }
    const specs = args.filter((a) => !a.startsWith("--"));
    for (const s of specs.length ? specs : ["local:9", "remote:8.19"]) {
        const i = s.indexOf(":");
        const name = s.slice(0, i);
        if (i < 1 || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
            throw new Error(`'${s}': write clusters as NAME:SPEC, e.g. local:9 remote:8.19 or local:9x3 (names: lowercase letters, digits, '-')`);
        }
        if (out.clusters.some((c) => c.name === name)) throw new Error(`cluster '${name}' is given twice`);
        out.clusters.push({ name, nodes: parseSpec(s.slice(i + 1)) });
    }
    for (const n of out.privatePublish) {
        if (!out.clusters.some((c) => c.name === n)) throw new Error(`--private-publish=${n}: no cluster named '${n}' in this 'up'`);
    }
    if (out.privatePublish.length && !out.hosts) throw new Error("--private-publish needs --hosts (or --isolated)");
    return out;
}

async function up(args: string[]): Promise<void> {
    const a = parseUpArgs(args);
    const state = readRigState();
    for (const w of a.clusters) {
        if (state.clusters.some((c) => c.name === w.name)) {
            throw new Error(`a cluster named '${w.name}' is already running (see 'npm run clusters -- status'); stop it with 'down ${w.name}'`);
        }
    }
    const transportCa = a.sharedCa ? await generateCa({ commonName: "rig shared transport CA" }) : undefined;
    const rcsCa = a.apiKey ? await generateCa({ commonName: "rig shared remote cluster server CA" }) : undefined;
    const network: RigNetwork | undefined = a.hosts ? createNetwork({ persistent: true }) : undefined;
    if (network) {
        state.networks.push(network);
        writeRigState(state); // so 'down' finds the bridge even if 'up' is killed
    }
    // Clusters start in parallel: on 2 cores this still saves most of the JVM start-up time.
    const results = await Promise.allSettled(a.clusters.map((w) => startTopology({
        name: w.name,
        nodes: w.nodes,
        transportCa,
        hosts: network ?? false,
        isolated: a.bastion ? { bastion: true } : a.isolated,
        privatePublish: a.privatePublish.includes(w.name),
        verificationMode: a.verificationFull ? "full" : "certificate",
        certificateSans: a.proxy ? { dnsNames: [`${w.name}.rig.test`, `${w.name}-rcs.rig.test`] } : undefined,
        remoteClusterServer: rcsCa ? { ca: rcsCa } : undefined,
        license: a.apiKey ? "trial" : undefined,
        remoteClusterClient: rcsCa ? { trustedCaPems: [rcsCa.certPem] } : undefined,
        heapMb: a.heapMb,
        persistent: true,
    })));
    const started = results.filter((r): r is PromiseFulfilledResult<TopologyInfo> => r.status === "fulfilled").map((r) => r.value);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    let proxy: ProxyInfo | undefined;
    if (!failed.length && a.proxy) {
        const routes: ProxyRoute[] = started.flatMap((c) => [
            { serverName: `${c.name}.rig.test`, cluster: c },
            ...(a.apiKey ? [{ serverName: `${c.name}-rcs.rig.test`, cluster: c, target: "remote_cluster_server" as const }] : []),
        ]);
        try {
            proxy = await startProxy({ name: `proxy-${process.pid}`, routes, persistent: true });
        } catch (e) {
            failed.push({ status: "rejected", reason: e });
        }
    }
    if (failed.length) {
        await Promise.all(started.map((c) => stopCluster(c)));
        if (network) {
            destroyNetwork(network);
            writeRigState({ ...readRigState(), networks: readRigState().networks.filter((n) => n.id !== network.id) });
        }
        throw new Error(failed.map((f) => (f.reason as Error).message).join("\n"));
    }
    const now = readRigState();
    writeRigState({ clusters: [...now.clusters, ...started], networks: now.networks, proxies: [...now.proxies, ...(proxy ? [proxy] : [])] });
    for (const c of started) {
        console.log(`${c.name}: Elasticsearch ${[...new Set(c.nodes.map((n) => n.version))].join(" + ")}, ${c.nodes.length} node(s), up in ${c.startSeconds}s; user ${c.username}, HTTP CA ${c.httpCaFile}`);
        for (const n of c.nodes) {
            console.log(`  ${n.name} ${n.version} [${n.roles.join(",")}] ${n.url} transport ${n.transportAddress} (publishes ${n.publishTransportAddress})` +
                `${n.remoteClusterServerAddress ? ` remote-cluster-server ${n.remoteClusterServerAddress}` : ""}${n.namespace ? ` netns ${n.namespace}` : ""} pid ${n.pid}`);
            if (n.ssh) {
                const jump = c.bastion ? ` -J ${c.bastion.user}@${c.bastion.host}` : "";
                console.log(`    ssh -F ${c.sshConfigFile}${jump} ${n.ssh.user}@${n.ssh.host}   (host key ${n.ssh.hostKeyFingerprint}; as root: ${n.commandAccess!.join(" ")} <cmd>)`);
            }
        }
        if (c.bastion) {
            console.log(`  bastion ${c.bastion.host}:22 (host key ${c.bastion.hostKeyFingerprint}), admin segment ${c.bastion.adminIp}/28`);
        }
    }
    if (proxy) {
        console.log(`proxy: HAProxy at ${proxy.address} (pid ${proxy.pid}); SNI routes: ${proxy.routes.map((r) => `${r.serverName} → ${r.backends.join(" ")}`).join("; ")}`);
    }
    console.log(`state file: ${stateFile()}`);
}

async function status(): Promise<void> {
    const state = readRigState();
    const report = await Promise.all(state.clusters.map(async (c) => {
        const client = rigClient(c);
        try {
            const h = await client.cluster.health();
            return { ...c, password: "<in state file>", health: h.status, nodesJoined: h.number_of_nodes };
        } catch (e) {
            return { ...c, password: "<in state file>", health: `unreachable: ${(e as Error).message}` };
        } finally {
            await client.close();
        }
    }));
    console.log(JSON.stringify({ stateFile: stateFile(), clusters: report, proxies: state.proxies, networks: state.networks }, null, 2));
}

/** The `clusters` config value of the demo and the examples, for running clusters. */
export function exampleConfig(clusters: ClusterInfo[]): Array<Record<string, string>> {
    return clusters.map((c) => ({
        name: c.name,
        url: c.url,
        transportAddress: c.transportAddress,
        nodeName: c.nodeName,
        certsDir: path.join(c.configDir, "certs"),
        httpCaPem: fs.readFileSync(c.httpCaFile, "utf8"),
    }));
}

function config(names: string[]): void {
    const state = readRigState().clusters;
    const chosen = names.length ? names.map((n) => {
        const c = state.find((x) => x.name === n);
        if (!c) throw new Error(`no running cluster named '${n}'`);
        return c;
    }) : state;
    console.log(JSON.stringify(exampleConfig(chosen)));
}

async function down(names: string[]): Promise<void> {
    const state = readRigState();
    const stopping = names.length ? state.clusters.filter((c) => names.includes(c.name)) : state.clusters;
    for (const n of names) {
        if (!state.clusters.some((c) => c.name === n)) {
            console.error(`no running cluster named '${n}'`);
        }
    }
    await Promise.all(stopping.map(async (c) => {
        await stopCluster(c);
        console.log(`stopped ${c.name} (pid ${[...new Set([c.pid, ...((c as TopologyInfo).nodes ?? []).map((n) => n.pid)])].join(", ")})`);
    }));
    const clusters = state.clusters.filter((c) => !stopping.includes(c));
    // A proxy goes when none of the clusters it routes to is left.
    const proxiesLeft: ProxyInfo[] = [];
    for (const p of state.proxies) {
        if (p.routes.some((r) => clusters.some((c) => c.name === r.cluster))) {
            proxiesLeft.push(p);
        } else {
            await stopProxy(p);
            console.log(`stopped proxy ${p.name} (pid ${p.pid})`);
        }
    }
    // A network goes when no cluster or proxy uses it.
    const networksLeft: RigNetwork[] = [];
    for (const n of state.networks) {
        const used = clusters.some((c) => (c as TopologyInfo).network?.id === n.id) || proxiesLeft.some((p) => p.namespace?.startsWith(`${n.prefix}-`));
        if (used) {
            networksLeft.push(n);
        } else {
            destroyNetwork(n);
            console.log(`removed network ${n.bridge} (198.18.${n.index}.0/24)`);
        }
    }
    writeRigState({ clusters, networks: networksLeft, proxies: proxiesLeft });
}

async function main(argv: string[]): Promise<void> {
    const [cmd, ...rest] = argv;
    switch (cmd) {
        case "up":
            return up(rest);
        case "status":
            return status();
        case "down":
            return down(rest);
        case "config":
            return config(rest);
        default:
            console.error("usage: npm run clusters -- up [NAME:SPEC ...] [--shared-ca] [--hosts] [--isolated] [--bastion] [--private-publish=NAME] [--verification-full] [--api-key] [--proxy] [--heap=MB]" +
                " | status | down [NAME ...] | config [NAME ...]\n  SPEC: VERSION[xN][@ROLE+ROLE] joined by ',', e.g. 9, 9x3, 8.19,9, 9@master,9x2");
            process.exitCode = 2;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((e) => {
        console.error((e as Error).message);
        process.exitCode = 1;
    });
}
