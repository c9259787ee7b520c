/**
 * Delivering a remote cluster credential into a node's keystore with the node's own
 * `bin/elasticsearch-keystore`, on the host the provider runs on (same-host delivery, like the
 * certificate files of `NodeCertificate`).
 *
 * - The secret goes to the tool on stdin (`add --stdin --force`), never in argv (visible in `ps`)
 *   and never in a file: nothing of it is left on disk except inside the keystore.
 * - The tool runs as the owner of `elasticsearch.keystore`, so the rewritten keystore keeps its
 *   owner and Elasticsearch (an unprivileged user) can still read it at the next restart.
 * - A password-protected keystore is refused with a clear message (the tool would read the
 *   password from the same stdin).
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { CheckFailure } from "../core/validation";
import { containsUnknown } from "../core/dynamic";

/** One local node's keystore: where its distribution and config directory are on this host. */
export interface KeystoreTarget {
    /** The node's Elasticsearch home (the folder with `bin/elasticsearch-keystore`). */
    esHome: string;
    /** The node's config directory (`ES_PATH_CONF`, where `elasticsearch.keystore` is). */
    configDir: string;
    /** The JDK the tool runs with (`ES_JAVA_HOME`), for distributions without a bundled JDK. */
    javaHome?: string;
}

/** The keystore setting that holds a remote cluster's credential. */
export function credentialSetting(alias: string): string {
    return `cluster.remote.${alias}.credentials`;
}

/** Pure validation of `keystoreOn`: absolute paths, no duplicates. */
export function validateKeystoreTargets(v: unknown, property = "keystoreOn"): CheckFailure[] {
    if (v === undefined || containsUnknown(v)) return [];
    if (!Array.isArray(v) || v.length === 0) {
        return [{ property, reason: "list every local node's keystore: [{ esHome: \"/usr/share/elasticsearch\", configDir: \"/etc/elasticsearch\" }, …]" }];
    }
    const f: CheckFailure[] = [];
    const seen = new Set<string>();
    v.forEach((t, i) => {
        const p = `${property}[${i}]`;
        if (t === null || typeof t !== "object" || Array.isArray(t)) {
            f.push({ property: p, reason: "must be { esHome, configDir, javaHome? }" });
            return;
        }
        const o = t as Record<string, unknown>;
        for (const k of Object.keys(o)) {
            if (!["esHome", "configDir", "javaHome"].includes(k)) f.push({ property: `${p}.${k}`, reason: "is not a keystore target property; use esHome, configDir, javaHome" });
        }
        for (const k of ["esHome", "configDir", "javaHome"] as const) {
            const x = o[k];
            if (x === undefined && k === "javaHome") continue;
            if (typeof x !== "string" || x === "") {
                f.push({ property: `${p}.${k}`, reason: k === "esHome" ? "give the node's Elasticsearch home (the folder holding bin/elasticsearch-keystore)" : k === "configDir" ? "give the node's config directory (ES_PATH_CONF, holding elasticsearch.keystore)" : "give the JDK's folder or leave it unset" });
            } else if (!path.isAbsolute(x)) {
                f.push({ property: `${p}.${k}`, reason: `${JSON.stringify(x)} is relative; give an absolute path (the provider runs in another working directory)` });
            }
        }
        if (typeof o.configDir === "string") {
            const key = path.resolve(o.configDir);
            if (seen.has(key)) f.push({ property: `${p}.configDir`, reason: `${o.configDir} is listed twice; each node has its own config directory` });
            seen.add(key);
        }
    });
    return f;
}

