import * as pulumi from "@pulumi/pulumi";
import { dispatchingProvider } from "../provider/core/dynamic";
import { ClusterConnectionArgs, secretConnection } from "./connection";

/** Arguments of {@link CrossClusterUser}; the provider's input type is derived from it (`pulumi.Unwrap`). */
export interface CrossClusterUserArgs {
    /**
     * The local cluster, where the user is created (the only one: with certificate trust the remote
     * cluster sees the user's role names, never the user). Required.
     */
    local: pulumi.Input<ClusterConnectionArgs>;
    /**
     * The user name: 1–507 printable ASCII characters, no leading or trailing space, no comma, not a
     * built-in user such as `elastic` or `kibana_system`. Changing it replaces the user.
     */
    username: pulumi.Input<string>;
    /**
     * The user's role names, typically `[role.name]` of a {@link CrossClusterRole}. Required; `[]`
     * for none.
     */
    roles: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * The user's password, at least 6 characters (Elasticsearch's minimum). Kept secret in the state.
     * Changing it updates the user.
     * @default a 32-character random password, generated once, kept across updates and returned as
     * the secret output `password`
     */
    password?: pulumi.Input<string>;
    /**
     * The user's full name.
     * @default none
     */
    fullName?: pulumi.Input<string>;
    /**
     * The user's email address.
     * @default none
     */
    email?: pulumi.Input<string>;
    /**
     * Arbitrary metadata; keys starting with `_` are reserved by Elasticsearch.
     * @default `{}`
     */
    metadata?: pulumi.Input<Record<string, any>>;
    /**
     * Whether the user can log in.
     * @default true
     */
    enabled?: pulumi.Input<boolean>;
    /**
     * Take over a user of this name that already exists on the local cluster instead of refusing it
     * (its roles and password are replaced). `pulumi import` does not work for dynamic resources.
     * @default false
     */
    adoptExisting?: pulumi.Input<boolean>;
}

/**
 * A native-realm user on the local cluster for cross-cluster search or replication. Its password is
 * the `password` input or a generated one, returned as a secret; `pulumi refresh` reports the user
 * deleted, its roles changed, or its password changed by hand, and `pulumi up` restores them.
 *
 * ```ts
 * const user = new CrossClusterUser("searcher", {
 *     local: euConnection, username: "cross-search-user", roles: [search.name],
 * });
 * export const searchPassword = user.password; // secret
 * ```
 */
export class CrossClusterUser extends pulumi.dynamic.Resource {
    /** The user name on the local cluster. */
    declare readonly username: pulumi.Output<string>;
    /** The user's role names (as found at the last create, update or refresh). */
    declare readonly roles: pulumi.Output<string[]>;
    /** The password in force: the input, or the generated one. Secret. */
    declare readonly password: pulumi.Output<string>;
    /** True when `password` was generated. */
    declare readonly passwordGenerated: pulumi.Output<boolean>;
    /** False when the password no longer authenticates (changed by hand), seen at the last refresh. */
    declare readonly passwordInSync: pulumi.Output<boolean | undefined>;
    /** The `cluster_uuid` of the local cluster: a connection that reaches another cluster replaces the user. */
    declare readonly localClusterUuid: pulumi.Output<string | undefined>;

    constructor(name: string, args: CrossClusterUserArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            dispatchingProvider("crossClusterUser"),
            name,
            {
                ...args,
                local: secretConnection(args.local),
                password: args.password === undefined ? undefined : pulumi.secret(args.password),
                passwordGenerated: undefined,
                passwordInSync: undefined,
                localClusterUuid: undefined,
            },
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "local", "password"] },
            "es-remote",
            "CrossClusterUser",
        );
    }
}
