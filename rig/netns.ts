/**
 * Separate hosts for rig nodes: each node in its own network namespace with its own address,
 * all on one bridge in the root namespace (which has an address too, so tests and the host reach
 * the nodes). Addresses come from 198.18.0.0/15 (RFC 2544, reserved for benchmarking, never
 * routed): 198.18.<n>.0/24 is one rig network's shared segment, 198.19.<n>.<16k..16k+15> (a /28
 * per cluster) its "private" addresses — routed only between the namespaces of that one cluster,
 * so a node can publish an address other clusters cannot reach. The namespaces have no default
 * route and the host forwards nothing: traffic flows only between the rig's namespaces and the host.
 * The host routes each network's private /24 into the bridge toward an address nobody holds
 * (198.18.<n>.2): a dial from the host to a private address fails there ("no route to host")
 * instead of following the host's default route off the machine, where something else may answer.
 *
 * Names carry a per-process prefix (`esr<pid>`); the rig removes exactly the namespaces, veths and
 * bridge it made (and the reaper does, if the process is killed).
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { reaperDir, trackResources, untrackResources } from "./lifetime";

/** One rig network: a bridge and its /24. Plain data, kept in the CLI's state file. */
export interface RigNetwork {
    /** Identifier, also the bridge's interface name (`esr<pid>b<k>`). */
    id: string;
    bridge: string;
    /** `<n>` of 198.18.<n>.0/24. */
    index: number;
    /** The host's (bridge's) address, e.g. 198.18.3.1. */
    hostIp: string;
    /** Prefix of every namespace and veth name of this network. */
    prefix: string;
    /** Not tied to the creating process's life (CLI). */
    persistent: boolean;
    /** Next free host number (198.18.<n>.<next>). */
    nextHost: number;
    /** Next free private /28 block (0..15). */
    nextPrivateBlock: number;
}

/** One node's "host": its namespace and addresses. */
export interface RigHost {
    namespace: string;
    /** Address on the shared segment, reachable from the host and every rig namespace. */
    ip: string;
    /** Address in the cluster's private /28, if the cluster has one. */
    privateIp?: string;
    /** Host side of the veth pair (removed with the namespace). */
    hostVeth: string;
}

function ip(args: string[]): string {
    const r = spawnSync("ip", args, { encoding: "utf8" });
    if (r.status !== 0) {
        throw new Error(`ip ${args.join(" ")} failed: ${(r.stderr || r.stdout || r.error?.message || "").trim()}`);
    }
    return r.stdout;
}

/** Fails with a clear message unless this process may create namespaces. */
export function requireRootForHosts(): void {
    if (!process.getuid || process.getuid() !== 0) {
        throw new Error("hosts: true (--hosts) puts each node in its own network namespace and needs root (ip netns, veth, bridge); run as root or drop the option");
    }
    const r = spawnSync("ip", ["-V"], { encoding: "utf8" });
    if (r.status !== 0) {
        throw new Error("hosts: true (--hosts) needs iproute2's 'ip' command: apt-get install iproute2");
    }
}

/**
 * Elasticsearch enforces its bootstrap checks when it binds a non-loopback address; one of them
 * is the kernel's vm.max_map_count ≥ 262144 (a host-wide setting Elastic's docs ask for anyway).
 */
export function ensureMaxMapCount(log: (m: string) => void): void {
    const cur = Number(fs.readFileSync("/proc/sys/vm/max_map_count", "utf8").trim());
    if (cur < 262144) {
        log(`raising vm.max_map_count from ${cur} to 262144 (Elasticsearch's bootstrap check on non-loopback addresses)`);
        fs.writeFileSync("/proc/sys/vm/max_map_count", "262144\n");
    }
}

let counter = 0;
let vethCounter = 0;
const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Picks a free 198.18.<n>.0/24 under a host-wide lock, so concurrent rig runs never share one. */
function withNetLock<T>(fn: () => T): T {
    return withRigLock("net", fn);
}

/**
 * Runs `fn` under a host-wide lock `<name>.lock` of the rig (a folder in the reapers' folder; one
 * older than 30 s is taken for a crashed holder's). @internal
 */
export function withRigLock<T>(name: string, fn: () => T): T {
    const dir = reaperDir();
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const lock = path.join(dir, `${name}.lock`);
    const deadline = Date.now() + 30000;
    for (;;) {
        try {
            fs.mkdirSync(lock);
            break;
        } catch {
            try {
                if (Date.now() - fs.statSync(lock).mtimeMs > 30000) fs.rmdirSync(lock);
            } catch {
                // raced
            }
            if (Date.now() > deadline) throw new Error(`could not take the rig's ${name} lock ${lock}`);
            sleepSync(100);
        }
    }
    try {
        return fn();
    } finally {
        fs.rmdirSync(lock);
    }
}

