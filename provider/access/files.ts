/**
 * The file operations a node-side step needs (certificate, trust and kept-aside files), on the
 * node an access reaches. Written once for every access kind: {@link localFiles} uses this
 * process's `fs` (the machine that runs `pulumi`, as in earlier releases); {@link shellFiles} runs
 * small POSIX `sh` scripts through a {@link NodeShell} (SSH, a command prefix), content on stdin.
 *
 * CONTRACT (implementation pending): see the method docs.
 */
import type { NodeShell } from "./types";

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

export declare function localFiles(): NodeFiles;
export declare function shellFiles(shell: NodeShell): NodeFiles;
