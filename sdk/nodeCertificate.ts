import * as pulumi from "@pulumi/pulumi";
import type { KeyAlgorithm } from "../provider/certs/pem";
import type { OnDelete } from "../provider/certs/delivery";
import type { CertificatePurpose } from "../provider/certs/verify";
import { dispatchingProvider } from "../provider/core/dynamic";
import { ClusterConnectionArgs } from "./connection";
import { NodeAccessArgs, withSecretAccess } from "./nodeAccess";

/**
 * Where {@link NodeCertificate} writes its three PEM files. The names are fixed across renewals so
 * Elasticsearch's file watcher (it re-reads changed certificate files about every 5 s) loads a
 * renewed certificate without a restart. Point the node's settings at them once:
 * `xpack.security.transport.ssl.certificate: certs/transport.crt`, `.key: certs/transport.key`,
 * `.certificate_authorities: [certs/transport-ca.crt]` (with `purpose: "remoteClusterServer"`:
 * `xpack.security.remote_cluster_server.ssl.certificate: certs/remote-cluster-server.crt`,
 * `.key: certs/remote-cluster-server.key`).
 *
 * Before the first delivery, what each of the three files held (or that it did not exist) is kept
 * aside in the same directory under a hidden name Elasticsearch never reads
 * (`.transport.key.es-remote-orig-0600`, `.transport.crt.es-remote-absent`; a key kept aside is
 * mode 0600, owner and group kept). `onDelete` says what delete does with it.
 */
export interface NodeCertificateDeliveryArgs {
    /**
     * Absolute path of an existing directory on the node, usually its config directory or a folder
     * in it (Elasticsearch only reads certificate files under its config directory), e.g.
     * `/etc/elasticsearch/certs`. Each file is written atomically (temporary file in this directory,
     * owner kept, mode 0644 for the certificate and CA files and `keyFileMode` for the key, fsync, rename).
     */
    directory: pulumi.Input<string>;
    /**
     * How the node's files are reached: over SSH (a pinned host key, optionally a jump host and
     * sudo) or through a command such as `docker exec -i es01`. Checked at preview (reachable, host
     * key, login, sudo, `directory` there and writable), writing nothing. Moving the delivery to
     * another host gives up the files on the old one after the new ones are written. Kept secret in
     * the state (it may hold a private key).
     * @default the machine that runs `pulumi` (as in earlier releases)
     */
    access?: pulumi.Input<NodeAccessArgs>;
    /**
     * File name of the node certificate.
     * @default "transport.crt" (`"remote-cluster-server.crt"` with `purpose: "remoteClusterServer"`)
     */
    certFile?: pulumi.Input<string>;
    /**
     * File name of the node's private key (PKCS#8 PEM).
     * @default "transport.key" (`"remote-cluster-server.key"` with `purpose: "remoteClusterServer"`)
     */
    keyFile?: pulumi.Input<string>;
    /**
     * File name of the CA certificate.
     * @default "transport-ca.crt" (`"remote-cluster-server-ca.crt"` with `purpose: "remoteClusterServer"`)
     */
    caFile?: pulumi.Input<string>;
    /**
     * Permission bits of the key file. The owner and group of a file being replaced are kept when
     * allowed (e.g. running as root over `root:elasticsearch`). Bits for "others" are refused.
     * @default 0o600, or 0o640 when the key file (or, for a new one, the directory) belongs to root
     * with another group — Debian's and RPM's layout (`root:elasticsearch`), where Elasticsearch
     * reads its key through the group
     */
    keyFileMode?: pulumi.Input<number>;
    /**
     * More CA certificates (PEM) written into `caFile` after the issuing CA. For a CA rotation: first
     * trust both CAs on every node (old certificates, `extraTrustedCaPems: [newCa.certPem]`), then
     * issue every node's certificate from the new CA (`extraTrustedCaPems: [oldCa.certPem]`), then
     * drop the old CA (no extra CAs).
     * @default []
     */
    extraTrustedCaPems?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * What `pulumi destroy` (or moving the delivery to another directory) does with the files:
     * - `"restore"`: put back what the files held before the first delivery (same mode and owner), so
     *   the node is left exactly as it was found and its next restart reads the certificate it had
     *   before; a file that did not exist before is removed, unless the node's `elasticsearch.yml`
     *   (in `directory` or up to three folders above) names it.
     * - `"keep"`: leave the delivered files (the node keeps this certificate until it expires, also
     *   across restarts) and remove only what was kept aside.
     *
     * Either way nothing is touched unless the certificate and key files still both hold this
     * resource's certificate (a renewal's successor or a hand-placed pair is never split), and a
     * file with nothing kept aside for it is never removed. Certificates delivered by releases before
     * this option kept nothing aside: their files are left in place on delete (with a message).
     * Restoring needs the node to trust the original certificate's CA again, as it did before.
     * @default "restore"
     */
    onDelete?: pulumi.Input<OnDelete>;
}

