/**
 * What is wrong with a node access (`delivery.access`, `trustDeliveries[i].access`,
 * `keystoreOn[i].access`) before anything connects, how to name it in messages, and the key that
 * pools its connection. Pure: no I/O; the predicates never throw.
 */
import * as crypto from "crypto";
import { containsUnknown } from "../core/dynamic";
import type { CheckFailure } from "../core/validation";
import { hostKeyEntries, parseHostKey, pinsNothing } from "./hostkey";
import type { NodeAccess, SshAccess, SshHop } from "./types";

const ACCESS_KEYS = ["ssh", "command", "sudo"];
const HOP_KEYS = ["host", "port", "user", "privateKey", "passphrase", "agent", "hostKey", "acceptAnyHostKey", "timeoutSeconds"];
const SSH_KEYS = [...HOP_KEYS, "jumpHost"];

/** A login or sudo user name as `useradd` takes it (or sudo's `#uid`). */
const USER_NAME = /^(?:[a-z_][a-z0-9_.-]{0,31}\$?|#\d+)$/i;
/** The headers of the private key formats ssh2 reads (OpenSSH, PKCS#1/SEC1 PEM, PKCS#8, encrypted PKCS#8). */
const PRIVATE_KEY = /-----BEGIN (?:OPENSSH|RSA|EC|DSA|ENCRYPTED)? ?PRIVATE KEY-----[\s\S]+-----END (?:OPENSSH|RSA|EC|DSA|ENCRYPTED)? ?PRIVATE KEY-----/;

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === "object" && !Array.isArray(x);
const unknown = (x: unknown): boolean => containsUnknown(x);

function unknownKeys(o: Record<string, unknown>, allowed: string[], p: string, what: string, out: CheckFailure[]): void {
    for (const k of Object.keys(o)) {
        if (!allowed.includes(k) && k !== "__provider") {
            out.push({ property: `${p}.${k}`, reason: `is not ${what} property; use ${allowed.join(", ")}` });
        }
    }
}

/** Why one SSH hop cannot be used (`p` is `….ssh` or `….ssh.jumpHost`). */
function hopProblems(v: unknown, p: string, isJump: boolean, out: CheckFailure[]): void {
    if (unknown(v) && !isObject(v)) return;
    if (!isObject(v)) {
        out.push({ property: p, reason: `must be an object like { host: "10.0.0.5", user: "admin", privateKey: <secret>, hostKey: "ssh-ed25519 AAAA…" }` });
        return;
    }
    unknownKeys(v, isJump ? HOP_KEYS : SSH_KEYS, p, isJump ? "a jump host" : "an ssh", out);
    const host = v.host;
    if (!unknown(host)) {
        if (typeof host !== "string" || host.trim() === "") {
            out.push({ property: `${p}.host`, reason: `give the host name or address of the ${isJump ? "jump host" : "node"}'s SSH server` });
        } else if (/\s|@/.test(host) || host.includes("/")) {
            out.push({ property: `${p}.host`, reason: `${JSON.stringify(host)} is not a host name or address; put the user in user and the port in port` });
        }
    }
    if (v.port !== undefined && !unknown(v.port)) {
        if (typeof v.port !== "number" || !Number.isInteger(v.port) || v.port < 1 || v.port > 65535) {
            out.push({ property: `${p}.port`, reason: `must be a TCP port 1..65535 (the SSH server's, usually 22), got ${JSON.stringify(v.port)}` });
        }
    }
    if (!unknown(v.user)) {
        if (typeof v.user !== "string" || v.user === "") {
            out.push({ property: `${p}.user`, reason: "give the user to log in as (an admin account whose authorized_keys holds the key)" });
        } else if (!USER_NAME.test(v.user)) {
            out.push({ property: `${p}.user`, reason: `${JSON.stringify(v.user)} is not a user name` });
        }
    }
    const hasKey = v.privateKey !== undefined;
    const hasAgent = v.agent !== undefined;
    if (!hasKey && !hasAgent) {
        out.push({ property: `${p}.privateKey`, reason: "give privateKey (the private key, as a secret: e.g. pulumi.secret(fs.readFileSync(\"id_ed25519\", \"utf8\"))) or agent (the SSH agent's socket, e.g. process.env.SSH_AUTH_SOCK)" });
    }
    if (hasKey && !unknown(v.privateKey)) {
        const k = v.privateKey;
        if (typeof k !== "string" || k.trim() === "") {
            out.push({ property: `${p}.privateKey`, reason: "must be the private key's text (OpenSSH or PEM)" });
        } else if (/^\s*(?:ssh-|ecdsa-|sk-)\S+ [A-Za-z0-9+/]/.test(k)) {
            out.push({ property: `${p}.privateKey`, reason: "is a public key line; give the private key (the file without .pub, starting -----BEGIN OPENSSH PRIVATE KEY-----)" });
        } else if (!PRIVATE_KEY.test(k)) {
            out.push({ property: `${p}.privateKey`, reason: "does not look like a private key: expected an OpenSSH or PEM key from -----BEGIN … PRIVATE KEY----- to -----END … PRIVATE KEY----- (read the whole file)" });
        }
    }
    if (v.passphrase !== undefined && !unknown(v.passphrase)) {
        if (typeof v.passphrase !== "string") {
            out.push({ property: `${p}.passphrase`, reason: "must be a string (the passphrase of privateKey)" });
        } else if (!hasKey) {
            out.push({ property: `${p}.passphrase`, reason: "decrypts privateKey, which is not given; give privateKey or drop passphrase (an agent holds its keys decrypted)" });
        }
    }
    if (hasAgent && !unknown(v.agent) && (typeof v.agent !== "string" || v.agent === "")) {
        out.push({ property: `${p}.agent`, reason: "must be the path of an SSH agent's socket (e.g. process.env.SSH_AUTH_SOCK); it is unset or empty" });
    }
    const any = v.acceptAnyHostKey;
    if (any !== undefined && !unknown(any) && typeof any !== "boolean") {
        out.push({ property: `${p}.acceptAnyHostKey`, reason: "must be true or false" });
    }
    const hk = v.hostKey;
    const hostName = typeof host === "string" && host !== "" ? host : "<host>";
    if (hk === undefined) {
        if (any !== true && !unknown(any)) {
            out.push({
                property: `${p}.hostKey`,
                reason: `pin the ${isJump ? "jump host" : "node"}'s SSH host key: run ssh-keyscan -t ed25519 ${hostName} (or read /etc/ssh/ssh_host_ed25519_key.pub on the host), check its fingerprint (ssh-keygen -lf) out of band, and give the line or the fingerprint; or set acceptAnyHostKey: true for a throw-away test host`,
            });
        }
    } else if (!unknown(hk)) {
        if (any === true) {
            out.push({ property: `${p}.acceptAnyHostKey`, reason: "contradicts hostKey: with a pinned key, drop acceptAnyHostKey" });
        }
        if (typeof hk === "string") {
            const r = parseHostKey(hk);
            if (!r.ok) out.push({ property: `${p}.hostKey`, reason: `${r.reason}; give a known_hosts line, a public key line (ssh-ed25519 AAAA…) or a fingerprint (SHA256:…) from ssh-keyscan -t ed25519 ${hostName}` });
        } else if (!Array.isArray(hk) || hk.length === 0) {
            out.push({ property: `${p}.hostKey`, reason: "must be a host key (string) or a non-empty list of them" });
        } else {
            hk.forEach((e, i) => {
                if (unknown(e)) return;
                const r = typeof e === "string" ? parseHostKey(e) : { ok: false as const, reason: "must be a string" };
                if (!r.ok) out.push({ property: `${p}.hostKey[${i}]`, reason: `${r.reason}; give a known_hosts line, a public key line (ssh-ed25519 AAAA…) or a fingerprint (SHA256:…) from ssh-keyscan -t ed25519 ${hostName}` });
            });
        }
        const none = (typeof hk === "string" || Array.isArray(hk)) && !containsUnknown(hk) ? pinsNothing(hostKeyEntries(hk as string | string[]).filter((e) => typeof e === "string")) : undefined;
        if (none) out.push({ property: `${p}.hostKey`, reason: none });
    }
    if (v.timeoutSeconds !== undefined && !unknown(v.timeoutSeconds)) {
        const t = v.timeoutSeconds;
        if (typeof t !== "number" || !Number.isFinite(t) || t <= 0) {
            out.push({ property: `${p}.timeoutSeconds`, reason: `must be a number of seconds above 0 (default 20), got ${JSON.stringify(t)}` });
        }
    }
    if (!isJump && v.jumpHost !== undefined) hopProblems(v.jumpHost, `${p}.jumpHost`, true, out);
}

/**
 * Why `v` is not a usable node access, as check failures at `property` (e.g. `delivery.access`),
 * or an empty list. `undefined` is the machine that runs `pulumi` (no failure). Values not known
 * at preview are skipped. Never throws.
 */
export function accessProblems(v: unknown, property: string): CheckFailure[] {
    try {
        return problems(v, property);
    } catch {
        return [{ property, reason: "could not be read; give { ssh: {…} }, { command: […] } or leave it unset for this host" }];
    }
}

function problems(v: unknown, p: string): CheckFailure[] {
    if (v === undefined || (unknown(v) && !isObject(v))) return [];
    if (!isObject(v)) {
        return [{ property: p, reason: "must be an object: { ssh: { host, user, privateKey, hostKey } }, { command: [\"docker\", \"exec\", \"-i\", \"es01\"] }, or leave it unset for the files on the host that runs pulumi" }];
    }
    const out: CheckFailure[] = [];
    unknownKeys(v, ACCESS_KEYS, p, "a node access", out);
    if (v.ssh !== undefined && v.command !== undefined) {
        out.push({ property: p, reason: "give either ssh (log in to the node) or command (a prefix such as docker exec -i es01), not both" });
    }
    if (v.ssh !== undefined) hopProblems(v.ssh, `${p}.ssh`, false, out);
    if (v.command !== undefined && !unknown(v.command)) {
        const c = v.command;
        if (!Array.isArray(c) || c.length === 0) {
            out.push({ property: `${p}.command`, reason: "must be a non-empty argv list such as [\"docker\", \"exec\", \"-i\", \"es01\"] (one string per argument, no shell)" });
        } else {
            c.forEach((a, i) => {
                if (!unknown(a) && (typeof a !== "string" || a === "")) {
                    out.push({ property: `${p}.command[${i}]`, reason: "must be a non-empty string (one argument of the command; the list is not run by a shell)" });
                }
            });
        }
    }
    const s = v.sudo;
    if (s !== undefined && !unknown(s) && typeof s !== "boolean") {
        if (!isObject(s)) {
            out.push({ property: `${p}.sudo`, reason: "must be true (as root), false, or { user: \"elasticsearch\" }" });
        } else {
            unknownKeys(s, ["user"], `${p}.sudo`, "a sudo", out);
            if (s.user !== undefined && !unknown(s.user) && (typeof s.user !== "string" || !USER_NAME.test(s.user))) {
                out.push({ property: `${p}.sudo.user`, reason: `${JSON.stringify(s.user)} is not a user name; give the user to run as (e.g. "elasticsearch"), or sudo: true for root` });
            }
        }
    }
    return out;
}

/** The user sudo runs as, `root` for `true`, undefined without sudo. */
export function sudoUser(a: NodeAccess | undefined): string | undefined {
    const s = a?.sudo;
    if (!s) return undefined;
    return typeof s === "object" && s.user ? s.user : "root";
}

/** `host:port` of a hop (an IPv6 address in brackets), for messages. */
export function hostPort(h: SshHop): string {
    const host = String(h.host);
    return `${host.includes(":") ? `[${host}]` : host}:${h.port ?? 22}`;
}

/** An argument for display: as is when plain, else single-quoted. */
function shown(a: string): string {
    return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/**
 * Where an access runs, for messages: `this host`, `ssh admin@10.0.0.5:22 via jump bastion@1.2.3.4:22 (sudo)`,
 * `command docker exec -i es01 (sudo as elasticsearch)`. Never includes a key or a passphrase.
 */
export function describeAccess(a: NodeAccess | undefined): string {
    const s = a?.sudo ? (sudoUser(a) === "root" ? " (sudo)" : ` (sudo as ${sudoUser(a)})`) : "";
    if (a?.ssh) {
        const j = a.ssh.jumpHost;
        return `ssh ${a.ssh.user}@${hostPort(a.ssh)}${j ? ` via jump ${j.user}@${hostPort(j)}` : ""}${s}`;
    }
    if (a?.command) return `command ${a.command.map(shown).join(" ")}${s}`;
    return `this host${s}`;
}

/** A short digest of secret material: tells two credentials apart, reveals nothing of them. */
function digest(...parts: Array<string | undefined>): string {
    const h = crypto.createHash("sha256");
    for (const x of parts) h.update(x === undefined ? "\u0001" : `\u0000${x}`);
    return h.digest("hex").slice(0, 16);
}

/** One hop's identity for pooling: address, user, credential digest, agent path, pins. */
function hopKey(h: SshHop): string {
    return JSON.stringify([
        String(h.host).toLowerCase(),
        h.port ?? 22,
        h.user,
        h.privateKey === undefined ? null : digest(h.privateKey, h.passphrase),
        h.agent ?? null,
        // The pins are part of the identity: a connection verified against one pin is never reused under another.
        h.acceptAnyHostKey ? "any" : digest(...hostKeyEntries(h.hostKey).map((e) => e.trim()).sort()),
    ]);
}

/**
 * The key of one SSH connection in the pool: its hops (host, port, user), a digest of each hop's
 * credential, its agent path and its pinned keys. Never the key or passphrase themselves.
 */
export function sshConnectionKey(ssh: SshAccess): string {
    return `ssh:${ssh.jumpHost ? `${hopKey(ssh.jumpHost)}>` : ""}${hopKey(ssh)}`;
}

