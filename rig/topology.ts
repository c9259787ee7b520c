/**
 * Real topologies for tests: clusters of several nodes, of mixed versions (a rolling upgrade),
 * on loopback or each node on its own "host" (a network namespace with its own address, see
 * rig/netns.ts) — with `isolated`, a host that really is separate: its own file system view, sshd
 * and users (rig/hostfs.ts) —, with hostname verification, and with the API-key model's remote
 * cluster server.
 *
 * A {@link TopologyInfo} is also a {@link ClusterInfo} (its top-level fields describe the first
 * data-capable node), so everything that takes a single-node cluster takes a topology too.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Client } from "@elastic/elasticsearch";
import { generateCa, issueNodeCertificate, IssuedCa } from "../provider/certs/pem";
import {
    alive, checkRunFolder, ClusterInfo, descendants, ELASTIC_PASSWORD_DEFAULT, ensureDistribution, ensureEsUser, findJavaHome,
    freePort, killTree, launch, nodeEnv, readPid, readTail, runAs, sleep, securitySettings, warmUpSecurityIndex, writeFile, writeNodeCertificates, yamlValue,
} from "./elasticsearch";
import { trackProcess, trackResources, untrackResources } from "./lifetime";
import {
    commandAccessOf, createKeystore, freeIds, HostFs, HostUser, hostPidFile, launchInHost, mkdirUpper, mountHostFs, NODE_PATHS, ownElasticsearchFolders,
    prepareHostFs, removeHostFs, requireIsolationSupport, SshEndpoint, SshUserKey, startHostSshd, stopSshdPid, upperPath,
} from "./hostfs";
import {
    addAdminSegment, addHost, AdminSegment, attachToAdminSegment, defaultNetwork, Endpoints, ensureMaxMapCount, removeHost, requireRootForHosts,
    reservePrivateBlock, RigNetwork,
} from "./netns";
import { runRoot } from "./paths";
import { generateClientKey } from "./sshd";

/** The login of the admin user of isolated hosts (key only, sudo without a password). */
export const ADMIN_USER = "rigadmin";
/** A user of isolated hosts whose sudo asks for a password (none is ever accepted): for refusal tests. */
export const PASSWORD_SUDO_USER = "rigpwsudo";

/** One node of a topology. */
export interface NodeSpec {
    /** Elasticsearch version (exact x.y.z; the CLI resolves aliases such as 9 or 8.19). */
    version: string;
    /**
     * `node.roles`, exactly. Default: every role the distribution has. E.g. `["master"]` for a
     * dedicated master, `["master", "data", "ingest"]` for a node without `remote_cluster_client`
     * (it never connects to remote clusters).
     */
    roles?: string[];
}

/** Options for {@link startTopology}. */
export interface TopologyOptions {
    /** `cluster.name`; nodes are `<name>-node-<i>`. Lowercase letters, digits, '-'. */
    name: string;
    /**
     * The nodes. Sorted by version (stable) before start: the oldest starts first, is the only
     * `cluster.initial_master_nodes` entry and so the elected master, as in a rolling upgrade.
     * The others start in parallel once it answers.
     */
    nodes: NodeSpec[];
    /** Prepend a dedicated master (`node.roles: [master]`) of the oldest version. Default false. */
    dedicatedMaster?: boolean;
    /**
     * Each node in its own network namespace with its own address (ports 9200/9300/9443), on a rig
     * network; `true` = this process's shared network (clusters that must reach each other share
     * one). Needs root. Default false: loopback, free ports.
     */
    hosts?: boolean | RigNetwork;
    /**
     * With `hosts`: the nodes publish transport (and remote cluster server) addresses from a private
     * block routed only between this cluster's own namespaces, while their shared-segment address
     * still answers (seeds, proxies, HTTP). Other clusters find the seed, then fail on the published
     * gateway addresses — the case proxy mode exists for. Default false.
     */
    privatePublish?: boolean;
    /**
     * Each node on a host that really is separate (implies `hosts`; root): its own mount namespace
     * with overlays on /etc, /usr/share, /var/lib, /var/log, /home and /root and its own /run and
     * /tmp, Elasticsearch at the packages' paths (/usr/share/elasticsearch, /etc/elasticsearch,
     * /var/lib/elasticsearch, /var/log/elasticsearch), its own sshd on port 22 with its own host key,
     * an admin user (`rigadmin`: key only, sudo without a password) and a user whose sudo asks for a
     * password (`rigpwsudo`), both existing only inside the hosts. See {@link NodeInfo.ssh},
     * {@link NodeInfo.commandAccess}, rig/hostfs.ts.
     *
     * `{ bastion: true }` adds a jump host: the nodes' sshd listen only on an admin segment the host
     * has no address on; the bastion (its own sshd, the admin user, TCP forwarding on) is on both,
     * and {@link TopologyInfo.bastion} says how to reach it (`ssh -J`). Fails before anything is
     * started if the host has /etc/elasticsearch or another of the packages' paths.
     * @default false
     */
    isolated?: boolean | { bastion?: boolean };
    /** `xpack.security.transport.ssl.verification_mode` (and the remote cluster client's). Default "certificate". */
    verificationMode?: "full" | "certificate";
    /**
     * SANs of the transport and remote-cluster-server certificates: each node's addresses (IP SANs,
     * default true) and names (`<node name>` always, plus `dnsNames`, e.g. a proxy's server name).
     * `addresses: false` makes certificates that fail hostname verification by address.
     */
    certificateSans?: { addresses?: boolean; dnsNames?: string[] };
    /** CA of the transport certificates; a fresh one if absent. */
    transportCa?: IssuedCa;
    /** Extra CA PEMs the nodes trust on the transport layer. */
    extraTrustedCaPems?: string[];
    /** CA of the HTTP certificates; a fresh one if absent. */
    httpCa?: IssuedCa;
    /**
     * API-key model, remote side: `remote_cluster_server.enabled: true` on every node, its own port
     * (9443 with `hosts`, a free port on loopback) and its own certificate from `ca` (fresh if absent)
     * via `xpack.security.remote_cluster_server.ssl.*`.
     */
    remoteClusterServer?: boolean | { ca?: IssuedCa };
    /** `xpack.license.self_generated.type`; "trial" enables the API-key model (Enterprise features). */
    license?: "trial" | "basic";
    /**
     * API-key model, local side: `xpack.security.remote_cluster_client.ssl.enabled: true` and
     * `certificate_authorities: certs/remote-cluster-ca.crt` in each node's config dir, holding
     * `trustedCaPems` (default: this cluster's own remote-cluster-server CA, else its transport CA —
     * Elasticsearch needs a readable file; replace it later, it is reloaded when it changes).
     */
    remoteClusterClient?: boolean | { trustedCaPems?: string[] };
    password?: string;
    /** Parent folder of the cluster's files. Default: the run root (PULUMI_ES_REMOTE_RUN). */
    parentDir?: string;
    /** Heap per node in MB. Default 512 (384–512 is enough for tests). */
    heapMb?: number;
    startTimeoutSeconds?: number;
    /** Extra elasticsearch.yml lines for every node. */
    extraSettings?: Record<string, string | number | boolean | string[]>;
    log?: (msg: string) => void;
    /** Outlive this process (the CLI). Default false: tied to this process's life. */
    persistent?: boolean;
}

