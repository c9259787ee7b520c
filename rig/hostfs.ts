/**
 * Hosts that really are separate (`isolated` topologies): each rig "host" gets, beside its network
 * namespace (rig/netns.ts), a persistent mount namespace of its own, so what a node-side step writes
 * on a node lands on that node and nowhere else.
 *
 * - The namespace is bound to a file in `/run/pulumi-es-remote-rig/mnt` (a folder bind-mounted onto
 *   itself and made private, as `ip netns` does for /run/netns: the kernel refuses to bind a
 *   namespace file below a shared mount), so it outlives the `unshare` that made it.
 * - Inside, overlayfs on /etc, /usr/share, /var/lib, /var/log, /home and /root: the host's folder
 *   is the lower layer, the upper and work layers are in the host's backing folder
 *   (`/run/pulumi-es-remote-rig/hosts/<namespace>`, root-only 0700). The node sees the host's
 *   packages and users; nothing it writes reaches the host or another node. /run and /tmp are
 *   fresh tmpfs, as on a booted machine (a copy of the host's /run would also keep other clusters'
 *   network namespaces alive through their /run/netns mounts).
 * - Elasticsearch lives where Debian's and RPM's packages put it: /usr/share/elasticsearch (the
 *   cached distribution, bound read-only), /etc/elasticsearch (2750 root:esrig, files 0660
 *   root:esrig — the packages' modes, so a step that writes a file as root must keep the group
 *   readable, as on a real host), /var/lib/elasticsearch and /var/log/elasticsearch (2750 esrig),
 *   PID file /run/elasticsearch/elasticsearch.pid.
 * - Users the node has and the host does not: written into the upper layer's passwd/group/shadow
 *   (shadow password `*`: keys work, no password ever does) with `/etc/sudoers.d/<user>` in the
 *   overlay; the host's users and sudoers are never touched.
 *
 * The rig fills the upper layers from the host *before* the overlays are mounted (overlayfs takes
 * a pre-filled upper layer as it is; nothing on the host writes there afterwards) and runs
 * commands inside with {@link commandAccessOf}: `nsenter --mount=<file> --net=/run/netns/<ns> --`.
 * Two folders of the backing folder are seen inside too: `sshd/` at the same path (rig/sshd.ts
 * writes its config there from the host) and `run/` as /run/elasticsearch (the PID file).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { alive, nodeEnv, sleep } from "./elasticsearch";
import { processesInMountNamespace, reaperDir, releaseMountNamespace, tiedCommand, trackProcess, trackResources, untrackProcesses, untrackResources } from "./lifetime";
import { withRigLock } from "./netns";
import { fileLimitForBootstrapChecks } from "./nofile";
import { startSshd, SshdInfo, stopSshdProcesses } from "./sshd";

/** Where an isolated node keeps Elasticsearch (Debian's and RPM's package paths). */
export const NODE_PATHS = {
    esHome: "/usr/share/elasticsearch",
    configDir: "/etc/elasticsearch",
    dataDir: "/var/lib/elasticsearch",
    logsDir: "/var/log/elasticsearch",
    /** ES_TMPDIR, in the node's own /tmp. */
    tmpDir: "/tmp/elasticsearch",
    pidFile: "/run/elasticsearch/elasticsearch.pid",
} as const;

/** Folders of the host that each node sees through an overlay of its own. */
const OVERLAID = ["/etc", "/usr/share", "/var/lib", "/var/log", "/home", "/root"];

/** An SSH login: where, as whom, with which key, and the server's pinned host key. */
export interface SshEndpoint {
    /** Address to connect to. */
    host: string;
    port: number;
    user: string;
    /** The client's private key (OpenSSH PEM, no passphrase). */
    privateKeyPem: string;
    /** The same key in a 0600 file (for `ssh -i`). */
    privateKeyFile: string;
    /** The server's host key, `ssh-ed25519 AAAA…` (prefix it with the host for a known_hosts line). */
    hostKeyLine: string;
    /** The host key's `SHA256:…` fingerprint. */
    hostKeyFingerprint: string;
}

