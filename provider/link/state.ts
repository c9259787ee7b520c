/**
 * What both security models of `RemoteClusterLink` read from and write to the state in the same
 * way: the declared settings of a state or inputs, the input part of a state (read's `inputs`), and
 * the refusal of a `local` connection that now reaches another cluster. One copy, used by the hook
 * file (provider/remoteClusterLink.ts) and the API-key steps (./apiKeyLink.ts); it imports neither.
 */
import { EsRemoteError } from "../core/errors";
import { urlsOf } from "../core/validation";
import { RemoteSettings, SETTING_KEYS } from "./settings";
import type { LinkInputs, LinkOutputs } from "./types";

/** The settings part of the inputs (or a state), mode defaulted to sniff. */
export function desiredSettings(i: Partial<LinkInputs>): RemoteSettings {
    const s: Record<string, unknown> = {};
    const r = i as Record<string, unknown>;
    for (const [k] of SETTING_KEYS) if (r[k] !== undefined && r[k] !== null) s[k] = r[k];
    s.mode = i.mode ?? "sniff";
    return s as unknown as RemoteSettings;
}

/** The input part of a state (what the program declared), for `read`'s `inputs`: every output the hooks add is dropped. */
export function inputsOf(o: LinkOutputs): LinkInputs {
    const {
        connected: _c, numNodesConnected: _n, numProxySocketsConnected: _p, nodesConnected: _nc, nodesTotal: _nt,
        credentialsInUse: _ci, keystoresInSync: _k, keystoreDrift: _kd, localVersion: _lv, remoteVersion: _rv,
        localClusterUuid: _lu, remoteClusterUuid: _ru, adoptedFrom: _a, createInterrupted: _i, pausedReplication: _pr,
        ...inputs
    } = o;
    return inputs;
}

/**
 * Refuses an update when the cluster behind `local` (its `cluster_uuid` now, `uuid`) is not the one
 * the state's settings were written to: the link must be replaced (diff plans that once it sees it).
 */
export function refuseOtherCluster(o: Partial<LinkOutputs>, uuid: string | undefined): void {
    if (o.localClusterUuid && uuid && o.localClusterUuid !== uuid) {
        throw new EsRemoteError(
            `the local connection (${urlsOf(o.local)}) now reaches another cluster (cluster_uuid ${uuid}, the link was written to ${o.localClusterUuid}); ` +
            "the link must be replaced, not updated: run 'pulumi preview' again (it plans the replacement). Nothing was written.",
            { expectedClusterUuid: o.localClusterUuid, clusterUuid: uuid });
    }
}
