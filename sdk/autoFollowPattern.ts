import * as pulumi from "@pulumi/pulumi";
import { dispatchingProvider } from "../provider/core/dynamic";
import { ClusterConnectionArgs, secretConnection } from "./connection";
import type { CrossClusterApiKeyArgs } from "./crossClusterApiKey";
import type { FollowTuningArgs } from "./followerIndex";

/** Arguments of {@link AutoFollowPattern}. The provider's input type is derived from this interface. */
export interface AutoFollowPatternArgs extends FollowTuningArgs {
    /** The follower (local) cluster, where the pattern is stored and the followers are made. Required. */
    local: pulumi.Input<ClusterConnectionArgs>;
    /**
     * The leader (remote) cluster, for the preview's leader-side checks (module, license, version
     * rule, remote roles).
     * @default none: only the local checks run
     */
    remote?: pulumi.Input<ClusterConnectionArgs>;
    /** The pattern's name on the local cluster. Changing it replaces the pattern. */
    name: pulumi.Input<string>;
    /** The remote cluster alias on the local cluster (a `RemoteClusterLink`'s `alias`). Changing it replaces the pattern. */
    alias: pulumi.Input<string>;
    /**
     * Leader index patterns (`*` wildcards). A leader index created after the pattern, matching one
     * of these and none of the exclusions, gets a follower; indices that already exist do not.
     */
    leaderIndexPatterns: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Leader index patterns that never get a follower.
     * @default none
     */
    leaderIndexExclusionPatterns?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * The followers' names; `{{leader_index}}` stands for the leader's name, e.g. `"{{leader_index}}-copy"`.
     * @default "{{leader_index}}" (the leader's name)
     */
    followIndexPattern?: pulumi.Input<string>;
    /**
     * Index settings of the followers that differ from the leaders' (e.g. `{ "index.number_of_replicas": 0 }`).
     * @default none
     */
    settings?: pulumi.Input<Record<string, pulumi.Input<string | number | boolean>>>;
    /**
     * `active` makes followers of new leader indices; `paused` stops that (existing followers go on).
     * @default "active"
     */
    status?: pulumi.Input<"active" | "paused">;
    /**
     * Take over a pattern of this name that already exists with this alias instead of refusing it.
     * @default false
     */
    adoptExisting?: pulumi.Input<boolean>;
    /**
     * API-key model: the alias's cross-cluster API key `access`; the preview refuses leader patterns its
     * `replication` access does not cover.
     * @default none: not checked
     */
    keyAccess?: CrossClusterApiKeyArgs["access"];
}

/**
 * An auto-follow pattern on the local cluster: new leader indices of the remote cluster matching
 * `leaderIndexPatterns` get a follower. Changing anything but the name or alias pauses the pattern,
 * writes it and resumes it. Destroy deletes the pattern; the followers it made stay.
 *
 * ```ts
 * const logs = new AutoFollowPattern("logs", {
 *     local: followerConnection, remote: leaderConnection, alias: link.alias,
 *     name: "logs", leaderIndexPatterns: ["logs-*"], followIndexPattern: "{{leader_index}}-copy",
 * });
 * ```
 */
export class AutoFollowPattern extends pulumi.dynamic.Resource {
    /** `active` or `paused`, as last read. */
    declare readonly status: pulumi.Output<string>;
    /** The follower indices on the local cluster that follow a leader this pattern matches through its alias. */
    declare readonly followedIndices: pulumi.Output<string[]>;
    /** Elasticsearch's recent auto-follow errors of this pattern (`<leader index>: <type>: <reason>`). */
    declare readonly recentErrors: pulumi.Output<string[]>;

    constructor(name: string, args: AutoFollowPatternArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            dispatchingProvider("autoFollowPattern"),
            name,
            {
                ...args,
                local: secretConnection(args.local),
                remote: secretConnection(args.remote),
                status: args.status,
                followedIndices: undefined,
                recentErrors: undefined,
            },
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "local", "remote"] },
            "es-remote",
            "AutoFollowPattern",
        );
    }
}
