/**
 * Pinned SSH host keys (`ssh.hostKey`, `ssh.jumpHost.hostKey`): what the user may give and whether
 * the key a host presents is one of them. Pure: no I/O, never throws.
 *
 * Accepted entries (an entry may hold several lines, e.g. the output of `ssh-keyscan`; blank lines
 * and `#` comments are skipped):
 * - an OpenSSH `known_hosts` line: `[marker] hosts keytype base64 [comment]`, hosts plain or hashed
 *   (`|1|salt|hash`). The host field is not compared (the entry is pinned to this hop already);
 *   `@revoked` marks a key that is refused; `@cert-authority` is not supported (host certificates);
 * - a public key line: `keytype base64 [comment]` (a host's `/etc/ssh/ssh_host_*_key.pub`);
 * - a fingerprint as `ssh-keygen -lf` prints it: `SHA256:` + base64 (with or without `=` padding),
 *   or the legacy `MD5:aa:bb:…` (16 hex pairs).
 */
import * as crypto from "crypto";

/** One pinned key, parsed. */
export type PinnedHostKey =
    | { kind: "key"; keyType: string; blob: Buffer; revoked: boolean }
    | { kind: "sha256"; digest: Buffer }
    | { kind: "md5"; digest: Buffer };

/** The SSH public key algorithms a host key line may name. */
const KEY_TYPES = new Set([
    "ssh-ed25519",
    "ssh-rsa",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-ed448",
]);

/** How many length-prefixed fields each key type's blob holds (the type name included). */
const FIELDS: Record<string, number> = {
    "ssh-ed25519": 2,
    "ssh-ed448": 2,
    "ssh-rsa": 3,
    "ecdsa-sha2-nistp256": 3,
    "ecdsa-sha2-nistp384": 3,
    "ecdsa-sha2-nistp521": 3,
    "ssh-dss": 5,
    "sk-ssh-ed25519@openssh.com": 3,
    "sk-ecdsa-sha2-nistp256@openssh.com": 4,
};

/** Whether `blob` is exactly the fields of a `keyType` key (a truncated paste still starts with the right type). */
function wellFormed(blob: Buffer, keyType: string): boolean {
    let at = 0;
    let n = 0;
    while (at < blob.length) {
        if (at + 4 > blob.length) return false;
        const len = blob.readUInt32BE(at);
        at += 4 + len;
        n++;
    }
    return at === blob.length && n === FIELDS[keyType] && (keyType !== "ssh-ed25519" || blob.readUInt32BE(4 + keyType.length) === 32);
}

/** The first SSH `string` of a key blob: its algorithm name, or undefined if the blob is malformed. */
export function keyTypeOf(blob: Buffer): string | undefined {
    if (blob.length < 4) return undefined;
    const n = blob.readUInt32BE(0);
    if (n === 0 || n > 64 || 4 + n > blob.length) return undefined;
    const t = blob.subarray(4, 4 + n).toString("latin1");
    return /^[\x21-\x7e]+$/.test(t) ? t : undefined;
}

