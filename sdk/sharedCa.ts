import * as pulumi from "@pulumi/pulumi";
import { NodeAccessArgs, withSecretAccessEach } from "./nodeAccess";
import type { KeyAlgorithm } from "../provider/certs/pem";
import type { OnDelete } from "../provider/certs/delivery";
import { dispatchingProvider } from "../provider/core/dynamic";

/**
 * A node's trust file that {@link SharedCa} writes its certificate into: e.g. on every node of the
 * local cluster, the CA that `xpack.security.remote_cluster_client.ssl.certificate_authorities`
 * names, so the local nodes trust the remote cluster server certificates this CA issues (API-key
 * remote clusters). Written atomically (mode 0644, owner kept); Elasticsearch reloads it within
 * about 5 s. What was there before the first write is kept aside like a `NodeCertificate`'s files.
 */
export interface SharedCaTrustDeliveryArgs {
    /** Absolute path of an existing directory on the node (its config directory or a folder in it). */
    directory: pulumi.Input<string>;
    /**
     * How the node's files are reached (SSH or a command; see {@link NodeAccessArgs}). Checked at
     * preview for every entry, all hosts at once. Kept secret in the state.
     * @default the machine that runs `pulumi`
     */
    access?: pulumi.Input<NodeAccessArgs>;
    /**
     * File name.
     * @default "remote-cluster-client-ca.crt"
     */
    caFile?: pulumi.Input<string>;
    /**
     * More CA certificates (PEM) written after this CA, e.g. the next CA during a rotation (trust
     * both, rotate the server certificates, drop the old one).
     * @default []
     */
    extraTrustedCaPems?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * What delete (or dropping this entry) does with the file: `"restore"` puts back what it held
     * before the first write (a file that did not exist is removed unless the node's
     * `elasticsearch.yml` names it); `"keep"` leaves it. Only while it still holds what was written.
     * @default "restore"
     */
    onDelete?: pulumi.Input<OnDelete>;
}

/**
 * Arguments of {@link SharedCa}. Two ways to use it: give generation options (or nothing) and the
 * CA is generated here; or give `certPem` + `keyPem` to adopt an existing CA. The two exclude
 * each other.
 */
export interface SharedCaArgs {
    /**
     * Subject CN of the generated CA. Changing it replaces the CA (and so every certificate it signed).
     * Excludes `certPem`/`keyPem`.
     * @default "es-remote-ca"
     */
    commonName?: pulumi.Input<string>;
    /** Subject O (organization) of the generated CA. Changing it replaces the CA. Excludes `certPem`/`keyPem`. */
    organization?: pulumi.Input<string>;
    /** Subject OU (organizational unit) of the generated CA. Changing it replaces the CA. Excludes `certPem`/`keyPem`. */
    organizationalUnit?: pulumi.Input<string>;
    /** Subject C of the generated CA: a two-letter ISO 3166 code in upper case, e.g. `"DE"`. Changing it replaces the CA. Excludes `certPem`/`keyPem`. */
    country?: pulumi.Input<string>;
    /**
     * Lifetime of the generated CA in whole days. Changing it replaces the CA. Excludes `certPem`/`keyPem`.
     * @default 1095 (3 years)
     */
    validityDays?: pulumi.Input<number>;
    /**
     * Key algorithm of the generated CA: `ecdsa-p256`, `ecdsa-p384`, `rsa-2048`, `rsa-3072` or
     * `rsa-4096`. Signatures use SHA-256 (SHA-384 for P-384). Changing it replaces the CA.
     * Excludes `certPem`/`keyPem`.
     * @default "ecdsa-p256"
     */
    keyAlgorithm?: pulumi.Input<KeyAlgorithm>;
    /**
     * Adopt an existing CA: its certificate (PEM), e.g. a `tls.SelfSignedCert`'s `certPem` with
     * `isCaCertificate: true` and `allowedUses` including `cert_signing`. Must be a CA (basic
     * constraints CA:true), unexpired, and match `keyPem`. Requires `keyPem`; excludes every
     * generation option. Changing it replaces this resource.
     */
    certPem?: pulumi.Input<string>;
    /**
     * Adopt an existing CA: its unencrypted private key (PEM: PKCS#8, PKCS#1 or SEC1), e.g. a
     * `tls.PrivateKey`'s `privateKeyPem`. RSA or EC P-256/P-384/P-521. Stored as a secret and
     * converted to PKCS#8 in the `keyPem` output. Requires `certPem`.
     */
    keyPem?: pulumi.Input<string>;
    /**
     * Trust files to write this CA's certificate into (see {@link SharedCaTrustDeliveryArgs}); adding,
     * changing or removing an entry is an in-place update. `pulumi refresh` reports a file changed by
     * hand (`trustInSync: false`) and the next `pulumi up` rewrites it.
     * @default []
     */
    trustDeliveries?: pulumi.Input<pulumi.Input<SharedCaTrustDeliveryArgs>[]>;
}

