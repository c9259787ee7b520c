/**
 * Delivering a remote cluster credential into a node's keystore with the node's own
 * `bin/elasticsearch-keystore`, on the node its access reaches (the machine that runs `pulumi` by
 * default, SSH or a command prefix; see provider/access). One script per step, written once for
 * every access kind.
 *
 * - The secret goes to the tool on stdin (`add --stdin --force`), never in argv (visible in `ps`
 *   on the node), an environment variable or a file: nothing of it is left on disk except inside
 *   the keystore. Comparing the keystore with the declared credential hashes the value on the node,
 *   so it never travels back.
 * - The tool runs as the owner of `elasticsearch.keystore` (dropping from root with `setpriv`, or
 *   `runuser` where util-linux has no setpriv), so the rewritten keystore keeps its owner and
 *   Elasticsearch (an unprivileged user) can still read it at the next restart.
 * - A password-protected keystore is refused with a clear message (the tool would read the
 *   password from the same stdin).
 */
import * as crypto from "crypto";
import * as path from "path";
import type { CheckFailure } from "../core/validation";
import { containsUnknown } from "../core/dynamic";
import { NodeAccessError } from "../core/errors";
import { locationOf, onLocation, shellOn } from "../access/node";
import { accessProblems } from "../access/validate";
import type { NodeAccess, NodeShell, ShellResult } from "../access/types";

/** One local node's keystore: where its distribution and config directory are on its host. */
export interface KeystoreTarget {
    /** The node's Elasticsearch home (the folder with `bin/elasticsearch-keystore`). */
    esHome: string;
    /** The node's config directory (`ES_PATH_CONF`, where `elasticsearch.keystore` is). */
    configDir: string;
    /** The JDK the tool runs with (`ES_JAVA_HOME`), for distributions without a bundled JDK. */
    javaHome?: string;
    /** How the node is reached; absent: the machine that runs `pulumi`. */
    access?: NodeAccess;
}

/** The keystore setting that holds a remote cluster's credential. */
export function credentialSetting(alias: string): string {
    return `cluster.remote.${alias}.credentials`;
}

/** One comparable key per keystore: its host and config directory (two hosts may both use /etc/elasticsearch). */
export function keystoreKey(t: KeystoreTarget): string {
    return `${locationOf(t.access)}${path.posix.resolve(t.configDir)}`;
}

/** Where a keystore is, for messages: `/etc/elasticsearch on ssh admin@h:22` or the path alone on this host. */
export function keystoreWhere(t: KeystoreTarget): string {
    const loc = locationOf(t.access);
    return loc ? `${keystorePath(t)} on ${loc.replace(/^ssh:\/\//, "")}` : keystorePath(t);
}

const TARGET_KEYS = ["esHome", "configDir", "javaHome", "access"];

/** Pure validation of `keystoreOn`: absolute paths, no keystore twice (per host). */
export function validateKeystoreTargets(v: unknown, property = "keystoreOn"): CheckFailure[] {
    if (v === undefined || containsUnknown(v)) return [];
    if (!Array.isArray(v) || v.length === 0) {
        return [{ property, reason: "list every local node's keystore: [{ esHome: \"/usr/share/elasticsearch\", configDir: \"/etc/elasticsearch\", access? }, …]" }];
    }
    const f: CheckFailure[] = [];
    const seen = new Set<string>();
    v.forEach((t, i) => {
        const p = `${property}[${i}]`;
        if (t === null || typeof t !== "object" || Array.isArray(t)) {
            f.push({ property: p, reason: "must be { esHome, configDir, javaHome?, access? }" });
            return;
        }
        const o = t as Record<string, unknown>;
        for (const k of Object.keys(o)) {
            if (!TARGET_KEYS.includes(k)) f.push({ property: `${p}.${k}`, reason: `is not a keystore target property; use ${TARGET_KEYS.join(", ")}` });
        }
        for (const k of ["esHome", "configDir", "javaHome"] as const) {
            const x = o[k];
            if (x === undefined && k === "javaHome") continue;
            if (containsUnknown(x)) continue;
            if (typeof x !== "string" || x === "") {
                f.push({ property: `${p}.${k}`, reason: k === "esHome" ? "give the node's Elasticsearch home (the folder holding bin/elasticsearch-keystore)" : k === "configDir" ? "give the node's config directory (ES_PATH_CONF, holding elasticsearch.keystore)" : "give the JDK's folder or leave it unset" });
            } else if (!path.posix.isAbsolute(x)) {
                f.push({ property: `${p}.${k}`, reason: `${JSON.stringify(x)} is relative; give an absolute path on the node (the provider runs in another working directory)` });
            }
        }
        if (o.access !== undefined) f.push(...accessProblems(o.access, `${p}.access`));
        if (typeof o.configDir === "string" && !containsUnknown(o.access)) {
            const key = keystoreKey(o as unknown as KeystoreTarget);
            if (seen.has(key)) f.push({ property: `${p}.configDir`, reason: `${o.configDir}${onLocation(o.access as NodeAccess)} is listed twice; each node has its own config directory` });
            seen.add(key);
        }
    });
    return f;
}

