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

/** Stops every pool cluster this process started (by PID) and removes their files. */
export async function stopPool(): Promise<void> {
    const all = await Promise.allSettled([...started.values()]);
    started.clear();
    await Promise.all(all.map((r) => (r.status === "fulfilled" ? stopCluster(r.value) : undefined)));
}
