/**
 * The file operations a node-side step needs (certificate, trust and kept-aside files), on the
 * node an access reaches. Written once for every access kind: {@link localFiles} uses this
 * process's `fs` (the machine that runs `pulumi`, as in earlier releases); {@link shellFiles} runs
 * small POSIX `sh` scripts through a {@link NodeShell} (SSH, a command prefix), content on stdin.
 *
 * Both give the same answers for the same disk (tests/unit/provider/access/files.test.ts runs one
 * table against each). The scripts need POSIX `sh` and coreutils or BusyBox (`stat -c`, `chmod`,
 * `chown`, `mv`, `cat`, `rm`, `sync`), run with `LC_ALL=C` (their error texts are matched), and
 * exit with codes of their own (10..29) for the outcomes the methods report, so a failure of the
 * access itself (a container gone: `docker exec` exits 1) is never read as "missing".
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { NodeAccessError } from "../core/errors";
import { safeStderr } from "./shell";
import type { NodeShell, ShellResult } from "./types";

/** What `stat` tells about a path (never follows a symlink for the final component? no: like `stat`, follows). */
export interface FileStat {
    isFile: boolean;
    isDirectory: boolean;
    /** Permission bits (`mode & 0o777`). */
    mode: number;
    uid: number;
    gid: number;
}

/** The owner a written file gets. */
export interface Owner {
    uid: number;
    gid: number;
}

/** File operations on one node. Every method rejects with an Error whose message names `where` and the path. */
export interface NodeFiles {
    /** Where the files are, for messages (`this host`, `ssh admin@h:22 (sudo)`). */
    readonly where: string;
    /** `undefined` if the path does not exist; rejects on other errors (permission, connection). */
    stat(file: string): Promise<FileStat | undefined>;
    /** UTF-8 content, or `undefined` for a missing or unreadable file. */
    readFile(file: string): Promise<string | undefined>;
    /** Names in the directory, or `undefined` if it does not exist or cannot be listed. */
    readDir(dir: string): Promise<string[] | undefined>;
    /**
     * Writes `content` to `file` atomically: a temporary file in the same directory (created
     * exclusively, never following a planted symlink), mode `mode` exactly (not reduced by a umask),
     * owner `owner` if given, else the owner and group of the file it replaces, else of the
     * directory (when the effective user may set them), fsync, rename over `file`, fsync of the
     * directory. On failure the temporary file is removed. The content travels on stdin for shells.
     */
    writeAtomic(file: string, content: string, mode: number, owner?: Owner): Promise<void>;
    /** Removes a file; no error if it is already gone. */
    remove(file: string): Promise<void>;
    /** fsync of a directory (best effort). */
    syncDir(dir: string): Promise<void>;
    /**
     * Whether the user who owns `dir` may create files in it and whether this access may (both
     * matter: the access writes, Elasticsearch reads). `undefined` if `dir` is missing.
     */
    writable(dir: string): Promise<{ byAccess: boolean; owner: Owner } | undefined>;
}

/**
 * Options of {@link localFiles} and {@link shellFiles}.
 * @internal Tests fix the temporary file's name to plant something there first.
 */
export interface FilesOptions {
    /** The random part of the temporary file's name (`.<name>.<suffix>.tmp`). Default: 12 random hex digits. */
    tempSuffix?: () => string;
}

const randomSuffix = () => crypto.randomBytes(6).toString("hex");

/** The temporary file next to `file`: `.<name>.<suffix>.tmp`. @internal */
export function tempPathFor(file: string, suffix: string): string {
    return path.join(path.dirname(file), `.${path.basename(file)}.${suffix}.tmp`);
}

function checkMode(mode: number, file: string, where: string): void {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
        throw new NodeAccessError(`could not write ${file} on ${where}: ${String(mode)} is not a file mode`, { host: where, path: file });
    }
}

/** An fs error as the error of an operation, naming the place and the path; the errno code kept in details. */
function fsError(what: string, file: string, where: string, err: unknown): NodeAccessError {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === "ENOENT" ? "no such file or directory"
        : e.code === "EACCES" || e.code === "EPERM" ? "permission denied"
        : e.code === "ENOTDIR" ? "a component of the path is not a directory"
        : e.code === "EISDIR" ? "it is a directory"
        : e.code === "ENOSPC" ? "no space left on the device"
        : e.code === "EROFS" ? "read-only file system"
        : e.code === "EEXIST" ? "the temporary file's name is taken (a planted file or link?)"
        : (e.message ?? String(err));
    return new NodeAccessError(`could not ${what} ${file} on ${where}: ${reason}${e.code ? ` (${e.code})` : ""}`, { host: where, path: file, code: e.code }, { cause: err });
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
 * On this host, synchronously: writes `content` to `file` atomically with permission bits `mode`
 * (not reduced by the umask) — an O_EXCL temporary file in the same directory (never following a
 * planted symlink), fchmod, fchown to `owner` or else to the owner and group of the file it
 * replaces (or of the directory) when this process may, fsync, rename, directory fsync; the
 * temporary file removed on failure. {@link localFiles} writes with it; tests and the rig too.
 * @internal
 */
export function writeFileAtomicSync(file: string, content: string, mode: number, owner?: Owner, tempSuffix: string = randomSuffix()): void {
    const where = "this host";
    checkMode(mode, file, where);
    const dir = path.dirname(file);
    let previous: Owner | undefined = owner;
    try {
        if (!previous) {
            try {
                previous = fs.statSync(file);
            } catch {
                previous = fs.statSync(dir);
            }
        }
    } catch (err) {
        throw fsError("write", file, where, err);
    }
    const tmp = tempPathFor(file, tempSuffix);
    let fd: number;
    try {
        // O_EXCL: never follow a planted symlink or reuse someone else's temp file.
        fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
    } catch (err) {
        throw fsError("write", file, where, err);
    }
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
        throw fsError("write", file, where, err);
    }
    fsyncDirectory(dir);
}

