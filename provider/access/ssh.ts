/**
 * A {@link NodeShell} over SSH, with the `ssh2` library (no `ssh` binary needed).
 *
 * - One connection per hop chain, user and credential (and pins) per process, shared by every
 *   resource and every sudo user; opened at the first run, opened again once if it dropped.
 *   At most {@link sshTuning.maxChannels} runs at a time on it: OpenSSH's `MaxSessions` defaults
 *   to 10 sessions per connection and refuses the next channel with "open failed".
 * - The host key is pinned (./hostkey): a key other than the pinned one ends the handshake before
 *   anything is sent ({@link HostKeyError}); `acceptAnyHostKey` warns at every connect.
 * - A jump host is one more connection whose `direct-tcpip` channel to the node's SSH port is the
 *   node connection's socket (like `ssh -J`).
 * - Each run is an `exec` request `[sudo -n [-u user] --] sh -c '<script>' sh '<arg>'…`; the
 *   secret-bearing bytes go on the channel's stdin only.
 * - The TCP socket is unref'd while no run is in flight, and the keepalive timer always, so an idle
 *   pooled connection never keeps a process (mocha, the provider) alive.
 */
import * as fs from "fs";
import * as net from "net";
import type { Duplex } from "stream";
import { Client, ClientChannel, ConnectConfig, utils } from "ssh2";
import { HostKeyError, NodeAccessError } from "../core/errors";
import { describeHostKey, hostKeyAlgorithms, hostKeyEntries, matchHostKey } from "./hostkey";
import { DEFAULT_RUN_TIMEOUT_MS, OutputCollector, shCommand, sudoRefusal, timeoutError } from "./shell";
import type { NodeAccess, NodeShell, RunOptions, ShellResult, SshAccess, SshHop } from "./types";
import { describeAccess, hostPort, sshConnectionKey, sudoUser } from "./validate";

/** Default of `timeoutSeconds`: TCP connect plus SSH handshake, per hop. */
export const DEFAULT_SSH_TIMEOUT_SECONDS = 20;

/**
 * Knobs of the pool. @internal Tests shorten the keepalive; the defaults are the product's:
 * a keepalive every 10 s, three unanswered ones end the connection (a dead peer is noticed in
 * about 40 s, like OpenSSH's `ServerAliveInterval 10` / `ServerAliveCountMax 3`).
 */
export const sshTuning = { keepaliveMs: 10_000, keepaliveCountMax: 3, maxChannels: 8 };

/** One hop of a connection, with the words its messages use. */
interface HopRef {
    hop: SshHop;
    /** `node` or `jump host`. */
    role: string;
    /** The input property of the hop, e.g. `ssh` or `ssh.jumpHost`. */
    property: string;
}

function timeoutSecondsOf(h: SshHop): number {
    return h.timeoutSeconds ?? DEFAULT_SSH_TIMEOUT_SECONDS;
}