/**
 * Which node must end up serving the certificate. The proof is a TLS handshake with the node's
 * transport publish address (from `GET _nodes/<nodeName>/transport`) presenting this certificate's
 * fingerprint. `GET _ssl/certificates` on that node is asked too, but it reads the files from disk
 * (it lists a new file seconds before the transport layer switches), so it is used alone only when
 * the transport address cannot be reached from the machine running Pulumi, with a warning.
 */
export interface NodeCertificateVerifyArgs {
    /**
     * How to reach the node's cluster over HTTPS (stored as a secret: it holds credentials). If the
     * named node does not answer at one of `urls`, its HTTP publish address from `GET _nodes` is
     * used with the same scheme, credentials and CA. The user needs the `monitor` cluster privilege.
     */
    connection: pulumi.Input<ClusterConnectionArgs>;
    /** The node's `node.name`, as `GET _nodes` reports it. */
    nodeName: pulumi.Input<string>;
    /**
     * How long create/update wait for the node to load the new certificate before failing.
     * @default 60
     */
    timeoutSeconds?: pulumi.Input<number>;
}

/** Arguments of {@link NodeCertificate}. */
export interface NodeCertificateArgs {
    /**
     * Which TLS listener of the node the certificate is for:
     * - `"transport"`: the transport layer (`xpack.security.transport.ssl.*`, mutual TLS between
     *   nodes, the certificate-trust remote cluster model);
     * - `"remoteClusterServer"`: the remote cluster server of the API-key model
     *   (`xpack.security.remote_cluster_server.ssl.*`, port 9443 by default; needs
     *   `remote_cluster_server.enabled: true`, a static setting). Default file names become
     *   `remote-cluster-server.crt/.key/-ca.crt`, and `verifyOn` shakes hands with the node's remote
     *   cluster server address instead of its transport address. The local cluster's nodes must
     *   trust this certificate's CA in `xpack.security.remote_cluster_client.ssl.certificate_authorities`
     *   (a {@link SharedCa}'s `trustDeliveries` writes it), and they check the host name by default
     *   (`verification_mode: full`): put the address the local cluster's seeds or `proxy_address`
     *   use into `dnsNames`/`ipAddresses`.
     * Both get serverAuth and clientAuth usages. Changing it replaces the certificate.
     * @default "transport"
     */
    purpose?: pulumi.Input<CertificatePurpose>;
    /** Certificate of the issuing CA (PEM), usually a {@link SharedCa}'s `certPem`. Changing it replaces the certificate. */
    caCertPem: pulumi.Input<string>;
    /**
     * Private key of the issuing CA (PEM), usually a {@link SharedCa}'s `keyPem`. Used only to sign;
     * never stored in this resource's outputs, and kept secret in its inputs.
     */
    caKeyPem: pulumi.Input<string>;
    /** Subject CN, e.g. the node name. Changing it replaces the certificate. */
    commonName: pulumi.Input<string>;
    /**
     * DNS subject alternative names the other nodes reach this node by (`*.example.com` allowed).
     * With `verification_mode: full` Elasticsearch checks them. At least one of `dnsNames` and
     * `ipAddresses` is required. Changing them (not their order) replaces the certificate.
     * @default []
     */
    dnsNames?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * IP subject alternative names (IPv4 or IPv6). At least one of `dnsNames` and `ipAddresses` is
     * required. Changing them (not their order) replaces the certificate.
     * @default []
     */
    ipAddresses?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Lifetime in whole days. Changing it replaces the certificate.
     * @default 365
     */
    validityDays?: pulumi.Input<number>;
    /**
     * Key algorithm of the node's key: `ecdsa-p256`, `ecdsa-p384`, `rsa-2048`, `rsa-3072` or
     * `rsa-4096` (independent of the CA's). Changing it replaces the certificate.
     * @default "ecdsa-p256"
     */
    keyAlgorithm?: pulumi.Input<KeyAlgorithm>;
    /**
     * Renewal window in whole days: once now + `renewBeforeDays` reaches `notAfter`, the next
     * preview shows a replacement (a new key and certificate; with `delivery` written over the same
     * files). Must be less than `validityDays`.
     * @default 30
     */
    renewBeforeDays?: pulumi.Input<number>;
    /**
     * Write the certificate, key and CA to a node's config directory (on the machine running
     * Pulumi). `pulumi refresh` records the fingerprint found on disk (a hand edit shows in
     * `pulumi preview --diff` as `observedDrift`), and the next `pulumi up` rewrites files changed
     * by hand. Delete puts back what was there before the first delivery (see `onDelete`).
     * @default not written
     */
    delivery?: pulumi.Input<NodeCertificateDeliveryArgs>;
    /**
     * After writing the files, wait until the named node's transport layer (or remote cluster
     * server, with `purpose: "remoteClusterServer"`) presents this
     * certificate (Elasticsearch reloads changed files about every 5 s); `pulumi refresh` reports a
     * node that serves another one as `servedByNode: false`, and the next `pulumi up` rewrites the
     * files and waits again. Requires `delivery`.
     * @default not verified
     */
    verifyOn?: pulumi.Input<NodeCertificateVerifyArgs>;
}

