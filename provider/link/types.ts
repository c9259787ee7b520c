/**
 * The link's inputs and outputs, one shape for both security models (certificate trust and API
 * keys): the hook file (provider/remoteClusterLink.ts) and the link's models (./model.ts) use
 * these, so the engine's JSON is narrowed once and no cast switches off the HookModule check.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { RemoteClusterLinkArgs } from "../../sdk/remoteClusterLink";
import type { ClusterConnection } from "../core/client";
import type { LinkStatusOutputs } from "./io";
import type { PausedReplication } from "./replication";
import type { RemoteSettings } from "./settings";

/**
 * Inputs as the hooks receive them: the sdk's {@link RemoteClusterLinkArgs}, resolved by the engine
 * (one source for both: a property added to the sdk reaches the hooks' type).
 */
export type LinkInputs = Omit<pulumi.Unwrap<RemoteClusterLinkArgs>, "local" | "remote"> & {
    local: ClusterConnection;
    remote?: ClusterConnection;
    /** The engine's serialized provider: present in what the engine hands the hooks, never written anywhere. */
    __provider?: string;
};

/** What the state records beyond the inputs and the connection's status, for both security models. */
export interface LinkRecordOutputs {
    /** `cluster_uuid` of the cluster the settings were written to; another UUID behind `local` replaces the link. */
    localClusterUuid?: string;
    /** `cluster_uuid` of the remote (when `remote` is given). */
    remoteClusterUuid?: string;
    /** The alias's settings found on the cluster when the link adopted it (restored on failure). */
    adoptedFrom?: RemoteSettings;
    /** Set when a create (or a migration) wrote and then failed without taking it back; the next update writes every key and the credential. */
    createInterrupted?: boolean;
    /**
     * Follower indices and auto-follow patterns a migration between the security models paused and
     * has not resumed yet (it failed after pausing them): the next update resumes them once the
     * connection is verified. Absent in states of releases before it existed.
     */
    pausedReplication?: PausedReplication;
    /**
     * With `signing`: every node of `keystoreOn` holds the declared signing files (and passphrase), at
     * the last create, update or refresh; `false` makes the next update write them again. Absent
     * without `signing` (and in states of releases before it existed).
     */
    signingInSync?: boolean;
    /** With `signing`, at the last refresh: each node whose signing files or passphrase drifted, and how. */
    signingDrift?: string[];
}

/** Outputs: the inputs plus what the clusters report and what the state records. */
export interface LinkOutputs extends LinkInputs, LinkStatusOutputs, LinkRecordOutputs {}