/**
 * Runs the node's keystore tool: `$1` home, `$2` config dir, `$3` JDK or "", the tool's arguments
 * after them. As root over a keystore another user owns, it drops to that owner first. Exit 90: no
 * tool; 91: no config directory. With `KS_DIGEST=1` (a positional word, never a secret) the tool's
 * output is replaced by its SHA-256, computed on the node.
 */
const TOOL_SCRIPT = `
home=$1; conf=$2; jh=$3; digest=$4; shift 4
tool="$home/bin/elasticsearch-keystore"; ks="$conf/elasticsearch.keystore"
[ -x "$tool" ] || { echo "$tool is missing or not executable" >&2; exit 90; }
cd "$conf" 2>/dev/null || { echo "$conf does not exist" >&2; exit 91; }
ES_PATH_CONF="$conf"; ES_JAVA_OPTS=""; export ES_PATH_CONF ES_JAVA_OPTS
if [ -n "$jh" ]; then ES_JAVA_HOME="$jh"; JAVA_HOME="$jh"; export ES_JAVA_HOME JAVA_HOME; fi
run_tool() {
  if [ -e "$ks" ] && [ "$(id -u)" = 0 ]; then
    uid=$(stat -c %u "$ks"); gid=$(stat -c %g "$ks")
    if [ "$uid" != 0 ]; then
      if command -v setpriv >/dev/null 2>&1; then setpriv --reuid "$uid" --regid "$gid" --clear-groups -- "$tool" "$@"; return $?; fi
      runuser -u "$(stat -c %U "$ks")" -- "$tool" "$@"; return $?
    fi
  fi
  "$tool" "$@"
}
if [ "$digest" = 1 ]; then
  v=$(run_tool "$@") || exit $?
  printf '%s' "$v" | sha256sum | cut -d' ' -f1
else
  run_tool "$@"
fi
`;

async function run(t: KeystoreTarget, args: string[], input: string, opts: { digest?: boolean; shell?: NodeShell } = {}): Promise<ShellResult> {
    const shell = opts.shell ?? (await shellOn(t.access));
    return shell.run(TOOL_SCRIPT, { args: [t.esHome, t.configDir, t.javaHome ?? "", opts.digest ? "1" : "0", ...args], stdin: input, timeoutMs: 180_000 });
}

/** Never the tool's standard output (it may be a secret): the exit code and a cut of standard error. */
function failure(t: KeystoreTarget, where: string, what: string, r: ShellResult): Error {
    const err = r.stderr.replace(/\s+/g, " ").trim().slice(0, 300);
    return new NodeAccessError(`${what} in ${keystorePath(t)} on ${where} failed (exit ${r.code}): ${err || "no message"}`, { host: where, node: keystorePath(t) });
}

/**
 * Reads what a preview needs to know of a keystore without starting the tool's JVM (about 1.5 s a
 * node): the tool is there, the config directory and the keystore exist, and the keystore's
 * password flag. Keystore files start with Lucene's codec header (magic 3fd76c17, the name
 * "elasticsearch.keystore", a format version) and then one byte, 1 when a password is set (seen on
 * 8.18 and 9.5, format 7). Prints one word; "unknown" when the header is not that, and the tool is
 * asked instead.
 */
