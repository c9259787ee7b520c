/**
 * The real clusters the integration and e2e suites share, started lazily (only suites that need a
 * cluster pay for it), once per test run, and stopped by PID in the root `afterAll` hook.
 *
 * - `v9`, `v819`, `v818`: Elasticsearch 9.x, 8.19.x, 8.18.x whose transport certificates come
 *   from one shared CA, so they can be linked to each other; `v9b` a second 9.x (for meshes of three);
 * - `untrusted9`: a 9.x cluster with its own transport CA, which the others do not trust.
 *
 * Tests mutate these clusters, so each test uses its own aliases, role and user names and cleans up.
 */
import { generateCa, IssuedCa } from "../../provider/certs/pem";
import { ClusterInfo, ES_VERSIONS, startCluster, stopCluster } from "../../rig/elasticsearch";
import { destroyDefaultNetwork } from "../../rig/netns";
import { ProxyInfo, ProxyOptions, startProxy, stopProxy } from "../../rig/proxy";
import { startTopology, stopTopology, TopologyInfo, TopologyOptions } from "../../rig/topology";

export type PoolName = "v9" | "v9b" | "v819" | "v818" | "untrusted9";

const VERSIONS: Record<PoolName, string> = {
    v9: ES_VERSIONS.v9,
    v9b: ES_VERSIONS.v9,
    v819: ES_VERSIONS.v819,
    v818: ES_VERSIONS.v818,
    untrusted9: ES_VERSIONS.v9,
};

let caPromise: Promise<IssuedCa> | undefined;
const started = new Map<PoolName, Promise<ClusterInfo>>();

/** The CA that signed the transport certificates of v9, v819 and v818. */
export function sharedTransportCa(): Promise<IssuedCa> {
    caPromise ??= generateCa({ commonName: "pulumi-es-remote tests shared transport CA" });
    return caPromise;
}

/** Starts (once) and returns the named clusters; several names start in parallel. */
export async function pool<N extends PoolName[]>(...names: N): Promise<{ [K in keyof N]: ClusterInfo }> {
    const ca = await sharedTransportCa();
    for (const n of names) {
        if (!started.has(n)) {
            started.set(n, startCluster({
                name: `t-${n}`,
                version: VERSIONS[n],
                transportCa: n === "untrusted9" ? undefined : ca,
            }));
        }
    }
    return (await Promise.all(names.map((n) => started.get(n)!))) as { [K in keyof N]: ClusterInfo };
}

const topologies = new Map<string, Promise<TopologyInfo>>();
const proxies = new Map<string, Promise<ProxyInfo>>();

/**
 * Starts (once per `key`) and returns a multi-node / separate-hosts topology (rig/topology.ts);
 * stopped with the pool at the end of the run. Give a `key` per shape, e.g. "9x3-hosts"; the
 * cluster name defaults to `t-<key>`. Topologies with `hosts: true` share this process's rig network.
 */
export function poolTopology(key: string, opts: Omit<TopologyOptions, "name"> & { name?: string }): Promise<TopologyInfo> {
    if (!topologies.has(key)) {
        topologies.set(key, startTopology({ heapMb: 384, ...opts, name: opts.name ?? `t-${key}` }));
    }
    return topologies.get(key)!;
}

/** Starts (once per `key`) an HAProxy in front of pool topologies (rig/proxy.ts); stopped with the pool. */
export function poolProxy(key: string, opts: Omit<ProxyOptions, "name"> & { name?: string }): Promise<ProxyInfo> {
    if (!proxies.has(key)) {
        proxies.set(key, startProxy({ ...opts, name: opts.name ?? `t-${key}` }));
    }
    return proxies.get(key)!;
}

/** Stops every pool cluster, topology and proxy this process started (by PID), removes their files and namespaces. */
export async function stopPool(): Promise<void> {
    const all = await Promise.allSettled([...started.values()]);
    started.clear();
    const px = await Promise.allSettled([...proxies.values()]);
    proxies.clear();
    const tops = await Promise.allSettled([...topologies.values()]);
    topologies.clear();
    await Promise.all(px.map((r) => (r.status === "fulfilled" ? stopProxy(r.value) : undefined)));
    await Promise.all([
        ...all.map((r) => (r.status === "fulfilled" ? stopCluster(r.value) : undefined)),
        ...tops.map((r) => (r.status === "fulfilled" ? stopTopology(r.value) : undefined)),
    ]);
    destroyDefaultNetwork();
}