/** What is wrong on disk with a target (missing tool, missing keystore, a password), or undefined. */
export function keystoreProblem(t: KeystoreTarget): string | undefined {
    const tool = toolPath(t);
    if (!fs.existsSync(tool)) return `${tool} does not exist: esHome must be the node's Elasticsearch home on the host that runs pulumi`;
    const ks = keystorePath(t);
    if (!fs.existsSync(ks)) return `${ks} does not exist: configDir must be the node's config directory (create the keystore with 'bin/elasticsearch-keystore create' as the node's user)`;
    const r = run(t, ["has-passwd"], "");
    if (r.status === 0) {
        return `${ks} is password-protected; this package adds credentials only to keystores without a password (add cluster.remote.<alias>.credentials by hand, or remove the password with 'elasticsearch-keystore passwd')`;
    }
    return undefined;
}

function toolPath(t: KeystoreTarget): string {
    return path.join(t.esHome, "bin", "elasticsearch-keystore");
}

function keystorePath(t: KeystoreTarget): string {
    return path.join(t.configDir, "elasticsearch.keystore");
}

/** Runs the node's keystore tool as the keystore's owner; `input` goes to its stdin. */
function run(t: KeystoreTarget, args: string[], input: string): SpawnSyncReturns<string> {
    const env: NodeJS.ProcessEnv = { ...process.env, ES_PATH_CONF: t.configDir };
    if (t.javaHome) {
        env.ES_JAVA_HOME = t.javaHome;
        env.JAVA_HOME = t.javaHome;
    }
    // The CLI's JVM must not pick up the options meant for the server (heap, agents).
    env.ES_JAVA_OPTS = "";
    let cmd = toolPath(t);
    let argv = args;
    let owner: fs.Stats | undefined;
    try {
        owner = fs.statSync(keystorePath(t));
    } catch {
        owner = undefined;
    }
    if (owner && process.getuid && process.getuid() === 0 && owner.uid !== 0) {
        argv = ["--reuid", String(owner.uid), "--regid", String(owner.gid), "--clear-groups", "--", cmd, ...args];
        cmd = "setpriv";
    }
    return spawnSync(cmd, argv, { env, input, encoding: "utf8", timeout: 180_000, cwd: t.configDir });
}

function failure(t: KeystoreTarget, what: string, r: SpawnSyncReturns<string>): Error {
    const out = `${r.stderr ?? ""} ${r.stdout ?? ""}`.replace(/\s+/g, " ").trim();
    return new Error(`${what} in ${keystorePath(t)} failed (${r.error ? r.error.message : `exit ${r.status}`}): ${out || "no output"}`);
}

/** Adds (or replaces) the credential of `alias` in the keystore of `t`. */
export function addCredential(t: KeystoreTarget, alias: string, credential: string): void {
    const r = run(t, ["add", "--stdin", "--force", credentialSetting(alias)], credential);
    if (r.status !== 0) throw failure(t, `adding ${credentialSetting(alias)}`, r);
}

/** Removes the credential of `alias` from the keystore of `t`; true if it was there. */
export function removeCredential(t: KeystoreTarget, alias: string): boolean {
    if (!fs.existsSync(keystorePath(t))) return false;
    if (!listSettings(t).includes(credentialSetting(alias))) return false;
    const r = run(t, ["remove", credentialSetting(alias)], "");
    if (r.status !== 0) throw failure(t, `removing ${credentialSetting(alias)}`, r);
    return true;
}

/** The setting names in the keystore of `t`. */
export function listSettings(t: KeystoreTarget): string[] {
    const r = run(t, ["list"], "");
    if (r.status !== 0) throw failure(t, "listing the settings", r);
    return r.stdout.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
}

/**
 * Whether the keystore of `t` holds exactly `credential` for `alias`: `"same"`, `"different"` or
 * `"absent"`. The value is compared in this process and never printed.
 */
export function credentialState(t: KeystoreTarget, alias: string, credential: string | undefined): "same" | "different" | "absent" {
    if (!listSettings(t).includes(credentialSetting(alias))) return "absent";
    const r = run(t, ["show", credentialSetting(alias)], "");
    if (r.status !== 0) throw failure(t, `reading ${credentialSetting(alias)}`, { ...r, stdout: "" });
    return r.stdout.replace(/\r?\n$/, "") === credential ? "same" : "different";
}
