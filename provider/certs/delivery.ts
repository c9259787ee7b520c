/**
 * Delivering PEM files to a node's config directory, so that Elasticsearch's file watcher (it
 * re-reads certificate files about every 5 s when they change, same file names) picks up a new
 * certificate without a restart.
 *
 * Each file is written atomically: a temporary file in the same directory, fsync, rename over the
 * target, fsync of the directory. Elasticsearch therefore never reads a half-written PEM.
 *
 * Every step goes through the target's node access (`access`: the machine that runs `pulumi` by
 * default, SSH or a command prefix; see provider/access): the same code writes, keeps aside and
 * restores on every kind of host.
 */
import * as crypto from "crypto";
import * as path from "path";
import { CERTIFICATE_FACTS, forgetFacts } from "../core/facts";
import { FileStat, NodeFiles, Owner, writeFileAtomicSync } from "../access/files";
import { NodeAccessError } from "../core/errors";
import { filesOn } from "../access/node";
import { accessProblems } from "../access/validate";
import type { NodeAccess } from "../access/types";

/** Where a node certificate's files go. Plain interface, unwrapped. */
export interface DeliveryTarget {
    /** Absolute path of the directory on the node, e.g. `/etc/elasticsearch/certs`. Must exist. */
    directory: string;
    /** How the node's files are reached; absent: the machine that runs `pulumi`. */
    access?: NodeAccess;
    /** File name of the certificate. Default `transport.crt`. */
    certFile?: string;
    /** File name of the private key. Default `transport.key`. */
    keyFile?: string;
    /** File name of the CA certificate. Default `transport-ca.crt`. */
    caFile?: string;
    /** Permission bits of the key file. Default `0o600`; may not grant anything to "others". */
    keyFileMode?: number;
    /**
     * More CA certificates (PEM) written into the CA file after the issuing CA, e.g. the next CA
     * during a CA rotation ("trust both, rotate the nodes, drop the old one").
     */
    extraTrustedCaPems?: string[];
    /** What delete does with the files: `restore` (default) or `keep`. See {@link OnDelete}. */
    onDelete?: OnDelete;
}

/**
 * What happens to the delivered files when the resource is deleted (`pulumi destroy`, a move of
 * the delivery to another directory):
 * - `restore` (default): the files get back what they held before the first delivery (kept aside
 *   then, see {@link keepOriginals}); a file that did not exist before is removed, unless the
 *   node's `elasticsearch.yml` names it. The node is left as found, so its next restart works.
 * - `keep`: the delivered files stay (the node keeps serving this certificate until it expires);
 *   only the kept-aside originals are removed.
 * See {@link releaseDelivered} for what is never touched.
 */
export type OnDelete = "restore" | "keep";
/** The values {@link OnDelete} may take. */
export const ON_DELETE_VALUES: readonly OnDelete[] = ["restore", "keep"];

/** What the CA file of `t` holds for a certificate issued by `caPem`: the issuing CA, then the extra ones. */
export function trustFileContent(t: DeliveryTarget, caPem: string): string {
    const extra = (t.extraTrustedCaPems ?? []).map((p) => (p.endsWith("\n") ? p : `${p}\n`));
    return [caPem.endsWith("\n") || extra.length === 0 ? caPem : `${caPem}\n`, ...extra].join("");
}

/** The three PEMs of a node certificate. */
export interface DeliveredPems {
    certPem: string;
    keyPem: string;
    caPem: string;
}

/** Default file names: fixed, so Elasticsearch's settings never need to change on rotation. */
export const DEFAULT_FILES = { certFile: "transport.crt", keyFile: "transport.key", caFile: "transport-ca.crt" } as const;
/** Default permission bits of the key file. */
export const DEFAULT_KEY_FILE_MODE = 0o600;
/** Permission bits of the certificate and CA files (public data). */
export const PUBLIC_FILE_MODE = 0o644;

/** Absolute paths of the three files of `t`. */
export function deliveryPaths(t: DeliveryTarget): { cert: string; key: string; ca: string } {
    return {
        cert: path.join(t.directory, t.certFile ?? DEFAULT_FILES.certFile),
        key: path.join(t.directory, t.keyFile ?? DEFAULT_FILES.keyFile),
        ca: path.join(t.directory, t.caFile ?? DEFAULT_FILES.caFile),
    };
}