const PROBE_SCRIPT = `
home=$1; conf=$2
[ -x "$home/bin/elasticsearch-keystore" ] || { echo no-tool; exit 0; }
[ -d "$conf" ] || { echo no-conf; exit 0; }
ks="$conf/elasticsearch.keystore"
[ -f "$ks" ] || { echo no-keystore; exit 0; }
[ -r "$ks" ] || { echo unreadable; exit 0; }
[ -w "$conf" ] || { echo conf-not-writable; exit 0; }
head=$(od -An -tx1 -N32 "$ks" | tr -d ' \n')
case "$head" in
  3fd76c1716656c61737469637365617263682e6b657973746f7265*01) echo password ;;
  3fd76c1716656c61737469637365617263682e6b657973746f7265*00) echo ok ;;
  *) echo unknown ;;
esac
`;

/** What is wrong on the node with a target (missing tool, missing keystore, a password), or undefined. Reads only. */
export async function keystoreProblem(t: KeystoreTarget): Promise<string | undefined> {
    const shell = await shellOn(t.access);
    const on = shell.where === "this host" ? "on the host that runs pulumi" : `on ${shell.where}`;
    const probe = await shell.run(PROBE_SCRIPT, { args: [t.esHome, t.configDir], timeoutMs: 60_000 });
    const word = probe.code === 0 ? probe.stdout.toString("utf8").trim() : "unknown";
    const password = `${keystorePath(t)} ${on} is password-protected; this package adds credentials only to keystores without a password (add cluster.remote.<alias>.credentials by hand, or remove the password with 'elasticsearch-keystore passwd')`;
    switch (word) {
        case "ok": return undefined;
        case "no-tool": return `${toolPath(t)} does not exist ${on}: esHome must be the node's Elasticsearch home (the folder holding bin/elasticsearch-keystore)`;
        case "no-conf": return `${t.configDir} does not exist ${on}: configDir must be the node's config directory (ES_PATH_CONF)`;
        case "no-keystore": return `${keystorePath(t)} does not exist ${on}: create it with 'bin/elasticsearch-keystore create' as the node's user`;
        case "unreadable": return `${keystorePath(t)} ${on} cannot be read by the access's user: log in as (or sudo to) root or the keystore's owner`;
        case "conf-not-writable": return `${t.configDir} ${on} is not writable by the access's user, so the keystore cannot be rewritten: use sudo (access.sudo) to root or the keystore's owner`;
        case "password": return password;
        default: break;
    }
    // A keystore format this probe does not know: ask the tool itself.
    const r = await run(t, ["has-passwd"], "", { shell });
    // has-passwd (seen on 9.5): exit 0 = a password is set; exit 1 with "ERROR: Keystore is not
    // password-protected", or exit 1 with "ERROR: Elasticsearch keystore not found" when there is none.
    if (/keystore not found/i.test(r.stderr) || /keystore not found/i.test(r.stdout.toString("utf8"))) {
        return `${keystorePath(t)} does not exist ${on}: create it with 'bin/elasticsearch-keystore create' as the node's user`;
    }
    return r.code === 0 ? password : undefined;
}

function toolPath(t: KeystoreTarget): string {
    return path.posix.join(t.esHome, "bin", "elasticsearch-keystore");
}

function keystorePath(t: KeystoreTarget): string {
    return path.posix.join(t.configDir, "elasticsearch.keystore");
}

/** Adds (or replaces) the credential of `alias` in the keystore of `t`. */
export async function addCredential(t: KeystoreTarget, alias: string, credential: string): Promise<void> {
    return addSecureSetting(t, credentialSetting(alias), credential);
}

/**
 * Adds (or replaces) the secure setting `name` in the keystore of `t`, `value` on the tool's
 * standard input only (the credential, a signing key's passphrase).
 */
export async function addSecureSetting(t: KeystoreTarget, name: string, value: string): Promise<void> {
    const shell = await shellOn(t.access);
    const r = await run(t, ["add", "--stdin", "--force", name], value, { shell });
    if (r.code !== 0) throw failure(t, shell.where, `adding ${name}`, r);
}

/**
 * The keystore tool's exit codes for "nothing there" (seen on 8.18 and 9.5): 78 "Setting [...]
 * does not exist in the keystore", 65 "Elasticsearch keystore not found", and this module's 91 (no
 * config directory). Asking directly, instead of listing first, starts one JVM per step, not two.
 */
const NOT_THERE = [78, 65, 91];

