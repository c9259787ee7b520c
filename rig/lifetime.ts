/**
 * What a killed test run leaves behind: nothing. Every process the rig starts for a test run is
 * tied to the life of the process that started it in two independent ways:
 *
 * - the kernel: each is started under `setpriv --pdeathsig KILL` (SIGKILL when its parent dies) in
 *   a process group of its own; an Elasticsearch server JVM reads its launcher's stdin and exits
 *   when that pipe closes, so it follows its launcher;
 * - a small detached reaper (rig/reaper.ts), started once per process, that waits for this
 *   process to die and then kills the recorded process groups and PIDs and removes the recorded
 *   mount namespaces (every process still inside is killed, the namespace file unmounted and
 *   removed), network namespaces, links and folders. The record is a JSON file the reaper reads at
 *   that moment.
 *
 * Clusters started by `npm run clusters -- up` are meant to outlive the CLI: they are `persistent`
 * and never recorded here.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** A process as the reaper identifies it: PID plus kernel start time, so a reused PID is never hit. */
export interface TrackedProcess {
    pid: number;
    /** Field 22 of /proc/<pid>/stat. */
    start: string;
    /** Kill the whole process group led by `pid` (the process was started with its own group). */
    group?: boolean;
}

/** Everything the reaper removes when the owning process dies. */
export interface Registry {
    processes: TrackedProcess[];
    namespaces: string[];
    links: string[];
    dirs: string[];
    /**
     * Persistent mount namespaces (the files they are bound to, see rig/hostfs.ts). Absent in
     * records written before isolated hosts existed.
     */
    mounts?: string[];
}

/** Start time of a process (field 22 of /proc/<pid>/stat), or undefined if it is gone. */
export function processStart(pid: number): string | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    } catch {
        return undefined;
    }
}

/** Folder of the reapers' record files. */
export function reaperDir(): string {
    return process.getuid && process.getuid() === 0 ? "/run/pulumi-es-remote-rig" : path.join(os.tmpdir(), "pulumi-es-remote-rig-reaper");
}

let registry: Registry | undefined;
let registryFile: string | undefined;
let reaperPid: number | undefined;

function flush(): void {
    if (!registry || !registryFile) return;
    const tmp = `${registryFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(registry), { mode: 0o600 });
    fs.renameSync(tmp, registryFile);
}

/** Starts this process's reaper unless it runs; returns the record. */
function ensureReaper(): Registry {
    if (registry) return registry;
    const dir = reaperDir();
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    registry = { processes: [], namespaces: [], links: [], dirs: [], mounts: [] };
    registryFile = path.join(dir, `${process.pid}.json`);
    flush();
    const child = spawn(process.execPath, [path.join(__dirname, "reaper.js"), String(process.pid), processStart(process.pid) ?? "", registryFile], {
        detached: true,
        stdio: "ignore",
    });
    child.unref();
    reaperPid = child.pid;
    return registry;
}

/** PID of this process's reaper, once started (for tests). */
export function currentReaperPid(): number | undefined {
    return reaperPid;
}

/** Records a started process (by PID and start time) for the reaper. */
export function trackProcess(pid: number, opts: { group?: boolean } = {}): void {
    const start = processStart(pid);
    if (!start) return;
    const r = ensureReaper();
    if (!r.processes.some((p) => p.pid === pid && p.start === start)) {
        r.processes.push({ pid, start, group: opts.group });
        flush();
    }
}

/** Forgets processes that were stopped normally. */
export function untrackProcesses(pids: number[]): void {
    if (!registry) return;
    registry.processes = registry.processes.filter((p) => !pids.includes(p.pid));
    flush();
}

/** Records network namespaces, links (bridges), folders and mount-namespace files for the reaper. */
export function trackResources(what: { namespaces?: string[]; links?: string[]; dirs?: string[]; mounts?: string[] }): void {
    const r = ensureReaper();
    r.mounts ??= [];
    r.mounts.push(...(what.mounts ?? []).filter((n) => !r.mounts!.includes(n)));
    r.namespaces.push(...(what.namespaces ?? []).filter((n) => !r.namespaces.includes(n)));
    r.links.push(...(what.links ?? []).filter((n) => !r.links.includes(n)));
    r.dirs.push(...(what.dirs ?? []).filter((n) => !r.dirs.includes(n)));
    flush();
}

/** Forgets resources that were removed normally. */
export function untrackResources(what: { namespaces?: string[]; links?: string[]; dirs?: string[]; mounts?: string[] }): void {
    if (!registry) return;
    registry.mounts = (registry.mounts ?? []).filter((n) => !(what.mounts ?? []).includes(n));
    registry.namespaces = registry.namespaces.filter((n) => !(what.namespaces ?? []).includes(n));
    registry.links = registry.links.filter((n) => !(what.links ?? []).includes(n));
    registry.dirs = registry.dirs.filter((n) => !(what.dirs ?? []).includes(n));
    flush();
}

/**
 * The command prefix that ties a process to its parent's life: `setpriv --pdeathsig KILL`, after
 * the user switch (a change of user clears the parent-death signal, so it must come last).
 */
export function tiedCommand(user: { uid: number; gid: number } | undefined, tied: boolean, cmd: string, args: string[]): [string, string[]] {
    const priv = [
        ...(user ? ["--reuid", String(user.uid), "--regid", String(user.gid), "--clear-groups"] : []),
        ...(tied ? ["--pdeathsig", "KILL"] : []),
    ];
    return priv.length ? ["setpriv", [...priv, "--", cmd, ...args]] : [cmd, args];
}

/**
 * PIDs of the processes inside the mount namespace bound to `file` (their `/proc/<pid>/ns/mnt` is
 * that namespace's inode), or none if `file` is not a namespace.
 */
export function processesInMountNamespace(file: string): number[] {
    let ino: number;
    try {
        ino = fs.statSync(file).ino;
    } catch {
        return [];
    }
    if (!isMountNamespaceFile(file)) return [];
    const out: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
        try {
            if (fs.readlinkSync(`/proc/${entry}/ns/mnt`) === `mnt:[${ino}]`) out.push(Number(entry));
        } catch {
            // exited meanwhile
        }
    }
    return out;
}

/** Whether `file` has a mount namespace bound onto it (it is then on nsfs, not the folder's file system). */
function isMountNamespaceFile(file: string): boolean {
    const r = spawnSync("findmnt", ["-n", "-o", "FSTYPE", "--mountpoint", file], { encoding: "utf8" });
    return r.status === 0 && r.stdout.trim() === "nsfs";
}

/**
 * Ends a persistent mount namespace: kills (SIGKILL) every process still inside it, unmounts the
 * file it is bound to and removes the file. The namespace, with its overlays, goes when its last
 * user does. Safe on a file that is already gone.
 */
export function releaseMountNamespace(file: string): void {
    for (const pid of processesInMountNamespace(file)) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // gone
        }
    }
    if (isMountNamespaceFile(file)) {
        if (spawnSync("umount", [file], { stdio: "ignore" }).status !== 0) {
            spawnSync("umount", ["-l", file], { stdio: "ignore" });
        }
    }
    fs.rmSync(file, { force: true });
}
