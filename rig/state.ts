/** The machine-readable state file of `npm run clusters`: one entry per running cluster. */
import * as fs from "fs";
import * as path from "path";
import { ClusterInfo } from "./elasticsearch";
import { runRoot } from "./paths";

/** Path of the state file (JSON: `{ clusters: ClusterInfo[] }`). */
export function stateFile(): string {
    return path.join(runRoot(), "clusters.json");
}

export function readState(): ClusterInfo[] {
    try {
        return (JSON.parse(fs.readFileSync(stateFile(), "utf8")) as { clusters: ClusterInfo[] }).clusters ?? [];
    } catch {
        return [];
    }
}

export function writeState(clusters: ClusterInfo[]): void {
    fs.mkdirSync(path.dirname(stateFile()), { recursive: true });
    const tmp = `${stateFile()}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ clusters }, null, 2) + "\n", { mode: 0o600 });
    fs.renameSync(tmp, stateFile());
}