/** The error of a hop that could not be connected or logged in to; never carries a key. */
function connectError(err: unknown, r: HopRef, via?: HopRef): NodeAccessError {
    if (err instanceof NodeAccessError) return err;
    const e = err as Error & { code?: string; level?: string };
    const h = r.hop;
    const hp = hostPort(h);
    const s = timeoutSecondsOf(h);
    const details = { host: String(h.host), port: h.port ?? 22, role: r.role, code: e.code, level: e.level };
    const through = via ? ` (through the jump host ${hostPort(via.hop)})` : "";
    const unanswered = (why: string) => new NodeAccessError(
        `no SSH server answered at ${hp}${through} within ${s} s (${why}): is the host up, the port right (${r.property}.port), a firewall in between?`,
        details, { cause: err });
    switch (e.code) {
        case "ECONNREFUSED":
            return unanswered("connection refused");
        case "EHOSTUNREACH":
        case "ENETUNREACH":
            return unanswered("host unreachable");
        case "ETIMEDOUT":
            return unanswered("TCP connect timed out");
        case "ENOTFOUND":
        case "EAI_AGAIN":
        case "EAI_NONAME":
            return new NodeAccessError(`cannot resolve the ${r.role} name ${String(h.host)} (${e.code}): check ${r.property}.host`, details, { cause: err });
        case "ECONNRESET":
        case "EPIPE":
            return new NodeAccessError(`the ${r.role} ${hp}${through} closed the connection during the SSH handshake (${e.code}): is it an SSH server, and does it accept this client (sshd's MaxStartups, AllowUsers, a firewall)?`, details, { cause: err });
    }
    const msg = String(e.message ?? e);
    if (e.level === "client-timeout" || /Timed out while waiting for handshake/.test(msg)) {
        return unanswered("no SSH handshake");
    }
    if (e.level === "client-authentication" || /authentication methods failed/i.test(msg)) {
        const why = h.privateKey !== undefined && h.agent !== undefined ? `neither the key nor a key in the agent is in ~${h.user}/.ssh/authorized_keys on the host`
            : h.privateKey !== undefined ? `the key is not in ~${h.user}/.ssh/authorized_keys on the host, or the passphrase is wrong`
            : `no key in the agent (${h.agent}) is in ~${h.user}/.ssh/authorized_keys on the host`;
        return new NodeAccessError(
            `login as ${h.user} to ${hp}${through} refused: ${why}; add the public key there (or fix ${r.property}.user)`,
            details, { cause: err });
    }
    if (/Connection lost before handshake/.test(msg)) {
        return new NodeAccessError(`the ${r.role} ${hp}${through} closed the connection before the SSH handshake: is it an SSH server (the port, ${r.property}.port), and does it accept this client?`, details, { cause: err });
    }
    if (/no matching host key format|host key/i.test(msg) && /Handshake failed/i.test(msg)) {
        return new NodeAccessError(`the ${r.role} ${hp}${through} has no host key of the pinned type (${msg}): pin the key it has (ssh-keyscan ${String(h.host)}), checked out of band`, details, { cause: err });
    }
    if (/Handshake failed/i.test(msg)) {
        return new NodeAccessError(`SSH handshake with the ${r.role} ${hp}${through} failed: ${msg} (the server offers no algorithm this client accepts)`, details, { cause: err });
    }
    return new NodeAccessError(`SSH to the ${r.role} ${hp}${through} failed: ${msg}`, details, { cause: err });
}

/** Checks the hop's credential before any network: a key that does not parse, a missing agent socket. */
function credentialProblem(r: HopRef): NodeAccessError | undefined {
    const h = r.hop;
    const details = { host: String(h.host), role: r.role };
    if (h.privateKey !== undefined) {
        const k = utils.parseKey(h.privateKey, h.passphrase);
        const err = k instanceof Error ? k : Array.isArray(k) && k[0] instanceof Error ? (k[0] as Error) : undefined;
        if (err) {
            if (/no passphrase given/i.test(err.message)) {
                return new NodeAccessError(`the private key for ${h.user}@${hostPort(h)} is encrypted: give its passphrase in ${r.property}.passphrase`, details);
            }
            if (/passphrase|decrypt|integrity check/i.test(err.message)) {
                return new NodeAccessError(`the private key for ${h.user}@${hostPort(h)} could not be decrypted: ${r.property}.passphrase is wrong`, details);
            }
            return new NodeAccessError(`${r.property}.privateKey could not be read as a private key (${err.message}): give the whole OpenSSH or PEM private key`, details);
        }
    }
    if (h.agent !== undefined && process.platform !== "win32") {
        let ok = false;
        try {
            ok = fs.statSync(h.agent).isSocket();
        } catch {
            ok = false;
        }
        if (!ok) return new NodeAccessError(`the SSH agent socket ${h.agent} (${r.property}.agent) does not exist on this host: start ssh-agent and ssh-add the key, or give the agent's socket (SSH_AUTH_SOCK)`, details);
    }
    return undefined;
}

