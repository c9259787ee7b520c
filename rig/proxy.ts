/**
 * A real TCP proxy in front of rig clusters, for remote clusters in proxy mode: HAProxy (Debian's
 * package, installed by rig/setup.ts) in TCP mode, routing each TLS connection by its SNI server
 * name (`req.ssl_sni`) to one cluster's transport ports or remote-cluster-server ports. TLS passes
 * through untouched: the node's own certificate is what the client sees.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { alive, freePort, readTail, sleep } from "./elasticsearch";
import { tiedCommand, trackProcess, trackResources, untrackProcesses, untrackResources } from "./lifetime";
import { addHost, defaultNetwork, Endpoints, removeHost, RigNetwork } from "./netns";
import { runRoot } from "./paths";
import { TopologyInfo } from "./topology";

/** One SNI route. */
export interface ProxyRoute {
    /** The TLS server name (`cluster.remote.<alias>.server_name`) that selects this route. */
    serverName: string;
    /** The cluster behind it. */
    cluster: TopologyInfo;
    /** Which port of its nodes: the transport port (certificate model) or the remote cluster server (API-key model). Default "transport". */
    target?: "transport" | "remote_cluster_server";
}

/** Options for {@link startProxy}. */
export interface ProxyOptions {
    name: string;
    routes: ProxyRoute[];
    /**
     * Run the proxy in its own network namespace with its own address (port 9400) on a rig network;
     * `true` = this process's shared network. Default: in the root namespace, on the rig network's
     * host address when the clusters use one, else on 127.0.0.1 with a free port.
     */
    hosts?: boolean | RigNetwork;
    port?: number;
    parentDir?: string;
    /** Outlive this process (the CLI). Default false. */
    persistent?: boolean;
}

/** A running proxy. */
export interface ProxyInfo {
    name: string;
    /** `host:port` to give as `proxy_address`. */
    address: string;
    host: string;
    port: number;
    pid: number;
    dir: string;
    configFile: string;
    /** HAProxy's log (stderr, one line per connection). */
    logFile: string;
    namespace?: string;
    hostVeth?: string;
    routes: Array<{ serverName: string; cluster: string; backends: string[] }>;
    persistent: boolean;
}

/** The haproxy binary, or a message that says how to get it. */
export function haproxyBin(): string {
    for (const p of ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"]) {
        if (fs.existsSync(p)) return p;
    }
    throw new Error("HAProxy is not installed: run 'node dist/rig/setup.js' (installs Debian's haproxy with apt-get as root) or 'apt-get install haproxy'");
}

/** Installs HAProxy with apt-get when it is missing (rig/setup.ts); a clear error when it cannot. */
export function ensureHaproxy(log: (m: string) => void = console.log): string {
    try {
        return haproxyBin();
    } catch {
        if (!process.getuid || process.getuid() !== 0) {
            throw new Error("HAProxy is missing and only root can install it: run 'sudo apt-get install haproxy' (the rig's proxy mode needs it)");
        }
        log("installing haproxy with apt-get");
        const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
        let r = spawnSync("apt-get", ["install", "-y", "-q", "haproxy"], { encoding: "utf8", env });
        if (r.status !== 0) {
            spawnSync("apt-get", ["update", "-q"], { encoding: "utf8", env });
            r = spawnSync("apt-get", ["install", "-y", "-q", "haproxy"], { encoding: "utf8", env });
        }
        if (r.status !== 0) {
            throw new Error(`could not install haproxy with apt-get (exit ${r.status}): ${(r.stderr || r.stdout || "").slice(-1500)}`);
        }
        return haproxyBin();
    }
}

function backendsOf(route: ProxyRoute): string[] {
    const nodes = route.cluster.nodes;
    // Dedicated masters are never gateways; route to the other nodes when there are any.
    const data = nodes.filter((n) => n.roles.some((r) => r.startsWith("data")));
    const chosen = data.length ? data : nodes;
    if ((route.target ?? "transport") === "remote_cluster_server") {
        const out = chosen.map((n) => n.remoteClusterServerAddress).filter((x): x is string => !!x);
        if (!out.length) throw new Error(`proxy route '${route.serverName}': cluster ${route.cluster.name} has no remote cluster server (start it with remoteClusterServer: true)`);
        return out;
    }
    return chosen.map((n) => n.transportAddress);
}

/** Writes the HAProxy configuration (TCP mode, SNI routing, no default backend). */
export function haproxyConfig(bind: string, routes: Array<{ serverName: string; backends: string[] }>): string {
    const lines = [
        "global",
        "    log stderr format raw local0 info",
        "    maxconn 4096",
        "defaults",
        "    mode tcp",
        "    log global",
        "    option tcplog",
        "    timeout connect 5s",
        "    timeout client 1h",
        "    timeout server 1h",
        "frontend sni",
        `    bind ${bind}`,
        "    tcp-request inspect-delay 5s",
        "    tcp-request content accept if { req.ssl_hello_type 1 }",
    ];
    routes.forEach((r, i) => lines.push(`    use_backend route${i} if { req.ssl_sni -i ${r.serverName} }`));
    routes.forEach((r, i) => {
        lines.push(`backend route${i}`, "    balance roundrobin");
        r.backends.forEach((b, j) => lines.push(`    server s${j} ${b}`));
    });
    return lines.join("\n") + "\n";
}

