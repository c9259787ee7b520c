import * as pulumi from "@pulumi/pulumi";
import { dispatchingProvider } from "../provider/core/dynamic";
import { ClusterConnectionArgs, secretConnection } from "./connection";
import type { CrossClusterApiKeyArgs } from "./crossClusterApiKey";

/**
 * Arguments of {@link CrossClusterRole}. Give either `preset` (with `indices`) or
 * `localDefinition`/`remoteDefinition`. The provider's input type is derived from this interface
 * (`pulumi.Unwrap`), so this is the one description of the inputs.
 */
export interface CrossClusterRoleArgs {
    /**
     * Which security model the remote cluster is connected with (Elastic's "Remote clusters"):
     * - `certificate`: the user's role *names* travel to the remote cluster, which applies its own
     *   role of that name, so the role is written on both clusters (`remote` required);
     * - `apiKey`: the remote cluster is connected with a cross-cluster API key (8.14+, Enterprise or
     *   trial license on both clusters). The role exists on the local cluster only and grants
     *   `remote_indices` (and `remote_cluster`) privileges for the aliases in `clusters`; the remote
     *   side is limited by the API key's access, so no role is written there and `remote` must be
     *   left out.
     *
     * Changing it replaces the role (the old one is deleted first: the name is the same).
     * @default "certificate"
     */
    model?: pulumi.Input<"certificate" | "apiKey">;
    /** The cluster the users log in to and search from (the follower cluster for replication). Required. */
    local: pulumi.Input<ClusterConnectionArgs>;
    /**
     * The cluster that holds the data (the leader cluster for replication). Required with
     * `model: "certificate"`; refused with `model: "apiKey"` (no role is written on the remote cluster).
     */
    remote?: pulumi.Input<ClusterConnectionArgs>;
    /**
     * `model: "apiKey"` with a preset only: the remote cluster aliases (as registered on the local
     * cluster, e.g. the `alias` of a `RemoteClusterLink`) the role's `remote_indices` and
     * `remote_cluster` entries apply to; `*` wildcards allowed. Required with `model: "apiKey"` and a
     * preset, not empty.
     */
    clusters?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * `model: "apiKey"` with a preset only: cluster privileges on the remote clusters in `clusters`,
     * written as the role's `remote_cluster` entry. Elasticsearch accepts `monitor_enrich` (8.15+,
     * ES|QL `ENRICH` across clusters) and `monitor_stats` (8.17+), nothing else. The preview refuses
     * another name, refuses this option with `model: "certificate"` (remote_cluster privileges apply
     * only through a cross-cluster API key), and reads the local nodes' versions to name each node
     * too old for a privilege. Through a key, `monitor_enrich` also needs the key's search access and
     * a key made (or last updated) on 8.15+; no key grants `monitor_stats`. A refresh reports
     * privileges changed by hand here. With `localDefinition`, write `remote_cluster` there instead.
     * @default none
     */
    remoteClusterPrivileges?: pulumi.Input<pulumi.Input<"monitor_enrich" | "monitor_stats">[]>;
    /**
     * The role name, the same on both clusters: it is what travels from the local cluster to the
     * remote one. 1–507 printable ASCII characters, no leading or trailing space, no comma, not a
     * built-in role such as `superuser`. Changing it replaces the role pair.
     */
    name: pulumi.Input<string>;
    /**
     * A ready-made role, from Elastic's "Configure roles and users for remote clusters". With
     * `model: "certificate"` (a pair):
     * - `search`: on the remote cluster `read`, `read_cross_cluster` and `view_index_metadata` on
     *   `indices`; on the local cluster an empty role (or `read` and `view_index_metadata` on
     *   `localIndices`);
     * - `replication`: on the remote cluster the cluster privilege `read_ccr` and `monitor`, `read`
     *   on the leader `indices`; on the local cluster `manage_ccr` and `monitor`, `read`, `write`,
     *   `manage_follow_index` on `followerIndices`.
     *
     * With `model: "apiKey"` (the local cluster only):
     * - `search`: `remote_indices` `read`, `read_cross_cluster`, `view_index_metadata` on `indices`
     *   of the `clusters` (plus `localIndices` as above);
     * - `replication`: `manage_ccr`, `remote_indices` `cross_cluster_replication` on the leader
     *   `indices` of the `clusters`, and `monitor`, `read`, `write`, `manage_follow_index` on the
     *   local `followerIndices`.
     *
     * Excludes `localDefinition` and `remoteDefinition`.
     * @default none: then `localDefinition`/`remoteDefinition` are required
     */
    preset?: pulumi.Input<"search" | "replication">;
    /**
     * With a preset: index patterns as the remote cluster names them (no `alias:` prefix), e.g.
     * `["logs-*"]`; the leader indices for replication. Required with a preset, not empty.
     */
    indices?: pulumi.Input<pulumi.Input<string>[]>;
    /** Replication preset: the follower index patterns on the local cluster. Required with `preset: "replication"`. */
    followerIndices?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Search preset: local index patterns the same users may search too (`read`,
     * `view_index_metadata`), e.g. to search local and remote data in one request.
     * @default none: the local side is the empty role the docs prescribe
     */
    localIndices?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Explicit role body for the local cluster, anything the create-or-update roles API accepts
     * (`cluster`, `indices`, `applications`, `run_as`, `metadata`, `global`, `remote_indices`,
     * `remote_cluster`, `description`). Excludes `preset`.
     * @default `{}` (an empty role) when only `remoteDefinition` is given
     */
    localDefinition?: pulumi.Input<Record<string, any>>;
    /**
     * Explicit role body for the remote cluster; index names as the remote cluster knows them.
     * Excludes `preset` and `model: "apiKey"`.
     * @default `{}` (an empty role) when only `localDefinition` is given
     */
    remoteDefinition?: pulumi.Input<Record<string, any>>;
    /**
     * `model: "apiKey"` only: the access of the cross-cluster API key each remote cluster alias is
     * connected with, by alias — usually `{ <alias>: key.access }` of the `CrossClusterApiKey` the
     * alias's `RemoteClusterLink` uses (known at preview, so nothing needs to exist yet). The
     * preview then refuses, naming the property (e.g. `indices[1]` or
     * `localDefinition.remote_indices[0].names[1]`), an index pattern of the role's
     * `remote_indices` for that alias that the key's `access.search` (read privileges) or
     * `access.replication` (`cross_cluster_replication`) does not cover: the remote cluster would
     * refuse every request for it. Patterns are compared as wildcards (`*`, `?`); a regular
     * expression (`/…/`) cannot be compared and is a warning, as are privileges no cross-cluster
     * key grants (e.g. `write`). Nothing is written to any cluster for this check.
     * @default none: not checked here (an API-key `RemoteClusterLink` still warns about the local roles at preview)
     */
    keyAccess?: pulumi.Input<Record<string, pulumi.Input<CrossClusterApiKeyArgs["access"]>>>;
    /**
     * Take over a role of this name that already exists on either cluster (made by hand or another
     * tool) instead of refusing it: its definition is replaced by the declared one, and restored
     * if the create fails. `pulumi import` does not work for dynamic resources (pulumi/pulumi#16175).
     * @default false
     */
    adoptExisting?: pulumi.Input<boolean>;
}