/** One started node. */
export interface NodeInfo {
    name: string;
    version: string;
    /** Roles as the node reports them (`GET _nodes`). */
    roles: string[];
    /** HTTPS URL of this node's HTTP layer. */
    url: string;
    /** The node's own address: 127.0.0.1, or its namespace's address with `hosts`. */
    ip: string;
    /** Its private address (with `privatePublish`). */
    privateIp?: string;
    httpPort: number;
    transportPort: number;
    /** `ip:transportPort`: reachable from the host and every rig namespace (a seed, a proxy backend). */
    transportAddress: string;
    /** The transport publish address the node advertises (`GET _nodes`): what sniff mode connects to. */
    publishTransportAddress: string;
    /** `ip:port` of the remote cluster server (API-key model), if enabled. */
    remoteClusterServerAddress?: string;
    /** The remote cluster server's publish address as the node reports it. */
    remoteClusterServerPublishAddress?: string;
    /** Network namespace (with `hosts`); run tools inside with `ip netns exec <namespace> …`. */
    namespace?: string;
    /** Host side of the node's veth pair (with `hosts`). */
    hostVeth?: string;
    /** The node's own folder (config, data, logs, tmp); with `isolated`, its backing folder ({@link hostDir}). */
    dir: string;
    /** ES_PATH_CONF; certificates in `<configDir>/certs`. With `isolated`, `/etc/elasticsearch`, a path inside the node. */
    configDir: string;
    /** ES_HOME: the cached distribution's folder; with `isolated`, `/usr/share/elasticsearch` (inside the node). Absent in old state files. */
    esHome?: string;
    /**
     * With `isolated`: the node's backing folder on the host (overlay layers, `console.log`, the PID
     * file in `run/`, the sshd folder). For the rig's diagnostics only: a test of the product reads
     * and writes the node through {@link ssh} or {@link commandAccess}.
     */
    hostDir?: string;
    /** With `isolated`: the file the node's mount namespace is bound to. */
    mountNamespace?: string;
    /** With `isolated`: the admin user's SSH login (port 22 on {@link ip}, or on {@link adminIp} through the bastion). */
    ssh?: SshEndpoint;
    /** With `isolated`: a second login on the same sshd whose `sudo` asks for a password (never accepted). */
    sshPasswordSudoUser?: SshUserKey;
    /** With `isolated`: argv prefix that runs a command as root inside the node (`nsenter --mount=… --net=… --`). */
    commandAccess?: string[];
    /** With a bastion: the node's address on the admin segment, where its sshd listens (not reachable from the host). */
    adminIp?: string;
    /** With `isolated`: PID of the node's sshd. */
    sshdPid?: number;
    /** The file the remote cluster client trusts (`certs/remote-cluster-ca.crt`), if enabled. */
    remoteClusterCaFile?: string;
    /** PID of the launcher the rig started (leader of the node's process group). */
    pid: number;
    serverPid?: number;
    /** Every process of the node once started (launcher, server JVM). */
    pids: number[];
    javaHome: string;
}

/** A started topology: a {@link ClusterInfo} (fields of the first data-capable node) plus every node. */
export interface TopologyInfo extends ClusterInfo {
    nodes: NodeInfo[];
    /** The rig network, with `hosts`. */
    network?: RigNetwork;
    verificationMode: "full" | "certificate";
    /** PEM file of the CA that signed the remote cluster server certificates (API-key model). */
    remoteClusterServerCaFile?: string;
    /** Trial or basic, when set. */
    license?: "trial" | "basic";
    persistent: boolean;
    /** Seconds from the call to a healthy cluster (all nodes joined, `.security` ready). */
    startSeconds: number;
    /** Started with `isolated` (the CA files above are then copies in {@link dir}/ca, the node's own are inside it). */
    isolated?: boolean;
    /** With `isolated: { bastion: true }`: the jump host (the same admin user and key as the nodes). */
    bastion?: BastionInfo;
    /** With `isolated`: known_hosts with every node's (and the bastion's) pinned host key. */
    knownHostsFile?: string;
    /**
     * With `isolated`: an OpenSSH client config (the admin key, {@link knownHostsFile}, strict host
     * key checking, batch mode) for `ssh -F <file> [-J rigadmin@<bastion>] rigadmin@<node>`;
     * `-F` also reaches the jump connection, which command-line `-o` options do not.
     */
    sshConfigFile?: string;
}

