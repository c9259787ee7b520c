/**
 * Shells on a node: the local host's `sh`, a command prefix (`docker exec -i es01 sh -c …`), and
 * the choice among them and SSH ({@link shellFor}). Also what every shell shares: the quoting of a
 * command line, `sudo -n`, how a refused sudo reads, and a cut of stderr safe for a message.
 *
 * A script always runs as `sh -c <script> sh <args…>`: the script text and its arguments (paths,
 * names) are on the node's command line; secrets only ever on stdin.
 */
import { spawn } from "child_process";
import * as os from "os";
import { InputError, NodeAccessError } from "../core/errors";
import type { NodeAccess, NodeShell, RunOptions, ShellResult } from "./types";
import { accessProblems, describeAccess, sudoUser } from "./validate";

/** Default of {@link RunOptions.timeoutMs}. */
export const DEFAULT_RUN_TIMEOUT_MS = 180_000;
/** How much stderr a {@link ShellResult} keeps. */
export const STDERR_CAP = 8 * 1024;

/**
 * `s` as one POSIX shell word: single-quoted, each `'` written as `'\''`. Safe for any bytes but
 * NUL (which no command line can carry: throws).
 */
export function shQuote(s: string): string {
    if (s.includes("\0")) throw new Error("a shell argument cannot contain a NUL byte");
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The argv that runs `script` with `args` as `$1…`, through `sudo -n [-u user] --` when `sudo` names a user. */
export function shArgv(script: string, args: string[] = [], sudo?: string): string[] {
    const sh = ["sh", "-c", script, "sh", ...args];
    if (sudo === undefined) return sh;
    return ["sudo", "-n", ...(sudo === "root" ? [] : ["-u", sudo]), "--", ...sh];
}

/** {@link shArgv} as one command line (what an SSH `exec` request carries): every value quoted with {@link shQuote}. */
export function shCommand(script: string, args: string[] = [], sudo?: string): string {
    const sh = `sh -c ${shQuote(script)} sh${args.map((a) => ` ${shQuote(a)}`).join("")}`;
    if (sudo === undefined) return sh;
    return `sudo -n ${sudo === "root" ? "" : `-u ${shQuote(sudo)} `}-- ${sh}`;
}

/**
 * At most 300 characters of what a step printed on stderr, one line, for a message. Only for
 * steps that handle no secret (stderr of a step that read a secret may echo it); never stdout.
 */
export function safeStderr(r: { stderr: string }): string {
    const s = r.stderr.replace(/\s+/g, " ").trim();
    return s.length > 300 ? `${s.slice(0, 297)}…` : s;
}

/** Who asks sudo, for messages. */
export interface SudoContext {
    /** The host, for messages and `details.host`. */
    host: string;
    /** Where, as {@link NodeShell.where}. */
    where: string;
    /** The user sudo was asked to run as. */
    sudoUser: string;
    /** The user who asks (the login user), if known. */
    loginUser?: string;
}

/**
 * The error when `sudo -n` itself refused (a password needed, no rule, no such user, no sudo):
 * then the script never ran. Undefined when the result is the script's own.
 */
export function sudoRefusal(r: ShellResult, c: SudoContext): NodeAccessError | undefined {
    const e = r.stderr;
    const who = c.loginUser ?? "the login user";
    const details = { host: c.host, sudoUser: c.sudoUser };
    if (r.code === 1 && /^sudo: (?:a password is required|a terminal is required|sorry, you must have a tty|no tty present)/m.test(e)) {
        return new NodeAccessError(`sudo -n as ${c.sudoUser} asks for a password on ${c.host} (${c.where}): allow NOPASSWD for ${who} (a line "${who} ALL=(${c.sudoUser}) NOPASSWD: ALL" in /etc/sudoers.d/), or drop sudo and log in as a user that may do the step; a password prompt is never answered`, details);
    }
    if (r.code === 1 && /^sudo: unknown user/m.test(e)) {
        return new NodeAccessError(`sudo -n as ${c.sudoUser} on ${c.host}: there is no user ${c.sudoUser} there; fix sudo.user`, details);
    }
    if (r.code === 1 && /(?:is not in the sudoers file|is not allowed to (?:run sudo|execute)|may not run sudo)/.test(e)) {
        return new NodeAccessError(`sudo -n as ${c.sudoUser} is not allowed for ${who} on ${c.host} (${c.where}): add a sudoers rule ("${who} ALL=(${c.sudoUser}) NOPASSWD: ALL" in /etc/sudoers.d/) or drop sudo`, details);
    }
    if (r.code === 127 && /sudo: (?:command )?not found|sudo: No such file/.test(e)) {
        return new NodeAccessError(`sudo is not installed on ${c.host} (${c.where}): install it, or drop sudo and log in as a user that may do the step`, details);
    }
    return undefined;
}

/** The error of a run that did not finish in time: names the place and the seconds. */
export function timeoutError(where: string, host: string, ms: number): NodeAccessError {
    return new NodeAccessError(`a step on ${where} did not finish within ${Math.round(ms / 1000)} s and was stopped: is the node overloaded, or the step waiting for something?`, { host, timeoutSeconds: Math.round(ms / 1000) });
}

/** Collects stdout (all of it) and stderr (the first {@link STDERR_CAP} bytes). */
export class OutputCollector {
    private readonly out: Buffer[] = [];
    private readonly err: Buffer[] = [];
    private errBytes = 0;
    stdout(b: Buffer): void {
        this.out.push(b);
    }
    stderr(b: Buffer): void {
        if (this.errBytes >= STDERR_CAP) return;
        const part = b.subarray(0, STDERR_CAP - this.errBytes);
        this.err.push(part);
        this.errBytes += part.length;
    }
    result(code: number): ShellResult {
        return { code, stdout: Buffer.concat(this.out), stderr: Buffer.concat(this.err).toString("utf8") };
    }
}

/**
 * Spawns `argv` on this host with `stdin`, in a process group of its own (a timeout kills the
 * group). Rejects on a spawn failure (naming `argv[0]`) or a timeout.
 */
function spawnRun(argv: string[], o: RunOptions, where: string, host: string, what: string): Promise<ShellResult> {
    const timeoutMs = o.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
        const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], detached: true });
        const out = new OutputCollector();
        let settled = false;
        const finish = (f: () => void) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            f();
        };
        const timer = setTimeout(() => {
            try {
                process.kill(-child.pid!, "SIGKILL");
            } catch {
                child.kill("SIGKILL");
            }
            finish(() => reject(timeoutError(where, host, timeoutMs)));
        }, timeoutMs);
        child.stdout.on("data", (b: Buffer) => out.stdout(b));
        child.stderr.on("data", (b: Buffer) => out.stderr(b));
        // The script may exit without reading its stdin: EPIPE then, not a failure of the run.
        child.stdin.on("error", () => undefined);
        child.on("error", (err: NodeJS.ErrnoException) => {
            finish(() => reject(new NodeAccessError(
                err.code === "ENOENT"
                    ? `${what}: ${argv[0]} was not found on this host; install it or fix the path`
                    : `${what}: could not start ${argv[0]} on this host (${err.code ?? err.message})`,
                { host }, { cause: err })));
        });
        child.on("close", (code, signal) => finish(() => resolve(out.result(signal || code === null ? -1 : code))));
        child.stdin.end(o.stdin ?? "");
    });
}