/** A user's key (a second login on the same server). */
export interface SshUserKey {
    user: string;
    privateKeyPem: string;
    privateKeyFile: string;
}

/** A user that exists only inside the hosts. */
export interface HostUser {
    name: string;
    /** uid and gid (a group of the same name). */
    id: number;
    /** `/etc/sudoers.d/<name>`: all commands without a password, all commands with one (never accepted: the password is `*`), or none. */
    sudo: "nopasswd" | "password" | "none";
}

/** One isolated host's file system. Plain data (kept in the CLI's state file). */
export interface HostFs {
    /** The network namespace (`/run/netns/<netns>`). */
    netns: string;
    /** The file the mount namespace is bound to. */
    mountNamespace: string;
    /** Backing folder on the host (overlay layers, console log, PID file, sshd folder); root-only. */
    hostDir: string;
}

/** Folder of the mount-namespace files. */
export function mountNamespaceDir(): string {
    return path.join(reaperDir(), "mnt");
}

/** Folder of the hosts' backing folders (root-owned, not under /tmp: sshd's StrictModes checks every folder above its files). */
export function hostsDir(): string {
    return path.join(reaperDir(), "hosts");
}

/**
 * Fails unless isolated hosts can be made here: root, the tools, and a host without Elasticsearch
 * in the package paths (a node would otherwise see the host's files there through its overlay, and
 * a test could pass by reading the host's disk).
 */
export function requireIsolationSupport(): void {
    if (!process.getuid || process.getuid() !== 0) {
        throw new Error("isolated: each node gets its own mount and network namespace, which needs root; run as root or drop the option");
    }
    for (const p of [NODE_PATHS.configDir, NODE_PATHS.esHome, NODE_PATHS.dataDir, NODE_PATHS.logsDir]) {
        if (fs.existsSync(p)) {
            throw new Error(`isolated: this host has ${p} (an Elasticsearch package?): isolated nodes keep their files at the packages' paths and must not see the host's. Remove it or run the rig elsewhere; nothing was started`);
        }
    }
    const missing = [["unshare", "util-linux"], ["nsenter", "util-linux"], ["/usr/sbin/sshd", "openssh-server"], ["sudo", "sudo"], ["ssh-keygen", "openssh-client"]]
        .filter(([cmd]) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status !== 0);
    if (missing.length) {
        throw new Error(`isolated: missing ${missing.map(([c]) => c).join(", ")}: run 'node dist/rig/setup.js' or apt-get install ${[...new Set(missing.map(([, p]) => p))].join(" ")}`);
    }
}

