/**
 * A real OpenSSH server for tests and the rig: Debian's `/usr/sbin/sshd`, one instance per call,
 * everything it needs (config, host key, authorized keys, PID file, log) in its own folder.
 *
 * - Key-only logins (no password, no keyboard-interactive, no PAM), `StrictModes yes` as on a real
 *   host: the folder and everything in it are root-owned, 0755 folders and 0644 files (the host key
 *   0600), and every folder above it must be root-owned and not group/world-writable — sshd walks
 *   up to `/` for an AuthorizedKeysFile outside the user's home, so a folder under `/tmp` (1777)
 *   is refused. {@link startSshd} checks this first and names the folder at fault.
 * - `-D -e` with `LogLevel VERBOSE`: sshd stays in the foreground and logs to stderr, which goes to
 *   `logFile` (opened here, so it works when sshd runs in another mount namespace). VERBOSE logs
 *   each connection's source and each accepted key (`Accepted publickey for …`), never what a
 *   session reads on stdin.
 * - Unless `persistent`, the server dies with this process (`setpriv --pdeathsig KILL`) and the
 *   reaper (rig/lifetime.ts) knows it.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { alive, descendants, readTail, sleep } from "./elasticsearch";
import { tiedCommand, trackProcess, untrackProcesses } from "./lifetime";

/** Options of {@link startSshd}. */
export interface SshdOptions {
    /** The server's own folder (created if missing): config, host key, authorized keys, PID file, log. Absolute. */
    dir: string;
    /** Address to listen on (IPv4 or IPv6 literal). */
    address: string;
    /** TCP port to listen on. */
    port: number;
    /** An argv prefix that runs sshd elsewhere, e.g. `["nsenter", "--mount=/run/x", "--net=/run/netns/y", "--"]`; `dir` must be visible there at the same path. */
    execPrefix?: string[];
    /** Public key lines (`ssh-ed25519 AAAA… comment`) allowed to log in, per user name. */
    authorizedKeys: Record<string, string[]>;
    /** `AllowTcpForwarding` (needed on a jump host). @default false */
    allowTcpForwarding?: boolean;
    /** `PermitRootLogin prohibit-password` instead of `no`. @default false */
    permitRootLogin?: boolean;
    /** Outlive this process (not tied, not recorded for the reaper). @default false */
    persistent?: boolean;
    /** Progress messages. */
    log?: (m: string) => void;
    /** Milliseconds to wait for the server to listen. @default 15000 */
    startTimeoutMs?: number;
}

/** A running sshd. */
export interface SshdInfo {
    /** PID of the listening sshd (the process spawned here; prefixes such as `ip netns exec` exec in place). */
    pid: number;
    address: string;
    port: number;
    /** Its host key, `ssh-ed25519 AAAA…` (no comment). */
    hostKeyLine: string;
    /** Its host key's fingerprint as `ssh-keygen -lf` prints it: `SHA256:…` (base64, no padding). */
    hostKeyFingerprint: string;
    /** The server's log (LogLevel VERBOSE). */
    logFile: string;
    /** Stops the server and its per-connection processes (by PID: SIGTERM, then SIGKILL after 5 s). */
    stop(): Promise<void>;
}

const SSHD = "/usr/sbin/sshd";

/** Runs a tool, throwing with its stderr if it fails. */
function tool(cmd: string, args: string[], input?: string): string {
    const r = spawnSync(cmd, args, { encoding: "utf8", input, timeout: 30000 });
    if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
}

/** `SHA256:…` of a public key file, as `ssh-keygen -lf` prints it. */
export function fingerprintOf(pubFile: string): string {
    return tool("ssh-keygen", ["-lf", pubFile]).trim().split(/\s+/)[1];
}

