/**
 * The benchmark's own real clusters: single-node Elasticsearch from the rig, transport certificates
 * from one shared CA (so every cluster can be linked to every other), 512 MB heap each, started in
 * parallel and always stopped by PID at the end, even on failure.
 */
import * as fs from "fs";
import * as path from "path";
import { generateCa, IssuedCa } from "../provider/certs/pem";
import { ClusterInfo, ES_VERSIONS, startCluster, stopCluster } from "../rig/elasticsearch";
import { Cleanup, progress } from "./support";

/** What a benchmark program needs to know about a cluster (the config it is given). */
export interface BenchCluster {
    /** The alias other clusters register it under. */
    alias: string;
    url: string;
    /** `host:port` of the transport layer (sniff seed). */
    transport: string;
    /** PEM of the HTTP CA. */
    caPem: string;
    nodeName: string;
    /** The node's transport certificate folder (NodeCertificate delivery target). */
    certsDir: string;
    info: ClusterInfo;
}

/** The clusters and the CA that signed all their transport certificates. */
export interface BenchClusters {
    clusters: BenchCluster[];
    transportCa: IssuedCa;
    password: string;
    version: string;
}

/** Starts `n` clusters of `version` named bench-a, bench-b, …; every one is stopped by `cleanup`. */
export async function startBenchClusters(cleanup: Cleanup, n: number, version: string = ES_VERSIONS.v9): Promise<BenchClusters> {
    const transportCa = await generateCa({ commonName: "pulumi-es-remote bench transport CA" });
    const parentDir = cleanup.tempDir("clusters");
    fs.chmodSync(parentDir, 0o755);
    const names = Array.from({ length: n }, (_, i) => `bench-${String.fromCharCode(97 + i)}`);
    progress(`starting ${n} clusters (Elasticsearch ${version}, 512 MB heap each): ${names.join(", ")}`);
    const t0 = Date.now();
    const results = await Promise.allSettled(names.map((name) => startCluster({
        name, version, transportCa, heapMb: 512, parentDir, startTimeoutSeconds: 600,
        log: (m) => progress(m),
    })));
    const started = results.filter((r): r is PromiseFulfilledResult<ClusterInfo> => r.status === "fulfilled").map((r) => r.value);
    for (const c of started) {
        cleanup.add(`stop cluster ${c.name} (pid ${c.pid})`, () => stopCluster(c));
    }
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length) {
        throw new Error(`clusters did not start:\n${failed.map((f) => (f.reason as Error).message).join("\n")}`);
    }
    progress(`${n} clusters up in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    return {
        transportCa,
        password: started[0].password,
        version,
        clusters: started.map((c, i) => ({
            alias: `bench_${String.fromCharCode(97 + i)}`,
            url: c.url,
            transport: c.transportAddress,
            caPem: fs.readFileSync(c.httpCaFile, "utf8"),
            nodeName: c.nodeName,
            certsDir: path.join(c.configDir, "certs"),
            info: c,
        })),
    };
}

/** The program-facing part of a cluster (what goes into the stack's config). */
export function programConfig(c: BenchCluster): Omit<BenchCluster, "info"> {
    const { info: _info, ...rest } = c;
    return rest;
}
