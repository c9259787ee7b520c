/**
 * The one place an Elasticsearch client is built. Every hook that talks to a cluster goes through
 * {@link createClient}, so TLS verification, credentials, timeouts and retries are decided here.
 */
import { Client, ClientOptions, errors } from "@elastic/elasticsearch";
import * as crypto from "crypto";
import { ClusterUnreachableError } from "./errors";

/**
 * How to reach one Elasticsearch cluster over HTTPS. Plain interface, unwrapped: the shape the
 * provider receives after the engine resolved the user's inputs.
 */
export interface ClusterConnection {
    /** One or more URLs of the cluster's HTTP layer, e.g. `https://es1.example:9200`. */
    urls: string[];
    /** Basic-auth user name; with `password`. Excludes `apiKey`. */
    username?: string;
    /** Basic-auth password (secret). */
    password?: string;
    /** An Elasticsearch API key, the base64 `id:api_key` form (secret). Excludes `username`/`password`. */
    apiKey?: string;
    /** PEM of the CA that signed the cluster's HTTP certificate. */
    caPem?: string;
    /** SHA-256 fingerprint of the cluster's HTTP CA (hex, colons optional), instead of `caPem`. */
    caFingerprint?: string;
    /** Skip TLS verification of the HTTP layer. Never the default; warns on every run. */
    insecure?: boolean;
    /** Per-request timeout in seconds. Default 30. */
    requestTimeoutSeconds?: number;
    /** Retries of a request that failed with 429/502/503/504 or a connection error. Default 3. */
    maxRetries?: number;
}

/** @internal A failure of `check`: the engine shows `property` and `reason` to the user. */
export interface CheckFailure {
    property: string;
    reason: string;
}

/**
 * Validates a connection. Returns failures naming `<prefix>.<property>`; never throws, never
 * touches the network.
 * @internal
 */
export function validateConnection(prefix: string, c: unknown): CheckFailure[] {
    const f: CheckFailure[] = [];
    if (c === undefined || c === null || typeof c !== "object") {
        return [{ property: prefix, reason: "a cluster connection is required: { urls, username/password or apiKey, caPem }" }];
    }
    const conn = c as Record<string, unknown>;
    const urls = conn.urls;
    if (!Array.isArray(urls) || urls.length === 0) {
        f.push({ property: `${prefix}.urls`, reason: "give at least one URL of the cluster's HTTP layer, e.g. https://localhost:9200" });
    } else {
        urls.forEach((u, i) => {
            let parsed: URL | undefined;
            try {
                parsed = typeof u === "string" ? new URL(u) : undefined;
            } catch {
                parsed = undefined;
            }
            if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
                f.push({ property: `${prefix}.urls[${i}]`, reason: `${JSON.stringify(u)} is not an http(s) URL; write it like https://host:9200` });
            }
        });
    }
    if (conn.apiKey !== undefined && (conn.username !== undefined || conn.password !== undefined)) {
        f.push({ property: `${prefix}.apiKey`, reason: "give either apiKey or username/password, not both" });
    }
    if ((conn.username === undefined) !== (conn.password === undefined)) {
        f.push({ property: conn.username === undefined ? `${prefix}.username` : `${prefix}.password`, reason: "username and password go together" });
    }
    if (conn.caPem !== undefined && conn.caFingerprint !== undefined) {
        f.push({ property: `${prefix}.caFingerprint`, reason: "give either caPem or caFingerprint, not both" });
    }
    if (conn.caPem !== undefined) {
        try {
            new crypto.X509Certificate(String(conn.caPem));
        } catch {
            f.push({ property: `${prefix}.caPem`, reason: "is not a PEM certificate (expected -----BEGIN CERTIFICATE-----)" });
        }
    }
    if (conn.caFingerprint !== undefined && !/^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/.test(String(conn.caFingerprint))) {
        f.push({ property: `${prefix}.caFingerprint`, reason: "expected a SHA-256 fingerprint: 64 hex digits, colons optional" });
    }
    for (const k of ["requestTimeoutSeconds", "maxRetries"]) {
        const v = conn[k];
        if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) {
            f.push({ property: `${prefix}.${k}`, reason: "must be a number ≥ 0" });
        }
    }
    return f;
}

