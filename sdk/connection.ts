import * as pulumi from "@pulumi/pulumi";

/**
 * How to reach an Elasticsearch cluster's HTTP layer. The whole connection is stored as a secret in
 * the Pulumi state (it holds credentials), so diffs show it as `[secret]`.
 */
export interface ClusterConnectionArgs {
    /** One or more URLs of the cluster's HTTP layer, e.g. `["https://es1.example:9200"]`. */
    urls: pulumi.Input<pulumi.Input<string>[]>;
    /** Basic-auth user name, with `password`. Excludes `apiKey`. */
    username?: pulumi.Input<string>;
    /** Basic-auth password. Kept secret in the state. */
    password?: pulumi.Input<string>;
    /** An Elasticsearch API key (base64 `id:api_key`). Excludes `username`/`password`. Kept secret. */
    apiKey?: pulumi.Input<string>;
    /**
     * PEM of the CA that signed the cluster's HTTP certificate. Excludes `caFingerprint`.
     * @default the system's trusted CAs
     */
    caPem?: pulumi.Input<string>;
    /** SHA-256 fingerprint of the HTTP CA certificate (hex, colons optional). Excludes `caPem`. */
    caFingerprint?: pulumi.Input<string>;
    /**
     * Do not verify the cluster's HTTP certificate. Only for throwaway test clusters: every run warns.
     * @default false
     */
    insecure?: pulumi.Input<boolean>;
    /**
     * Timeout of each request to the cluster, in seconds; more than 0.
     * @default 30
     */
    requestTimeoutSeconds?: pulumi.Input<number>;
    /**
     * How many times a request that failed on the way is retried: HTTP 429 (Elasticsearch's
     * back-pressure), 502/503/504, or a refused or dropped connection. Waits between attempts grow
     * from about 0.5 s, doubling, up to 8 s (with jitter; a longer `Retry-After` is honoured up to
     * 8 s). A whole number from 0 to 10.
     * @default 3
     */
    maxRetries?: pulumi.Input<number>;
}

/** @internal Marks a connection secret as a whole (it carries credentials). */
export function secretConnection(c: pulumi.Input<ClusterConnectionArgs> | undefined): pulumi.Output<ClusterConnectionArgs> | undefined {
    return c === undefined ? undefined : pulumi.secret(c) as pulumi.Output<ClusterConnectionArgs>;
}