/** The bastion of an isolated topology: its SSH login plus what the rig needs to remove it. */
export interface BastionInfo extends SshEndpoint {
    /** Its network namespace (its leg on the rig network is {@link host}). */
    namespace: string;
    hostVeth: string;
    /** Its address on the admin segment. */
    adminIp: string;
    mountNamespace: string;
    hostDir: string;
    sshdPid: number;
    /** Argv prefix that runs a command as root inside the bastion. */
    commandAccess: string[];
}

const log0 = (msg: string): void => {
    process.stderr.write(`[rig] ${msg}\n`);
};

function cmpVersion(a: string, b: string): number {
    const pa = a.split(/[.-]/).map(Number);
    const pb = b.split(/[.-]/).map(Number);
    for (let i = 0; i < 3; i++) {
        if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) - (pb[i] || 0);
    }
    return 0;
}

const masterOnly = (roles?: string[]) => !!roles && roles.length > 0 && !roles.some((r) => r.startsWith("data"));
const masterEligible = (roles?: string[]) => !roles || roles.includes("master");

function validate(opts: TopologyOptions): void {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(opts.name ?? "")) {
        throw new Error(`name: '${opts.name}' — use lowercase letters, digits and '-' (it becomes cluster.name and part of node and namespace names)`);
    }
    if (!Array.isArray(opts.nodes) || opts.nodes.length === 0) {
        throw new Error("nodes: give at least one node, e.g. nodes: [{ version: \"9.5.4\" }]");
    }
    for (const [i, n] of opts.nodes.entries()) {
        if (!/^\d+\.\d+\.\d+/.test(n.version ?? "")) {
            throw new Error(`nodes[${i}].version: '${n.version}' is not an exact version x.y.z (the CLI resolves 9, 8.19, 8.18)`);
        }
        if (n.roles && n.roles.some((r) => !/^[a-z_]+$/.test(r))) {
            throw new Error(`nodes[${i}].roles: ${JSON.stringify(n.roles)} — role names such as master, data, ingest, remote_cluster_client`);
        }
    }
    if (opts.privatePublish && !opts.hosts && !opts.isolated) {
        throw new Error("privatePublish needs hosts: true (private addresses exist only between network namespaces)");
    }
    if (opts.isolated && opts.hosts === false) {
        throw new Error("isolated puts each node on a host of its own and implies hosts: drop hosts: false (or isolated)");
    }
}