/** @internal Counts requests per client, for the benchmarks and tests of API-call economy. */
export interface RequestLog {
    method: string;
    path: string;
}

/** @internal Options for {@link createClient}. */
export interface CreateClientOptions {
    /** Name of the cluster in messages, e.g. `local` or `remote`. */
    label: string;
    /** Called for every request sent (after retries count separately). */
    onRequest?: (r: RequestLog) => void;
}

/**
 * Builds a client for one cluster. TLS verification is on unless `insecure` is set explicitly.
 * @internal
 */
export function createClient(conn: ClusterConnection, opts: CreateClientOptions): Client {
    const tls: ClientOptions["tls"] = conn.insecure
        ? { rejectUnauthorized: false }
        : conn.caPem
          ? { ca: conn.caPem, rejectUnauthorized: true }
          : { rejectUnauthorized: true };
    const options: ClientOptions = {
        nodes: conn.urls,
        tls,
        requestTimeout: (conn.requestTimeoutSeconds ?? 30) * 1000,
        maxRetries: conn.maxRetries ?? 3,
        sniffOnStart: false,
        compression: false,
    };
    if (conn.caFingerprint && !conn.insecure) {
        options.caFingerprint = conn.caFingerprint.replace(/:/g, "").toUpperCase().replace(/(..)(?!$)/g, "$1:");
    }
    if (conn.apiKey) {
        options.auth = { apiKey: conn.apiKey };
    } else if (conn.username) {
        options.auth = { username: conn.username, password: conn.password ?? "" };
    }
    const client = new Client(options);
    if (opts.onRequest) {
        const onRequest = opts.onRequest;
        client.diagnostic.on("request", (_err, ev) => {
            const p = ev?.meta?.request?.params;
            if (p) {
                onRequest({ method: p.method, path: p.path });
            }
        });
    }
    return client;
}

/**
 * Runs `fn` and turns transport failures into a {@link ClusterUnreachableError} that names the
 * cluster and its URLs; Elasticsearch's own answers (4xx/5xx with a body) pass through.
 * @internal
 */
export async function callCluster<T>(label: string, conn: ClusterConnection, what: string, fn: () => Promise<T>): Promise<T> {
    try {
        return await fn();
    } catch (err) {
        throw asClusterError(label, conn, what, err);
    }
}

/** @internal */
export function asClusterError(label: string, conn: ClusterConnection, what: string, err: unknown): Error {
    const where = `${label} cluster (${(conn.urls ?? []).join(", ")})`;
    if (err instanceof errors.ResponseError) {
        const status = err.statusCode;
        if (status === 401) {
            return new ClusterUnreachableError(
                `${where} refused the credentials while trying to ${what} (HTTP 401): check ${label}.username/password or ${label}.apiKey`,
                { cluster: label, status }, { cause: err });
        }
        if (status === 403) {
            const reason = (err.body as { error?: { reason?: string } } | undefined)?.error?.reason ?? err.message;
            return new ClusterUnreachableError(
                `${where} denied the request to ${what} (HTTP 403): ${reason}. The user needs the 'manage' cluster privilege (and 'manage_security' for roles and users)`,
                { cluster: label, status }, { cause: err });
        }
        return err;
    }
    if (err instanceof errors.ProductNotSupportedError) {
        return new ClusterUnreachableError(`${where} did not answer as Elasticsearch while trying to ${what}: ${err.message}`,
            { cluster: label }, { cause: err });
    }
    if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError || err instanceof errors.NoLivingConnectionsError) {
        const tlsHint = /certificate|self.signed|SSL|TLS|unable to verify/i.test(err.message)
            ? ` — the cluster's HTTP certificate is not trusted: set ${label}.caPem (or ${label}.caFingerprint) to the CA that signed it`
            : " — check that the cluster is running and the URL is right";
        return new ClusterUnreachableError(`${where} could not be reached while trying to ${what}: ${err.message}${tlsHint}`,
            { cluster: label }, { cause: err });
    }
    if (err instanceof errors.DeserializationError || err instanceof errors.ElasticsearchClientError) {
        return new ClusterUnreachableError(`${where} gave an unexpected answer while trying to ${what}: ${err.message}`,
            { cluster: label }, { cause: err });
    }
    return err instanceof Error ? err : new Error(String(err));
}