/**
 * Why `t` is not a usable delivery target, as `{ property, reason }` relative to the target
 * (`directory`, `certFile`, …), or an empty list. Only looks at the values, never at the disk.
 */
export function deliveryProblems(t: unknown): Array<{ property: string; reason: string }> {
    if (t === null || typeof t !== "object" || Array.isArray(t)) {
        return [{ property: "", reason: "must be an object like { directory: \"/etc/elasticsearch/certs\" }" }];
    }
    const d = t as Record<string, unknown>;
    const out: Array<{ property: string; reason: string }> = [];
    if (typeof d.directory !== "string" || d.directory === "") {
        out.push({ property: "directory", reason: "give the absolute path of the directory to write the files to (a node's config directory or a folder in it)" });
    } else if (!path.isAbsolute(d.directory)) {
        out.push({ property: "directory", reason: `${JSON.stringify(d.directory)} is relative; give an absolute path (the provider runs in another working directory)` });
    }
    const names: string[] = [];
    for (const k of ["certFile", "keyFile", "caFile"] as const) {
        const v = d[k] ?? DEFAULT_FILES[k];
        if (typeof v !== "string" || v === "" || v === "." || v === ".." || v.includes("/") || v.includes("\\") || v.includes("\0")) {
            out.push({ property: k, reason: "must be a plain file name (no directories); put the folder in directory" });
        } else if (names.includes(v)) {
            out.push({ property: k, reason: `${JSON.stringify(v)} is already used for another file; certFile, keyFile and caFile must differ` });
        } else {
            names.push(v);
        }
    }
    if (d.extraTrustedCaPems !== undefined) {
        const x = d.extraTrustedCaPems;
        if (!Array.isArray(x)) {
            out.push({ property: "extraTrustedCaPems", reason: "must be a list of CA certificates (PEM)" });
        } else {
            x.forEach((pem, i) => {
                if (typeof pem !== "string" || !/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/.test(pem.trim())) {
                    out.push({ property: `extraTrustedCaPems[${i}]`, reason: "is not one PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)" });
                }
            });
        }
    }
    if (d.onDelete !== undefined && !ON_DELETE_VALUES.includes(d.onDelete as OnDelete)) {
        out.push({ property: "onDelete", reason: `must be "restore" (put back what was there before the first delivery) or "keep" (leave the delivered files), got ${JSON.stringify(d.onDelete)}` });
    }
    if (d.access !== undefined) {
        // Relative like the other properties here: the caller prefixes `delivery.` or `trustDeliveries[n].`.
        out.push(...accessProblems(d.access, "access"));
    }
    if (d.keyFileMode !== undefined) {
        const m = d.keyFileMode;
        if (typeof m !== "number" || !Number.isInteger(m) || m < 0 || m > 0o777) {
            out.push({ property: "keyFileMode", reason: "must be permission bits like 0o600 or 0o640" });
        } else if ((m & 0o007) !== 0) {
            out.push({ property: "keyFileMode", reason: `0o${m.toString(8)} lets every local user read the private key; use 0o600 or 0o640` });
        } else if ((m & 0o400) === 0) {
            out.push({ property: "keyFileMode", reason: `0o${m.toString(8)} does not let the owner read the key; use 0o600 or 0o640` });
        }
    }
    return out;
}

/**
 * On this host only (tests and the rig; the hooks write through {@link NodeFiles}): writes
 * `content` to `file` atomically with permission bits `mode`, the owner of the file it replaces (or
 * of the directory, or `owner`) kept when permitted. See {@link writeFileAtomicSync}.
 */
export function writeFileAtomic(file: string, content: string, mode: number, owner?: { uid: number; gid: number }): void {
    writeFileAtomicSync(file, content, mode, owner);
}

/**
 * Writes the three files of `t`. Order: CA, key, certificate — the certificate last, so that when
 * Elasticsearch notices the new certificate its key and CA are already in place (a watcher tick
 * between the writes at worst logs one failed reload and keeps the old, still valid, material).
 * Throws with a message naming the directory (and the host) if it does not exist or is not writable.
 */