function sh(script: string, what: string): string {
    const r = spawnSync("sh", ["-ec", script], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${what} failed: ${(r.stderr || r.stdout || r.error?.message || "").trim()}`);
    return r.stdout;
}

function isMountPoint(dir: string): boolean {
    return spawnSync("findmnt", ["-n", "--mountpoint", dir], { stdio: "ignore" }).status === 0;
}

/** The private, self-bound folder that holds mount-namespace files (made once per boot). */
function ensureMountNamespaceDir(): string {
    const dir = mountNamespaceDir();
    withRigLock("mnt", () => {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        if (!isMountPoint(dir)) sh(`mount --bind '${dir}' '${dir}'`, `bind-mounting ${dir} onto itself`);
        sh(`mount --make-private '${dir}'`, `making ${dir} private`);
    });
    return dir;
}

/** Two ids free as both uid and gid on the host (the nodes' /etc starts as a copy of the host's). */
export function freeIds(count: number): number[] {
    const used = new Set<number>();
    for (const f of ["/etc/passwd", "/etc/group"]) {
        for (const line of fs.readFileSync(f, "utf8").split("\n")) {
            const id = Number(line.split(":")[2]);
            if (Number.isInteger(id)) used.add(id);
        }
    }
    const out: number[] = [];
    for (let id = 2900; out.length < count; id++) {
        if (id > 59999) throw new Error("no free uid/gid between 2900 and 59999");
        if (!used.has(id)) out.push(id);
    }
    return out;
}

function overlayOf(inside: string): string {
    const root = OVERLAID.filter((o) => inside === o || inside.startsWith(`${o}/`)).sort((a, b) => b.length - a.length)[0];
    if (!root) throw new Error(`${inside} is not in an overlaid folder (${OVERLAID.join(", ")})`);
    return root;
}

const slug = (dir: string) => dir.slice(1).replace(/\//g, "-");

/**
 * The host path, in the upper layer, of a path inside the host: where the rig writes a node's
 * files before its overlays are mounted (and reads diagnostics after). Never write there once mounted.
 */
export function upperPath(h: Pick<HostFs, "hostDir">, inside: string): string {
    const root = overlayOf(inside);
    return path.join(h.hostDir, "upper", slug(root), path.relative(root, inside));
}

/**
 * Creates `inside` (and the folders above it) in the upper layer. A folder the host also has takes
 * the host's owner and mode (overlayfs shows the upper layer's: a 0700 /etc/sudoers.d would break
 * sudo); a new one gets `mode` and `owner`.
 */
export function mkdirUpper(h: Pick<HostFs, "hostDir">, inside: string, mode = 0o755, owner: { uid: number; gid: number } = { uid: 0, gid: 0 }): string {
    const root = overlayOf(inside);
    const parts = path.relative(root, inside).split(path.sep).filter(Boolean);
    for (let i = 0; i <= parts.length; i++) {
        const lower = path.join(root, ...parts.slice(0, i));
        const upper = upperPath(h, lower);
        if (!fs.existsSync(upper)) fs.mkdirSync(upper, { recursive: true });
        let st: { mode: number; uid: number; gid: number } | undefined;
        try {
            st = fs.statSync(lower);
        } catch {
            st = undefined;
        }
        const m = st ? st.mode & 0o7777 : mode;
        fs.chownSync(upper, st ? st.uid : owner.uid, st ? st.gid : owner.gid);
        fs.chmodSync(upper, m);
    }
    return upperPath(h, inside);
}

/** Copies a host file into the upper layer (same owner and mode) unless it is there already; returns its upper path. */
function copyUp(h: Pick<HostFs, "hostDir">, inside: string): string {
    const upper = upperPath(h, inside);
    if (!fs.existsSync(upper)) {
        mkdirUpper(h, path.dirname(inside));
        const st = fs.statSync(inside);
        fs.copyFileSync(inside, upper);
        fs.chownSync(upper, st.uid, st.gid);
        fs.chmodSync(upper, st.mode & 0o7777);
    }
    return upper;
}

/**
 * Makes a host's backing folder and its overlay layers (not mounted yet) and adds `users` to its
 * /etc. `label` names the host in messages. Nothing is mounted: fill the upper layers, then
 * {@link mountHostFs}.
 */
export function prepareHostFs(netns: string, users: HostUser[], opts: { persistent: boolean }): HostFs {
    const root = hostsDir();
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    const hostDir = path.join(root, netns);
    fs.rmSync(hostDir, { recursive: true, force: true });
    fs.mkdirSync(hostDir, { mode: 0o700 });
    fs.chmodSync(hostDir, 0o700);
    const h: HostFs = { netns, mountNamespace: path.join(mountNamespaceDir(), netns), hostDir };
    if (!opts.persistent) trackResources({ dirs: [hostDir] });
    for (const o of OVERLAID) {
        mkdirUpper(h, o);
        fs.mkdirSync(path.join(hostDir, "work", slug(o)), { recursive: true, mode: 0o700 });
    }
    for (const d of ["sshd", "run"]) fs.mkdirSync(path.join(hostDir, d), { mode: 0o755 });
    const days = Math.floor(Date.now() / 86400000);
    const append = (inside: string, lines: string[]) => fs.appendFileSync(copyUp(h, inside), lines.map((l) => `${l}\n`).join(""));
    if (users.length) {
        append("/etc/passwd", users.map((u) => `${u.name}:x:${u.id}:${u.id}:rig ${u.name}:/home/${u.name}:/bin/bash`));
        append("/etc/group", users.map((u) => `${u.name}:x:${u.id}:`));
        append("/etc/shadow", users.map((u) => `${u.name}:*:${days}:0:99999:7:::`));
        if (fs.existsSync("/etc/gshadow")) append("/etc/gshadow", users.map((u) => `${u.name}:!::`));
    }
    for (const u of users) {
        mkdirUpper(h, `/home/${u.name}`, 0o700, { uid: u.id, gid: u.id });
        fs.chownSync(upperPath(h, `/home/${u.name}`), u.id, u.id);
        fs.chmodSync(upperPath(h, `/home/${u.name}`), 0o700);
        if (u.sudo !== "none") {
            mkdirUpper(h, "/etc/sudoers.d");
            const file = upperPath(h, `/etc/sudoers.d/${u.name}`);
            fs.writeFileSync(file, `${u.name} ALL=(ALL:ALL) ${u.sudo === "nopasswd" ? "NOPASSWD: " : ""}ALL\n`, { mode: 0o440 });
            fs.chmodSync(file, 0o440);
        }
    }
    return h;
}

/**
 * Lays out Elasticsearch's folders in the upper layers with the packages' owners and modes:
 * /etc/elasticsearch (everything below it: folders 2750, files 0660, root:esrig), the data and log
 * folders (2750 esrig), the mount point of the distribution. Call after writing the config files.
 */
export function ownElasticsearchFolders(h: HostFs, user: { uid: number; gid: number }): void {
    const own = (p: string, uid: number, dirMode: number, fileMode: number) => {
        const st = fs.lstatSync(p);
        fs.lchownSync(p, uid, user.gid);
        if (st.isDirectory()) {
            fs.chmodSync(p, dirMode);
            for (const e of fs.readdirSync(p)) own(path.join(p, e), uid, dirMode, fileMode);
        } else if (!st.isSymbolicLink()) {
            fs.chmodSync(p, fileMode);
        }
    };
    own(mkdirUpper(h, NODE_PATHS.configDir), 0, 0o2750, 0o660);
    own(mkdirUpper(h, NODE_PATHS.dataDir), user.uid, 0o2750, 0o660);
    own(mkdirUpper(h, NODE_PATHS.logsDir), user.uid, 0o2750, 0o660);
    mkdirUpper(h, NODE_PATHS.esHome);
    fs.chownSync(path.join(h.hostDir, "run"), user.uid, user.gid);
}

/**
 * Creates the host's mount namespace and mounts its overlays (and, with `distribution`, the
 * Elasticsearch distribution read-only on /usr/share/elasticsearch and its /tmp and /run folders
 * for `esUser`). Recorded for the reaper unless `persistent`.
 */
export function mountHostFs(h: HostFs, opts: { persistent: boolean; distribution?: string; esUser?: { uid: number; gid: number } }): void {
    ensureMountNamespaceDir();
    fs.writeFileSync(h.mountNamespace, "", { mode: 0o600 });
    if (!opts.persistent) trackResources({ mounts: [h.mountNamespace] });
    const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const sshdDir = path.join(h.hostDir, "sshd");
    const lines = [
        ...OVERLAID.map((o) => `mount -t overlay rig-${slug(o)} -o ${q(`lowerdir=${o},upperdir=${upperPath(h, o)},workdir=${path.join(h.hostDir, "work", slug(o))}`)} ${o}`),
        ...(opts.distribution
            ? [`mount --bind ${q(opts.distribution)} ${NODE_PATHS.esHome}`, `mount -o remount,bind,ro ${NODE_PATHS.esHome}`]
            : []),
        // The folders shared with the host, staged on a mount that stays while /run is replaced.
        "mkdir -p /etc/.rig-stage/sshd /etc/.rig-stage/run",
        `mount --bind ${q(sshdDir)} /etc/.rig-stage/sshd`,
        `mount --bind ${q(path.join(h.hostDir, "run"))} /etc/.rig-stage/run`,
        // Copies of the host's mounts below /run (other hosts' /run/netns entries hold their network namespaces).
        "cut -d' ' -f5 /proc/self/mountinfo | grep '^/run/' | sort -r | while read -r m; do umount -l \"$m\" 2>/dev/null || true; done",
        "mount -t tmpfs -o mode=0755,nosuid,nodev rig-run /run",
        "mkdir -p -m 0755 /run/sshd /run/elasticsearch",
        "mkdir -p -m 1777 /run/lock",
        `mkdir -p ${q(sshdDir)}`,
        `mount --move /etc/.rig-stage/sshd ${q(sshdDir)}`,
        "mount --move /etc/.rig-stage/run /run/elasticsearch",
        "rmdir /etc/.rig-stage/sshd /etc/.rig-stage/run /etc/.rig-stage",
        "mount -t tmpfs -o mode=1777,nosuid,nodev rig-tmp /tmp",
        ...(opts.esUser
            ? [`mkdir -m 0700 ${NODE_PATHS.tmpDir}`, `chown ${opts.esUser.uid}:${opts.esUser.gid} ${NODE_PATHS.tmpDir}`]
            : []),
    ];
    const r = spawnSync("unshare", [`--mount=${h.mountNamespace}`, "--propagation", "private", "--", "sh", "-ec", lines.join("\n")], { encoding: "utf8" });
    if (r.status !== 0) {
        releaseMountNamespace(h.mountNamespace);
        throw new Error(`could not make the mount namespace of ${h.netns}: ${(r.stderr || r.stdout || r.error?.message || "").trim()}`);
    }
}

/** The argv prefix that runs a command as root inside the host (its mount and network namespaces). */
export function commandAccessOf(h: Pick<HostFs, "mountNamespace" | "netns">): string[] {
    return ["nsenter", `--mount=${h.mountNamespace}`, `--net=/run/netns/${h.netns}`, "--"];
}

/** Runs `argv` as root inside the host; rejects with its output unless it exits 0. */
export function runInHost(h: HostFs, argv: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
    const full = [...commandAccessOf(h), ...argv];
    return new Promise((resolve, reject) => {
        const child = spawn(full[0], full.slice(1), { env: opts.env ?? process.env, cwd: "/", stdio: ["pipe", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.map((a) => path.basename(a)).join(" ")} in ${h.netns} exited ${code}: ${(err || out).trim()}`))));
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.input ?? "");
    });
}