/**
 * A certificate authority for the transport layer of both clusters: when every node of both
 * clusters has a certificate from this CA and trusts it, the two clusters trust each other (the
 * "trust" step of remote clusters with TLS certificate authentication). Lives in the Pulumi state
 * (its private key is a secret output); with `trustDeliveries` its certificate is also written into
 * nodes' trust files (e.g. the local nodes' remote cluster client CA in the API-key model).
 *
 * ```ts
 * const ca = new SharedCa("transport-ca", { commonName: "es transport CA", validityDays: 1825 });
 * const cert = new NodeCertificate("node-1", {
 *     caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: "node-1", dnsNames: ["es-node-1.internal"],
 * });
 * ```
 */
export class SharedCa extends pulumi.dynamic.Resource {
    /** The CA certificate (PEM): goes into every node's `xpack.security.transport.ssl.certificate_authorities`. */
    declare readonly certPem: pulumi.Output<string>;
    /** The CA private key, PKCS#8 PEM. Secret. */
    declare readonly keyPem: pulumi.Output<string>;
    /** SHA-256 fingerprint of the CA certificate, upper-case hex with colons. */
    declare readonly fingerprintSha256: pulumi.Output<string>;
    /** Serial number, lower-case hex. */
    declare readonly serialNumber: pulumi.Output<string>;
    /** Start of validity, ISO 8601. */
    declare readonly notBefore: pulumi.Output<string>;
    /** End of validity, ISO 8601. */
    declare readonly notAfter: pulumi.Output<string>;
    /** True if the CA was adopted from `certPem`/`keyPem`. */
    declare readonly adopted: pulumi.Output<boolean>;
    /** With `trustDeliveries`: whether every trust file held exactly what was written at the last create, update or refresh. */
    declare readonly trustInSync: pulumi.Output<boolean | undefined>;
    /** With `trustDeliveries`: the hidden records of what the trust files held before the first write. */
    declare readonly trustKeptAsidePaths: pulumi.Output<string[] | undefined>;

    constructor(name: string, args: SharedCaArgs = {}, opts?: pulumi.CustomResourceOptions) {
        super(
            dispatchingProvider("sharedCa"),
            name,
            {
                ...args,
                // An adopted key is an input too: keep it secret in the state's inputs as well.
                keyPem: args.keyPem === undefined ? undefined : pulumi.secret(args.keyPem),
                trustDeliveries: withSecretAccessEach(args.trustDeliveries),
                certPem: args.certPem,
                fingerprintSha256: undefined,
                serialNumber: undefined,
                notBefore: undefined,
                notAfter: undefined,
                adopted: undefined,
                trustInSync: undefined,
                trustKeptAsidePaths: undefined,
            },
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "keyPem", "trustDeliveries"] },
            "es-remote",
            "SharedCa",
        );
    }
}
