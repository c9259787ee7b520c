import * as pulumi from "@pulumi/pulumi";
import { dispatchingProvider } from "../provider/core/dynamic";
import { ClusterConnectionArgs, secretConnection } from "./connection";
import { NodeAccessArgs, withSecretAccessEach } from "./nodeAccess";

/** One local node's keystore, for an API-key link's credential. */
export interface KeystoreOnArgs {
    /** The node's Elasticsearch home on its host (the folder holding `bin/elasticsearch-keystore`), e.g. `/usr/share/elasticsearch`. */
    esHome: pulumi.Input<string>;
    /** The node's config directory on its host (`ES_PATH_CONF`, holding `elasticsearch.keystore`), e.g. `/etc/elasticsearch`. */
    configDir: pulumi.Input<string>;
    /** The JDK the keystore tool runs with (`ES_JAVA_HOME`), for distributions without a bundled JDK. */
    javaHome?: pulumi.Input<string>;
    /**
     * How the node is reached: SSH or a command (see {@link NodeAccessArgs}). The credential travels
     * to the keystore tool on its standard input only. Checked at preview (reachable, host key,
     * login, sudo, the tool and the keystore there, no keystore password). Kept secret in the state.
     * @default the machine that runs `pulumi`
     */
    access?: pulumi.Input<NodeAccessArgs>;
}

/**
 * `security: "apiKey"`, Elasticsearch 9.3+: the certificate and key the local cluster signs its
 * requests for this alias with (strong identity), so that a cross-cluster API key that carries a
 * `certificate_identity` (see `CrossClusterApiKey.certificateIdentity`) accepts them.
 */
export interface LinkSigningArgs {
    /**
     * The signing certificate (PEM; the leaf first, then any intermediates). Its subject DN, in RFC
     * 2253 form (`CN=eu-signer,O=Acme`), must match the key's `certificate_identity` as a whole; its
     * issuer must be in the remote's `cluster.remote.signing.certificate_authorities`
     * (`RemoteSigningTrust`). RSA or EC keys only. A new value is written over the same file on every
     * node (rotation in place).
     */
    certPem: pulumi.Input<string>;
    /** The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1; encrypted PKCS#8 with `keyPassphrase`). Kept secret. */
    keyPem: pulumi.Input<string>;
    /**
     * The passphrase of an encrypted `keyPem`: written to every local keystore as
     * `cluster.remote.<alias>.signing.secure_key_passphrase` (on the tool's standard input), never
     * to a file or the settings. Kept secret.
     * @default none (the key is not encrypted)
     */
    keyPassphrase?: pulumi.Input<string>;
}