/** Creates a rig network: a bridge with 198.18.<n>.1/24 in the root namespace. */
export function createNetwork(opts: { persistent?: boolean } = {}): RigNetwork {
    requireRootForHosts();
    const k = counter++;
    const prefix = `esr${process.pid}`;
    const bridge = `${prefix}b${k}`;
    return withNetLock(() => {
        const used = new Set<number>();
        for (const m of ip(["-4", "-o", "addr", "show"]).matchAll(/inet 198\.1[89]\.(\d+)\./g)) {
            used.add(Number(m[1]));
        }
        let index = -1;
        for (let n = 1; n < 255; n++) {
            if (!used.has(n)) {
                index = n;
                break;
            }
        }
        if (index < 0) throw new Error("no free 198.18.<n>.0/24 left for a rig network (remove old rig bridges: ip -br link | grep ^esr)");
        const hostIp = `198.18.${index}.1`;
        ip(["link", "add", bridge, "type", "bridge"]);
        if (!opts.persistent) trackResources({ links: [bridge] });
        try {
            ip(["addr", "add", `${hostIp}/24`, "dev", bridge]);
            ip(["link", "set", bridge, "up"]);
            // Goes with the bridge when it is deleted (a route through a device).
            ip(["route", "add", `198.19.${index}.0/24`, "via", `198.18.${index}.2`, "dev", bridge]);
        } catch (e) {
            spawnSync("ip", ["link", "del", bridge]);
            throw e;
        }
        return { id: bridge, bridge, index, hostIp, prefix: `${prefix}n${k}`, persistent: !!opts.persistent, nextHost: 10, nextPrivateBlock: 0 };
    });
}

/** Reserves a private /28 for one cluster; returns its block number. */
export function reservePrivateBlock(net: RigNetwork): number {
    if (net.nextPrivateBlock > 15) throw new Error(`rig network ${net.id} has no private /28 left (16 clusters with private addresses)`);
    return net.nextPrivateBlock++;
}

/**
 * Adds a host: a namespace `<prefix>-<label>`, a veth pair (eth0 inside, on the bridge outside),
 * its address on the shared /24 and, with `privateBlock`, one in that private /28.
 */
export function addHost(net: RigNetwork, label: string, privateBlock?: number, privateIndex?: number): RigHost {
    const n = net.nextHost++;
    if (n > 254) throw new Error(`rig network ${net.id} is full`);
    const namespace = `${net.prefix}-${label}`.slice(0, 200);
    // Interface names are at most 15 characters: e<pid>h<k> / e<pid>p<k>, k unique in this process.
    const k = vethCounter++;
    const hostVeth = `e${process.pid}h${k}`;
    const peer = `e${process.pid}p${k}`;
    const hostIp = `198.18.${net.index}.${n}`;
    const privateIp = privateBlock !== undefined ? `198.19.${net.index}.${privateBlock * 16 + 1 + (privateIndex ?? 0)}` : undefined;
    ip(["netns", "add", namespace]);
    if (!net.persistent) trackResources({ namespaces: [namespace] });
    try {
        ip(["link", "add", hostVeth, "type", "veth", "peer", "name", peer]);
        ip(["link", "set", peer, "netns", namespace]);
        ip(["-n", namespace, "link", "set", peer, "name", "eth0"]);
        ip(["-n", namespace, "addr", "add", `${hostIp}/24`, "dev", "eth0"]);
        if (privateIp) ip(["-n", namespace, "addr", "add", `${privateIp}/28`, "dev", "eth0"]);
        ip(["-n", namespace, "link", "set", "lo", "up"]);
        ip(["-n", namespace, "link", "set", "eth0", "up"]);
        ip(["link", "set", hostVeth, "master", net.bridge]);
        ip(["link", "set", hostVeth, "up"]);
    } catch (e) {
        removeHost(net, { namespace, hostVeth });
        throw e;
    }
    return { namespace, ip: hostIp, privateIp, hostVeth };
}

/** Removes a host's namespace (its veth pair goes with it). */
export function removeHost(net: Pick<RigNetwork, "persistent">, host: Pick<RigHost, "namespace" | "hostVeth">): void {
    spawnSync("ip", ["netns", "del", host.namespace], { stdio: "ignore" });
    spawnSync("ip", ["link", "del", host.hostVeth], { stdio: "ignore" });
    if (!net.persistent) untrackResources({ namespaces: [host.namespace] });
}

/** Removes a network's bridge (hosts must be removed first; any left are removed too). */
export function destroyNetwork(net: RigNetwork): void {
    for (const ns of spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n")) {
        const name = ns.split(" ")[0];
        if (name && name.startsWith(`${net.prefix}-`)) {
            spawnSync("ip", ["netns", "del", name], { stdio: "ignore" });
            untrackResources({ namespaces: [name] });
        }
    }
    spawnSync("ip", ["link", "del", net.bridge], { stdio: "ignore" });
    if (!net.persistent) untrackResources({ links: [net.bridge] });
}

/**
 * An admin-only segment (for `isolated: { bastion: true }`): a bridge `adm0` inside the bastion's
 * namespace, so the host has no interface and no address on it. Its addresses are one private /28
 * of the network (198.19.<n>.<16b+1..16b+14>): the host routes that /24 into the rig bridge toward
 * an address nobody holds, so a dial from the host to a node's admin address fails on the machine
 * instead of leaving it. Only the bastion and the attached nodes have a leg on it; nothing forwards.
 */