/** The environment of an isolated node's Elasticsearch processes. */
export function isolatedNodeEnv(javaHome: string): NodeJS.ProcessEnv {
    return {
        ...nodeEnv(javaHome, NODE_PATHS.configDir, NODE_PATHS.dataDir),
        ES_TMPDIR: NODE_PATHS.tmpDir,
        CLI_JAVA_OPTS: `-Djava.io.tmpdir=${NODE_PATHS.tmpDir}`,
    };
}

/** Creates the node's keystore with `bootstrap.password`, as root inside the node (as the packages' postinst does), then gives it the packages' owner and mode. */
export async function createKeystore(h: HostFs, javaHome: string, password: string, user: { uid: number; gid: number }): Promise<void> {
    const env = isolatedNodeEnv(javaHome);
    const tool = `${NODE_PATHS.esHome}/bin/elasticsearch-keystore`;
    await runInHost(h, [tool, "create"], { env });
    await runInHost(h, [tool, "add", "-x", "bootstrap.password"], { env, input: password });
    const ks = `${NODE_PATHS.configDir}/elasticsearch.keystore`;
    await runInHost(h, ["sh", "-ec", `chown 0:${user.gid} ${ks}; chmod 0660 ${ks}`]);
}

/** PID file of an isolated node's server, as the host sees it. */
export function hostPidFile(h: Pick<HostFs, "hostDir">): string {
    return path.join(h.hostDir, "run", path.basename(NODE_PATHS.pidFile));
}