function localUser(): string | undefined {
    try {
        return os.userInfo().username;
    } catch {
        return undefined;
    }
}

/** The sudo user of a `sudo` value (`true`: root). */
function sudoOf(sudo: NodeAccess["sudo"] | undefined): string | undefined {
    return sudoUser({ sudo });
}

/** Checks the result for a refused sudo; resolves it otherwise. */
function checked(r: ShellResult, sudo: string | undefined, c: Omit<SudoContext, "sudoUser">): ShellResult {
    if (sudo !== undefined) {
        const e = sudoRefusal(r, { ...c, sudoUser: sudo });
        if (e) throw e;
    }
    return r;
}

/** `sh` on the machine that runs `pulumi`; with `sudo`, through `sudo -n` as that user (`true`: root). */
export function localShell(sudo?: NodeAccess["sudo"]): NodeShell {
    const su = sudoOf(sudo);
    const where = describeAccess({ sudo });
    return {
        where,
        async run(script: string, o: RunOptions = {}): Promise<ShellResult> {
            const r = await spawnRun(shArgv(script, o.args, su), o, where, "this host", `running a step on ${where}`);
            return checked(r, su, { host: "this host", where, loginUser: localUser() });
        },
    };
}

/**
 * A command prefix run on this host (`["docker", "exec", "-i", "es01"]`): each script runs as
 * `<prefix…> [sudo -n [-u user] --] sh -c <script> sh <args…>`.
 */
export function commandShell(argv: string[], sudo?: NodeAccess["sudo"]): NodeShell {
    if (!Array.isArray(argv) || argv.length === 0) throw new InputError("access.command", "must be a non-empty argv list such as [\"docker\", \"exec\", \"-i\", \"es01\"]");
    const prefix = [...argv];
    const su = sudoOf(sudo);
    const where = describeAccess({ command: prefix, sudo });
    return {
        where,
        async run(script: string, o: RunOptions = {}): Promise<ShellResult> {
            const r = await spawnRun([...prefix, ...shArgv(script, o.args, su)], o, where, where, `running a step through ${where}`);
            return checked(r, su, { host: where, where });
        },
    };
}

/**
 * The shell of the node `access` reaches: the local host (no `ssh`, no `command`), a command
 * prefix, or SSH (one pooled connection per hop chain, user and credential; ssh2 is loaded only
 * then). `warn` receives what the access asks to be warned about (a host key accepted unchecked),
 * e.g. `pulumi.log.warn`. Rejects with an {@link InputError} for an access {@link accessProblems}
 * refuses (check normally caught it first).
 */
export async function shellFor(access: NodeAccess | undefined, opts: { warn?: (m: string) => void } = {}): Promise<NodeShell> {
    const problems = accessProblems(access, "access");
    if (problems.length) throw new InputError(problems[0].property, problems[0].reason);
    if (access?.ssh) {
        const { sshShell } = await import("./ssh");
        return sshShell(access.ssh, { sudo: access.sudo, warn: opts.warn });
    }
    if (access?.command) return commandShell(access.command, access.sudo);
    return localShell(access?.sudo);
}
