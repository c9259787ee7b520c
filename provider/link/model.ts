/**
 * The part of `RemoteClusterLink` that differs between its two security models, as one interface:
 * the hook file (provider/remoteClusterLink.ts) runs a single lifecycle (check, create, read,
 * update, delete) and asks the link's model for its checks, the facts it writes on, its refusals,
 * its writes beyond the alias's settings (each with its undo), what "connected" means, what drifts
 * and what a delete takes away.
 *
 * - certificate trust: ./certificateModel.ts (Elastic's step 2: transport CAs, version pairs);
 * - a cross-cluster API key: ./apiKeyModel.ts (keystores, licenses, the server port, signing).
 *
 * A model never calls back into the hook file; a switch from one model to the other is
 * ./migration.ts.
 */
import type { Client } from "@elastic/elasticsearch";
import type { Writes } from "../core/steps";
import type { CheckFailure } from "../core/validation";
import type { RemoteNotConnectedError } from "../core/errors";
import type { NodeFacts } from "./nodes";
import type { RemoteStatus } from "./io";
import type { LinkInputs, LinkOutputs, LinkRecordOutputs } from "./types";
import { apiKeyModel, isApiKey } from "./apiKeyModel";
import { certificateModel } from "./certificateModel";

/** How the local cluster authenticates to the remote one. */
export type LinkSecurity = "certificate" | "apiKey";

/** What a hook knows about one side before it writes: enough to judge each node's connection. */
export interface Side {
    /** `cluster_uuid`; undefined when it could not be read now. */
    clusterUuid?: string;
    /** The lowest node version ("" when the nodes could not be read). */
    minVersion: string;
    nodes: NodeFacts[];
}

/** Both sides as a model reads them (a model may keep richer facts in a subtype). */
export interface Sides {
    local: Side;
    /** Absent without a `remote` connection, or when the remote could not be read now. */
    remote?: Side;
}

/** What the model adds to the outputs at a refresh: drift in what it placed on the nodes. */
export interface ModelDrift {
    keystoresInSync?: boolean;
    keystoreDrift?: string[];
    signingInSync?: boolean;
    signingDrift?: string[];
}

export interface LinkModel {
    readonly security: LinkSecurity;
    /** A node counts as connected only when its `_remote/info` entry shows `cluster_credentials`. */
    readonly withCredentials: boolean;
    /** What the recorded-link message says the next `up` writes, e.g. "every setting and the credential". */
    readonly nextUpWrites: string;
    /** What the recorded-link message waits for, e.g. "the local cluster answers". */
    readonly nextUpWhen: string;

    /** Preview-time checks against the real clusters (reads only; `olds` is the state, `{}` on create). */
    preflight(olds: Partial<LinkOutputs>, news: LinkInputs): Promise<CheckFailure[]>;
    /**
     * Both sides' facts for a write or a refresh. `strict`: the local `cluster_uuid` must be known
     * (a write records it); a refresh takes what it can read.
     */
    sides(i: LinkInputs, client: Client, strict: boolean): Promise<Sides>;
    /** Refusals at write time, before the first write (versions changed since the preview, licenses). */
    refuse(i: LinkInputs, sides: Sides): Promise<void>;

    /**
     * A create's writes before the alias's settings, each a {@link Writes.step} with its undo.
     * `adopting`: the alias is already on the cluster (adoptExisting), so the undo puts back what
     * the nodes held instead of removing it.
     */
    createWrites(w: Writes, client: Client, i: LinkInputs, adopting: boolean): Promise<void>;
    /** An update's writes before the settings (within one model); true if anything was written. */
    updateBefore(client: Client, olds: LinkOutputs, i: LinkInputs): Promise<boolean>;
    /** An update's writes after the settings (within one model). */
    updateAfter(client: Client, olds: LinkOutputs, i: LinkInputs, rec: LinkRecordOutputs): Promise<void>;
    /** Whether an update writes anything beyond the settings body (so the write-time refusals apply). */
    updateWrites(olds: LinkOutputs, i: LinkInputs): boolean;

    /** The error when the local nodes did not connect within the timeout; `cleanup` says what was done about it. */
    notConnected(i: LinkInputs, s: RemoteStatus, sides: Sides, timeoutSeconds: number, cleanup: string): RemoteNotConnectedError;

    /** Drift in what the model placed on the nodes (never throws for a node it cannot read: that is drift). */
    drift(props: LinkOutputs): Promise<ModelDrift>;
    /** Settings nulled with the alias's keys on delete (e.g. the signing settings). */
    clearedWithAlias(props: LinkOutputs): Record<string, null>;
    /** What a delete takes away after the settings are gone (keystore entries, files). */
    release(client: Client, props: LinkOutputs): Promise<void>;
}

export { isApiKey };

/** The model a link's inputs or state declare (certificate trust unless `security: "apiKey"`). */
export function modelOf(i: { security?: unknown } | undefined): LinkModel {
    return isApiKey(i) ? apiKeyModel : certificateModel;
}

/** A failure whose message is only complete once the undo has said what it took back. */
export class Unfinished extends Error {
    constructor(readonly make: (cleanup: string) => Error) {
        super("unfinished");
    }
}