/** Connects and logs in to one hop over `sock`; rejects with a {@link NodeAccessError}/{@link HostKeyError}. */
function openHop(r: HopRef, sock: net.Socket | Duplex, warn: ((m: string) => void) | undefined, via?: HopRef): Promise<Client> {
    const h = r.hop;
    const bad = credentialProblem(r);
    if (bad) return Promise.reject(bad);
    const pinned = hostKeyEntries(h.hostKey);
    return new Promise((resolve, reject) => {
        const client = new Client();
        let settled = false;
        let refusedKey: HostKeyError | undefined;
        const fail = (err: unknown) => {
            if (settled) return;
            settled = true;
            client.end();
            if (sock instanceof net.Socket) sock.destroy();
            reject(refusedKey ?? connectError(err, r, via));
        };
        const cfg: ConnectConfig = {
            sock: sock as ConnectConfig["sock"],
            host: String(h.host),
            port: h.port ?? 22,
            username: h.user,
            readyTimeout: timeoutSecondsOf(h) * 1000,
            // ssh2's own keepalive timer is not unref'd: a pooled connection would keep the process alive. See keepalive().
            keepaliveInterval: 0,
            hostVerifier: (key: Buffer): boolean => {
                if (h.acceptAnyHostKey === true) {
                    warn?.(`the ${r.role} ${hostPort(h)}'s SSH host key was not checked (acceptAnyHostKey): it presented ${describeHostKey(key)}. Anyone between here and the host could have answered; pin the key with ${r.property}.hostKey after checking it out of band`);
                    return true;
                }
                const m = matchHostKey(pinned, key);
                if (m.ok) return true;
                refusedKey = new HostKeyError(
                    `the ${r.role} ${hostPort(h)}${via ? ` (through the jump host ${hostPort(via.hop)})` : ""} presented the SSH host key ${m.presented}, not the pinned ${m.expected.join(" or ") || "(no usable key)"} (${r.property}.hostKey). Nothing was sent to it. If the host's key changed on purpose (reinstalled, new key), check the new key out of band (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on its console) and update ${r.property}.hostKey; otherwise someone may be intercepting the connection`,
                    { host: String(h.host), expected: m.expected, presented: m.presented });
                return false;
            },
        };
        const algos = h.acceptAnyHostKey === true ? undefined : hostKeyAlgorithms(pinned);
        if (algos) cfg.algorithms = { serverHostKey: algos as NonNullable<ConnectConfig["algorithms"]>["serverHostKey"] };
        if (h.privateKey !== undefined) cfg.privateKey = h.privateKey;
        if (h.passphrase !== undefined) cfg.passphrase = h.passphrase;
        if (h.agent !== undefined) cfg.agent = h.agent;
        client.on("error", fail);
        client.once("close", () => fail(new Error("Connection lost before handshake")));
        client.once("ready", () => {
            if (settled) return;
            settled = true;
            // `fail` stays as the error listener (it ignores settled hops) until the Connection adds its own:
            // an error between here and then must not be an unhandled 'error' event.
            resolve(client);
        });
        try {
            client.connect(cfg);
        } catch (err) {
            fail(err);
        }
    });
}

/** Opens a TCP connection to a hop (the connect itself is bounded by ssh2's readyTimeout). */
function tcpTo(h: SshHop): net.Socket {
    const sock = new net.Socket();
    sock.connect({ host: String(h.host), port: h.port ?? 22 });
    return sock;
}

/** A `direct-tcpip` channel from the jump host to the node's SSH port, bounded by the jump host's timeout. */
function tunnel(jump: Client, j: HopRef, node: HopRef): Promise<ClientChannel> {
    const s = timeoutSecondsOf(j.hop);
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new NodeAccessError(
            `the jump host ${hostPort(j.hop)} did not open a tunnel to ${hostPort(node.hop)} within ${s} s: is the node up and reachable from the jump host?`,
            { host: String(node.hop.host), jumpHost: String(j.hop.host) })), s * 1000);
        try {
            jump.forwardOut("127.0.0.1", 0, String(node.hop.host), node.hop.port ?? 22, (err, ch) => {
                clearTimeout(timer);
                if (err) {
                    reject(new NodeAccessError(
                        `the jump host ${hostPort(j.hop)} refused a tunnel to ${hostPort(node.hop)} (${err.message}): it must allow TCP forwarding (sshd's AllowTcpForwarding) to the node's SSH port, and reach the node`,
                        { host: String(node.hop.host), jumpHost: String(j.hop.host) }, { cause: err }));
                } else {
                    resolve(ch);
                }
            });
        } catch (err) {
            clearTimeout(timer);
            reject(connectError(err, j));
        }
    });
}

/** Raised when a channel could not even be opened (nothing ran): the run may be retried on a new connection. */
class ChannelNotOpened extends Error {}

/** ssh2 internals the keepalive uses (1.x: a global request with a FIFO of reply callbacks). */
interface Ssh2Internals {
    _protocol?: { ping?: () => void };
    _callbacks?: Array<(err?: unknown) => void>;
}

/** One pooled connection: the node's client (and the jump host's), with a small channel semaphore. */
class Connection {
    closed = false;
    private active = 0;
    private readonly queue: Array<() => void> = [];
    private readonly lost = new Set<() => void>();
    private keepaliveTimer?: NodeJS.Timeout;
    /** Keepalive replies received (for tests). */
    keepaliveReplies = 0;