export async function deliverFiles(t: DeliveryTarget, pems: DeliveredPems): Promise<void> {
    const f = await filesOn(t.access);
    await assertDirectory(f, t);
    const p = deliveryPaths(t);
    const keyMode = await keyFileModeFor(f, t, p.key);
    await assertOwnerKept(f, p.key, keyMode);
    certificatesChanged();
    const record = switchRecordPath(t);
    try {
        // Each file is replaced atomically, the three together are not: a crash between two renames
        // leaves a new key beside the old certificate. The record says so until the last rename has
        // landed, so a refresh (and the next up) finds a half-done switch even if nothing else does.
        await f.writeAtomic(record, `${JSON.stringify({ cert: sha256(pems.certPem), key: sha256(pems.keyPem), ca: sha256(trustFileContent(t, pems.caPem)) })}\n`, PUBLIC_FILE_MODE);
        await f.writeAtomic(p.ca, trustFileContent(t, pems.caPem), PUBLIC_FILE_MODE);
        await f.writeAtomic(p.key, pems.keyPem, keyMode);
        await f.writeAtomic(p.cert, pems.certPem, PUBLIC_FILE_MODE);
        await f.remove(record);
    } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new Error(`could not write the certificate files to ${t.directory}${onHost(f)}: ${e.code ?? ""} ${e.message}`.replace(/\s+/g, " "), { cause: err });
    }
}

/**
 * The key file's mode: `keyFileMode` when given; else 0600, or 0640 when the file keeps a root
 * owner with another group — the layout of Debian's and RPM's packages (`/etc/elasticsearch` is
 * `root:elasticsearch` 2750, its files `root:elasticsearch` 0660), where Elasticsearch reads its
 * files through the group: a root-owned 0600 key there stops the node reloading (and restarting).
 */
async function keyFileModeFor(f: NodeFiles, t: Pick<DeliveryTarget, "directory" | "keyFileMode">, keyFile: string): Promise<number> {
    if (t.keyFileMode !== undefined) return t.keyFileMode;
    const st = (await f.stat(keyFile)) ?? (await f.stat(t.directory));
    return st && st.uid === 0 && st.gid !== 0 ? 0o640 : DEFAULT_KEY_FILE_MODE;
}

/** Name tag of the empty file {@link assertOwnerKept} writes to learn which owner a new file really gets. */
const OWNER_PROBE_TAG = ".es-remote-owner-probe";

/**
 * Throws, before anything is written over, when a file written to `file` with `mode` would not get
 * the owner it should (that of the file it replaces, else of the directory) in a way that takes a
 * reader away: the writes set the owner only where the access may (root, or a group it is in) and
 * keep the file otherwise, so a key replacing `elasticsearch:elasticsearch 0600`, written by another
 * user, became that user's 0600 file — unreadable by Elasticsearch, which keeps the old key until its
 * next restart and then does not start. Learnt from an empty probe file written the same way next to
 * `file` (no secret), removed at once. A different owner that keeps every intended reader (an access
 * running as the node's user writing over a `root:elasticsearch 0640` key: owner root reads anyway,
 * the group is kept) is fine.
 * @internal
 */
export async function assertOwnerKept(f: NodeFiles, file: string, mode: number): Promise<void> {
    const wanted = (await f.stat(file)) ?? (await f.stat(path.dirname(file)));
    if (!wanted) {
        return;
    }
    const probe = path.join(path.dirname(file), `.${path.basename(file)}${OWNER_PROBE_TAG}`);
    let got: FileStat | undefined;
    try {
        await f.writeAtomic(probe, "", mode, { uid: wanted.uid, gid: wanted.gid });
        got = await f.stat(probe);
    } finally {
        await f.remove(probe);
    }
    if (!got) {
        return;
    }
    const lostOwner = (mode & 0o400) !== 0 && wanted.uid !== 0 && got.uid !== wanted.uid;
    const lostGroup = (mode & 0o040) !== 0 && got.gid !== wanted.gid;
    if (lostOwner || lostGroup) {
        const o = (x: { uid: number; gid: number }) => `${x.uid}:${x.gid}`;
        throw new NodeAccessError(
            `${file}${onHost(f)} would be written as ${o(got)} mode 0${mode.toString(8)} instead of ${o(wanted)} (the owner of ${(await f.stat(file)) ? "the file it replaces" : "its directory"}): ` +
            `this access may not give files that owner, and ${lostOwner ? `user ${wanted.uid}` : `group ${wanted.gid}`} (Elasticsearch, most likely) could not read the key after the next reload or restart. ` +
            "Nothing was written. Deliver as root (access.ssh.sudo, or run pulumi as root), as the owner of the files, or set delivery.keyFileMode so the key is readable through a group the access keeps",
            { host: f.where, path: file, wantedOwner: o(wanted), writtenOwner: o(got) });
    }
}

