/** The machine-readable state file of `npm run clusters`: running clusters, their networks and proxies. */
import * as fs from "fs";
import * as path from "path";
import { ClusterInfo } from "./elasticsearch";
import { RigNetwork } from "./netns";
import { runRoot } from "./paths";
import { ProxyInfo } from "./proxy";

/** Everything `npm run clusters -- up` started and `down` stops. */
export interface RigState {
    /** Clusters (topologies carry `nodes`); entries of older state files are single-node clusters. */
    clusters: ClusterInfo[];
    /** Rig networks (bridges) made for `--hosts`. */
    networks: RigNetwork[];
    /** HAProxy instances made for `--proxy`. */
    proxies: ProxyInfo[];
}

/** Path of the state file (JSON: {@link RigState}). */
export function stateFile(): string {
    return path.join(runRoot(), "clusters.json");
}

export function readRigState(): RigState {
    try {
        const s = JSON.parse(fs.readFileSync(stateFile(), "utf8")) as Partial<RigState>;
        return { clusters: s.clusters ?? [], networks: s.networks ?? [], proxies: s.proxies ?? [] };
    } catch {
        return { clusters: [], networks: [], proxies: [] };
    }
}

export function writeRigState(s: RigState): void {
    fs.mkdirSync(path.dirname(stateFile()), { recursive: true });
    const tmp = `${stateFile()}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(s, null, 2) + "\n", { mode: 0o600 });
    fs.renameSync(tmp, stateFile());
}

export function readState(): ClusterInfo[] {
    return readRigState().clusters;
}

/** Replaces the clusters, keeping the networks and proxies. */
export function writeState(clusters: ClusterInfo[]): void {
    writeRigState({ ...readRigState(), clusters });
}