/**
 * The local host's files, with this process's `fs`: the semantics of earlier releases'
 * `writeFileAtomic` exactly (O_EXCL temporary file, fchmod, fchown when permitted, fsync, rename,
 * directory fsync; the temporary file removed on failure).
 */
export function localFiles(opts: FilesOptions = {}): NodeFiles {
    const where = "this host";
    const suffix = opts.tempSuffix ?? randomSuffix;
    return {
        where,
        async stat(file) {
            let st: fs.Stats;
            try {
                st = fs.statSync(file);
            } catch (err) {
                const code = (err as NodeJS.ErrnoException).code;
                if (code === "ENOENT" || code === "ENOTDIR") return undefined;
                throw fsError("stat", file, where, err);
            }
            return { isFile: st.isFile(), isDirectory: st.isDirectory(), mode: st.mode & 0o777, uid: st.uid, gid: st.gid };
        },
        async readFile(file) {
            try {
                return fs.readFileSync(file, "utf8");
            } catch {
                return undefined;
            }
        },
        async readDir(dir) {
            try {
                return fs.readdirSync(dir);
            } catch {
                return undefined;
            }
        },
        async writeAtomic(file, content, mode, owner) {
            writeFileAtomicSync(file, content, mode, owner, suffix());
        },
        async remove(file) {
            try {
                fs.rmSync(file, { force: true });
            } catch (err) {
                throw fsError("remove", file, where, err);
            }
        },
        async syncDir(dir) {
            fsyncDirectory(dir);
        },
        async writable(dir) {
            let st: fs.Stats;
            try {
                st = fs.statSync(dir);
            } catch {
                return undefined;
            }
            if (!st.isDirectory()) return undefined;
            let byAccess = true;
            try {
                fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
            } catch {
                byAccess = false;
            }
            return { byAccess, owner: { uid: st.uid, gid: st.gid } };
        },
    };
}

/** Every script starts so: C messages (matched below), errors stop it. */
const PRELUDE = "LC_ALL=C; export LC_ALL\n";

/** Exit codes of the scripts' own outcomes. */
const MISSING = 10;
const NO_DIR = 20;
const TEMP_TAKEN = 21;
const IS_DIR = 22;

/** stat, following links; MISSING for a missing path (or a non-directory in the path, as `fs.stat`'s ENOTDIR). */
const STAT = `${PRELUDE}if out=$(stat -L -c '%F|%a|%u|%g' -- "$1" 2>&1); then printf '%s\\n' "$out"; exit 0; fi
case $out in *"No such file or directory"*|*"Not a directory"*) exit ${MISSING};; esac
printf '%s\\n' "$out" >&2; exit 1
`;

const READ_FILE = `${PRELUDE}cat -- "$1" 2>/dev/null || exit ${MISSING}
`;

/** Names NUL-terminated (any byte but NUL and / may be in a name), dot files included, . and .. not. */
const READ_DIR = `${PRELUDE}[ -d "$1" ] && [ -r "$1" ] && [ -x "$1" ] && cd -- "$1" 2>/dev/null || exit ${MISSING}
for f in * .[!.]* ..?*; do
  if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\\0' "$f"; fi
done
`;

/**
 * $1 file, $2 mode (octal), $3 owner "uid:gid" or "", $4 temporary file. Content on stdin.
 * The temporary file is created by the redirection itself under `set -C` (noclobber: O_EXCL for a
 * name that does not exist), so the content is written through the descriptor that created it,
 * mode 0600 (umask 077) until chmod; a name that exists (a planted file or symlink) is refused
 * before that, and dash's noclobber would open only a non-regular target. The trap removes it on
 * any failure. sync of a file or directory needs coreutils >= 8.24: best effort, as the local fsync.
 */