/** A client for one node (elastic superuser, trusting the HTTP CA). */
export function nodeClient(t: TopologyInfo, node: NodeInfo | number): Client {
    const n = typeof node === "number" ? t.nodes[node] : node;
    return new Client({
        node: n.url,
        auth: { username: t.username, password: t.password },
        tls: { ca: fs.readFileSync(t.httpCaFile, "utf8"), rejectUnauthorized: true },
        requestTimeout: 30000,
    });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input: string): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { env, stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout!.on("data", (d) => (out += d));
        child.stderr!.on("data", (d) => (out += d));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${[cmd, ...args].map((a) => path.basename(a)).join(" ")} exited ${code}: ${out.trim()}`))));
        if (input) {
            child.stdin!.on("error", () => undefined); // a tool that exits early: its exit code tells
            child.stdin!.end(input);
        }
    });
}

interface Prepared {
    spec: NodeSpec;
    name: string;
    dir: string;
    configDir: string;
    /** Where the rig writes the config on the host (the upper layer's /etc/elasticsearch when isolated). */
    hostConfigDir: string;
    dataDir: string;
    logsDir: string;
    pidFile: string;
    remoteClusterCaFile?: string;
    hostFs?: HostFs;
    adminIp?: string;
    sshdPid?: number;
    ssh?: SshEndpoint;
    ip: string;
    privateIp?: string;
    namespace?: string;
    hostVeth?: string;
    httpPort: number;
    transportPort: number;
    rcsPort?: number;
    esHome: string;
    javaHome: string;
    pid?: number;
}

/**
 * Starts a cluster of `nodes` and waits until every node has joined, `.security` is ready and the
 * cluster is green. On failure nothing is left: processes, namespaces and files are removed.
 */
export async function startTopology(opts: TopologyOptions): Promise<TopologyInfo> {
    const t0 = Date.now();
    validate(opts);
    const log = opts.log ?? log0;
    const user = ensureEsUser();
    const parent = opts.parentDir ?? runRoot();
    checkRunFolder(parent, user);
    const isolated = !!opts.isolated;
    const withBastion = typeof opts.isolated === "object" && !!opts.isolated.bastion;
    if (opts.hosts || isolated) {
        requireRootForHosts();
        if (isolated) requireIsolationSupport();
        ensureMaxMapCount(log);
    }
    const persistent = !!opts.persistent;
    let specs = opts.nodes.map((n, i) => ({ n, i })).sort((a, b) => cmpVersion(a.n.version, b.n.version) || a.i - b.i).map((x) => x.n);
    if (opts.dedicatedMaster) {
        specs = [{ version: specs[0].version, roles: ["master"] }, ...specs];
    }
    const versions = [...new Set(specs.map((s) => s.version))];
    const homes = new Map(versions.map((v) => [v, ensureDistribution(v, log)]));
    const javas = new Map(versions.map((v) => [v, findJavaHome(v)]));
    const hosts = opts.hosts ?? isolated;
    const network = hosts ? (hosts === true ? defaultNetwork() : hosts) : undefined;
    const single = specs.length === 1;

    fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
    fs.chmodSync(parent, 0o755);
    const dir = fs.mkdtempSync(path.join(parent, `${opts.name}-`));
    fs.chmodSync(dir, 0o755);
    if (!persistent) trackResources({ dirs: [dir] });
    const prepared: Prepared[] = [];
    const password = opts.password ?? ELASTIC_PASSWORD_DEFAULT;
    let access: Access | undefined;
    try {
        const transportCa = opts.transportCa ?? (await generateCa({ commonName: `${opts.name} transport CA` }));
        const httpCa = opts.httpCa ?? (await generateCa({ commonName: `${opts.name} HTTP CA` }));
        const rcsCa = opts.remoteClusterServer
            ? (typeof opts.remoteClusterServer === "object" && opts.remoteClusterServer.ca) || (await generateCa({ commonName: `${opts.name} remote cluster server CA` }))
            : undefined;
        const privateBlock = network && opts.privatePublish ? reservePrivateBlock(network) : undefined;
        if (isolated) {
            const ca = path.join(dir, "ca");
            writeFile(path.join(ca, "http-ca.crt"), httpCa.certPem);
            writeFile(path.join(ca, "transport-ca.crt"), [transportCa.certPem, ...(opts.extraTrustedCaPems ?? [])].join("\n"));
            if (rcsCa) writeFile(path.join(ca, "remote-cluster-server-ca.crt"), rcsCa.certPem);
            access = newAccess(opts.name, dir);
            if (withBastion) await startBastion(access, opts.name, network!, persistent, log);
        }

        for (const [i, spec] of specs.entries()) {
            const name = `${opts.name}-node-${i}`;
            const host = network ? addHost(network, `${opts.name}-${i}`, privateBlock, i) : undefined;
            const hostFs = isolated ? prepareHostFs(host!.namespace, access!.users, { persistent }) : undefined;
            const nodeDir = hostFs ? hostFs.hostDir : single ? dir : path.join(dir, `node-${i}`);
            const configDir = hostFs ? NODE_PATHS.configDir : path.join(nodeDir, "config");
            prepared.push({
                spec, name, dir: nodeDir, configDir,
                hostConfigDir: hostFs ? upperPath(hostFs, NODE_PATHS.configDir) : configDir,
                dataDir: hostFs ? NODE_PATHS.dataDir : path.join(nodeDir, "data"),
                logsDir: hostFs ? NODE_PATHS.logsDir : path.join(nodeDir, "logs"),
                pidFile: hostFs ? hostPidFile(hostFs) : path.join(nodeDir, "tmp", "es.pid"),
                hostFs,
                adminIp: access?.segment && host ? attachToAdminSegment(access.segment, host.namespace) : undefined,
                ip: host?.ip ?? "127.0.0.1", privateIp: host?.privateIp, namespace: host?.namespace, hostVeth: host?.hostVeth,
                httpPort: host ? 9200 : await freePort(),
                transportPort: host ? 9300 : await freePort(),
                rcsPort: rcsCa ? (host ? 9443 : await freePort()) : undefined,
                esHome: homes.get(spec.version)!, javaHome: javas.get(spec.version)!,
            });
        }
        const seeds = prepared.filter((p) => masterEligible(p.spec.roles)).map((p) => `${p.ip}:${p.transportPort}`);
        const clientTrust = opts.remoteClusterClient
            ? (typeof opts.remoteClusterClient === "object" && opts.remoteClusterClient.trustedCaPems?.length
                ? opts.remoteClusterClient.trustedCaPems : [(rcsCa ?? transportCa).certPem])
            : undefined;

        await Promise.all(prepared.map(async (p, i) => {
            if (p.hostFs) mkdirUpper(p.hostFs, NODE_PATHS.configDir);
            fs.cpSync(path.join(p.esHome, "config"), p.hostConfigDir, { recursive: true });
            if (p.hostFs) {
                mkdirUpper(p.hostFs, NODE_PATHS.dataDir);
                mkdirUpper(p.hostFs, NODE_PATHS.logsDir);
            } else {
                for (const d of ["data", "logs", "tmp"]) fs.mkdirSync(path.join(p.dir, d), { recursive: true });
            }
            const addrSans = opts.certificateSans?.addresses === false ? [] : [p.ip, ...(p.privateIp ? [p.privateIp] : [])];
            const sans = { dnsNames: [p.name, ...(opts.certificateSans?.dnsNames ?? [])], ipAddresses: addrSans };
            const certs = path.join(p.hostConfigDir, "certs");
            const transportCert = await issueNodeCertificate(transportCa, { commonName: p.name, ...sans });
            const httpCert = await issueNodeCertificate(httpCa, { commonName: p.name, dnsNames: ["localhost", p.name], ipAddresses: [...new Set(["127.0.0.1", p.ip])] });
            writeNodeCertificates(p.hostConfigDir, { transportCert, httpCert, transportCa, httpCa, extraTrustedCaPems: opts.extraTrustedCaPems });
            const verification = opts.verificationMode ?? "certificate";
            const settings: Record<string, string | number | boolean | string[]> = {
                "cluster.name": opts.name,
                "node.name": p.name,
                "path.data": p.dataDir,
                "path.logs": p.logsDir,
                ...(p.privateIp
                    ? { "network.bind_host": [p.ip, p.privateIp], "network.publish_host": p.privateIp, "http.publish_host": p.ip }
                    : { "network.host": p.ip }),
                "http.port": p.httpPort,
                "transport.port": p.transportPort,
                ...(single
                    ? { "discovery.type": "single-node" }
                    : { "discovery.seed_hosts": seeds, ...(i === 0 ? { "cluster.initial_master_nodes": [p.name] } : {}) }),
                ...(p.spec.roles ? { "node.roles": p.spec.roles } : {}),
                "cluster.routing.allocation.disk.threshold_enabled": false,
                "action.destructive_requires_name": false,
                ...securitySettings(verification),
            };
            if (rcsCa) {
                const rcsCert = await issueNodeCertificate(rcsCa, { commonName: p.name, ...sans });
                writeFile(path.join(certs, "remote-cluster-server.crt"), rcsCert.certPem);
                writeFile(path.join(certs, "remote-cluster-server.key"), rcsCert.keyPem, 0o600);
                writeFile(path.join(certs, "remote-cluster-server-ca.crt"), rcsCa.certPem);
                Object.assign(settings, {
                    "remote_cluster_server.enabled": true,
                    "remote_cluster.port": p.rcsPort!,
                    "xpack.security.remote_cluster_server.ssl.enabled": true,
                    "xpack.security.remote_cluster_server.ssl.key": "certs/remote-cluster-server.key",
                    "xpack.security.remote_cluster_server.ssl.certificate": "certs/remote-cluster-server.crt",
                });
            }
            if (clientTrust) {
                writeFile(path.join(certs, "remote-cluster-ca.crt"), clientTrust.join("\n"));
                p.remoteClusterCaFile = path.join(p.configDir, "certs", "remote-cluster-ca.crt");
                Object.assign(settings, {
                    "xpack.security.remote_cluster_client.ssl.enabled": true,
                    "xpack.security.remote_cluster_client.ssl.certificate_authorities": "certs/remote-cluster-ca.crt",
                    "xpack.security.remote_cluster_client.ssl.verification_mode": verification,
                });
            }
            if (opts.license) settings["xpack.license.self_generated.type"] = opts.license;
            Object.assign(settings, opts.extraSettings);
            fs.writeFileSync(path.join(p.hostConfigDir, "elasticsearch.yml"),
                Object.entries(settings).map(([k, v]) => `${k}: ${yamlValue(v)}`).join("\n") + "\n");
            // As in startCluster: GC logs, error files and heap dumps inside the node's own folder.
            const jvmOptions = path.join(p.hostConfigDir, "jvm.options");
            fs.writeFileSync(jvmOptions, fs.readFileSync(jvmOptions, "utf8")
                .replace(/=logs\//g, `=${p.logsDir}/`)
                .replace(/HeapDumpPath=data\b/g, `HeapDumpPath=${p.dataDir}`));
            const heap = opts.heapMb ?? 512;
            fs.writeFileSync(path.join(p.hostConfigDir, "jvm.options.d", "rig.options"), `-Xms${heap}m\n-Xmx${heap}m\n`);
            if (p.hostFs) {
                await startIsolatedHost(p, access!, user!, password, persistent, log);
                return;
            }
            fs.chmodSync(p.dir, 0o755);
            if (user) await run("chown", ["-R", `${user.uid}:${user.gid}`, p.dir], process.env, "");
            const env = nodeEnv(p.javaHome, p.configDir, p.dir);
            const keystore = path.join(p.esHome, "bin", "elasticsearch-keystore");
            for (const [args, input] of [[["create"], ""], [["add", "-x", "bootstrap.password"], password]] as const) {
                const [cmd, a] = runAs(user, keystore, [...args]);
                await run(cmd, a, env, input);
            }
        }));

        if (access) writeSshFiles(access, prepared);
        const startNode = (p: Prepared) => {
            log(`starting ${p.name} (Elasticsearch ${p.spec.version}${p.spec.roles ? `, roles ${p.spec.roles.join("+")}` : ""}) on https://${p.ip}:${p.httpPort}, transport ${p.transportPort}${p.namespace ? `, namespace ${p.namespace}` : ""}${p.hostFs ? ", isolated" : ""}`);
            p.pid = p.hostFs
                ? launchInHost(p.hostFs, user, p.javaHome, { persistent, log })
                : launch(user, p.esHome, nodeEnv(p.javaHome, p.configDir, p.dir), p.dir, { persistent, namespace: p.namespace });
        };
        const timeout = opts.startTimeoutSeconds ?? 300;
        const first = prepared[0];
        startNode(first);
        const info0 = draftInfo(opts, dir, password, prepared, rcsCa !== undefined, persistent, network, access);
        await waitForCluster(info0, prepared, 1, timeout, first);
        const mixed = versions.length > 1;
        if (mixed && !masterOnly(first.spec.roles)) {
            // The .security index's primary on the oldest node: a replica may then live on a newer
            // node, never the reverse (a primary on the newest would leave the cluster yellow).
            await warmUpSecurityIndex(clusterView(info0, first), timeout);
        }
        prepared.slice(1).forEach(startNode);
        await waitForCluster(info0, prepared, prepared.length, timeout);
        const primary = prepared.find((p) => !masterOnly(p.spec.roles)) ?? first;
        await warmUpSecurityIndex(clusterView(info0, primary), timeout);
        const info = await finish(info0, prepared, log, access);
        info.startSeconds = Math.round((Date.now() - t0) / 100) / 10;
        log(`${opts.name} is up: ${info.nodes.length} node(s) in ${info.startSeconds}s`);
        return info;
    } catch (err) {
        const tails = prepared.filter((p) => p.pid).map((p) => {
            // console.log is in the node's own folder (the backing folder when isolated) in both cases.
            const tail = readTail(path.join(p.dir, "console.log"), 15);
            return tail ? `--- ${p.name} (last log lines) ---\n${tail}` : "";
        }).filter(Boolean).join("\n");
        await Promise.all(prepared.filter((p) => p.pid).map((p) => killTree(p.pid!, [readPid(p.pidFile)], 10000)));
        await Promise.all(prepared.map(async (p) => {
            await stopSshdPid(p.sshdPid);
            if (p.hostFs) await removeHostFs(p.hostFs);
        }));
        if (access) await removeAccess(access, network!);
        for (const p of prepared) {
            if (p.namespace && network) removeHost(network, { namespace: p.namespace, hostVeth: p.hostVeth! });
        }
        fs.rmSync(dir, { recursive: true, force: true });
        untrackResources({ dirs: [dir] });
        throw new Error(`${opts.name} (${specs.map((s) => s.version).join(",")}) did not start: ${(err as Error).message}${tails ? `\n${tails}` : ""}`);
    }
}