/** ` on <host>` for a node reached through an access, "" for this host. */
function onHost(f: NodeFiles): string {
    return f.where === "this host" ? "" : ` on ${f.where}`;
}

/**
 * What any node presents or trusts may change now: the probes this process holds (what each node
 * serves and trusts) are forgotten, so a check later in the same `pulumi up` reads the nodes again.
 */
function certificatesChanged(): void {
    forgetFacts({ tag: CERTIFICATE_FACTS });
}

/** Throws with a message naming `t.directory` (and its host) if it does not exist or is not a directory. */
async function assertDirectory(f: NodeFiles, t: { directory: string }): Promise<void> {
    const st = await f.stat(t.directory);
    if (!st) {
        throw new Error(`delivery.directory ${t.directory} does not exist${onHost(f)}; create it (e.g. the node's config directory) or fix the path`);
    }
    if (!st.isDirectory) {
        throw new Error(`delivery.directory ${t.directory}${onHost(f)} is not a directory`);
    }
}

/** Name tag of the record {@link deliverFiles} keeps while it replaces the three files. */
const SWITCH_TAG = ".es-remote-switch";

/** The record of a switch of the files of `t` in progress: `.<certFile>.es-remote-switch`. @internal */
export function switchRecordPath(t: DeliveryTarget): string {
    const p = deliveryPaths(t);
    return path.join(path.dirname(p.cert), `.${path.basename(p.cert)}${SWITCH_TAG}`);
}

function sha256(s: string): string {
    return crypto.createHash("sha256").update(s).digest("hex");
}

/**
 * Why the files of `t`, as `on` holds them, may not be a working set, or undefined: a switch that
 * {@link deliverFiles} began and did not finish (its record is still there: the process died between
 * two renames), or a certificate and a key that are not a pair (however that came about). Either
 * way the node would not start again with them; writing the three files again repairs it.
 */
export async function halfSwitched(t: DeliveryTarget, on: Partial<DeliveredPems>): Promise<string | undefined> {
    const f = await filesOn(t.access);
    if ((await f.readFile(switchRecordPath(t))) !== undefined) {
        return `an earlier write of the three files did not finish (${path.basename(switchRecordPath(t))} is still there), so they may not belong together`;
    }
    if (on.certPem !== undefined && on.keyPem !== undefined && isPair(on.certPem, on.keyPem) === false) {
        return `${path.basename(deliveryPaths(t).key)} is not the key of the certificate in ${path.basename(deliveryPaths(t).cert)}`;
    }
    return undefined;
}

/** Whether `keyPem` is the private key of the certificate `certPem`; `undefined` when either cannot be read (other drift says so). */
function isPair(certPem: string, keyPem: string): boolean | undefined {
    try {
        const pub = new crypto.X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
        return crypto.createPublicKey(keyPem).export({ type: "spki", format: "der" }).equals(pub);
    } catch {
        return undefined;
    }
}

/** The current contents of the three files of `t` (`undefined` for a missing or unreadable file). */
export async function readDelivered(t: DeliveryTarget): Promise<Partial<DeliveredPems>> {
    return readWith(await filesOn(t.access), t);
}

/** {@link readDelivered} through files already at hand. */
async function readWith(f: NodeFiles, t: DeliveryTarget): Promise<Partial<DeliveredPems>> {
    const p = deliveryPaths(t);
    const [certPem, keyPem, caPem] = await Promise.all([f.readFile(p.cert), f.readFile(p.key), f.readFile(p.ca)]);
    return { certPem, keyPem, caPem };
}

/** True if the files of `t` hold exactly `pems`. */
export async function deliveredMatches(t: DeliveryTarget, pems: DeliveredPems): Promise<boolean> {
    return matches(t, await readDelivered(t), pems);
}

/** True if `on` (what the files of `t` hold) is exactly `pems`. */
export function matches(t: DeliveryTarget, on: Partial<DeliveredPems>, pems: DeliveredPems): boolean {
    return on.certPem === pems.certPem && on.keyPem === pems.keyPem && on.caPem === trustFileContent(t, pems.caPem);
}

// ---- what was there before: kept aside on the first delivery, put back on delete -----------------