/**
 * One role name on two clusters linked by certificate trust, with a definition for each side; or,
 * with `model: "apiKey"`, the local user's role for a remote cluster connected with a cross-cluster
 * API key (`remote_indices` on the local cluster only). The
 * user logs in on the local cluster and its role names travel to the remote cluster, which applies
 * its own role of the same name — so the pair must exist on both, which this resource guarantees:
 * the remote side is written first, a failure on the local side removes it again, `pulumi refresh`
 * reports either side changed or deleted by hand, and `pulumi up` restores it.
 *
 * A search the remote role does not allow is refused by the remote cluster: with the remote's
 * `skip_unavailable: false` as an HTTP 403; with `skip_unavailable: true` (Elasticsearch's default
 * since 8.15) as a 200 in which that remote is `skipped` — all of it, allowed indices included —
 * and its `security_exception` is listed under `_clusters.details.<alias>.failures`.
 *
 * ```ts
 * const search = new CrossClusterRole("logs-search", {
 *     local: euConnection, remote: usConnection,
 *     name: "remote-search", preset: "search", indices: ["logs-*"],
 * });
 * // API-key model: one role on the local cluster, for the remote registered as "us"
 * const viaKey = new CrossClusterRole("logs-search-key", {
 *     model: "apiKey", local: euConnection, clusters: ["us"],
 *     name: "remote-search-key", preset: "search", indices: ["logs-*"],
 *     keyAccess: { us: key.access }, // the preview refuses patterns the key does not grant
 * });
 * ```
 */
export class CrossClusterRole extends pulumi.dynamic.Resource {
    /** The role name on both clusters. */
    declare readonly name: pulumi.Output<string>;
    /** The local side as found at the last create, update or refresh (normal form); null when absent. */
    declare readonly localRole: pulumi.Output<Record<string, any> | null>;
    /** The remote side as found at the last create, update or refresh (normal form); null when absent (always with `model: "apiKey"`). */
    declare readonly remoteRole: pulumi.Output<Record<string, any> | null>;
    /** Whether the role exists on the local cluster (false after it was deleted there by hand). */
    declare readonly localExists: pulumi.Output<boolean>;
    /** Whether the role exists on the remote cluster (false after it was deleted there by hand; always false with `model: "apiKey"`). */
    declare readonly remoteExists: pulumi.Output<boolean>;
    /** The `cluster_uuid` of the local cluster: a connection that reaches another cluster replaces the role. */
    declare readonly localClusterUuid: pulumi.Output<string | undefined>;
    /** The `cluster_uuid` of the remote cluster (certificate model). */
    declare readonly remoteClusterUuid: pulumi.Output<string | undefined>;

    constructor(name: string, args: CrossClusterRoleArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            dispatchingProvider("crossClusterRole"),
            name,
            {
                ...args,
                local: secretConnection(args.local),
                remote: secretConnection(args.remote),
                localRole: undefined,
                remoteRole: undefined,
                localExists: undefined,
                remoteExists: undefined,
                localClusterUuid: undefined,
                remoteClusterUuid: undefined,
            },
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "local", "remote"] },
            "es-remote",
            "CrossClusterRole",
        );
    }
}
