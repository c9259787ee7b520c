/** Connections and direct clients for rig clusters, the shapes the hooks and the SDK take. */
import * as fs from "fs";
import { ClusterConnection } from "../../provider/core/client";
import { ClusterInfo, rigClient } from "../../rig/elasticsearch";

/** The provider-side connection (plain values) to a rig cluster as `elastic`. */
export function connectionTo(c: ClusterInfo): ClusterConnection {
    return { urls: [c.url], username: c.username, password: c.password, caPem: fs.readFileSync(c.httpCaFile, "utf8") };
}

/** Every persistent `cluster.remote.<alias>.*` key on the cluster (flat), for asserting exactly what was written. */
export async function remoteKeys(c: ClusterInfo, alias?: string): Promise<Record<string, unknown>> {
    const client = rigClient(c);
    try {
        const s = await client.cluster.getSettings({ flat_settings: true });
        const prefix = alias ? `cluster.remote.${alias}.` : "cluster.remote.";
        return Object.fromEntries(Object.entries(s.persistent ?? {}).filter(([k]) => k.startsWith(prefix)));
    } finally {
        await client.close();
    }
}

/** Runs `fn` with a superuser client of the cluster. */
export async function withClient<T>(c: ClusterInfo, fn: (client: ReturnType<typeof rigClient>) => Promise<T>): Promise<T> {
    const client = rigClient(c);
    try {
        return await fn(client);
    } finally {
        await client.close();
    }
}