async function waitListening(host: string, port: number, pid: number, logFile: string): Promise<void> {
    const deadline = Date.now() + 20000;
    for (;;) {
        if (!alive(pid)) throw new Error(`haproxy exited:\n${readTail(logFile, 20)}`);
        const ok = await new Promise<boolean>((resolve) => {
            const s = net.connect({ host, port }, () => {
                s.destroy();
                resolve(true);
            });
            s.on("error", () => resolve(false));
        });
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`haproxy does not listen on ${host}:${port}:\n${readTail(logFile, 20)}`);
        await sleep(200);
    }
}

/** Starts HAProxy with SNI routes to the given clusters; returns where it listens and its PID. */
export async function startProxy(opts: ProxyOptions): Promise<ProxyInfo> {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(opts.name ?? "")) throw new Error(`name: '${opts.name}' — lowercase letters, digits, '-'`);
    if (!opts.routes?.length) throw new Error("routes: give at least one { serverName, cluster }");
    for (const r of opts.routes) {
        if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(r.serverName)) {
            throw new Error(`routes[].serverName: '${r.serverName}' is not a valid host name (Elasticsearch's server_name must be one)`);
        }
    }
    const bin = haproxyBin();
    const persistent = !!opts.persistent;
    const routes = opts.routes.map((r) => ({ serverName: r.serverName, cluster: r.cluster.name, backends: backendsOf(r) }));
    const clusterNet = opts.routes.find((r) => r.cluster.network)?.cluster.network;
    const network = opts.hosts ? (opts.hosts === true ? (clusterNet ?? defaultNetwork()) : opts.hosts) : undefined;
    const host = network ? addHost(network, `proxy-${opts.name}`) : undefined;
    const bindHost = host?.ip ?? clusterNet?.hostIp ?? "127.0.0.1";
    const port = opts.port ?? (host ? 9400 : await freePort());
    const parent = opts.parentDir ?? runRoot();
    fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
    const dir = fs.mkdtempSync(path.join(parent, `proxy-${opts.name}-`));
    if (!persistent) trackResources({ dirs: [dir] });
    const configFile = path.join(dir, "haproxy.cfg");
    const logFile = path.join(dir, "haproxy.log");
    fs.writeFileSync(configFile, haproxyConfig(`${bindHost}:${port}`, routes));
    const check = spawnSync(bin, ["-c", "-q", "-f", configFile], { encoding: "utf8" });
    if (check.status !== 0) throw new Error(`haproxy rejected ${configFile}: ${check.stderr || check.stdout}`);
    let [cmd, args] = tiedCommand(undefined, !persistent, bin, ["-db", "-f", configFile]);
    if (host) [cmd, args] = ["ip", ["netns", "exec", host.namespace, cmd, ...args]];
    const out = fs.openSync(logFile, "a");
    const child = spawn(cmd, args, { cwd: dir, detached: true, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    child.unref();
    if (!child.pid) throw new Error("could not start haproxy");
    if (!persistent) trackProcess(child.pid, { group: true });
    const info: ProxyInfo = {
        name: opts.name, address: `${bindHost}:${port}`, host: bindHost, port, pid: child.pid, dir, configFile, logFile,
        namespace: host?.namespace, hostVeth: host?.hostVeth, routes, persistent,
    };
    try {
        await waitListening(bindHost, port, child.pid, logFile);
    } catch (e) {
        await stopProxy(info);
        throw e;
    }
    return info;
}

/** Stops a proxy by its PID, removes its namespace and folder. */
export async function stopProxy(p: ProxyInfo, opts: { keepFiles?: boolean } = {}): Promise<void> {
    if (alive(p.pid) && fs.existsSync(`/proc/${p.pid}/cmdline`) && fs.readFileSync(`/proc/${p.pid}/cmdline`, "utf8").includes("haproxy")) {
        try {
            process.kill(p.pid, "SIGTERM");
        } catch {
            // gone
        }
        const deadline = Date.now() + 5000;
        while (alive(p.pid) && Date.now() < deadline) await sleep(100);
        if (alive(p.pid)) {
            try {
                process.kill(-p.pid, "SIGKILL"); // its own process group
            } catch {
                // gone
            }
        }
    }
    untrackProcesses([p.pid]);
    if (p.namespace && p.hostVeth) removeHost({ persistent: p.persistent }, { namespace: p.namespace, hostVeth: p.hostVeth });
    if (!opts.keepFiles) {
        fs.rmSync(p.dir, { recursive: true, force: true });
        untrackResources({ dirs: [p.dir] });
    }
}

/** The proxy's namespace and address (for {@link partition}); empty namespaces when it runs in the root namespace. */
export function proxyEndpoints(p: ProxyInfo): Endpoints {
    return { namespaces: p.namespace ? [p.namespace] : [], ips: p.namespace ? [p.host] : [] };
}