function draftInfo(opts: TopologyOptions, dir: string, password: string, prepared: Prepared[], rcs: boolean, persistent: boolean, network?: RigNetwork, access?: Access): TopologyInfo {
    const primary = prepared.find((p) => !masterOnly(p.spec.roles)) ?? prepared[0];
    // Isolated nodes' certificates are inside them: clients on the host read copies of the CAs.
    const certs = access ? path.join(dir, "ca") : path.join(primary.configDir, "certs");
    return {
        name: opts.name,
        version: prepared[0].spec.version,
        url: `https://${primary.ip}:${primary.httpPort}`,
        transportAddress: `${primary.ip}:${primary.transportPort}`,
        httpPort: primary.httpPort,
        transportPort: primary.transportPort,
        nodeName: primary.name,
        dir,
        configDir: primary.configDir,
        httpCaFile: path.join(certs, "http-ca.crt"),
        transportCaFile: path.join(certs, "transport-ca.crt"),
        username: "elastic",
        password,
        pid: primary.pid ?? 0,
        javaHome: primary.javaHome,
        nodes: [],
        network,
        verificationMode: opts.verificationMode ?? "certificate",
        remoteClusterServerCaFile: rcs ? path.join(certs, "remote-cluster-server-ca.crt") : undefined,
        license: opts.license,
        persistent,
        startSeconds: 0,
        ...(access ? {
            isolated: true,
            bastion: access.bastion,
            knownHostsFile: access.knownHostsFile,
            sshConfigFile: access.sshConfigFile,
        } : {}),
    };
}