/**
 * A node's transport (or remote cluster server) certificate, signed by a CA (usually a
 * {@link SharedCa}), with serverAuth and clientAuth usages (transport TLS is mutual). Optionally written to the node's config directory
 * and verified on the node. The private key is a secret output.
 *
 * ```ts
 * const cert = new NodeCertificate("local-node-0", {
 *     caCertPem: ca.certPem, caKeyPem: ca.keyPem,
 *     commonName: "local-node-0", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"],
 *     delivery: { directory: "/etc/elasticsearch/certs" },
 *     verifyOn: { connection: localConnection, nodeName: "local-node-0" },
 * });
 * ```
 */
export class NodeCertificate extends pulumi.dynamic.Resource {
    /** The node certificate (PEM). */
    declare readonly certPem: pulumi.Output<string>;
    /** The node's private key, PKCS#8 PEM. Secret. */
    declare readonly keyPem: pulumi.Output<string>;
    /** The issuing CA's certificate (PEM). */
    declare readonly caPem: pulumi.Output<string>;
    /** SHA-256 fingerprint of the issuing CA. */
    declare readonly caFingerprintSha256: pulumi.Output<string>;
    /** Serial number, lower-case hex (as `GET _ssl/certificates` prints it). */
    declare readonly serialNumber: pulumi.Output<string>;
    /** SHA-256 fingerprint of the certificate, upper-case hex with colons. */
    declare readonly fingerprintSha256: pulumi.Output<string>;
    /** Start of validity, ISO 8601. */
    declare readonly notBefore: pulumi.Output<string>;
    /** End of validity, ISO 8601. */
    declare readonly notAfter: pulumi.Output<string>;
    /** With `delivery`: fingerprint of the certificate file on disk at the last create, update or refresh ("" if missing). */
    declare readonly deliveredFingerprintSha256: pulumi.Output<string | undefined>;
    /** With `delivery`: whether the three files held exactly this certificate, key and CA at the last create, update or refresh. */
    declare readonly deliveryInSync: pulumi.Output<boolean | undefined>;
    /** With `verifyOn`: whether the node's transport layer presented this certificate at the last create, update or refresh. */
    declare readonly servedByNode: pulumi.Output<boolean | undefined>;
    /**
     * With `delivery`: the hidden files in `delivery.directory` that record what the three files held
     * before the first delivery (what `onDelete: "restore"` puts back).
     */
    declare readonly keptAsidePaths: pulumi.Output<string[] | undefined>;

    constructor(name: string, args: NodeCertificateArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            dispatchingProvider("nodeCertificate"),
            name,
            {
                ...args,
                caKeyPem: pulumi.secret(args.caKeyPem),
                // The node access may hold an SSH private key and its passphrase.
                delivery: withSecretAccess(args.delivery),
                // verifyOn carries the connection's credentials.
                verifyOn: args.verifyOn === undefined ? undefined : pulumi.secret(args.verifyOn),
                certPem: undefined,
                keyPem: undefined,
                caPem: undefined,
                caFingerprintSha256: undefined,
                serialNumber: undefined,
                fingerprintSha256: undefined,
                notBefore: undefined,
                notAfter: undefined,
                deliveredFingerprintSha256: undefined,
                deliveryInSync: undefined,
                servedByNode: undefined,
                keptAsidePaths: undefined,
            },
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "keyPem", "verifyOn", "delivery"] },
            "es-remote",
            "NodeCertificate",
        );
    }
}
