/**
 * Clusters that a suite stops and starts again on purpose (faults): which are running, how long a
 * halt or a restart took, and the cluster info after a restart (its PIDs change, its ports do not).
 * Shared by the integration and end-to-end fault suites.
 */
import { forgetUnreachable } from "../../provider/core/facts";
import { ClusterInfo, haltCluster, restartCluster, stopCluster } from "../../rig/elasticsearch";

export class HaltableClusters<K extends string> {
    private readonly running = new Map<K, boolean>();

    constructor(private readonly clusters: Record<K, ClusterInfo>) {
        for (const k of Object.keys(clusters) as K[]) this.running.set(k, true);
    }

    /** The cluster as it is now (after a restart, the restarted one). */
    get(k: K): ClusterInfo {
        return this.clusters[k];
    }

    /** Whether `k` is running (a restart of a running node would clash on its ports). */
    isUp(k: K): boolean {
        return this.running.get(k) === true;
    }

    /** Stops `k`'s processes, keeping its files; returns the seconds it took. */
    async halt(k: K): Promise<number> {
        const t0 = Date.now();
        await haltCluster(this.clusters[k]);
        this.running.set(k, false);
        return (Date.now() - t0) / 1000;
    }

    /** Starts `k` again on its ports and files if it is down; returns the seconds it took (0 if it was up). */
    async restart(k: K): Promise<number> {
        if (this.isUp(k)) return 0;
        const t0 = Date.now();
        this.clusters[k] = await restartCluster(this.clusters[k]);
        this.running.set(k, true);
        // As a new `pulumi` command would: this process no longer takes the cluster for down.
        forgetUnreachable();
        return (Date.now() - t0) / 1000;
    }

    /** Stops every cluster and removes its files. */
    async stopAll(): Promise<void> {
        await Promise.allSettled((Object.values(this.clusters) as ClusterInfo[]).map((c) => stopCluster(c)));
    }
}

/** Polls `fn` every 300 ms until it is true (a throw counts as false); fails after `timeoutMs` naming `what`. */
export async function waitFor(what: string, timeoutMs: number, fn: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (await fn().catch(() => false)) return;
        await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`timed out waiting for ${what}`);
}

/** A local and a remote cluster that fault suites halt and restart. */
export class HaltablePair extends HaltableClusters<"local" | "remote"> {
    get local(): ClusterInfo {
        return this.get("local");
    }
    get remote(): ClusterInfo {
        return this.get("remote");
    }
}
