import * as pulumi from "@pulumi/pulumi";
import { dispatchingProvider } from "../provider/core/dynamic";
import { ClusterConnectionArgs, secretConnection } from "./connection";
import { NodeAccessArgs, withSecretAccessEach } from "./nodeAccess";

/** One node of the remote cluster. */
export interface RemoteSigningTrustNodeArgs {
    /** The node's config directory (`ES_PATH_CONF`), absolute. The CA goes to `<configDir>/certs/`. */
    configDir: pulumi.Input<string>;
    /** How the node is reached (SSH, a command prefix, sudo). @default the machine that runs pulumi */
    access?: pulumi.Input<NodeAccessArgs>;
}

/** Arguments of {@link RemoteSigningTrust}. */
export interface RemoteSigningTrustArgs {
    /** The remote (key-owning) cluster, as a user who may write cluster settings. Changing the cluster makes a new entry there. */
    remote: pulumi.Input<ClusterConnectionArgs>;
    /**
     * The CA certificate (PEM) that issues the local cluster's signing certificates. A new one is
     * written over the same file in place (same list entry).
     */
    caPem: pulumi.Input<string>;
    /** Every node of the remote cluster: the CA file must be on each before the setting names it. Changing the list makes a new entry. */
    nodes: pulumi.Input<pulumi.Input<RemoteSigningTrustNodeArgs>[]>;
    /**
     * The file's tag (`certs/es-remote-signing-ca-<name>.crt`). @default the resource's name
     */
    name?: pulumi.Input<string>;
    /**
     * Entries of `cluster.remote.signing.certificate_authorities` that others put there by hand
     * (paths relative to the config dir). Elasticsearch does not report the list (a filtered
     * setting) and a write replaces it whole: entries neither registered by this package (the
     * registry file beside the CAs) nor listed here are replaced. @default none
     */
    alsoTrust?: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * One CA the remote cluster trusts for signed cross-cluster requests (strong identity,
 * Elasticsearch 9.3+): its file on every remote node and its entry of the global
 * `cluster.remote.signing.certificate_authorities`, owning only that entry — other owners' entries
 * (registered by other `RemoteSigningTrust`s, or declared in `alsoTrust`) stay. Destroy removes the
 * entry (the setting when it was the last), then the files.
 *
 * ```ts
 * new RemoteSigningTrust("eu-signers", {
 *     remote: usConnection,
 *     caPem: signingCa.certPem,
 *     nodes: [{ configDir: "/etc/elasticsearch", access: { ssh: { host: "us-1", user: "admin", privateKey } } }],
 * });
 * ```
 */
export class RemoteSigningTrust extends pulumi.dynamic.Resource {
    /** This resource's entry of the global list (relative to the config dir). */
    declare readonly caFile: pulumi.Output<string>;
    /** The whole list as last written. */
    declare readonly trustedList: pulumi.Output<string[]>;
    /** Whether every node holds this CA file with this content, as of the last refresh. */
    declare readonly caInSync: pulumi.Output<boolean>;
    /** Which nodes drifted and how, as of the last refresh. */
    declare readonly observedDrift: pulumi.Output<string[] | undefined>;

    constructor(name: string, args: RemoteSigningTrustArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            dispatchingProvider("remoteSigningTrust"),
            name,
            { ...args, name: args.name ?? name, remote: secretConnection(args.remote), nodes: withSecretAccessEach(args.nodes), caFile: undefined, trustedList: undefined, caInSync: undefined, observedDrift: undefined },
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "remote", "nodes"] },
            "es-remote",
            "RemoteSigningTrust",
        );
    }
}