    constructor(readonly node: Client, private readonly clients: Client[], private readonly socket: net.Socket, readonly nodeRef: HopRef) {
        for (const c of clients) {
            c.on("error", () => this.markClosed());
            c.once("close", () => this.markClosed());
            c.once("end", () => this.markClosed());
        }
        this.socket.unref();
        this.keepalive();
    }

    /** Sends keepalive@openssh.com every keepaliveMs with an unref'd timer; ends the connection after keepaliveCountMax unanswered ones. */
    private keepalive(): void {
        const internals = this.clients.map((c) => c as unknown as Ssh2Internals);
        if (!internals.every((i) => typeof i._protocol?.ping === "function" && Array.isArray(i._callbacks))) return;
        const missed = internals.map(() => 0);
        this.keepaliveTimer = setInterval(() => {
            internals.forEach((i, n) => {
                if (missed[n] >= sshTuning.keepaliveCountMax) {
                    this.close();
                    return;
                }
                missed[n]++;
                i._callbacks!.push(() => {
                    missed[n] = 0;
                    this.keepaliveReplies++;
                });
                try {
                    i._protocol!.ping!();
                } catch {
                    this.close();
                }
            });
        }, sshTuning.keepaliveMs);
        this.keepaliveTimer.unref();
    }

    private markClosed(): void {
        if (this.closed) return;
        this.closed = true;
        if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
        for (const c of this.clients) c.end();
        this.socket.destroy();
        for (const f of [...this.lost]) f();
        for (const f of this.queue.splice(0)) f();
    }

    /** Ends the connection; resolves when its socket closed (1 s at most). */
    close(): Promise<void> {
        const done = this.socket.destroyed ? Promise.resolve() : new Promise<void>((r) => {
            this.socket.once("close", () => r());
            setTimeout(r, 1000).unref();
        });
        for (const c of [...this.clients].reverse()) c.end();
        this.markClosed();
        return done;
    }

    private async slot(): Promise<void> {
        while (this.active >= sshTuning.maxChannels && !this.closed) {
            await new Promise<void>((r) => this.queue.push(r));
        }
        this.active++;
        this.socket.ref();
    }

    private release(): void {
        this.active--;
        if (this.active === 0) this.socket.unref();
        this.queue.shift()?.();
    }

    /** Runs one command line; rejects with {@link ChannelNotOpened} if the channel could not be opened. */
    async exec(command: string, o: RunOptions, where: string): Promise<ShellResult> {
        await this.slot();
        try {
            return await this.execNow(command, o, where);
        } finally {
            this.release();
        }
    }

    private execNow(command: string, o: RunOptions, where: string): Promise<ShellResult> {
        const h = this.nodeRef.hop;
        const timeoutMs = o.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
        return new Promise((resolve, reject) => {
            if (this.closed) {
                reject(new ChannelNotOpened("connection closed"));
                return;
            }
            const out = new OutputCollector();
            let ch: ClientChannel | undefined;
            let settled = false;
            const finish = (f: () => void) => {
                if (settled) return;
                settled = true;
                clearTimeout(timer);
                this.lost.delete(onLost);
                f();
            };
            const onLost = () => finish(() => reject(ch
                ? new NodeAccessError(`the SSH connection to ${hostPort(h)} was lost during a step on ${where}: the step may or may not have finished; run again`, { host: String(h.host) })
                : new ChannelNotOpened("connection lost")));
            this.lost.add(onLost);
            const timer = setTimeout(() => {
                if (ch) {
                    try {
                        ch.signal("KILL");
                    } catch {
                        // the server may not support signals; closing the channel ends the session anyway
                    }
                    ch.close();
                }
                finish(() => reject(timeoutError(where, String(h.host), timeoutMs)));
            }, timeoutMs);
            try {
                this.node.exec(command, (err, stream) => {
                    if (err) {
                        finish(() => reject(/open failed|No response|Not connected/i.test(err.message) && this.closed
                            ? new ChannelNotOpened(err.message)
                            : new NodeAccessError(`${hostPort(h)} refused to run a step on ${where} (${err.message}): sshd may limit sessions (MaxSessions) or forbid commands for ${h.user}`, { host: String(h.host) }, { cause: err })));
                        return;
                    }
                    ch = stream;
                    let code = -1;
                    stream.on("exit", (c: number | null) => {
                        code = typeof c === "number" ? c : -1;
                    });
                    stream.on("data", (b: Buffer) => out.stdout(b));
                    stream.stderr.on("data", (b: Buffer) => out.stderr(b));
                    stream.on("error", () => undefined);
                    stream.on("close", () => finish(() => resolve(out.result(code))));
                    stream.end(o.stdin ?? "");
                });
            } catch (err) {
                finish(() => reject(new ChannelNotOpened((err as Error).message)));
            }
        });
    }
}