function clusterView(t: TopologyInfo, p: Prepared): ClusterInfo {
    return { ...t, url: `https://${p.ip}:${p.httpPort}`, pid: p.pid ?? 0 };
}

/** Waits until `count` nodes have joined (asked through `via`, default any started node). */
async function waitForCluster(t: TopologyInfo, prepared: Prepared[], count: number, timeoutSeconds: number, via?: Prepared): Promise<void> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    const askers = via ? [via] : prepared;
    let last = "no answer yet";
    let k = 0;
    for (;;) {
        for (const p of prepared) {
            if (p.pid && !alive(p.pid)) {
                throw new Error(`${p.name} exited (${last})`);
            }
        }
        const p = askers[k++ % askers.length];
        const client = new Client({
            node: `https://${p.ip}:${p.httpPort}`,
            auth: { username: t.username, password: t.password },
            tls: { ca: fs.readFileSync(t.httpCaFile, "utf8"), rejectUnauthorized: true },
            requestTimeout: 15000,
        });
        try {
            const h = await client.cluster.health({ wait_for_nodes: String(count), timeout: "5s" });
            if (h.number_of_nodes >= count && !h.timed_out) return;
            last = `${h.number_of_nodes} of ${count} nodes, ${h.status}`;
        } catch (e) {
            last = (e as Error).message;
        } finally {
            await client.close();
        }
        if (Date.now() > deadline) throw new Error(`${count} node(s) not joined after ${timeoutSeconds}s (last: ${last})`);
        await sleep(1000);
    }
}

/** Reads what each node reports (`GET _nodes`) and records its processes. */
async function finish(t: TopologyInfo, prepared: Prepared[], log: (m: string) => void, access?: Access): Promise<TopologyInfo> {
    const client = nodeClient({ ...t, nodes: [] }, { url: t.url } as NodeInfo);
    try {
        const res = await client.transport.request<{ nodes: Record<string, any> }>({ method: "GET", path: "/_nodes" });
        const byName = new Map(Object.values(res.nodes).map((n) => [n.name as string, n]));
        t.nodes = prepared.map((p) => {
            const n = byName.get(p.name);
            if (!n) throw new Error(`${p.name} is not in GET _nodes`);
            const serverPid = readPid(p.pidFile);
            const pids = [p.pid!, ...descendants(p.pid!)];
            if (!t.persistent) pids.forEach((x) => trackProcess(x));
            const rcsPublish = n.remote_cluster_server?.publish_address as string | undefined;
            if (p.rcsPort && !rcsPublish) log(`${p.name}: GET _nodes shows no remote_cluster_server section`);
            return {
                name: p.name,
                version: n.version,
                roles: n.roles,
                url: `https://${p.ip}:${p.httpPort}`,
                ip: p.ip,
                privateIp: p.privateIp,
                httpPort: p.httpPort,
                transportPort: p.transportPort,
                transportAddress: `${p.ip}:${p.transportPort}`,
                publishTransportAddress: n.transport?.publish_address,
                remoteClusterServerAddress: p.rcsPort ? `${p.ip}:${p.rcsPort}` : undefined,
                remoteClusterServerPublishAddress: rcsPublish,
                namespace: p.namespace,
                hostVeth: p.hostVeth,
                dir: p.dir,
                configDir: p.configDir,
                esHome: p.hostFs ? NODE_PATHS.esHome : p.esHome,
                remoteClusterCaFile: p.remoteClusterCaFile,
                pid: p.pid!,
                serverPid,
                pids,
                javaHome: p.javaHome,
                ...(p.hostFs && access ? {
                    hostDir: p.hostFs.hostDir,
                    mountNamespace: p.hostFs.mountNamespace,
                    ssh: p.ssh,
                    sshPasswordSudoUser: { user: PASSWORD_SUDO_USER, privateKeyPem: access.passwordSudoKey.privateKeyPem, privateKeyFile: access.passwordSudoKey.file },
                    commandAccess: commandAccessOf(p.hostFs),
                    adminIp: p.adminIp,
                    sshdPid: p.sshdPid,
                } : {}),
            };
        });
    } finally {
        await client.close();
    }
    const primary = t.nodes.find((n) => n.url === t.url)!;
    t.pid = primary.pid;
    t.serverPid = primary.serverPid;
    t.pids = primary.pids;
    return t;
}

/** The namespaces and addresses of a topology's nodes (for {@link partition}). */
export function topologyEndpoints(t: TopologyInfo): Endpoints {
    return {
        namespaces: t.nodes.map((n) => n.namespace).filter((x): x is string => !!x),
        ips: t.nodes.flatMap((n) => [n.ip, ...(n.privateIp ? [n.privateIp] : [])]),
    };
}