/** Arguments of {@link RemoteClusterLink}. */
export interface RemoteClusterLinkArgs {
    /** The cluster on which the remote is registered (`PUT _cluster/settings` goes here). Required. */
    local: pulumi.Input<ClusterConnectionArgs>;
    /**
     * The remote cluster's HTTP connection, used only for the preview-time checks (versions,
     * security, transport TLS and mutual trust) and the `remoteVersion` output. Without it those
     * checks are skipped, with a message saying so.
     */
    remote?: pulumi.Input<ClusterConnectionArgs>;
    /**
     * The remote cluster's alias on the local cluster: `cluster.remote.<alias>.*`, and the prefix in
     * cross-cluster searches (`<alias>:<index>`). Changing it replaces the link.
     */
    alias: pulumi.Input<string>;
    /**
     * `sniff` connects to `seeds` and discovers gateway nodes; `proxy` opens sockets to one
     * `proxyAddress` (e.g. a load balancer).
     * @default "sniff"
     */
    mode?: pulumi.Input<"sniff" | "proxy">;
    /** sniff: transport addresses (`host:port`, not the HTTP port) of remote nodes to start from. Required in sniff mode; excludes `proxyAddress`. */
    seeds?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * sniff: how many gateway nodes of the remote cluster to keep connections to.
     * @default 3 (Elasticsearch's default; leaving it unset leaves the key unset)
     */
    nodeConnections?: pulumi.Input<number>;
    /** proxy: the `host:port` all connections go to. Required in proxy mode; excludes `seeds`. */
    proxyAddress?: pulumi.Input<string>;
    /**
     * proxy: how many sockets to open to `proxyAddress`.
     * @default 18 (Elasticsearch's default)
     */
    proxySocketConnections?: pulumi.Input<number>;
    /** proxy: the TLS server name (SNI) sent to the proxy; a valid hostname. */
    serverName?: pulumi.Input<string>;
    /**
     * Whether searches across clusters skip this remote when it is unreachable instead of failing.
     * @default Elasticsearch's default: `true` from 8.15 on, `false` before
     */
    skipUnavailable?: pulumi.Input<boolean>;
    /** Compression of requests to the remote: `"true"`, `"false"` or `"indexing_data"`. Changing it reopens the connections. */
    transportCompress?: pulumi.Input<"true" | "false" | "indexing_data">;
    /** Compression scheme when compressing: `"deflate"` or `"lz4"`. */
    transportCompressionScheme?: pulumi.Input<"deflate" | "lz4">;
    /** Interval of application-level pings to the remote, an Elasticsearch time value such as `"30s"`; `"-1"` disables them. Changing it reopens the connections. */
    transportPingSchedule?: pulumi.Input<string>;
    /**
     * Wait (at create and when settings change) until `GET _remote/info` reports the remote connected.
     * On timeout a create removes what it wrote and fails with the details.
     * @default true
     */
    waitForConnection?: pulumi.Input<boolean>;
    /**
     * How long to wait for the connection, in seconds.
     * @default 60
     */
    connectionTimeoutSeconds?: pulumi.Input<number>;
    /**
     * What to do when the two versions can talk but are not a cross-cluster search configuration Elastic
     * supports: `enforce` fails the preview, `warn` prints a warning, `ignore` says nothing. Versions
     * that cannot talk at all always fail.
     * @default "warn"
     */
    ccsCompatibility?: pulumi.Input<"enforce" | "warn" | "ignore">;
    /**
     * Take over an alias that already exists on the local cluster (configured by hand or by another
     * tool) instead of refusing it. This is how to bring an existing remote under Pulumi: `pulumi
     * import` does not work for dynamic resources (pulumi/pulumi#16175). If the new settings do not
     * connect, the previous ones are restored.
     * @default false
     */
    adoptExisting?: pulumi.Input<boolean>;
    /**
     * Outputs of the `NodeCertificate`s that establish the trust this link relies on, e.g.
     * `certs.map((c) => c.fingerprintSha256)`. The link is then registered only once they exist, so
     * its trust check sees the delivered certificates: during a preview in which they are still to
     * be created, the trust check is skipped with a message instead of failing on the old ones.
     * (`dependsOn` orders the create, but not the check.) Nothing of it is written to the cluster, and
     * a rotated certificate does not update the link.
     */
    waitForCertificates?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * How the local cluster authenticates to the remote one. `"certificate"`: mutual TLS on the
     * transport port (deprecated since Elasticsearch 9.0). `"apiKey"`: a cross-cluster API key
     * (`credential`) in every local node's keystore (`keystoreOn`), connecting to the remote cluster
     * server port (`seeds`/`proxyAddress` at `remote_cluster.port`, 9443 by default); needs 8.14+ and
     * an Enterprise (or trial) license on both clusters. Changing it from `"certificate"` to
     * `"apiKey"` migrates the same alias in place (see docs/api-key.md, "Migrating a certificate link to an API key").
     * @default "certificate"
     */
    security?: pulumi.Input<"certificate" | "apiKey">;
    /** `security: "apiKey"`: the encoded cross-cluster API key, e.g. `CrossClusterApiKey.encoded`. Kept secret. */
    credential?: pulumi.Input<string>;
    /**
     * `security: "apiKey"`: every local node's keystore, on the host that runs `pulumi`: the node's
     * Elasticsearch home (`bin/elasticsearch-keystore`), config directory (`elasticsearch.keystore`)
     * and, for a distribution without a bundled JDK, `javaHome`. The tool runs as the keystore's owner.
     */
    keystoreOn?: pulumi.Input<pulumi.Input<KeystoreOnArgs>[]>;
    /**
     * `security: "apiKey"`, Elasticsearch 9.3+ on every node of both clusters: sign this alias's
     * requests with a certificate (strong identity). The certificate and key go to
     * `<configDir>/certs/es-remote-signing-<alias>.crt` / `.key` on every node of `keystoreOn`
     * (atomic writes, the key 0600, what was there kept aside and put back when signing stops), the
     * passphrase (if any) into each keystore, then `cluster.remote.<alias>.signing.certificate` /
     * `.key` are set. Checked at preview: RSA or EC, not expired or expiring within 7 days, key and
     * certificate a pair, every node 9.3+, and (with `remote` and a readable key) the subject DN
     * against the key's `certificate_identity`. Whether the remote trusts the issuer cannot be read
     * back and is not checked. Removing it (or deleting the link) removes the settings, the
     * passphrase, then the files. Excludes `security: "certificate"`. See docs/strong-identity.md.
     * @default none: requests are not signed
     */
    signing?: pulumi.Input<LinkSigningArgs>;
}

/**
 * A remote cluster registered on a local cluster over TLS certificate trust: it owns exactly the
 * persistent `cluster.remote.<alias>.*` settings it wrote. Versions, security, transport TLS and
 * mutual trust are checked at preview, before anything is written; the connection is verified after
 * writing; `pulumi refresh` reports hand edits; delete removes exactly this alias's keys.
 *
 * ```ts
 * const link = new RemoteClusterLink("eu-to-us", {
 *     local: { urls: ["https://eu-es:9200"], username: "elastic", password: euPassword, caPem: httpCa },
 *     remote: { urls: ["https://us-es:9200"], username: "elastic", password: usPassword, caPem: httpCa },
 *     alias: "us",
 *     seeds: ["us-es:9300"],
 * });
 * ```
 */
export class RemoteClusterLink extends pulumi.dynamic.Resource {
    declare readonly alias: pulumi.Output<string>;
    declare readonly mode: pulumi.Output<"sniff" | "proxy">;
    declare readonly seeds: pulumi.Output<string[] | undefined>;
    declare readonly proxyAddress: pulumi.Output<string | undefined>;
    /**
     * Whether every local node with the `remote_cluster_client` role reported the remote connected in
     * its own `_remote/info` (at the last create, update or refresh). With `security: "apiKey"`
     * a node counts only if its entry also shows `cluster_credentials` (it uses the API key).
     */
    declare readonly connected: pulumi.Output<boolean>;
    /** Local nodes with the `remote_cluster_client` role that reported the remote connected. */
    declare readonly nodesConnected: pulumi.Output<number | undefined>;
    /** Local nodes with the `remote_cluster_client` role. */
    declare readonly nodesTotal: pulumi.Output<number | undefined>;
    /** `cluster_uuid` of the local cluster the link was written to (another cluster behind `local` replaces the link). */
    declare readonly localClusterUuid: pulumi.Output<string | undefined>;
    /** `cluster_uuid` of the remote cluster (when `remote` is given). */
    declare readonly remoteClusterUuid: pulumi.Output<string | undefined>;
    /** sniff: gateway nodes connected (from `_remote/info`; the lowest count among the local nodes). */
    declare readonly numNodesConnected: pulumi.Output<number | undefined>;
    /** proxy: sockets connected (from `_remote/info`). */
    declare readonly numProxySocketsConnected: pulumi.Output<number | undefined>;
    /** Minimum node version of the local cluster. */
    declare readonly localVersion: pulumi.Output<string>;
    /** Minimum node version of the remote cluster (when `remote` is given). */
    declare readonly remoteVersion: pulumi.Output<string | undefined>;
    /**
     * With `signing`: whether every node of `keystoreOn` holds the declared signing files (and the
     * passphrase) at the last create, update or refresh; `false` makes the next `up` write them again.
     */
    declare readonly signingInSync: pulumi.Output<boolean | undefined>;
    /** With `signing`: which nodes drifted and how (a file missing or changed, the passphrase gone). */
    declare readonly signingDrift: pulumi.Output<string[] | undefined>;

    constructor(name: string, args: RemoteClusterLinkArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            dispatchingProvider("remoteClusterLink"),
            name,
            {
                ...args,
                local: secretConnection(args.local),
                credential: args.credential === undefined ? undefined : pulumi.secret(args.credential),
                keystoreOn: withSecretAccessEach(args.keystoreOn),
                signing: args.signing === undefined ? undefined : pulumi.secret(args.signing),
                signingInSync: undefined,
                signingDrift: undefined,
                remote: secretConnection(args.remote),
                connected: undefined,
                nodesConnected: undefined,
                nodesTotal: undefined,
                localClusterUuid: undefined,
                remoteClusterUuid: undefined,
                numNodesConnected: undefined,
                numProxySocketsConnected: undefined,
                localVersion: undefined,
                remoteVersion: undefined,
            },
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "local", "remote", "credential", "keystoreOn", "signing"] },
            "es-remote",
            "RemoteClusterLink",
        );
    }
}
