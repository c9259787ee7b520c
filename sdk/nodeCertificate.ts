import * as pulumi from "@pulumi/pulumi";
import type { KeyAlgorithm } from "../provider/certs/pem";
import { dispatchingProvider } from "../provider/core/dynamic";
import { ClusterConnectionArgs } from "./connection";

/**
 * Where {@link NodeCertificate} writes its three PEM files. The names are fixed across renewals so
 * Elasticsearch's file watcher (it re-reads changed certificate files about every 5 s) loads a
 * renewed certificate without a restart. Point the node's settings at them once:
 * `xpack.security.transport.ssl.certificate: certs/transport.crt`, `.key: certs/transport.key`,
 * `.certificate_authorities: [certs/transport-ca.crt]`.
 */
export interface NodeCertificateDeliveryArgs {
    /**
     * Absolute path of an existing directory on the machine that runs `pulumi up`, usually the
     * node's config directory or a folder in it (Elasticsearch only reads certificate files under
     * its config directory). Each file is written atomically (temporary file, fsync, rename).
     */
    directory: pulumi.Input<string>;
    /**
     * File name of the node certificate.
     * @default "transport.crt"
     */
    certFile?: pulumi.Input<string>;
    /**
     * File name of the node's private key (PKCS#8 PEM).
     * @default "transport.key"
     */
    keyFile?: pulumi.Input<string>;
    /**
     * File name of the CA certificate.
     * @default "transport-ca.crt"
     */
    caFile?: pulumi.Input<string>;
    /**
     * Permission bits of the key file. The owner and group of a file being replaced are kept when
     * allowed (e.g. running as root over `root:elasticsearch`); use `0o640` so a group-owned key stays
     * readable by Elasticsearch. Bits for "others" are refused.
     * @default 0o600
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
     * Pulumi). `pulumi refresh` records the fingerprint found on disk, and the next `pulumi up`
     * rewrites files changed by hand. Delete (and a move to another directory) removes the files
     * only while they still hold this certificate, so a renewal never removes its successor's files.
     * @default not written
     */
    delivery?: pulumi.Input<NodeCertificateDeliveryArgs>;
    /**
     * After writing the files, wait until the named node's transport layer presents this
     * certificate (Elasticsearch reloads changed files about every 5 s); `pulumi refresh` reports a
     * node that serves another one as `servedByNode: false`, and the next `pulumi up` rewrites the
     * files and waits again. Requires `delivery`.
     * @default not verified
     */
    verifyOn?: pulumi.Input<NodeCertificateVerifyArgs>;
}

/**
 * A node's transport certificate, signed by a CA (usually a {@link SharedCa}), with serverAuth and
 * clientAuth usages (transport TLS is mutual). Optionally written to the node's config directory
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

    constructor(name: string, args: NodeCertificateArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            dispatchingProvider("nodeCertificate"),
            name,
            {
                ...args,
                caKeyPem: pulumi.secret(args.caKeyPem),
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
            },
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "keyPem", "verifyOn"] },
            "es-remote",
            "NodeCertificate",
        );
    }
}