/** Removes the credential of `alias` from the keystore of `t`; true if it was there. */
export async function removeCredential(t: KeystoreTarget, alias: string): Promise<boolean> {
    return removeSecureSetting(t, credentialSetting(alias));
}

/** Removes the secure setting `name` from the keystore of `t`; true if it was there. */
export async function removeSecureSetting(t: KeystoreTarget, name: string): Promise<boolean> {
    const shell = await shellOn(t.access);
    const r = await run(t, ["remove", name], "", { shell });
    if (r.code === 0) return true;
    if (NOT_THERE.includes(r.code)) return false;
    throw failure(t, shell.where, `removing ${name}`, r);
}

/** The setting names in the keystore of `t` (`undefined`: there is no keystore). */
async function listSettingsOn(t: KeystoreTarget, shell: NodeShell): Promise<string[] | undefined> {
    const r = await run(t, ["list"], "", { shell });
    if (r.code !== 0) {
        // "ERROR: Elasticsearch keystore not found at [...]", exit 65 (seen on 9.5).
        if (r.code === 91 || /keystore not found/i.test(r.stderr)) return undefined;
        throw failure(t, shell.where, "listing the settings", r);
    }
    return r.stdout.toString("utf8").split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
}

/** The setting names in the keystore of `t`. */
export async function listSettings(t: KeystoreTarget): Promise<string[]> {
    const shell = await shellOn(t.access);
    const names = await listSettingsOn(t, shell);
    if (names === undefined) throw new NodeAccessError(`${keystorePath(t)} does not exist on ${shell.where}`, { host: shell.where, node: keystorePath(t) });
    return names;
}

/**
 * Whether the keystore of `t` holds exactly `credential` for `alias`: `"same"`, `"different"` or
 * `"absent"`. The value is hashed on the node and compared here; it never travels back or prints.
 */
export async function credentialState(t: KeystoreTarget, alias: string, credential: string | undefined): Promise<"same" | "different" | "absent"> {
    return secureSettingState(t, credentialSetting(alias), credential);
}

/** {@link credentialState} for any secure setting `name`: hashed on the node, compared here. */
export async function secureSettingState(t: KeystoreTarget, name: string, value: string | undefined): Promise<"same" | "different" | "absent"> {
    const shell = await shellOn(t.access);
    const r = await run(t, ["show", name], "", { digest: true, shell });
    if (NOT_THERE.includes(r.code)) return "absent";
    if (r.code !== 0) throw failure(t, shell.where, `reading ${name}`, r);
    const want = crypto.createHash("sha256").update((value ?? "").replace(/\n+$/, "")).digest("hex");
    return r.stdout.toString("utf8").trim() === want && value !== undefined ? "same" : "different";
}

/**
 * The credential the keystore of `t` holds for `alias` now, or undefined: read only by a create that
 * adopts an alias, so that a failed adopt puts the previous credential back instead of removing it.
 * The value stays in this process's memory for the length of the create (never logged, never in
 * the state) and goes back to the tool on its standard input.
 * @internal
 */
export async function heldCredential(t: KeystoreTarget, alias: string): Promise<string | undefined> {
    const shell = await shellOn(t.access);
    const r = await run(t, ["show", credentialSetting(alias)], "", { shell });
    if (NOT_THERE.includes(r.code)) return undefined;
    if (r.code !== 0) throw failure(t, shell.where, `reading ${credentialSetting(alias)}`, r);
    return r.stdout.toString("utf8").replace(/\r?\n$/, "");
}

/**
 * SHA-256 (hex) of the keystore file of `t`, computed on the node (no JVM): compared with the
 * `keystore_digest` each node reports after `reload_secure_settings` (the digest of the file's bytes,
 * seen equal on 9.5). `undefined`: no keystore file.
 */
export async function keystoreFileDigest(t: KeystoreTarget): Promise<string | undefined> {
    const shell = await shellOn(t.access);
    const r = await shell.run('[ -f "$1/elasticsearch.keystore" ] || exit 65; sha256sum "$1/elasticsearch.keystore" | cut -d" " -f1', { args: [t.configDir], stdin: "", timeoutMs: 60_000 });
    if (r.code === 65) return undefined;
    if (r.code !== 0) throw failure(t, shell.where, "reading the digest", r);
    return r.stdout.toString("utf8").trim().toLowerCase();
}