/**
 * Starts `bin/elasticsearch` inside the node (both namespaces) as the unprivileged user, as
 * rig/elasticsearch.ts launch() does for other nodes: its own process group, output to the
 * backing folder's console.log, the bootstrap check's file limit, and unless `persistent` the
 * parent-death signal and the reaper. nsenter, prlimit and setpriv exec in place: the PID is the launcher's.
 */
export function launchInHost(h: HostFs, user: { uid: number; gid: number } | undefined, javaHome: string, opts: { persistent?: boolean; log: (m: string) => void }): number {
    const out = fs.openSync(path.join(h.hostDir, "console.log"), "a");
    const [cmd, args] = tiedCommand(user, !opts.persistent, `${NODE_PATHS.esHome}/bin/elasticsearch`, ["-p", NODE_PATHS.pidFile]);
    const limit = fileLimitForBootstrapChecks(opts.log);
    const argv = [...commandAccessOf(h), ...limit.prefix, cmd, ...args];
    const child = spawn(argv[0], argv.slice(1), { env: { ...isolatedNodeEnv(javaHome), ...limit.env }, cwd: "/", detached: true, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    child.unref();
    if (!child.pid) throw new Error(`could not start Elasticsearch in ${h.netns}`);
    if (!opts.persistent) trackProcess(child.pid, { group: true });
    return child.pid;
}

/** Starts the host's sshd on `address:22` inside its namespaces, with its own host key. */
export function startHostSshd(h: HostFs, opts: { address: string; authorizedKeys: Record<string, string[]>; allowTcpForwarding?: boolean; persistent: boolean; log?: (m: string) => void }): Promise<SshdInfo> {
    return startSshd({
        dir: path.join(h.hostDir, "sshd"),
        address: opts.address,
        port: 22,
        execPrefix: commandAccessOf(h),
        authorizedKeys: opts.authorizedKeys,
        allowTcpForwarding: opts.allowTcpForwarding,
        persistent: opts.persistent,
        log: opts.log,
    });
}

function isSshd(pid: number): boolean {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").some((a) => a === "/usr/sbin/sshd" || a.endsWith("sshd") || a.startsWith("sshd: "));
    } catch {
        return false;
    }
}

/** Stops an sshd by PID (and its per-connection processes): SIGTERM, SIGKILL after 5 s. Only signals sshd processes (a PID from a state file may be reused). */
export async function stopSshdPid(pid: number | undefined): Promise<void> {
    if (!pid || !alive(pid) || !isSshd(pid)) return;
    await stopSshdProcesses(pid);
}

/**
 * Removes a host's file system: stops whatever still runs inside it (SIGTERM, then SIGKILL after
 * `graceMs`), unmounts and removes its namespace file, removes its backing folder.
 */
export async function removeHostFs(h: HostFs, graceMs = 5000): Promise<void> {
    const inside = processesInMountNamespace(h.mountNamespace);
    for (const p of inside) {
        try {
            process.kill(p, "SIGTERM");
        } catch {
            // gone
        }
    }
    const deadline = Date.now() + graceMs;
    while (inside.some(alive) && Date.now() < deadline) await sleep(100);
    releaseMountNamespace(h.mountNamespace);
    untrackProcesses(inside);
    fs.rmSync(h.hostDir, { recursive: true, force: true });
    untrackResources({ mounts: [h.mountNamespace], dirs: [h.hostDir] });
}
