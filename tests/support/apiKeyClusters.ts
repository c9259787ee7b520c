/**
 * Real clusters for the API-key remote cluster suites: Elasticsearch nodes started with a trial
 * license, the remote cluster server enabled on its own port (TLS with the node's transport
 * certificate, issued by the shared test CA) and the remote cluster client trusting that CA.
 *
 * Enabling the server and the client's SSL settings are static settings (a node restart): a
 * prerequisite of the model, so the rig sets them at start, never the resources under test.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ClusterInfo, ensureDistribution, ES_VERSIONS, freePort, startCluster, stopCluster } from "../../rig/elasticsearch";
import { sharedTransportCa } from "./pool";

/** A rig cluster plus the address of its remote cluster server. */
export interface ApiKeyCluster extends ClusterInfo {
    /** `127.0.0.1:<port>` of the remote cluster server (the API-key model's seeds). */
    serverAddress: string;
    /** Root of the Elasticsearch distribution the node runs from (its `bin/elasticsearch-keystore`). */
    esHome: string;
    /**
     * The node's `path.repo`: one folder every pooled cluster of this process shares, so a suite can
     * snapshot on one cluster and restore on another (fs repositories under it) without starting
     * nodes of its own. Pooled clusters only.
     */
    snapshotRoot?: string;
}

let sharedRepo: string | undefined;

/** The `path.repo` the pooled clusters share (made once per process, removed by {@link stopApiKeyPool}). */
function snapshotRoot(): string {
    if (!sharedRepo) {
        sharedRepo = fs.mkdtempSync(path.join(os.tmpdir(), "es-remote-snapshots-"));
        // The nodes run as an unprivileged user: the folder must be theirs to write.
        fs.chmodSync(sharedRepo, 0o777);
    }
    return sharedRepo;
}

export type ApiKeyPoolName = "ak9remote" | "ak9local" | "ak819local" | "ak9untrusting";

const VERSIONS: Record<ApiKeyPoolName, string> = {
    ak9remote: ES_VERSIONS.v9,
    ak9local: ES_VERSIONS.v9,
    ak819local: ES_VERSIONS.v819,
    ak9untrusting: ES_VERSIONS.v9,
};

/** The `elasticsearch.yml` lines of an API-key capable node whose server listens on `port`. */
export function apiKeySettings(port: number): Record<string, string | number | boolean> {
    return {
        "xpack.license.self_generated.type": "trial",
        "remote_cluster_server.enabled": true,
        "remote_cluster.port": port,
        "xpack.security.remote_cluster_server.ssl.enabled": true,
        "xpack.security.remote_cluster_server.ssl.key": "certs/transport.key",
        "xpack.security.remote_cluster_server.ssl.certificate": "certs/transport.crt",
        "xpack.security.remote_cluster_client.ssl.enabled": true,
        "xpack.security.remote_cluster_client.ssl.certificate_authorities": "certs/transport-ca.crt",
    };
}

/** Starts one API-key capable cluster (not pooled): the caller stops it. */
export async function startApiKeyCluster(name: string, version: string, opts: { ownCa?: boolean; snapshotRoot?: string } = {}): Promise<ApiKeyCluster> {
    const port = await freePort();
    const extra = { ...apiKeySettings(port), ...(opts.snapshotRoot ? { "path.repo": opts.snapshotRoot } : {}) };
    // ownCa: a transport CA of its own, so its remote cluster client trusts no other cluster's server.
    const c = await startCluster({ name, version, transportCa: opts.ownCa ? undefined : await sharedTransportCa(), extraSettings: extra });
    return { ...c, serverAddress: `127.0.0.1:${port}`, esHome: ensureDistribution(version, () => undefined), snapshotRoot: opts.snapshotRoot };
}

const started = new Map<ApiKeyPoolName, Promise<ApiKeyCluster>>();

/** Starts (once per test run) and returns the named API-key clusters. */
export async function apiKeyPool<N extends ApiKeyPoolName[]>(...names: N): Promise<{ [K in keyof N]: ApiKeyCluster }> {
    for (const n of names) {
        if (!started.has(n)) {
            started.set(n, startApiKeyCluster(`t-${n}`, VERSIONS[n], { ownCa: n === "ak9untrusting", snapshotRoot: snapshotRoot() }));
        }
    }
    return (await Promise.all(names.map((n) => started.get(n)!))) as { [K in keyof N]: ApiKeyCluster };
}

/** Stops the API-key clusters this process started (by PID). */
export async function stopApiKeyPool(): Promise<void> {
    const all = await Promise.allSettled([...started.values()]);
    started.clear();
    await Promise.all(all.map((r) => (r.status === "fulfilled" ? stopCluster(r.value) : undefined)));
    if (sharedRepo) fs.rmSync(sharedRepo, { recursive: true, force: true });
    sharedRepo = undefined;
}