/** Why StrictModes would refuse files in `dir` (a folder above it group/world-writable or not root's), or undefined. */
function strictModesProblem(dir: string): string | undefined {
    let p = path.resolve(dir);
    for (;;) {
        let st: fs.Stats;
        try {
            st = fs.statSync(p);
        } catch {
            // Not created yet: created here root-owned 0755.
            p = path.dirname(p);
            continue;
        }
        if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
            return `${p} is ${st.uid !== 0 ? `owned by uid ${st.uid}` : `mode 0${(st.mode & 0o7777).toString(8)}`}: sshd's StrictModes refuses authorized keys below it; put the sshd folder under a root-owned 0755 path (e.g. /run or /var/lib), not /tmp`;
        }
        if (p === "/") return undefined;
        p = path.dirname(p);
    }
}

function mkdirRoot(dir: string): void {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chownSync(dir, 0, 0);
    fs.chmodSync(dir, 0o755);
}

function writeRoot(file: string, content: string, mode: number): void {
    fs.writeFileSync(file, content, { mode });
    fs.chownSync(file, 0, 0);
    fs.chmodSync(file, mode);
}

/** The `ListenAddress` value for an address and port (IPv6 in brackets). */
function listenAddress(address: string, port: number): string {
    return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Starts sshd with its own ed25519 host key and waits until it listens. Needs root (sshd's
 * privilege separation and the per-connection user switch). Rejects with the log's tail if sshd
 * exits or does not listen within `startTimeoutMs`.
 */
export async function startSshd(opts: SshdOptions): Promise<SshdInfo> {
    const log = opts.log ?? (() => undefined);
    if (!path.isAbsolute(opts.dir)) throw new Error(`startSshd: dir ${opts.dir} must be absolute`);
    const problem = strictModesProblem(opts.dir);
    if (problem) throw new Error(`startSshd: ${problem}`);
    mkdirRoot(opts.dir);
    // The privilege separation folder sshd chroots its pre-auth child into; Debian's package makes it at boot.
    mkdirRoot("/run/sshd");
    if (opts.execPrefix?.length) {
        // In another mount namespace /run may be another folder: make it there too.
        tool(opts.execPrefix[0], [...opts.execPrefix.slice(1), "mkdir", "-p", "-m", "0755", "/run/sshd"]);
    }

    const hostKey = path.join(opts.dir, "ssh_host_ed25519_key");
    if (!fs.existsSync(hostKey)) {
        tool("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", hostKey]);
    }
    fs.chownSync(hostKey, 0, 0);
    fs.chmodSync(hostKey, 0o600);
    fs.chownSync(`${hostKey}.pub`, 0, 0);
    fs.chmodSync(`${hostKey}.pub`, 0o644);
    const hostKeyLine = fs.readFileSync(`${hostKey}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
    const hostKeyFingerprint = fingerprintOf(`${hostKey}.pub`);

    const keysDir = path.join(opts.dir, "authorized_keys.d");
    mkdirRoot(keysDir);
    for (const f of fs.readdirSync(keysDir)) fs.rmSync(path.join(keysDir, f), { force: true });
    for (const [user, lines] of Object.entries(opts.authorizedKeys)) {
        if (!/^[a-z_][a-z0-9_.-]*$/i.test(user)) throw new Error(`startSshd: ${JSON.stringify(user)} is not a user name`);
        writeRoot(path.join(keysDir, user), lines.map((l) => `${l.trim()}\n`).join(""), 0o644);
    }

    const pidFile = path.join(opts.dir, "sshd.pid");
    const logFile = path.join(opts.dir, "sshd.log");
    const config = path.join(opts.dir, "sshd_config");
    writeRoot(config, [
        `ListenAddress ${listenAddress(opts.address, opts.port)}`,
        `HostKey ${hostKey}`,
        `PidFile ${pidFile}`,
        `AuthorizedKeysFile ${keysDir}/%u`,
        "AuthorizedPrincipalsFile none",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "HostbasedAuthentication no",
        "UsePAM no",
        "StrictModes yes",
        `PermitRootLogin ${opts.permitRootLogin ? "prohibit-password" : "no"}`,
        `AllowTcpForwarding ${opts.allowTcpForwarding ? "yes" : "no"}`,
        "AllowAgentForwarding no",
        "X11Forwarding no",
        "PermitTunnel no",
        "UseDNS no",
        "PrintMotd no",
        "PrintLastLog no",
        "LogLevel VERBOSE",
        "",
    ].join("\n"), 0o644);
    // Checks the config (sshd -t) here so a mistake reads as sshd's own message, not a timeout.
    tool(SSHD, ["-t", "-f", config]);

    fs.rmSync(pidFile, { force: true });
    const out = fs.openSync(logFile, "a");
    const [cmd0, args0] = tiedCommand(undefined, !opts.persistent, SSHD, ["-D", "-e", "-f", config]);
    const argv = [...(opts.execPrefix ?? []), cmd0, ...args0];
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    child.unref();
    if (!child.pid) throw new Error("startSshd: could not start sshd");
    const pid = child.pid;
    if (!opts.persistent) trackProcess(pid, { group: true });
    let exited: string | undefined;
    child.once("exit", (code, signal) => {
        exited = signal ? `signal ${signal}` : `exit ${code}`;
    });

    const stop = () => stopSshdProcesses(pid);

    // "Server listening on A port P." is logged right after listen(): from then on the port accepts.
    // Read from the log rather than dialled, so it also works when sshd runs in another network namespace.
    const listening = `Server listening on ${opts.address} port ${opts.port}`;
    const deadline = Date.now() + (opts.startTimeoutMs ?? 15000);
    for (;;) {
        let text = "";
        try {
            text = fs.readFileSync(logFile, "utf8");
        } catch {
            // not yet
        }
        if (text.includes(listening)) break;
        if (exited || Date.now() > deadline) {
            await stop();
            throw new Error(`sshd on ${listenAddress(opts.address, opts.port)} ${exited ? `exited (${exited})` : "did not listen in time"}:\n${readTail(logFile, 20)}`);
        }
        await sleep(50);
    }
    log(`sshd ${listenAddress(opts.address, opts.port)} (pid ${pid}, host key ${hostKeyFingerprint})`);
    return { pid, address: opts.address, port: opts.port, hostKeyLine, hostKeyFingerprint, logFile, stop };
}

/**
 * A new ed25519 client key pair in `dir` (`id_ed25519_<random>`, mode 0600): the private key as
 * OpenSSH PEM, the public key line, and the private key's file. With `passphrase`, the key is
 * encrypted with it.
 *
 * The passphrase is given to ssh-keygen with `-N` on its command line (visible in `ps` while it
 * runs): acceptable here only because this is a throw-away test key. The product never puts a
 * secret in a command line.
 */
export function generateClientKey(dir: string, opts: { passphrase?: string; comment?: string } = {}): { privateKeyPem: string; publicKeyLine: string; file: string } {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `id_ed25519_${Math.random().toString(36).slice(2, 10)}`);
    tool("ssh-keygen", ["-q", "-t", "ed25519", "-N", opts.passphrase ?? "", "-C", opts.comment ?? "pulumi-es-remote-test", "-f", file]);
    fs.chmodSync(file, 0o600);
    return {
        privateKeyPem: fs.readFileSync(file, "utf8"),
        publicKeyLine: fs.readFileSync(`${file}.pub`, "utf8").trim(),
        file,
    };
}

/**
 * Stops sshd `pid` and its per-connection processes (they call setsid(), so they leave its process
 * group and are found by parentage): SIGTERM, SIGKILL after 5 s; forgets them in the reaper's record.
 */
export async function stopSshdProcesses(pid: number): Promise<void> {
    const pids = [...(alive(pid) ? descendants(pid) : []), pid];
    for (const p of pids) {
        try {
            process.kill(p, "SIGTERM");
        } catch {
            // gone
        }
    }
    const deadline = Date.now() + 5000;
    while (pids.some(alive) && Date.now() < deadline) await sleep(100);
    for (const p of pids.filter(alive)) {
        try {
            process.kill(p, "SIGKILL");
        } catch {
            // gone
        }
    }
    untrackProcesses(pids);
}
