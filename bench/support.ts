/**
 * What every benchmark shares: the machine description printed with the figures, medians, markdown
 * tables, temporary folders and started processes that are always cleaned up (by PID), and a Pulumi
 * CLI runner that knows its child's PID.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { descendants } from "../rig/elasticsearch";
import { repoRoot } from "../rig/paths";
import { pulumiBinDir, Workspace, workspace } from "../rig/pulumi";

// ---------------------------------------------------------------------------------- the machine

/** The load average right now (1, 5, 15 minutes), as /proc/loadavg prints it. */
export function loadavg(): string {
    try {
        return fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
    } catch {
        return os.loadavg().map((l) => l.toFixed(2)).join(" ");
    }
}

function firstLine(cmd: string, args: string[]): string {
    try {
        return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim().split("\n")[0];
    } catch {
        return "(not available)";
    }
}

/** Version of an installed dependency (its package.json may not be exported, so it is read as a file). */
function packageVersion(name: string): string {
    try {
        return JSON.parse(fs.readFileSync(path.join(repoRoot(), "node_modules", name, "package.json"), "utf8")).version;
    } catch {
        return "?";
    }
}

/** A markdown description of the machine and the versions the figures were taken with. */
export function machineReport(extra: Record<string, string> = {}): string {
    const cpu = os.cpus()[0]?.model ?? "?";
    const memMb = Math.round(os.totalmem() / 1024 / 1024);
    const rows: Array<[string, string]> = [
        ["date (start)", new Date().toISOString()],
        ["nproc", String(os.cpus().length)],
        ["cpu", cpu],
        ["memory", `${memMb} MB`],
        ["load average at start", loadavg()],
        ["kernel", `${os.type()} ${os.release()}`],
        ["node", process.version],
        ["pulumi", firstLine(path.join(pulumiBinDir(), "pulumi"), ["version"])],
        ["@pulumi/pulumi", packageVersion("@pulumi/pulumi")],
        ["@elastic/elasticsearch", packageVersion("@elastic/elasticsearch")],
        ["@peculiar/x509", packageVersion("@peculiar/x509")],
        ["openssl", firstLine("openssl", ["version"])],
        // The hooks run from dist/, built from the working tree: say whether it had uncommitted changes.
        ["commit", firstLine("git", ["-C", repoRoot(), "describe", "--always", "--dirty"])],
        ...Object.entries(extra),
    ];
    return table(["", ""], rows);
}

// -------------------------------------------------------------------------------------- figures

