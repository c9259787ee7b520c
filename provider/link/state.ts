/**
 * What both security models of `RemoteClusterLink` read from and write to the state in the same
 * way: the declared settings of a state or inputs, the input part of a state (read's `inputs`), and
 * the outputs assembled from the inputs, the connection's status, the versions and what the state
 * records, the refusal of a `local` connection that now reaches another cluster, and the state recorded when
 * taking back what a create or migration wrote failed. One copy, used by the hook
 * file (provider/remoteClusterLink.ts) and the switch between the models (./migration.ts); it imports neither.
 */
import { plain } from "../core/dynamic";
import { CreateInterruptedError, EsRemoteError } from "../core/errors";
import { urlsOf } from "../core/validation";
import { RemoteSettings, SETTING_KEYS } from "./settings";
import type { RemoteStatus } from "./io";
import { nothingPaused } from "./replication";
import type { LinkInputs, LinkOutputs, LinkRecordOutputs } from "./types";

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
        localClusterUuid: _lu, remoteClusterUuid: _ru, adoptedFrom: _a, createInterrupted: _i, pausedReplication: _pr, signingInSync: _si, signingDrift: _sd,
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

/**
 * The state the engine records when taking back what a create or migration wrote failed (see
 * {@link CreateInterruptedError}): `outs` as the link's properties, with the engine's serialized
 * provider, which the host does not add to an error's properties and later hooks need.
 */
export function recorded(message: string, news: LinkInputs, outs: LinkOutputs, cause: Error): CreateInterruptedError {
    const properties: Record<string, unknown> = { ...outs };
    if (news.__provider !== undefined) properties.__provider = news.__provider;
    return new CreateInterruptedError(message, news.alias, properties, { alias: news.alias }, cause);
}

/** What a recorded link's message tells the user to do next: up once `when` (e.g. "the local cluster answers"), which writes `writes`. */
export function nextUp(when: string, writes: string): string {
    return `run 'pulumi up' again once ${when} (it writes ${writes} and finishes the link), ` +
        "'pulumi refresh' (it drops the link if nothing is there), or 'pulumi destroy' (it removes it)";
}

/**
 * The link's outputs: the inputs, the connection as the local nodes see it (`s`; none: not known,
 * so not connected), the minimum node versions and what the state records. The API-key model adds
 * `credentialsInUse` and `keystoresInSync` (`inSync`); a certificate link has neither.
 */
export function linkOutputs(i: LinkInputs, s: RemoteStatus | undefined, v: { local: string; remote?: string }, inSync: boolean | undefined, rec: LinkRecordOutputs): LinkOutputs {
    const apiKey = i.security === "apiKey";
    return plain({
        ...i,
        connected: s?.connected ?? false,
        numNodesConnected: s?.numNodesConnected,
        numProxySocketsConnected: s?.numProxySocketsConnected,
        nodesConnected: s?.nodesConnected,
        nodesTotal: s?.nodesTotal,
        credentialsInUse: apiKey ? s?.credentialsInUse ?? false : undefined,
        keystoresInSync: apiKey ? inSync : undefined,
        localVersion: v.local,
        remoteVersion: v.remote,
        ...rec,
        pausedReplication: nothingPaused(rec.pausedReplication) ? undefined : rec.pausedReplication,
        // Only a link that signs says whether its signing files are in place.
        signingInSync: apiKey && i.signing ? rec.signingInSync ?? inSync : undefined,
    });
}
