/**
 * Clusters whose nodes are hosts of their own (rig `isolated` topologies: a mount and a network
 * namespace per node, its own sshd, an admin user with passwordless sudo), shared by every suite
 * of a test run that links nodes on other hosts (started once, stopped with the pool), and the
 * ways a test reaches a node: the product's accesses (`sshAccess`, `commandAccessTo`) and, to look
 * at or change a node behind the product's back, `onNode` (the rig's root prefix, `nsenter`).
 *
 * - `hosts-local`: three 9.x nodes, trial license, remote cluster client trusting the remote's
 *   server CA; reached over SSH directly.
 * - `hosts-remote`: three 9.x nodes, trial license, remote cluster server; reachable over SSH
 *   **only through its bastion** (a jump host).
 * Both have transport certificates from the shared test CA, so they link with certificates too.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { generateCa, IssuedCa } from "../../provider/certs/pem";
import type { NodeAccess } from "../../provider/access/types";
import { ES_VERSIONS } from "../../rig/elasticsearch";
import { NODE_PATHS, upperPath, SshEndpoint, startHostSshd, stopSshdPid } from "../../rig/hostfs";
import { NodeInfo, TopologyInfo } from "../../rig/topology";
import { poolTopology, sharedTransportCa } from "./pool";

let serverCa: Promise<IssuedCa> | undefined;

/** The CA of the remote's remote-cluster-server certificates (the local nodes' client trusts it). */
export function remoteServerCa(): Promise<IssuedCa> {
    serverCa ??= generateCa({ commonName: "pulumi-es-remote tests remote cluster server CA (hosts)" });
    return serverCa;
}

const three = () => [{ version: ES_VERSIONS.v9 }, { version: ES_VERSIONS.v9 }, { version: ES_VERSIONS.v9 }];

/** The local side: 3 isolated 9.x nodes, SSH direct. */
export async function hostsLocal(): Promise<TopologyInfo> {
    const [ca, rcs] = await Promise.all([sharedTransportCa(), remoteServerCa()]);
    return poolTopology("hosts-local", {
        nodes: three(), isolated: true, transportCa: ca, license: "trial", remoteClusterClient: { trustedCaPems: [rcs.certPem] },
    });
}

/** The remote side: 3 isolated 9.x nodes behind a bastion, with the remote cluster server. */
export async function hostsRemote(): Promise<TopologyInfo> {
    const [ca, rcs] = await Promise.all([sharedTransportCa(), remoteServerCa()]);
    return poolTopology("hosts-remote", {
        nodes: three(), isolated: { bastion: true }, transportCa: ca, license: "trial", remoteClusterServer: { ca: rcs },
    });
}

/** Both sides, started together. */
export function hostsPair(): Promise<[TopologyInfo, TopologyInfo]> {
    return Promise.all([hostsLocal(), hostsRemote()]);
}

function hop(e: SshEndpoint) {
    return { host: e.host, port: e.port, user: e.user, privateKey: e.privateKeyPem, hostKey: e.hostKeyLine };
}

/**
 * The product's SSH access to node `n` of `t`, as an operator writes it: the admin login with its
 * key, the node's pinned host key, sudo to root (the files are root:esrig), through the bastion
 * when `t` has one.
 */
export function sshAccess(t: TopologyInfo, n: NodeInfo, opts: { sudo?: NodeAccess["sudo"]; login?: { user: string; privateKeyPem: string } } = {}): NodeAccess {
    if (!n.ssh) throw new Error(`${n.name} is not on an isolated host (start its topology with isolated: true)`);
    const ssh = { ...hop(n.ssh), ...(opts.login ? { user: opts.login.user, privateKey: opts.login.privateKeyPem } : {}) };
    return {
        ssh: { ...ssh, ...(t.bastion ? { jumpHost: hop(t.bastion) } : {}) },
        sudo: opts.sudo ?? true,
    };
}

/** The product's `command` access to node `n`: the rig's root prefix (`nsenter` into its namespaces). */
export function commandAccessTo(n: NodeInfo): NodeAccess {
    if (!n.commandAccess) throw new Error(`${n.name} is not on an isolated host`);
    return { command: n.commandAccess };
}

/** Runs `script` as root inside node `n` (behind the product's back), `input` on stdin; its stdout. */
export function onNode(n: NodeInfo, script: string, input?: string): string {
    const [cmd, ...rest] = n.commandAccess!;
    return execFileSync(cmd, [...rest, "sh", "-c", script], { input, encoding: "utf8", stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
}

/** A file inside node `n`, or `undefined` when it does not exist there. */
export function readOnNode(n: NodeInfo, file: string): string | undefined {
    const out = onNode(n, `if [ -f "$0" ]; then printf Y; cat "$0"; else printf N; fi`.replace(/\$0/g, JSON.stringify(file)));
    return out.startsWith("Y") ? out.slice(1) : undefined;
}

/** Replaces the content of a file inside node `n` in place (owner and mode stay, as a hand edit would). */
export function editOnNode(n: NodeInfo, file: string, content: string): void {
    onNode(n, `cat > ${JSON.stringify(file)}`, content);
}

/** `stat -c '%U:%G %a'` of a file inside node `n`. */
export function statOnNode(n: NodeInfo, file: string): string {
    return onNode(n, `stat -c '%U:%G %a' ${JSON.stringify(file)}`).trim();
}

/** The node's certificate folder, inside it. */
export const CERTS_DIR = path.posix.join(NODE_PATHS.configDir, "certs");

/** Where node `n`'s Elasticsearch log is on the host (its backing folder; for reading only). */
export function logFileOnHost(t: TopologyInfo, n: NodeInfo): string {
    return upperPath({ hostDir: n.hostDir! }, path.posix.join(NODE_PATHS.logsDir, `${t.name}.log`));
}

/** Where node `n`'s sshd logs (LogLevel VERBOSE) on the host: `<hostDir>/sshd/sshd.log` (rig/sshd.ts). For reading only. */
export function sshdLogOnHost(n: NodeInfo): string {
    return path.join(n.hostDir!, "sshd", "sshd.log");
}

/**
 * Stops node `n`'s sshd by its PID (and its per-connection processes, so pooled connections drop):
 * the host is up, Elasticsearch runs, but nothing answers on its SSH port. {@link restartSshd} brings it back.
 */
export async function stopSshd(n: NodeInfo): Promise<void> {
    await stopSshdPid(n.sshdPid);
}

/**
 * Starts node `t.nodes[i]`'s sshd again after {@link stopSshd}: same folder, host key, address and
 * authorized keys (read back from its folder); the node's `sshdPid` is updated in place, so the
 * pool's stopTopology stops the new one.
 */
export async function restartSshd(t: TopologyInfo, i: number): Promise<void> {
    const n = t.nodes[i];
    const keysDir = path.join(n.hostDir!, "sshd", "authorized_keys.d");
    const authorizedKeys = Object.fromEntries(fs.readdirSync(keysDir).map((u) => [u, fs.readFileSync(path.join(keysDir, u), "utf8").split("\n").filter(Boolean)]));
    const sshd = await startHostSshd({ netns: n.namespace!, mountNamespace: n.mountNamespace!, hostDir: n.hostDir! }, {
        address: n.adminIp ?? n.ip, authorizedKeys, persistent: false,
    });
    if (sshd.hostKeyLine !== n.ssh!.hostKeyLine) throw new Error(`${n.name}: the restarted sshd has another host key`);
    n.sshdPid = sshd.pid;
}
