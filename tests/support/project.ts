/**
 * Temporary Pulumi projects for the e2e suites: a program folder whose node_modules is this
 * repository's (so `pulumi-es-remote` resolves to the code under test, as it would from an
 * installed package), an offline workspace, and a stack.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repoRoot } from "../../rig/paths";
import { pulumi, Workspace, workspace } from "../../rig/pulumi";

export interface TempProject {
    ws: Workspace;
    /** Replaces the program (index.js, or index.ts for examples). */
    setProgram(js: string): void;
    /** Removes the project folder and its state (call after `pulumi destroy`). */
    remove(): void;
}

/** Creates a project named `name` running the JavaScript `program`, with a stack `test`. */
export async function tempProject(name: string, program: string, opts: { config?: Record<string, string>; nodeModules?: string } = {}): Promise<TempProject> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pulumi-es-remote-${name}-`));
    const projectDir = path.join(dir, "project");
    fs.mkdirSync(projectDir);
    fs.writeFileSync(path.join(projectDir, "Pulumi.yaml"), `name: ${name}\nruntime: nodejs\nmain: index.js\n`);
    fs.writeFileSync(path.join(projectDir, "package.json"), JSON.stringify({ name, private: true, main: "index.js" }));
    fs.symlinkSync(opts.nodeModules ?? path.join(repoRoot(), "node_modules"), path.join(projectDir, "node_modules"), "dir");
    fs.writeFileSync(path.join(projectDir, "index.js"), program);
    const ws = workspace(projectDir, path.join(dir, "state"));
    await pulumi(ws, ["stack", "init", "test"]);
    for (const [k, v] of Object.entries(opts.config ?? {})) {
        await pulumi(ws, ["config", "set", k, v]);
    }
    return {
        ws,
        setProgram: (js: string) => fs.writeFileSync(path.join(projectDir, "index.js"), js),
        remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}

/**
 * A copy of `examples/<name>` as a temporary project (node_modules linked to this repository's),
 * with a stack `stack` in the given state folder (stacks sharing a state folder share a backend, so
 * StackReferences between them work).
 */
export async function exampleProject(name: string, stack: string, stateDir: string, config: Record<string, string> = {}, secrets: Record<string, string> = {}): Promise<TempProject> {
    const src = path.join(repoRoot(), "examples", name);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pulumi-es-remote-example-${name.replace(/\//g, "-")}-`));
    for (const f of fs.readdirSync(src)) {
        if (fs.statSync(path.join(src, f)).isFile()) fs.copyFileSync(path.join(src, f), path.join(dir, f));
    }
    fs.symlinkSync(path.join(repoRoot(), "node_modules"), path.join(dir, "node_modules"), "dir");
    const ws = workspace(dir, stateDir);
    ws.env.PULUMI_NODEJS_TRANSPILE_ONLY = "true";
    await pulumi(ws, ["stack", "init", stack]);
    for (const [k, v] of Object.entries(config)) await pulumi(ws, ["config", "set", k, v]);
    for (const [k, v] of Object.entries(secrets)) await pulumi(ws, ["config", "set", "--secret", k, v]);
    return {
        ws,
        setProgram: (ts: string) => fs.writeFileSync(path.join(dir, "index.ts"), ts),
        remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}