const WRITE = `${PRELUDE}set -eu
umask 077
f=$1 mode=$2 own=$3 tmp=
dir=$(dirname -- "$f")
trap '[ -z "$tmp" ] || rm -f -- "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
[ -d "$dir" ] || { echo "no such directory: $dir" >&2; exit ${NO_DIR}; }
if [ -d "$f" ]; then echo "is a directory" >&2; exit ${IS_DIR}; fi
if [ -z "$own" ]; then own=$(stat -L -c '%u:%g' -- "$f" 2>/dev/null || stat -L -c '%u:%g' -- "$dir"); fi
if [ -e "$4" ] || [ -L "$4" ]; then echo "temporary file name taken: $4" >&2; exit ${TEMP_TAKEN}; fi
if ! ( set -C; exec cat > "$4" ); then
  if [ -e "$4" ] || [ -L "$4" ]; then echo "temporary file name taken: $4" >&2; exit ${TEMP_TAKEN}; fi
  exit 1
fi
tmp=$4
chmod -- "$mode" "$tmp"
chown -- "$own" "$tmp" 2>/dev/null || :
chmod -- "$mode" "$tmp"
sync -- "$tmp" 2>/dev/null || :
mv -f -- "$tmp" "$f"
tmp=
sync -- "$dir" 2>/dev/null || :
`;

const REMOVE = `${PRELUDE}rm -f -- "$1"
`;

const SYNC_DIR = `${PRELUDE}sync -- "$1" 2>/dev/null || :
`;

const WRITABLE = `${PRELUDE}[ -d "$1" ] || exit ${MISSING}
o=$(stat -L -c '%u:%g' -- "$1")
if [ -w "$1" ] && [ -x "$1" ]; then echo "yes|$o"; else echo "no|$o"; fi
`;

/** The error of a script that failed: names the place and the path; only the script's own (non-secret) stderr, cut. */
function scriptError(what: string, file: string, where: string, r: ShellResult, reason?: string): NodeAccessError {
    const err = safeStderr(r);
    return new NodeAccessError(`could not ${what} ${file} on ${where}: ${reason ?? (err || `exit ${r.code}`)}`, { host: where, path: file, exitCode: r.code });
}

function parseOwner(s: string): Owner | undefined {
    const m = /^(\d+):(\d+)$/.exec(s.trim());
    return m ? { uid: Number(m[1]), gid: Number(m[2]) } : undefined;
}

/**
 * The files of the node `shell` reaches, with POSIX `sh` scripts (one run per operation). Same
 * answers as {@link localFiles}; `writeAtomic`'s content travels on the script's stdin.
 */
export function shellFiles(shell: NodeShell, opts: FilesOptions = {}): NodeFiles {
    const where = shell.where;
    const suffix = opts.tempSuffix ?? randomSuffix;
    const run = (script: string, args: string[], stdin?: string) => shell.run(script, { args, stdin });
    return {
        where,
        async stat(file) {
            const r = await run(STAT, [file]);
            if (r.code === MISSING) return undefined;
            const m = /^([^|]+)\|([0-7]+)\|(\d+)\|(\d+)\s*$/.exec(r.stdout.toString("utf8"));
            if (r.code !== 0 || !m) throw scriptError("stat", file, where, r);
            return {
                // GNU stat says "regular empty file" for a file of 0 bytes.
                isFile: m[1] === "regular file" || m[1] === "regular empty file",
                isDirectory: m[1] === "directory",
                mode: parseInt(m[2], 8) & 0o777,
                uid: Number(m[3]),
                gid: Number(m[4]),
            };
        },
        async readFile(file) {
            const r = await run(READ_FILE, [file]);
            if (r.code === MISSING) return undefined;
            if (r.code !== 0) throw scriptError("read", file, where, r);
            return r.stdout.toString("utf8");
        },
        async readDir(dir) {
            const r = await run(READ_DIR, [dir]);
            if (r.code === MISSING) return undefined;
            if (r.code !== 0) throw scriptError("list", dir, where, r);
            const s = r.stdout.toString("utf8");
            return s === "" ? [] : s.replace(/\0$/, "").split("\0");
        },
        async writeAtomic(file, content, mode, owner) {
            checkMode(mode, file, where);
            const tmp = tempPathFor(file, suffix());
            const r = await run(WRITE, [file, mode.toString(8), owner ? `${owner.uid}:${owner.gid}` : "", tmp], content);
            if (r.code === 0) return;
            if (r.code === NO_DIR) throw scriptError("write", file, where, r, `the directory ${path.posix.dirname(file)} does not exist`);
            if (r.code === IS_DIR) throw scriptError("write", file, where, r, "it is a directory");
            if (r.code === TEMP_TAKEN) throw scriptError("write", file, where, r, `the temporary file's name ${tmp} is taken (a planted file or link?)`);
            throw scriptError("write", file, where, r);
        },
        async remove(file) {
            const r = await run(REMOVE, [file]);
            if (r.code !== 0) throw scriptError("remove", file, where, r);
        },
        async syncDir(dir) {
            await run(SYNC_DIR, [dir]);
        },
        async writable(dir) {
            const r = await run(WRITABLE, [dir]);
            if (r.code === MISSING) return undefined;
            const m = /^(yes|no)\|(\d+:\d+)\s*$/.exec(r.stdout.toString("utf8"));
            const o = m && parseOwner(m[2]);
            if (r.code !== 0 || !m || !o) throw scriptError("check", dir, where, r);
            return { byAccess: m[1] === "yes", owner: o };
        },
    };
}