/** Name tag of a kept-aside original: `.transport.key.es-remote-orig-0640` (the original's mode, octal). */
const ORIGINAL_TAG = ".es-remote-orig-";
/** Name tag of the marker saying the file did not exist before the first delivery. */
const ABSENT_TAG = ".es-remote-absent";

/** The record of what a delivered file held before the first delivery. */
export type Original =
    /** Its content is kept aside at `path`; `mode` is the original's permission bits. */
    | { kind: "kept"; path: string; mode: number }
    /** The file did not exist; `path` is the marker that says so. */
    | { kind: "absent"; path: string };

/** The record of `file`'s state before the first delivery, if one was made (`f`: the node's files, default this host). @internal */
export async function findOriginal(file: string, f?: NodeFiles): Promise<Original | undefined> {
    const files = f ?? (await filesOn(undefined));
    const dir = path.dirname(file);
    const base = path.basename(file);
    const names = await files.readDir(dir);
    if (!names) {
        return undefined;
    }
    const prefix = `.${base}${ORIGINAL_TAG}`;
    for (const n of names) {
        const m = n.startsWith(prefix) ? /^([0-7]{3,4})$/.exec(n.slice(prefix.length)) : null;
        if (m) {
            return { kind: "kept", path: path.join(dir, n), mode: parseInt(m[1], 8) };
        }
    }
    return names.includes(`.${base}${ABSENT_TAG}`) ? { kind: "absent", path: path.join(dir, `.${base}${ABSENT_TAG}`) } : undefined;
}

/**
 * Before a delivery to `t`: for each of its three files that has no record yet, records what is
 * there, in the same directory under a hidden name Elasticsearch never reads (it watches only the
 * files its settings name): the content of an existing file (a key kept aside is mode 0600; owner
 * and group kept; the original's mode is in the name), or an empty marker for a missing file. A
 * file that already has a record (a renewal writing over its predecessor's files) keeps it: the
 * record is always of the state before the *first* delivery. Returns the paths of the records.
 */
export async function keepOriginals(t: DeliveryTarget): Promise<string[]> {
    const f = await filesOn(t.access);
    await assertDirectory(f, t);
    // The key kept aside keeps its owner only where the access may set it; restoring it would hand
    // the node a key it cannot read. Refused before any record is written (deliverFiles asks again).
    const key = deliveryPaths(t).key;
    await assertOwnerKept(f, key, await keyFileModeFor(f, t, key));
    const out: string[] = [];
    for (const [role, file] of Object.entries(deliveryPaths(t))) {
        out.push(await keepOriginal(f, file, role === "key"));
    }
    return out;
}

/** {@link keepOriginals} for one file; `secret`: the record is mode 0600. Returns the record's path. */
async function keepOriginal(f: NodeFiles, file: string, secret: boolean): Promise<string> {
    const found = await findOriginal(file, f);
    if (found) {
        return found.path;
    }
    const st = await f.stat(file);
    const dir = path.dirname(file);
    if (st && st.isFile) {
        const content = await f.readFile(file);
        if (content === undefined) {
            throw Object.assign(new Error(`${file}${onHost(f)} exists but cannot be read, so it cannot be kept aside`), { code: "EACCES" });
        }
        const record = path.join(dir, `.${path.basename(file)}${ORIGINAL_TAG}${st.mode.toString(8).padStart(4, "0")}`);
        await f.writeAtomic(record, content, secret ? DEFAULT_KEY_FILE_MODE : st.mode, { uid: st.uid, gid: st.gid });
        return record;
    }
    const record = path.join(dir, `.${path.basename(file)}${ABSENT_TAG}`);
    await f.writeAtomic(record, "", PUBLIC_FILE_MODE);
    return record;
}

/**
 * The `elasticsearch.yml` (in `file`'s directory or up to three levels above: a node's config
 * directory or a certificate folder in it) that names `file`, if any. A file a node's settings name
 * is never removed: the node would not start again.
 * @internal
 */
export async function configNaming(file: string, f?: NodeFiles): Promise<string | undefined> {
    const files = f ?? (await filesOn(undefined));
    let dir = path.dirname(file);
    for (let level = 0; level < 4; level++) {
        const yml = path.join(dir, "elasticsearch.yml");
        const text = await files.readFile(yml);
        if (text !== undefined) {
            const rel = path.relative(dir, file);
            // The file's absolute path or its path relative to this yml's folder (how settings name
            // files), as a whole value: its bare name alone would match another folder's file
            // (`certs/transport.crt` named in the yml kept a delivery to `certs/other/transport.crt`).
            if (namesPath(text, file) || namesPath(text, rel)) {
                return yml;
            }
        }
        const up = path.dirname(dir);
        if (up === dir) {
            break;
        }
        dir = up;
    }
    return undefined;
}