export interface AdminSegment {
    /** Namespace that holds the bridge (the bastion's). */
    namespace: string;
    /** The bastion's address on the segment. */
    ip: string;
    /** First address of the /28 (the block's network address). */
    base: number;
    /** `<n>` of 198.19.<n>.0/24. */
    index: number;
    /** Next free host number within the /28 (2..14). */
    next: number;
}

/** Creates the admin segment's bridge in the bastion's namespace, with the bastion's address. */
export function addAdminSegment(net: RigNetwork, bastionNamespace: string, block: number): AdminSegment {
    const base = block * 16;
    const seg: AdminSegment = { namespace: bastionNamespace, ip: `198.19.${net.index}.${base + 1}`, base, index: net.index, next: 2 };
    ip(["-n", bastionNamespace, "link", "add", "adm0", "type", "bridge"]);
    ip(["-n", bastionNamespace, "addr", "add", `${seg.ip}/28`, "dev", "adm0"]);
    ip(["-n", bastionNamespace, "link", "set", "adm0", "up"]);
    return seg;
}

/**
 * Gives a host a leg `adm0` on the admin segment (a veth pair: one end in the host's namespace,
 * the other on the bastion's bridge); returns the host's admin address. The pair goes with either
 * namespace.
 */
export function attachToAdminSegment(seg: AdminSegment, namespace: string): string {
    const n = seg.next++;
    if (n > 14) throw new Error(`the admin segment of ${seg.namespace} is full (13 hosts)`);
    const address = `198.19.${seg.index}.${seg.base + n}`;
    const k = vethCounter++;
    const a = `e${process.pid}a${k}`;
    const b = `e${process.pid}b${k}`;
    ip(["link", "add", a, "type", "veth", "peer", "name", b]);
    try {
        ip(["link", "set", a, "netns", namespace]);
        ip(["link", "set", b, "netns", seg.namespace]);
    } catch (e) {
        spawnSync("ip", ["link", "del", a], { stdio: "ignore" });
        spawnSync("ip", ["link", "del", b], { stdio: "ignore" });
        throw e;
    }
    ip(["-n", namespace, "link", "set", a, "name", "adm0"]);
    ip(["-n", namespace, "addr", "add", `${address}/28`, "dev", "adm0"]);
    ip(["-n", namespace, "link", "set", "adm0", "up"]);
    ip(["-n", seg.namespace, "link", "set", b, "master", "adm0"]);
    ip(["-n", seg.namespace, "link", "set", b, "up"]);
    return address;
}

let defaultNet: RigNetwork | undefined;

/** The process's shared network for `hosts: true` (clusters that should reach each other share it). */
export function defaultNetwork(): RigNetwork {
    defaultNet ??= createNetwork();
    return defaultNet;
}

/** Removes the process's shared network, if one was made (call after stopping its clusters). */
export function destroyDefaultNetwork(): void {
    if (defaultNet) {
        destroyNetwork(defaultNet);
        defaultNet = undefined;
    }
}

/** Something that lives in namespaces: a topology's nodes or a proxy. */
export interface Endpoints {
    namespaces: string[];
    ips: string[];
}

/** A cut between two sets of namespaces; `heal()` restores it. */
export interface Partition {
    heal(): void;
}

/**
 * Cuts traffic between two sides (each a set of namespaces and their addresses) with host routes
 * in every namespace of each side toward every address of the other: `blackhole` (packets vanish,
 * like a real partition: connections time out) or `prohibit` (sends fail at once).
 * Traffic of either side with the host and with third parties is untouched.
 */
export function partition(a: Endpoints, b: Endpoints, mode: "drop" | "reject" = "drop"): Partition {
    if (!a.namespaces.length || !b.namespaces.length) {
        throw new Error("partition: both sides must run in network namespaces (start them with hosts: true / --hosts)");
    }
    const type = mode === "drop" ? "blackhole" : "prohibit";
    const made: Array<[string, string]> = [];
    const cut = (from: Endpoints, to: Endpoints) => {
        for (const ns of from.namespaces) {
            for (const addr of to.ips) {
                ip(["-n", ns, "route", "add", type, `${addr}/32`]);
                made.push([ns, addr]);
            }
        }
    };
    try {
        cut(a, b);
        cut(b, a);
    } catch (e) {
        for (const [ns, addr] of made) spawnSync("ip", ["-n", ns, "route", "del", type, `${addr}/32`], { stdio: "ignore" });
        throw e;
    }
    return {
        heal() {
            for (const [ns, addr] of made.splice(0)) {
                spawnSync("ip", ["-n", ns, "route", "del", type, `${addr}/32`], { stdio: "ignore" });
            }
        },
    };
}

/** Runs a command inside a namespace (for tests: e.g. a TCP connect from a node's host). */
export function execIn(namespace: string, cmd: string, args: string[], input?: string): string {
    return execFileSync("ip", ["netns", "exec", namespace, cmd, ...args], { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}