/** The median of `xs` (NaN for none). */
export function median(xs: number[]): number {
    if (xs.length === 0) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Milliseconds as seconds with two decimals. */
export function secs(ms: number): string {
    return Number.isFinite(ms) ? (ms / 1000).toFixed(2) : "–";
}

/** `median (min–max)` of milliseconds, in seconds. */
export function spread(msList: number[]): string {
    if (msList.length === 0) return "–";
    if (msList.length === 1) return secs(msList[0]);
    return `${secs(median(msList))} (${secs(Math.min(...msList))}–${secs(Math.max(...msList))})`;
}

/** A markdown table. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
    const line = (cells: Array<string | number>) => `| ${cells.map((c) => String(c).replace(/\|/g, "\\|")).join(" | ")} |`;
    return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Prints a line to stderr (progress; the figures go to stdout). */
export function progress(msg: string): void {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// ------------------------------------------------------------------------------------- clean-up

/**
 * Everything a benchmark started: processes (stopped by PID, never by name), temporary folders and
 * other undo steps, run in reverse order at the end, on failure and on SIGINT/SIGTERM.
 */
export class Cleanup {
    private readonly steps: Array<{ what: string; fn: () => Promise<void> | void }> = [];
    private ran = false;

    /** Adds an undo step; `now()` runs it early, `forget()` drops it (e.g. a process that exited by itself). */
    add(what: string, fn: () => Promise<void> | void): { now(): Promise<void>; forget(): void } {
        const step = { what, fn };
        this.steps.push(step);
        const take = () => {
            const i = this.steps.indexOf(step);
            if (i >= 0) this.steps.splice(i, 1);
            return i >= 0;
        };
        return {
            now: async () => {
                if (take()) await fn();
            },
            forget: () => {
                take();
            },
        };
    }

    /** A new temporary folder, removed at the end. */
    tempDir(prefix: string): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pulumi-es-remote-bench-${prefix}-`));
        this.add(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
        return dir;
    }

    /** Runs every step, newest first; failures are reported, not thrown. */
    async run(): Promise<void> {
        if (this.ran) return;
        this.ran = true;
        while (this.steps.length) {
            const s = this.steps.pop()!;
            try {
                await s.fn();
            } catch (e) {
                progress(`clean-up step '${s.what}' failed: ${(e as Error).message}`);
            }
        }
    }
}

/** Sends `signal` to `pid` and to the descendants it has now (each by PID); errors ignored. */
export function killTree(pid: number, signal: NodeJS.Signals = "SIGTERM"): void {
    let pids: number[] = [];
    try {
        pids = [...descendants(pid).reverse(), pid];
    } catch {
        pids = [pid];
    }
    for (const p of pids) {
        try {
            process.kill(p, signal);
        } catch {
            // gone
        }
    }
}

// ---------------------------------------------------------------------------------- Pulumi CLI

/** One CLI run. */
export interface CliRun {
    code: number;
    /** stdout and stderr interleaved. */
    output: string;
    /** Wall time from spawn to exit. */
    ms: number;
}

/**
 * Runs a command, timing it from spawn to exit; `onStart` gets the PID (e.g. to sample its memory).
 * The process is killed (by PID) if the benchmark is interrupted, and after `timeoutMs`.
 */
export function runTimed(cleanup: Cleanup, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; onStart?: (pid: number) => void; timeoutMs: number; label: string }): Promise<CliRun> {
    return new Promise((resolve, reject) => {
        const started = process.hrtime.bigint();
        const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
        const pid = child.pid!;
        const stop = cleanup.add(`stop ${opts.label} (pid ${pid})`, () => killTree(pid, "SIGKILL"));
        opts.onStart?.(pid);
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        const timer = setTimeout(() => killTree(pid, "SIGTERM"), opts.timeoutMs);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            // It exited by itself: its PID may be reused from now on, so never signal it again.
            stop.forget();
            resolve({ code: code ?? -1, output, ms });
        });
    });
}

/**
 * Runs `pulumi <args>` in the workspace with extra environment variables; `onStart` gets the PID
 * (e.g. to sample its memory). The process is killed (by PID) if the benchmark is interrupted.
 */
export function runCli(cleanup: Cleanup, ws: Workspace, args: string[], opts: { env?: Record<string, string>; onStart?: (pid: number) => void; timeoutMs?: number } = {}): Promise<CliRun> {
    return runTimed(cleanup, path.join(pulumiBinDir(), "pulumi"), ["--non-interactive", "--color", "never", ...args], {
        cwd: ws.projectDir, env: { ...ws.env, ...opts.env }, onStart: opts.onStart, timeoutMs: opts.timeoutMs ?? 20 * 60 * 1000, label: `pulumi ${args[0]}`,
    });
}

/** Like {@link runCli}, but throws with the end of the output on a non-zero exit. */
export async function cli(cleanup: Cleanup, ws: Workspace, args: string[], opts: Parameters<typeof runCli>[3] = {}): Promise<CliRun> {
    const r = await runCli(cleanup, ws, args, opts);
    if (r.code !== 0) {
        throw new Error(`pulumi ${args.join(" ")} exited with ${r.code}:\n${r.output.slice(-4000)}`);
    }
    return r;
}

/** A temporary Pulumi project running a JavaScript program, with an offline stack `bench`. */
export interface BenchProject {
    ws: Workspace;
    /** Replaces the program. */
    setProgram(js: string): void;
    /** `pulumi config set` (secret with `secret: true`). */
    config(key: string, value: string, secret?: boolean): Promise<void>;
}

/**
 * Creates a project whose node_modules is this repository's (so `pulumi-es-remote` resolves to the
 * code under test, as from an installed package) in a temporary folder removed by `cleanup`.
 * `root`: another checkout whose node_modules to use instead (an earlier commit, built, for a
 * before/after comparison in one run; see `--baseline`).
 */
export async function benchProject(cleanup: Cleanup, name: string, program: string, root: string = repoRoot()): Promise<BenchProject> {
    const dir = cleanup.tempDir(name);
    const projectDir = path.join(dir, "project");
    fs.mkdirSync(projectDir);
    fs.writeFileSync(path.join(projectDir, "Pulumi.yaml"), `name: ${name}\nruntime: nodejs\nmain: index.js\n`);
    fs.writeFileSync(path.join(projectDir, "package.json"), JSON.stringify({ name, private: true, main: "index.js" }));
    fs.symlinkSync(path.join(root, "node_modules"), path.join(projectDir, "node_modules"), "dir");
    fs.writeFileSync(path.join(projectDir, "index.js"), program);
    const ws = workspace(projectDir, path.join(dir, "state"), "pulumi-es-remote-bench");
    await cli(cleanup, ws, ["stack", "init", "bench"]);
    return {
        ws,
        setProgram: (js) => fs.writeFileSync(path.join(projectDir, "index.js"), js),
        config: async (key, value, secret = false) => {
            // `--`: PEM values start with dashes. The value is never echoed in an error (it may be a secret).
            const r = await runCli(cleanup, ws, ["config", "set", ...(secret ? ["--secret"] : []), key, "--", value]);
            if (r.code !== 0) {
                throw new Error(`pulumi config set ${key} exited with ${r.code}: ${r.output.split(value).join("<value>").slice(-2000)}`);
            }
        },
    };
}

/** Environment that makes the dynamic-provider process log every request to `file` (see requestLog.ts). */
export function requestLogEnv(file: string): Record<string, string> {
    const preload = path.join(__dirname, "requestLog.js");
    return {
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${preload}`.trim(),
        PULUMI_ES_REMOTE_BENCH_LOG: file,
    };
}