/** Stops one node (by its PIDs), keeping its files and namespace, so {@link restartNode} can bring it back. */
export async function haltNode(t: TopologyInfo, index: number): Promise<void> {
    const n = t.nodes[index];
    await killTree(n.pid, [n.serverPid, ...n.pids, readPid(pidFileOf(n))]);
}

/** The server's PID file as the host sees it. */
function pidFileOf(n: NodeInfo): string {
    return n.hostDir ? hostPidFile({ hostDir: n.hostDir }) : path.join(n.dir, "tmp", "es.pid");
}

/** The host file system of an isolated node, from its (possibly deserialized) info. */
function hostFsOf(n: NodeInfo): HostFs | undefined {
    return n.hostDir && n.mountNamespace && n.namespace ? { netns: n.namespace, mountNamespace: n.mountNamespace, hostDir: n.hostDir } : undefined;
}

/** Starts a node's Elasticsearch again with its files: inside its namespaces when isolated (it reads its config there). */
function relaunch(t: TopologyInfo, n: NodeInfo, user: { uid: number; gid: number } | undefined): number {
    const h = hostFsOf(n);
    return h
        ? launchInHost(h, user, n.javaHome, { persistent: t.persistent, log: log0 })
        : launch(user, ensureDistribution(n.version), nodeEnv(n.javaHome, n.configDir, n.dir), n.dir, { persistent: t.persistent, namespace: n.namespace });
}

/** Restarts a halted node with its files (same address, ports, data, certificates); waits until it has rejoined. */
export async function restartNode(t: TopologyInfo, index: number, timeoutSeconds = 240): Promise<NodeInfo> {
    const n = t.nodes[index];
    const user = ensureEsUser();
    const pid = relaunch(t, n, user);
    const deadline = Date.now() + timeoutSeconds * 1000;
    const client = nodeClient(t, n);
    try {
        for (;;) {
            if (!alive(pid)) throw new Error(`${n.name} exited on restart:\n${readTail(path.join(n.dir, "console.log"), 15)}`); // n.dir: the backing folder when isolated
            try {
                const h = await client.cluster.health({ wait_for_nodes: String(t.nodes.length), timeout: "5s" });
                if (!h.timed_out) break;
            } catch {
                // not yet
            }
            if (Date.now() > deadline) throw new Error(`${n.name} did not rejoin within ${timeoutSeconds}s`);
            await sleep(1000);
        }
    } finally {
        await client.close();
    }
    const pids = [pid, ...descendants(pid)];
    if (!t.persistent) pids.forEach((x) => trackProcess(x));
    t.nodes[index] = { ...n, pid, serverPid: readPid(pidFileOf(n)), pids };
    if (t.nodes[index].url === t.url) {
        t.pid = pid;
        t.serverPid = t.nodes[index].serverPid;
        t.pids = pids;
    }
    return t.nodes[index];
}

/** Stops every node of a topology but keeps files and namespaces. */
export async function haltTopology(t: TopologyInfo): Promise<void> {
    await Promise.all(t.nodes.map((_, i) => haltNode(t, i)));
}

/** Restarts every node of a halted topology (the first node first, the rest in parallel). */
export async function restartTopology(t: TopologyInfo, timeoutSeconds = 240): Promise<TopologyInfo> {
    if (t.nodes.length === 1) {
        await restartNode(t, 0, timeoutSeconds);
        return t;
    }
    const user = ensureEsUser();
    t.nodes.forEach((n) => {
        n.pid = relaunch(t, n, user);
    });
    const deadline = Date.now() + timeoutSeconds * 1000;
    const client = nodeClient(t, 0);
    try {
        for (;;) {
            try {
                const h = await client.cluster.health({ wait_for_nodes: String(t.nodes.length), wait_for_status: "yellow", timeout: "5s" });
                if (!h.timed_out) break;
            } catch {
                // not yet
            }
            if (Date.now() > deadline) throw new Error(`${t.name} did not come back within ${timeoutSeconds}s`);
            await sleep(1000);
        }
    } finally {
        await client.close();
    }
    for (const n of t.nodes) {
        n.pids = [n.pid, ...descendants(n.pid)];
        n.serverPid = readPid(pidFileOf(n));
        if (!t.persistent) n.pids.forEach((x) => trackProcess(x));
    }
    const primary = t.nodes.find((n) => n.url === t.url)!;
    Object.assign(t, { pid: primary.pid, serverPid: primary.serverPid, pids: primary.pids });
    return t;
}

/**
 * Stops every node (by PID), removes their namespaces and (unless `keepFiles`) the cluster's folder.
 * Isolated hosts go whole, `keepFiles` or not: sshd stopped by PID, whatever else still runs inside
 * killed, mount namespace unmounted, backing folder removed; then the bastion.
 */
export async function stopTopology(t: TopologyInfo, opts: { keepFiles?: boolean } = {}): Promise<void> {
    await Promise.all(t.nodes.map((n) => killTree(n.pid, [n.serverPid, ...(n.pids ?? []), readPid(pidFileOf(n))])));
    await Promise.all(t.nodes.map(async (n) => {
        await stopSshdPid(n.sshdPid);
        const h = hostFsOf(n);
        if (h) await removeHostFs(h);
    }));
    if (t.bastion) {
        await stopSshdPid(t.bastion.sshdPid);
        await removeHostFs({ netns: t.bastion.namespace, mountNamespace: t.bastion.mountNamespace, hostDir: t.bastion.hostDir });
        removeHost({ persistent: t.persistent }, { namespace: t.bastion.namespace, hostVeth: t.bastion.hostVeth });
    }
    for (const n of t.nodes) {
        if (n.namespace && n.hostVeth) removeHost({ persistent: t.persistent }, { namespace: n.namespace, hostVeth: n.hostVeth });
    }
    if (!opts.keepFiles) {
        fs.rmSync(t.dir, { recursive: true, force: true });
        untrackResources({ dirs: [t.dir] });
    }
}