/** True if `text` (an elasticsearch.yml) holds `p` as a whole value (not inside a longer path). */
function namesPath(text: string, p: string): boolean {
    const esc = p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp(`(^|[\\s"'\\[,:])${esc}($|[\\s"'\\],#])`, "m").test(text);
}

/** What {@link releaseDelivered} did, as absolute paths. */
export interface ReleaseReport {
    /** Files that got their content from before the first delivery back. */
    restored: string[];
    /** Files that did not exist before the first delivery, removed. */
    removed: string[];
    /** Files left as they are, each with why. */
    kept: Array<{ file: string; why: string }>;
}

/**
 * Gives up the files of `t` when the resource holding `pems` is deleted or its delivery moves.
 *
 * Nothing is touched unless both the certificate and the key file still hold `pems`: on a renewal
 * Pulumi creates the replacement first (it writes new files under the same names) and deletes the
 * old resource afterwards, and a certificate or key replaced by hand is someone's decision; in both
 * cases the pair in place must stay a pair. Otherwise, by `mode`:
 * - `restore`: each file gets back what it held before the first delivery (same mode and owner);
 *   a file that did not exist then is removed, unless a node's `elasticsearch.yml` names it. The CA
 *   file only while it still holds what we wrote.
 * - `keep`: the files stay; the records of the originals are removed.
 * - `legacy` (delivered by a release that kept nothing aside): the files stay, records untouched.
 * A file with no record is never removed.
 */
export async function releaseDelivered(t: DeliveryTarget, pems: DeliveredPems, mode: OnDelete | "legacy"): Promise<ReleaseReport> {
    const f = await filesOn(t.access);
    const p = deliveryPaths(t);
    const on = await readWith(f, t);
    const report: ReleaseReport = { restored: [], removed: [], kept: [] };
    const keepAll = (why: string) => {
        for (const [file, present] of [[p.cert, on.certPem], [p.key, on.keyPem], [p.ca, on.caPem]] as const) {
            if (present !== undefined) {
                report.kept.push({ file, why });
            }
        }
        return report;
    };
    if (on.certPem !== pems.certPem || on.keyPem !== pems.keyPem) {
        return keepAll("they no longer hold this certificate and key (a newer certificate or a hand-placed one)");
    }
    if (mode === "legacy") {
        return keepAll("delivered by an earlier release that kept nothing aside, so there is nothing to put back; left so the node can restart");
    }
    const ownCa = on.caPem === trustFileContent(t, pems.caPem);
    certificatesChanged();
    for (const [file, own] of [[p.key, true], [p.cert, true], [p.ca, ownCa]] as const) {
        await releaseFile(f, file, own, mode, report);
    }
    await f.remove(switchRecordPath(t));
    await f.syncDir(t.directory);
    return report;
}

/** Gives up one delivered file (see {@link releaseDelivered}); `own`: it still holds what was written. */
async function releaseFile(f: NodeFiles, file: string, own: boolean, mode: OnDelete, report: ReleaseReport): Promise<void> {
    const rec = await findOriginal(file, f);
    if (mode === "keep") {
        report.kept.push({ file, why: "delivery.onDelete is \"keep\"" });
        if (rec) {
            await f.remove(rec.path);
        }
        return;
    }
    if (!own) {
        report.kept.push({ file, why: "it no longer holds what was delivered (changed by hand?)" });
    } else if (rec?.kind === "kept") {
        const st = await f.stat(rec.path);
        const content = await f.readFile(rec.path);
        if (!st || content === undefined) {
            report.kept.push({ file, why: `its kept-aside original ${rec.path} cannot be read` });
            return;
        }
        const owner: Owner = { uid: st.uid, gid: st.gid };
        await f.writeAtomic(file, content, rec.mode, owner);
        await f.remove(rec.path);
        report.restored.push(file);
    } else if (rec?.kind === "absent") {
        const yml = await configNaming(file, f);
        if (yml) {
            report.kept.push({ file, why: `it did not exist before the first delivery, but ${yml} names it (the node would not start without it)` });
        } else {
            await f.remove(file);
            report.removed.push(file);
        }
        await f.remove(rec.path);
    } else {
        report.kept.push({ file, why: "nothing was kept aside for it (record removed by hand?)" });
    }
}