/** `SHA256:…` of a key blob, exactly as `ssh-keygen -lf` prints it (base64 without padding). */
export function sha256Fingerprint(blob: Buffer): string {
    return `SHA256:${crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** `MD5:aa:bb:…` of a key blob, as `ssh-keygen -E md5 -lf` prints it. */
export function md5Fingerprint(blob: Buffer): string {
    return `MD5:${crypto.createHash("md5").update(blob).digest("hex").match(/../g)!.join(":")}`;
}

/** A key for messages: `ssh-ed25519 SHA256:…`. */
export function describeHostKey(blob: Buffer): string {
    return `${keyTypeOf(blob) ?? "unknown-key-type"} ${sha256Fingerprint(blob)}`;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function keyFromBase64(keyType: string, b64: string, revoked: boolean): PinnedHostKey | string {
    if (!BASE64.test(b64)) return `the key after ${keyType} is not base64`;
    const blob = Buffer.from(b64, "base64");
    const inner = keyTypeOf(blob);
    if (inner !== keyType) return `the key data does not hold a ${keyType} key${inner ? ` (it holds ${inner})` : " (truncated or garbled; copy the whole line)"}`;
    if (!wellFormed(blob, keyType)) return `the ${keyType} key data is truncated or garbled; copy the whole line`;
    return { kind: "key", keyType, blob, revoked };
}

/** A hashed known_hosts host field `|1|salt|hash` (both base64; salt and hash 20 bytes for HMAC-SHA1). */
function isHashedHosts(field: string): boolean {
    const m = /^\|1\|([^|]+)\|([^|]+)$/.exec(field);
    return !!m && BASE64.test(m[1]) && BASE64.test(m[2]) && Buffer.from(m[2], "base64").length === 20;
}

/** One line: the key it pins, or why it is not a host key entry. */
function parseLine(line: string): PinnedHostKey | string {
    const sha = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(line);
    if (sha) return { kind: "sha256", digest: Buffer.from(sha[1], "base64") };
    if (/^SHA256:/i.test(line)) return "a SHA256 fingerprint is SHA256: and 43 base64 characters, as ssh-keygen -lf prints it";
    const md5 = /^(?:MD5:)?((?:[0-9a-f]{2}:){15}[0-9a-f]{2})$/i.exec(line);
    if (md5) return { kind: "md5", digest: Buffer.from(md5[1].replace(/:/g, ""), "hex") };
    if (/^MD5:/i.test(line)) return "an MD5 fingerprint is MD5: and 16 colon-separated hex pairs";
    const f = line.split(/\s+/);
    let revoked = false;
    if (f[0].startsWith("@")) {
        if (f[0] === "@cert-authority") return "@cert-authority lines (host certificates) are not supported; pin the host's own key";
        if (f[0] !== "@revoked") return `unknown known_hosts marker ${f[0]}`;
        revoked = true;
        f.shift();
    }
    if (f.length >= 2 && KEY_TYPES.has(f[0]) && !revoked) return keyFromBase64(f[0], f[1], false);
    if (f.length >= 3 && KEY_TYPES.has(f[1])) {
        const hosts = f[0];
        if (hosts.startsWith("|") && !isHashedHosts(hosts)) return "the hashed host field is not |1|salt|hash";
        return keyFromBase64(f[1], f[2], revoked);
    }
    if (f.length >= 2 && (f[0].startsWith("ssh-") || f[0].startsWith("ecdsa-") || f[1].startsWith("ssh-") || f[1].startsWith("ecdsa-"))) {
        return `unknown key type ${f[0].startsWith("ssh-") || f[0].startsWith("ecdsa-") ? f[0] : f[1]}`;
    }
    return "not a known_hosts line, a public key line (ssh-ed25519 AAAA…) or a fingerprint (SHA256:…)";
}

/** The lines of an entry that carry a key (blank lines and `#` comments dropped). */
function lines(entry: string): string[] {
    return entry.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

/**
 * Parses one `hostKey` entry (one or more lines): the keys it pins, or the reason it cannot be
 * used (naming the line when there are several).
 */
export function parseHostKey(entry: string): { ok: true; keys: PinnedHostKey[] } | { ok: false; reason: string } {
    if (typeof entry !== "string") return { ok: false, reason: "must be a string" };
    const ls = lines(entry);
    if (ls.length === 0) return { ok: false, reason: "is empty" };
    const keys: PinnedHostKey[] = [];
    for (let i = 0; i < ls.length; i++) {
        const k = parseLine(ls[i]);
        if (typeof k === "string") return { ok: false, reason: ls.length > 1 ? `line ${i + 1}: ${k}` : k };
        keys.push(k);
    }
    return { ok: true, keys };
}

/**
 * Why a whole `hostKey` (all its entries) pins nothing, or undefined: only `@revoked` keys.
 * Entries that do not parse are not looked at here (each is reported on its own).
 */
export function pinsNothing(entries: string[]): string | undefined {
    const keys = entries.flatMap((e) => {
        const p = parseHostKey(e);
        return p.ok ? p.keys : [];
    });
    return keys.length > 0 && keys.every((k) => k.kind === "key" && k.revoked) ? "holds only @revoked keys; pin the key the host should present" : undefined;
}

/** `hostKey` as a list of entries (a string is one entry). */
export function hostKeyEntries(hostKey: string | string[] | undefined): string[] {
    return hostKey === undefined ? [] : Array.isArray(hostKey) ? hostKey : [hostKey];
}

/** A pinned key for messages: `ssh-ed25519 SHA256:…`, `SHA256:…` or `MD5:…`. */
function describePinned(k: PinnedHostKey): string {
    if (k.kind === "key") return describeHostKey(k.blob);
    if (k.kind === "sha256") return `SHA256:${k.digest.toString("base64").replace(/=+$/, "")}`;
    return `MD5:${k.digest.toString("hex").match(/../g)!.join(":")}`;
}

/**
 * Whether the key a host presented (the raw key blob ssh2 hands its `hostVerifier`) is one of
 * `pinned` (entries as the user gave them; unparsable ones never match). A key listed `@revoked`
 * is refused even if another entry pins it. On a mismatch: the pinned keys and the presented one,
 * as `ssh-ed25519 SHA256:…`, for the error message.
 */
export function matchHostKey(pinned: string[], presented: Buffer):
    { ok: true } | { ok: false; expected: string[]; presented: string } {
    const keys = pinned.flatMap((e) => {
        const p = parseHostKey(e);
        return p.ok ? p.keys : [];
    });
    const sha = crypto.createHash("sha256").update(presented).digest();
    const md5 = crypto.createHash("md5").update(presented).digest();
    const matches = (k: PinnedHostKey): boolean =>
        k.kind === "key" ? k.blob.equals(presented) : k.kind === "sha256" ? k.digest.equals(sha) : k.digest.equals(md5);
    const revoked = keys.some((k) => k.kind === "key" && k.revoked && matches(k));
    const good = keys.filter((k) => !(k.kind === "key" && k.revoked));
    if (!revoked && good.some(matches)) return { ok: true };
    return { ok: false, expected: good.map(describePinned), presented: describeHostKey(presented) };
}

/** The SSH host key algorithms that verify a key of each type (RSA keys sign with SHA-2 first). */
const ALGORITHMS_OF: Record<string, string[]> = {
    "ssh-ed25519": ["ssh-ed25519"],
    "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
    "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
    "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
    "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
    "ssh-dss": ["ssh-dss"],
};

/**
 * The host key algorithms to offer when every pinned entry is a whole key: those of the pinned
 * types, so a host with several host keys presents the pinned one (a client's default order would
 * pick its ed25519 key when an RSA key was pinned). Undefined (the library's default order) when
 * a fingerprint is pinned, since its type is unknown.
 */
export function hostKeyAlgorithms(pinned: string[]): string[] | undefined {
    const types: string[] = [];
    for (const e of pinned) {
        const p = parseHostKey(e);
        if (!p.ok) continue;
        for (const k of p.keys) {
            if (k.kind !== "key") return undefined;
            if (!k.revoked) types.push(k.keyType);
        }
    }
    const algos = [...new Set(types.flatMap((t) => ALGORITHMS_OF[t] ?? []))];
    return algos.length ? algos : undefined;
}