/** What an isolated topology's SSH access is made of (and, while it starts, what to remove on failure). */
interface Access {
    users: HostUser[];
    adminKey: { privateKeyPem: string; publicKeyLine: string; file: string };
    passwordSudoKey: { privateKeyPem: string; publicKeyLine: string; file: string };
    knownHostsFile: string;
    sshConfigFile: string;
    segment?: AdminSegment;
    bastionHost?: { namespace: string; hostVeth: string; ip: string };
    bastionFs?: HostFs;
    bastionSshdPid?: number;
    bastion?: BastionInfo;
}

/** The topology's users (ids free on the host) and key pairs (0600 in `<dir>/ssh`). */
function newAccess(name: string, dir: string): Access {
    const sshDir = path.join(dir, "ssh");
    fs.mkdirSync(sshDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(sshDir, 0o700);
    const [adminId, pwId] = freeIds(2);
    return {
        users: [{ name: ADMIN_USER, id: adminId, sudo: "nopasswd" }, { name: PASSWORD_SUDO_USER, id: pwId, sudo: "password" }],
        adminKey: generateClientKey(sshDir, { comment: `${ADMIN_USER}@${name}` }),
        passwordSudoKey: generateClientKey(sshDir, { comment: `${PASSWORD_SUDO_USER}@${name}` }),
        knownHostsFile: path.join(sshDir, "known_hosts"),
        sshConfigFile: path.join(sshDir, "config"),
    };
}

/**
 * The bastion: a host on the rig network (reachable from the host) holding the admin segment's
 * bridge, its own file system (the admin user, no sudo) and sshd with TCP forwarding.
 */
async function startBastion(a: Access, name: string, network: RigNetwork, persistent: boolean, log: (m: string) => void): Promise<void> {
    const host = addHost(network, `${name}-bastion`);
    a.bastionHost = host;
    a.segment = addAdminSegment(network, host.namespace, reservePrivateBlock(network));
    const admin = a.users.find((u) => u.name === ADMIN_USER)!;
    a.bastionFs = prepareHostFs(host.namespace, [{ ...admin, sudo: "none" }], { persistent });
    mountHostFs(a.bastionFs, { persistent });
    const sshd = await startHostSshd(a.bastionFs, {
        address: host.ip, authorizedKeys: { [ADMIN_USER]: [a.adminKey.publicKeyLine] }, allowTcpForwarding: true, persistent, log,
    });
    a.bastionSshdPid = sshd.pid;
    a.bastion = {
        host: host.ip, port: 22, user: ADMIN_USER, privateKeyPem: a.adminKey.privateKeyPem, privateKeyFile: a.adminKey.file,
        hostKeyLine: sshd.hostKeyLine, hostKeyFingerprint: sshd.hostKeyFingerprint,
        namespace: host.namespace, hostVeth: host.hostVeth, adminIp: a.segment.ip,
        mountNamespace: a.bastionFs.mountNamespace, hostDir: a.bastionFs.hostDir, sshdPid: sshd.pid, commandAccess: commandAccessOf(a.bastionFs),
    };
    log(`bastion ${host.namespace}: sshd ${host.ip}:22 (admin segment ${a.segment.ip}/28)`);
}

/** Removes what {@link startBastion} made, as far as it got. */
async function removeAccess(a: Access, network: RigNetwork): Promise<void> {
    await stopSshdPid(a.bastionSshdPid);
    if (a.bastionFs) await removeHostFs(a.bastionFs);
    if (a.bastionHost) removeHost(network, a.bastionHost);
}

/**
 * Makes a node's host real (its config files already in the upper layer): the packages' owners and
 * modes, the mount namespace, the keystore (as root inside), then its sshd on port 22 of its
 * address (its admin address with a bastion).
 */
async function startIsolatedHost(p: Prepared, a: Access, user: { uid: number; gid: number }, password: string, persistent: boolean, log: (m: string) => void): Promise<void> {
    const h = p.hostFs!;
    ownElasticsearchFolders(h, user);
    mountHostFs(h, { persistent, distribution: p.esHome, esUser: user });
    await createKeystore(h, p.javaHome, password, user);
    const address = p.adminIp ?? p.ip;
    const sshd = await startHostSshd(h, {
        address,
        authorizedKeys: { [ADMIN_USER]: [a.adminKey.publicKeyLine], [PASSWORD_SUDO_USER]: [a.passwordSudoKey.publicKeyLine] },
        persistent, log,
    });
    p.sshdPid = sshd.pid;
    p.ssh = {
        host: address, port: 22, user: ADMIN_USER, privateKeyPem: a.adminKey.privateKeyPem, privateKeyFile: a.adminKey.file,
        hostKeyLine: sshd.hostKeyLine, hostKeyFingerprint: sshd.hostKeyFingerprint,
    };
}

/** known_hosts (every node's and the bastion's pinned key) and an OpenSSH client config using it. */
function writeSshFiles(a: Access, prepared: Prepared[]): void {
    const lines = [
        ...(a.bastion ? [`${a.bastion.host} ${a.bastion.hostKeyLine}`] : []),
        ...prepared.filter((p) => p.ssh).map((p) => `${p.ssh!.host} ${p.ssh!.hostKeyLine}`),
    ];
    writeFile(a.knownHostsFile, lines.join("\n") + "\n", 0o600);
    writeFile(a.sshConfigFile, [
        "Host *",
        `    User ${ADMIN_USER}`,
        `    IdentityFile ${a.adminKey.file}`,
        "    IdentitiesOnly yes",
        `    UserKnownHostsFile ${a.knownHostsFile}`,
        "    GlobalKnownHostsFile /dev/null",
        "    StrictHostKeyChecking yes",
        "    BatchMode yes",
        "    ConnectTimeout 10",
        "",
    ].join("\n"), 0o600);
}
