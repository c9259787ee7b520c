/**
 * Delivering PEM files to a node's config directory, so that Elasticsearch's file watcher (it
 * re-reads certificate files about every 5 s when they change, same file names) picks up a new
 * certificate without a restart.
 *
 * Each file is written atomically: a temporary file in the same directory, fsync, rename over the
 * target, fsync of the directory. Elasticsearch therefore never reads a half-written PEM.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Where a node certificate's files go. Plain interface, unwrapped. */
export interface DeliveryTarget {
    /** Absolute path of the directory, e.g. `/etc/elasticsearch/certs`. Must exist. */
    directory: string;
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
}

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
 * Writes `content` to `file` atomically with permission bits `mode` (not reduced by the umask).
 * If the file existed, its owner and group are kept when this process may set them (e.g. running
 * as root over a `root:elasticsearch` file), so Elasticsearch can still read the new file; a new
 * file takes the directory's owner and group the same way (a node's config directory belongs to
 * the user Elasticsearch runs as).
 */
export function writeFileAtomic(file: string, content: string, mode: number): void {
    const dir = path.dirname(file);
    let previous: fs.Stats | undefined;
    try {
        previous = fs.statSync(file);
    } catch {
        previous = fs.statSync(dir);
    }
    const tmp = path.join(dir, `.${path.basename(file)}.${crypto.randomBytes(6).toString("hex")}.tmp`);
    // O_EXCL: never follow a planted symlink or reuse someone else's temp file.
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
    try {
        try {
            fs.fchmodSync(fd, mode);
            if (previous) {
                try {
                    fs.fchownSync(fd, previous.uid, previous.gid);
                } catch {
                    // Not permitted (not root, or not in that group): the file belongs to us instead.
                }
            }
            fs.writeFileSync(fd, content);
            fs.fsyncSync(fd);
        } finally {
            fs.closeSync(fd);
        }
        fs.renameSync(tmp, file);
    } catch (err) {
        fs.rmSync(tmp, { force: true });
        throw err;
    }
    fsyncDirectory(dir);
}

function fsyncDirectory(dir: string): void {
    let fd: number | undefined;
    try {
        fd = fs.openSync(dir, "r");
        fs.fsyncSync(fd);
    } catch {
        // Some file systems refuse fsync on directories; the rename itself is still atomic.
    } finally {
        if (fd !== undefined) {
            fs.closeSync(fd);
        }
    }
}

/**
 * Writes the three files of `t`. Order: CA, key, certificate — the certificate last, so that when
 * Elasticsearch notices the new certificate its key and CA are already in place (a watcher tick
 * between the writes at worst logs one failed reload and keeps the old, still valid, material).
 * Throws with a message naming the directory if it does not exist or is not writable.
 */
export function deliverFiles(t: DeliveryTarget, pems: DeliveredPems): void {
    let st: fs.Stats;
    try {
        st = fs.statSync(t.directory);
    } catch {
        throw new Error(`delivery.directory ${t.directory} does not exist; create it (e.g. the node's config directory) or fix the path`);
    }
    if (!st.isDirectory()) {
        throw new Error(`delivery.directory ${t.directory} is not a directory`);
    }
    const p = deliveryPaths(t);
    try {
        writeFileAtomic(p.ca, trustFileContent(t, pems.caPem), PUBLIC_FILE_MODE);
        writeFileAtomic(p.key, pems.keyPem, t.keyFileMode ?? DEFAULT_KEY_FILE_MODE);
        writeFileAtomic(p.cert, pems.certPem, PUBLIC_FILE_MODE);
    } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new Error(`could not write the certificate files to ${t.directory}: ${e.code ?? ""} ${e.message}`.replace(/\s+/g, " "), { cause: err });
    }
}

function readOrUndefined(file: string): string | undefined {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return undefined;
    }
}

/** The current contents of the three files of `t` (`undefined` for a missing or unreadable file). */
export function readDelivered(t: DeliveryTarget): Partial<DeliveredPems> {
    const p = deliveryPaths(t);
    return { certPem: readOrUndefined(p.cert), keyPem: readOrUndefined(p.key), caPem: readOrUndefined(p.ca) };
}

/** True if the files of `t` hold exactly `pems`. */
export function deliveredMatches(t: DeliveryTarget, pems: DeliveredPems): boolean {
    const on = readDelivered(t);
    return on.certPem === pems.certPem && on.keyPem === pems.keyPem && on.caPem === trustFileContent(t, pems.caPem);
}

/**
 * Removes the files of `t` that still hold what we wrote (`pems`), and nothing else.
 *
 * Why only those: on a renewal Pulumi creates the replacement first (it writes new files under the
 * same names) and deletes the old resource afterwards; the old resource must not remove its
 * successor's files. For the same reason the CA file, identical across renewals, is removed only
 * if the certificate or key file was still ours. A file someone replaced by hand is left alone too.
 * Returns the paths removed and the paths left in place.
 */
export function removeDelivered(t: DeliveryTarget, pems: DeliveredPems): { removed: string[]; kept: string[] } {
    const p = deliveryPaths(t);
    const on = readDelivered(t);
    const ownCert = on.certPem === pems.certPem;
    const ownKey = on.keyPem === pems.keyPem;
    const ownCa = on.caPem === trustFileContent(t, pems.caPem) && (ownCert || ownKey);
    const removed: string[] = [];
    const kept: string[] = [];
    for (const [file, own, present] of [
        [p.cert, ownCert, on.certPem !== undefined],
        [p.key, ownKey, on.keyPem !== undefined],
        [p.ca, ownCa, on.caPem !== undefined],
    ] as const) {
        if (own) {
            fs.rmSync(file, { force: true });
            removed.push(file);
        } else if (present) {
            kept.push(file);
        }
    }
    if (removed.length) {
        fsyncDirectory(t.directory);
    }
    return { removed, kept };
}