/** Opens the chain of `ssh`: the jump host (if any), then the node. */
async function openConnection(ssh: SshAccess, warn: ((m: string) => void) | undefined): Promise<Connection> {
    const node: HopRef = { hop: ssh, role: "node", property: "ssh" };
    if (!ssh.jumpHost) {
        const sock = tcpTo(ssh);
        const client = await openHop(node, sock, warn);
        return new Connection(client, [client], sock, node);
    }
    const j: HopRef = { hop: ssh.jumpHost, role: "jump host", property: "ssh.jumpHost" };
    const sock = tcpTo(ssh.jumpHost);
    const jump = await openHop(j, sock, warn);
    try {
        const ch = await tunnel(jump, j, node);
        const client = await openHop(node, ch, warn, j);
        return new Connection(client, [jump, client], sock, node);
    } catch (err) {
        jump.end();
        sock.destroy();
        throw err;
    }
}

const pool = new Map<string, Promise<Connection>>();

/** The pooled connection of `ssh`, opened if there is none or it dropped. */
async function connectionFor(ssh: SshAccess, warn: ((m: string) => void) | undefined): Promise<Connection> {
    const key = sshConnectionKey(ssh);
    for (;;) {
        const p = pool.get(key);
        if (!p) break;
        const c = await p.catch(() => undefined);
        if (c && !c.closed) return c;
        // A connect that failed is not retried here (every waiter gets its error); a dropped one is replaced.
        if (!c) return p;
        if (pool.get(key) === p) pool.delete(key);
    }
    const p = openConnection(ssh, warn);
    pool.set(key, p);
    p.then((c) => {
        c.node.once("close", () => {
            if (pool.get(key) === p) pool.delete(key);
        });
    }, () => {
        if (pool.get(key) === p) pool.delete(key);
    });
    return p;
}

/** Options of {@link sshShell}. */
export interface SshShellOptions {
    /** Run every step through `sudo -n` (`true`: as root). */
    sudo?: NodeAccess["sudo"];
    /** Receives warnings (a host key accepted unchecked), e.g. `pulumi.log.warn`. */
    warn?: (m: string) => void;
}

/** A shell on the node `ssh` reaches. Connects at the first run (pooled: see the module doc). */
export function sshShell(ssh: SshAccess, opts: SshShellOptions = {}): NodeShell {
    const su = sudoUser({ sudo: opts.sudo });
    const where = describeAccess({ ssh, sudo: opts.sudo });
    return {
        where,
        async run(script: string, o: RunOptions = {}): Promise<ShellResult> {
            const command = shCommand(script, o.args ?? [], su);
            let r: ShellResult;
            try {
                r = await (await connectionFor(ssh, opts.warn)).exec(command, o, where);
            } catch (err) {
                if (!(err instanceof ChannelNotOpened)) throw err;
                // The pooled connection dropped before the step started: nothing ran, so once more on a new one.
                try {
                    r = await (await connectionFor(ssh, opts.warn)).exec(command, o, where);
                } catch (again) {
                    if (!(again instanceof ChannelNotOpened)) throw again;
                    throw new NodeAccessError(`the SSH connection to ${hostPort(ssh)} closed before a step on ${where} could start, twice: is sshd on the host restarting?`, { host: String(ssh.host) }, { cause: again });
                }
            }
            if (su !== undefined) {
                const e = sudoRefusal(r, { host: String(ssh.host), where, sudoUser: su, loginUser: ssh.user });
                if (e) throw e;
            }
            return r;
        },
    };
}

/** Closes every pooled connection (tests; a process that wants to exit at once). */
export async function closeAll(): Promise<void> {
    const all = [...pool.values()];
    pool.clear();
    await Promise.all(all.map((p) => p.then((c) => c.close(), () => undefined)));
}

/** @internal The pooled connection of `ssh`, if open (tests: keepalive replies, reuse). */
export async function pooledConnection(ssh: SshAccess): Promise<{ closed: boolean; keepaliveReplies: number; close(): Promise<void> } | undefined> {
    const p = pool.get(sshConnectionKey(ssh));
    return p ? p.catch(() => undefined) : undefined;
}
