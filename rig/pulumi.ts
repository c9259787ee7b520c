/**
 * The real Pulumi CLI, built once per version by scripts/pulumi-cli.sh (or found on PATH), run
 * fully offline: a local file backend, a passphrase, an isolated PULUMI_HOME, no plugin downloads
 * and no update check.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "./paths";

let cachedBin: string | undefined;

/**
 * Directory holding `pulumi`, `pulumi-language-nodejs` and `pulumi-resource-pulumi-nodejs`.
 * `PULUMI_VERSION=x.y.z` selects exactly that release (each test leg sets it, see scripts/legs.js);
 * without it: a recent enough `pulumi` on PATH, else the oldest supported release, 3.248.0.
 */
export function pulumiBinDir(): string {
    if (!cachedBin) {
        cachedBin = execFileSync("bash", [path.join(repoRoot(), "scripts", "pulumi-cli.sh")], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
            maxBuffer: 1 << 20,
        }).trim().split("\n").pop()!;
    }
    return cachedBin;
}

/** An isolated, offline Pulumi workspace: its own backend folder and PULUMI_HOME. */
export interface Workspace {
    /** Folder of the Pulumi project (holds Pulumi.yaml). */
    projectDir: string;
    /** Folder holding the file backend and PULUMI_HOME. */
    stateDir: string;
    env: NodeJS.ProcessEnv;
}

/** Creates the workspace environment for a project folder; `stateDir` is created if missing. */
export function workspace(projectDir: string, stateDir: string, passphrase = "pulumi-es-remote-tests"): Workspace {
    fs.mkdirSync(path.join(stateDir, "backend"), { recursive: true });
    fs.mkdirSync(path.join(stateDir, "home"), { recursive: true });
    const bin = pulumiBinDir();
    return {
        projectDir,
        stateDir,
        env: {
            ...process.env,
            PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
            PULUMI_BACKEND_URL: `file://${path.join(stateDir, "backend")}`,
            PULUMI_HOME: path.join(stateDir, "home"),
            PULUMI_CONFIG_PASSPHRASE: passphrase,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            NO_COLOR: "1",
        },
    };
}

/** Result of one CLI run. */
export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
    /** stdout and stderr, interleaved as printed. */
    output: string;
}

/** Runs `pulumi <args>` in the workspace; never throws on a non-zero exit (check `code`). */
export function runPulumi(ws: Workspace, args: string[], opts: { echo?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(path.join(pulumiBinDir(), "pulumi"), [...args, "--non-interactive", "--color", "never"], {
            cwd: ws.projectDir,
            env: ws.env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        let output = "";
        const timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs ?? 15 * 60 * 1000);
        child.stdout.on("data", (d) => {
            stdout += d;
            output += d;
            if (opts.echo) process.stdout.write(d);
        });
        child.stderr.on("data", (d) => {
            stderr += d;
            output += d;
            if (opts.echo) process.stderr.write(d);
        });
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code: code ?? -1, stdout, stderr, output });
        });
    });
}

/** Like {@link runPulumi} but throws with the CLI's output when it fails. */
export async function pulumi(ws: Workspace, args: string[], opts: { echo?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
    const r = await runPulumi(ws, args, opts);
    if (r.code !== 0) {
        throw new Error(`pulumi ${args.join(" ")} exited with ${r.code}:\n${r.output.slice(-6000)}`);
    }
    return r;
}
