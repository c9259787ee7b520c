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
    /** Replaces the program (index.js). */
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
