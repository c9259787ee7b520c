import * as pulumi from "@pulumi/pulumi";
import { dispatchingProvider } from "../provider/core/dynamic";
import { ClusterConnectionArgs, secretConnection } from "./connection";

/** One entry of a key's search access. */
export interface CrossClusterSearchAccessArgs {
    /** Index names or patterns on the remote cluster, e.g. `["logs-*"]` (no `<alias>:` prefix). */
    names: pulumi.Input<pulumi.Input<string>[]>;
    /** A document-level security query (object or JSON text). */
    query?: pulumi.Input<string | Record<string, unknown>>;
    /** Field-level security, e.g. `{ grant: ["*"], except: ["ssn"] }`. */
    fieldSecurity?: pulumi.Input<{ grant?: pulumi.Input<string>[]; except?: pulumi.Input<string>[] }>;
    /** Whether the patterns may match restricted indices. @default false */
    allowRestrictedIndices?: pulumi.Input<boolean>;
}

/** Arguments of {@link CrossClusterApiKey}. */
export interface CrossClusterApiKeyArgs {
    /** The remote cluster (the one whose data is read), as a user with `manage_security` (not an API key). Required. */
    remote: pulumi.Input<ClusterConnectionArgs>;
    /** The key's name. Changing it makes a new key (the old one is invalidated after the links use the new one). */
    name: pulumi.Input<string>;
    /**
     * What the local cluster may do on the remote one: `search` (cross-cluster search) and/or
     * `replication` (cross-cluster replication) entries. Changes are made in place
     * (`PUT _security/cross_cluster/api_key/<id>`): same key, no keystore change.
     */
    access: pulumi.Input<{
        search?: pulumi.Input<pulumi.Input<CrossClusterSearchAccessArgs>[]>;
        replication?: pulumi.Input<pulumi.Input<{ names: pulumi.Input<pulumi.Input<string>[]> }>[]>;
    }>;
    /** Lifetime, e.g. `"90d"`. Changing it renews the expiry from now, in place; removing it makes a new key. @default never expires */
    expiration?: pulumi.Input<string>;
    /** Arbitrary metadata stored with the key (keys must not begin with `_`). */
    metadata?: pulumi.Input<Record<string, unknown>>;
    /**
     * Change this value (a date, a counter) to rotate the key: a new key is made, the links using
     * `encoded` get it in their keystores, then the old key is invalidated.
     */
    rotation?: pulumi.Input<string | number>;
    /**
     * Strong identity (Elasticsearch 9.3+ on every node of both clusters; a preview feature on
     * self-managed clusters): a Java regular expression that the subject DN of the local cluster's
     * signing certificate, in RFC 2253 form (`CN=eu-signer,O=Acme,C=DE`: most specific first, no
     * spaces), must match **as a whole**. The remote then refuses requests with this key that are not
     * signed by such a certificate (see docs/strong-identity.md), so a stolen `encoded` alone is useless.
     *
     * Set and changed in place (`PUT _security/cross_cluster/api_key/<id>`, same key); `null`
     * clears it in place; left out, the key keeps whatever identity it has (also one set by hand).
     * `pulumi refresh` reports a declared pattern (or a declared `null`) changed on the cluster.
     * A preview with a pattern names any remote node older than 9.3.
     * @default left out: no identity required
     */
    certificateIdentity?: pulumi.Input<string | null>;
}

/** The engine drops null inputs before they reach the provider: `null` travels as `""` (clear). */
function identityInput(v: CrossClusterApiKeyArgs["certificateIdentity"]): pulumi.Input<string> | undefined {
    if (v === undefined) return undefined;
    if (v === null) return "";
    return pulumi.output(v).apply((x) => (x === null ? "" : x));
}

/**
 * A cross-cluster API key on the remote cluster (`POST /_security/cross_cluster/api_key`): the
 * credential of an API-key {@link RemoteClusterLink}. `encoded` is a secret output, never in
 * plaintext in the state. `pulumi refresh` notices a key invalidated or expired by hand (the next
 * `up` makes a new one and updates the links); delete invalidates it. A key with search access made
 * before Elasticsearch 8.15 lacks `monitor_enrich` (ES|QL `ENRICH` across clusters) in its role
 * descriptor: a refresh warns, and once every remote node runs 8.15+ the next `up` updates the key in
 * place (same credential), which makes Elasticsearch rebuild the descriptor with it.
 *
 * ```ts
 * const key = new CrossClusterApiKey("eu-reads-us", {
 *     remote: usConnection,
 *     name: "eu-reads-us",
 *     access: { search: [{ names: ["logs-*"] }] },
 * });
 * ```
 */
export class CrossClusterApiKey extends pulumi.dynamic.Resource {
    /** The key's id. */
    declare readonly keyId: pulumi.Output<string>;
    declare readonly name: pulumi.Output<string>;
    /**
     * The access the key grants, as declared (known at preview): give it to a
     * `CrossClusterRole`'s `keyAccess` so its preview checks the role against the key.
     */
    declare readonly access: pulumi.Output<pulumi.Unwrap<CrossClusterApiKeyArgs["access"]>>;
    /** The credential (`base64(id:api_key)`) for the local nodes' keystores. Secret. */
    declare readonly encoded: pulumi.Output<string>;
    /** Expiry in ms since the epoch, when the key expires. */
    declare readonly expiresAt: pulumi.Output<number | undefined>;
    /** The declared certificate identity (`""` when declared `null`: cleared), as last applied or read. */
    declare readonly certificateIdentity: pulumi.Output<string | undefined>;

    constructor(name: string, args: CrossClusterApiKeyArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            dispatchingProvider("crossClusterApiKey"),
            name,
            { ...args, certificateIdentity: identityInput(args.certificateIdentity), remote: secretConnection(args.remote), keyId: undefined, encoded: undefined, expiresAt: undefined },
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "remote", "encoded"] },
            "es-remote",
            "CrossClusterApiKey",
        );
    }
}
