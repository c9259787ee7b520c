import * as pulumi from "@pulumi/pulumi";
import { dispatchingProvider } from "../provider/core/dynamic";
import { ClusterConnectionArgs, secretConnection } from "./connection";
import type { CrossClusterApiKeyArgs } from "./crossClusterApiKey";

/**
 * The follow tuning parameters Elasticsearch accepts (`PUT /<index>/_ccr/follow`,
 * `PUT /_ccr/auto_follow/<name>`), in camelCase. Changing one on an existing follower pauses it,
 * then resumes it with the new value (Elasticsearch takes parameters only at follow or resume).
 */
export interface FollowTuningArgs {
    /**
     * The most operations pulled per read from the leader.
     * @default 5120
     */
    maxReadRequestOperationCount?: pulumi.Input<number>;
    /**
     * The most outstanding read requests to the leader.
     * @default 12
     */
    maxOutstandingReadRequests?: pulumi.Input<number>;
    /**
     * The most bytes per read of a batch of operations pulled from the leader, e.g. `"32mb"`.
     * @default "32mb"
     */
    maxReadRequestSize?: pulumi.Input<string>;
    /**
     * The most operations per bulk write on the follower.
     * @default 5120
     */
    maxWriteRequestOperationCount?: pulumi.Input<number>;
    /**
     * The most bytes of operations per bulk write on the follower, e.g. `"16mb"`.
     * @default "9223372036854775807b" (no limit)
     */
    maxWriteRequestSize?: pulumi.Input<string>;
    /**
     * The most outstanding write requests on the follower.
     * @default 9
     */
    maxOutstandingWriteRequests?: pulumi.Input<number>;
    /**
     * The most operations queued for writing; above it reads from the leader are deferred.
     * @default 2147483647
     */
    maxWriteBufferCount?: pulumi.Input<number>;
    /**
     * The most bytes of operations queued for writing; above it reads from the leader are deferred.
     * @default "512mb"
     */
    maxWriteBufferSize?: pulumi.Input<string>;
    /**
     * The longest wait before retrying a failed operation (the waits grow exponentially up to it), e.g. `"500ms"`.
     * @default "500ms"
     */
    maxRetryDelay?: pulumi.Input<string>;
    /**
     * How long a read waits for new operations on the leader when the follower has caught up, e.g. `"1m"`.
     * @default "1m"
     */
    readPollTimeout?: pulumi.Input<string>;
}

/** Arguments of {@link FollowerIndex}. The provider's input type is derived from this interface. */
export interface FollowerIndexArgs extends FollowTuningArgs {
    /** The follower (local) cluster: where the follower index lives and the alias is registered. Required. */
    local: pulumi.Input<ClusterConnectionArgs>;
    /**
     * The leader (remote) cluster. Optional, but without it the preview cannot check the leader
     * index (exists, soft deletes), the version rule (follower ≥ leader) or the remote roles, and
     * says so.
     * @default none: only the local checks run
     */
    remote?: pulumi.Input<ClusterConnectionArgs>;
    /** The remote cluster alias on the local cluster (a `RemoteClusterLink`'s `alias`). Changing it replaces the follower. */
    alias: pulumi.Input<string>;
    /** The leader index on the remote cluster (a concrete name, no wildcards). Changing it replaces the follower. */
    leaderIndex: pulumi.Input<string>;
    /** The follower index's name on the local cluster. Changing it replaces the follower. */
    followerIndex: pulumi.Input<string>;
    /**
     * Index settings of the follower that differ from the leader's (e.g. `{ "index.number_of_replicas": 0 }`),
     * applied at follow. Changing them pauses the follower, updates its settings and resumes it;
     * settings Elasticsearch replicates from the leader cannot be set.
     * @default none
     */
    settings?: pulumi.Input<Record<string, pulumi.Input<string | number | boolean>>>;
    /**
     * `active` follows; `paused` keeps the follower and its data and stops pulling. A follower that
     * Elasticsearch paused by itself (a fatal error) shows as `paused` on refresh, with
     * `fatalError`; the next `up` resumes it, or fails naming the cause.
     * @default "active"
     */
    status?: pulumi.Input<"active" | "paused">;
    /**
     * What destroy does: `unfollow` pauses, closes, unfollows and reopens the index, leaving a regular
     * index with the data; `delete` deletes the follower index and its data.
     * @default "unfollow"
     */
    onDestroy?: pulumi.Input<"unfollow" | "delete">;
    /**
     * Take over a follower index of this name that already follows `leaderIndex` through `alias`,
     * instead of refusing the name as taken. An index of that name that is not such a follower is
     * refused either way.
     * @default false
     */
    adoptExisting?: pulumi.Input<boolean>;
    /**
     * API-key model: the alias's cross-cluster API key `access` (a `CrossClusterApiKey`'s `access`
     * input). The preview refuses a leader index its `replication` access does not cover. Ignored
     * with certificates.
     * @default none: the key's coverage is not checked
     */
    keyAccess?: CrossClusterApiKeyArgs["access"];
}

/**
 * A follower index on the local cluster replicating a leader index of a remote cluster
 * (Elasticsearch cross-cluster replication, Platinum/Enterprise or trial license, Elastic's default
 * distribution on both clusters).
 *
 * The preview checks, writing nothing: the CCR module and license on every node of both sides, the
 * alias registered and connected, the leader index (exists, soft deletes), the follower name free,
 * the version rule (follower nodes ≥ leader nodes), and the privileges (certificates: the local user
 * and the remote roles of the same name; API key: `keyAccess`).
 *
 * ```ts
 * const logs = new FollowerIndex("logs", {
 *     local: followerConnection, remote: leaderConnection,
 *     alias: link.alias, leaderIndex: "logs", followerIndex: "logs-copy",
 *     maxReadRequestOperationCount: 1024,
 * });
 * ```
 */
export class FollowerIndex extends pulumi.dynamic.Resource {
    /** `active`, `paused`, or `absent` (the index is gone or no longer a follower) as last read. */
    declare readonly status: pulumi.Output<string>;
    /** True when Elasticsearch paused the follower by itself (a fatal error; see `fatalError`). */
    declare readonly pausedByElasticsearch: pulumi.Output<boolean>;
    /** The error that stopped following (`type: reason` of a shard's `fatal_exception`), or null. */
    declare readonly fatalError: pulumi.Output<string | null>;
    /** The leader's global checkpoint (the lowest over the shards), or null when unknown. */
    declare readonly leaderGlobalCheckpoint: pulumi.Output<number | null>;
    /** The follower's global checkpoint (the lowest over the shards), or null when unknown. */
    declare readonly followerGlobalCheckpoint: pulumi.Output<number | null>;
    /** Operations the follower is behind the leader (summed over the shards), or null when unknown. */
    declare readonly lagOperations: pulumi.Output<number | null>;

    constructor(name: string, args: FollowerIndexArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            dispatchingProvider("followerIndex"),
            name,
            {
                ...args,
                local: secretConnection(args.local),
                remote: secretConnection(args.remote),
                status: args.status,
                pausedByElasticsearch: undefined,
                fatalError: undefined,
                leaderGlobalCheckpoint: undefined,
                followerGlobalCheckpoint: undefined,
                lagOperations: undefined,
            },
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "local", "remote"] },
            "es-remote",
            "FollowerIndex",
        );
    }
}