// ---- a trust file alone -----------------------------------------------------------------------

/**
 * Where a CA file alone goes: the trust side of a certificate, e.g. the local cluster's nodes
 * trusting a remote cluster server's CA (`xpack.security.remote_cluster_client.ssl.certificate_authorities`).
 */
export interface TrustFileTarget {
    /** Absolute path of an existing directory on the node (its config directory or a folder in it). */
    directory: string;
    /** How the node's files are reached; absent: the machine that runs `pulumi`. */
    access?: NodeAccess;
    /** File name. Default `remote-cluster-client-ca.crt`. */
    caFile?: string;
    /** What giving the file up does; see {@link OnDelete}. Default `restore`. */
    onDelete?: OnDelete;
}

/**
 * Why `t` is not a usable trust file target, as `{ property, reason }` relative to the target, or
 * an empty list. Only looks at the values, never at the disk.
 */
export function trustFileProblems(t: unknown): Array<{ property: string; reason: string }> {
    if (t === null || typeof t !== "object" || Array.isArray(t)) {
        return [{ property: "", reason: "must be an object like { directory: \"/etc/elasticsearch/certs\" }" }];
    }
    const d = t as Record<string, unknown>;
    // The same rules as a certificate's delivery, for the fields a trust file has.
    const asDelivery = {
        directory: d.directory, caFile: d.caFile ?? DEFAULT_TRUST_FILE, onDelete: d.onDelete, extraTrustedCaPems: d.extraTrustedCaPems, access: d.access,
        certFile: "\0unused-cert", keyFile: "\0unused-key",
    };
    // The placeholder names fail the file-name rule on purpose (so they clash with nothing) and are dropped here.
    return deliveryProblems(asDelivery).filter((p) => p.property !== "certFile" && p.property !== "keyFile");
}

/** Default name of a trust file. */
export const DEFAULT_TRUST_FILE = "remote-cluster-client-ca.crt";

/** Absolute path of the trust file of `t`. */
export function trustFilePath(t: TrustFileTarget): string {
    return path.join(t.directory, t.caFile ?? DEFAULT_TRUST_FILE);
}

/** What a trust file holding `caPems` contains: the PEMs, one after the other, each ending in a newline. */
export function trustPemsContent(caPems: string[]): string {
    return caPems.map((p) => (p.endsWith("\n") ? p : `${p}\n`)).join("");
}

/**
 * Writes the CA certificates `caPems` into the trust file of `t` (atomically, mode 0644, owner
 * kept), after keeping what was there aside like {@link keepOriginals}. Returns the record's path.
 * Elasticsearch re-reads a changed CA file like a certificate (about every 5 s).
 */
export async function deliverTrustFile(t: TrustFileTarget, caPems: string[]): Promise<string> {
    const f = await filesOn(t.access);
    await assertDirectory(f, t);
    const file = trustFilePath(t);
    const record = await keepOriginal(f, file, false);
    certificatesChanged();
    await f.writeAtomic(file, trustPemsContent(caPems), PUBLIC_FILE_MODE);
    return record;
}

/** What the trust file of `t` holds now (`undefined`: missing or unreadable). */
export async function readTrustFile(t: TrustFileTarget): Promise<string | undefined> {
    return (await filesOn(t.access)).readFile(trustFilePath(t));
}

/**
 * Gives up the trust file of `t` (delete, or a move elsewhere): with `restore` (default) it gets back
 * what it held before the first delivery, or is removed if it did not exist and no
 * `elasticsearch.yml` names it; with `keep` it stays. Only while it still holds `caPems`.
 */
export async function releaseTrustFile(t: TrustFileTarget, caPems: string[]): Promise<ReleaseReport> {
    const f = await filesOn(t.access);
    const file = trustFilePath(t);
    const report: ReleaseReport = { restored: [], removed: [], kept: [] };
    const on = await f.readFile(file);
    if (on === undefined) {
        return report;
    }
    if (on !== trustPemsContent(caPems)) {
        report.kept.push({ file, why: "it no longer holds what was delivered (a newer delivery or a hand edit)" });
        return report;
    }
    certificatesChanged();
    await releaseFile(f, file, true, t.onDelete ?? "restore", report);
    await f.syncDir(t.directory);
    return report;
}

// ---- a certificate and its key alone ----------------------------------------------------------

/**
 * Where a certificate and its key go without a CA file: a strong-identity signing pair
 * (`cluster.remote.<alias>.signing.certificate` / `.key`, provider/signing/settings.ts).
 */
export interface KeyPairTarget {
    /** Absolute path of an existing directory on the node (e.g. `<configDir>/certs`). */
    directory: string;
    /** How the node's files are reached; absent: the machine that runs `pulumi`. */
    access?: NodeAccess;
    /** File name of the certificate in `directory`. */
    certFile: string;
    /** File name of the private key in `directory`. */
    keyFile: string;
}

/** The pair's certificate and key PEMs. */
export interface KeyPairPems {
    certPem: string;
    keyPem: string;
}

function pairPaths(t: KeyPairTarget): { cert: string; key: string } {
    return { cert: path.join(t.directory, t.certFile), key: path.join(t.directory, t.keyFile) };
}

/**
 * Writes a certificate and its key into `t` the way {@link deliverFiles} writes a node's files:
 * each atomically (temporary file in the directory, rename), the key 0600 (0640 under a
 * `root:<group>` layout, see keyFileModeFor), the certificate 0644, the owner of the file replaced
 * (or of the directory) kept, refused before anything is written when the access could not keep
 * it. What each file held before the *first* write is kept aside first ({@link keepOriginals}'s
 * records), so {@link releaseKeyPair} puts it back. The key before the certificate: a watcher that
 * reloads between the two renames sees the old certificate with the new key at worst once, and
 * reloads again when the certificate lands.
 */
export async function deliverKeyPair(t: KeyPairTarget, pems: KeyPairPems): Promise<void> {
    const f = await filesOn(t.access);
    const st = await f.stat(t.directory);
    if (!st || !st.isDirectory) {
        throw new NodeAccessError(`${t.directory}${onHost(f)} is ${st ? "not a directory" : "missing"}: the signing files go there; create it (the node's config directory holds a certs/ folder in most layouts)`, { host: f.where, path: t.directory });
    }
    const p = pairPaths(t);
    const keyMode = await keyFileModeFor(f, t, p.key);
    await assertOwnerKept(f, p.key, keyMode);
    await keepOriginal(f, p.cert, false);
    await keepOriginal(f, p.key, true);
    try {
        await f.writeAtomic(p.key, pems.keyPem, keyMode);
        await f.writeAtomic(p.cert, pems.certPem, PUBLIC_FILE_MODE);
    } catch (err) {
        // writing: the key may be new beside the old certificate, so the caller puts this node back too.
        throw new NodeAccessError(`could not write the signing files to ${t.directory}${onHost(f)}: ${(err as Error).message}`, { host: f.where, path: t.directory, writing: true }, { cause: err });
    }
}

/** What the pair's files of `t` hold now (`undefined`: missing or unreadable). */
export async function readKeyPair(t: KeyPairTarget): Promise<Partial<KeyPairPems>> {
    const f = await filesOn(t.access);
    const p = pairPaths(t);
    const [certPem, keyPem] = await Promise.all([f.readFile(p.cert), f.readFile(p.key)]);
    return { certPem, keyPem };
}

/**
 * Gives up the pair of `t` (a delete, signing removed, an undo): each file that still holds what
 * was written (`pems`) gets back what it held before the first write, or is removed if it did not
 * exist then (unless an `elasticsearch.yml` names it); a file changed since is left as it is (and
 * reported). A file already gone loses its record only.
 */
export async function releaseKeyPair(t: KeyPairTarget, pems: KeyPairPems): Promise<ReleaseReport> {
    const f = await filesOn(t.access);
    const p = pairPaths(t);
    const on = await readKeyPair(t);
    const report: ReleaseReport = { restored: [], removed: [], kept: [] };
    for (const [file, now, own] of [[p.key, on.keyPem, pems.keyPem], [p.cert, on.certPem, pems.certPem]] as const) {
        if (now === undefined) {
            const rec = await findOriginal(file, f);
            if (rec) await f.remove(rec.path);
            continue;
        }
        await releaseFile(f, file, now === own, "restore", report);
    }
    await f.syncDir(t.directory);
    return report;
}
