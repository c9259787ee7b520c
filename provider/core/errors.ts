/**
 * The errors this package raises. One base class, a few precise subclasses; each message says what
 * was expected, what was found and what to do, and the original error (if any) is kept as `cause`.
 */

/** Base class of every error raised by pulumi-es-remote. */
export class EsRemoteError extends Error {
    /** Structured details for programs that handle the error (never secrets). */
    readonly details: Record<string, unknown>;
    constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
        super(message, options);
        this.name = "EsRemoteError";
        this.details = details;
        // Pulumi's dynamic provider host prints `${err}: ${err.stack}` when check, diff, read or
        // delete fails: for a condition this package reports on purpose (a cluster down, a bad input)
        // the frames read like a crash. The message says everything; PULUMI_ES_REMOTE_DEBUG=1 keeps
        // the trace for whoever debugs the package itself.
        if (!process.env.PULUMI_ES_REMOTE_DEBUG) {
            this.stack = "";
        }
    }
}

/** An input property is missing, malformed or contradicts another one. */
export class InputError extends EsRemoteError {
    /** The input property at fault, e.g. `seeds[1]`. */
    readonly property: string;
    constructor(property: string, reason: string) {
        super(`${property}: ${reason}`, { property });
        this.name = "InputError";
        this.property = property;
    }
}

/** The two clusters' versions cannot talk, or the pair is not a supported cross-cluster configuration. */
export class VersionIncompatibilityError extends EsRemoteError {
    constructor(message: string, details: { localVersion: string; remoteVersion: string; rule: string }) {
        super(message, details);
        this.name = "VersionIncompatibilityError";
    }
}

/** A cluster does not trust the CA that issued the other cluster's transport certificates, or TLS is off. */
export class TrustError extends EsRemoteError {
    constructor(message: string, details: Record<string, unknown> = {}) {
        super(message, details);
        this.name = "TrustError";
    }
}

/** A cluster did not answer, refused the credentials, or answered something that is not Elasticsearch. */
export class ClusterUnreachableError extends EsRemoteError {
    constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
        super(message, details, options);
        this.name = "ClusterUnreachableError";
    }
}

/** A remote cluster was registered but did not report itself connected within the timeout. */
export class RemoteNotConnectedError extends EsRemoteError {
    constructor(message: string, details: Record<string, unknown> = {}) {
        super(message, details);
        this.name = "RemoteNotConnectedError";
    }
}

/**
 * What the resource would create already exists on the cluster (a remote alias, a role, a user, an
 * API key name) and `adoptExisting` is not set. Nothing was written.
 */
export class ConflictError extends EsRemoteError {
    constructor(message: string, details: { kind: string; name: string } & Record<string, unknown>) {
        super(message, details);
        this.name = "ConflictError";
    }
}

/** A node named in the inputs (e.g. `verifyOn.nodeName`) is not in the cluster the connection reaches. */
export class NodeNotFoundError extends EsRemoteError {
    constructor(message: string, details: { nodeName: string } & Record<string, unknown>) {
        super(message, details);
        this.name = "NodeNotFoundError";
    }
}

/**
 * A write whose connection broke after the request was sent: the cluster may or may not have
 * applied it. `details.outcomeUnknown` is true; the resource records what may exist, so the next
 * `pulumi up` finishes (or `pulumi refresh` drops) it.
 */
export class OutcomeUnknownError extends EsRemoteError {
    constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
        super(message, { ...details, outcomeUnknown: true }, options);
        this.name = "OutcomeUnknownError";
    }
}

/**
 * A create whose outcome is unknown (a write whose connection broke after it was sent, or an undo
 * that failed): what it wrote may be on the cluster. Thrown with `id` and `properties`, which
 * Pulumi's dynamic provider host turns into "created but failed to initialize": the engine records
 * the resource with these properties, runs `update` on it at the next `up` (which writes
 * everything), `read` at `refresh` (which drops it if nothing is there) and `delete` at `destroy`.
 * Without it the next `up` refused the name as already taken: no convergence without a repair by hand.
 */
export class CreateInterruptedError extends OutcomeUnknownError {
    /** The resource id the engine records. */
    readonly id: string;
    /** The properties the engine records (never a secret the state would not hide). */
    readonly properties: Record<string, unknown>;
    /** What the host prints as the reasons of the failed initialization. */
    readonly reasons: string[];
    constructor(message: string, id: string, properties: Record<string, unknown>, details: Record<string, unknown>, cause?: unknown) {
        super(message, details, cause === undefined ? undefined : { cause });
        this.name = "CreateInterruptedError";
        this.id = id;
        this.properties = properties;
        this.reasons = [message];
    }
}

/**
 * A cluster's license does not allow what the resource needs (e.g. API-key remote clusters need an
 * Enterprise or trial license on both clusters).
 */
export class LicenseError extends EsRemoteError {
    constructor(message: string, details: Record<string, unknown> = {}) {
        super(message, details);
        this.name = "LicenseError";
    }
}

/**
 * A node could not be reached or used through its access (`delivery.access`, `trustDeliveries[].access`,
 * `keystoreOn[].access`): the host did not answer, the login or `sudo -n` was refused, a step timed
 * out, or a step on the node failed. `details.host` names the host (or `this host`), `details.node`
 * the node's directory or keystore when known. Never carries what the node printed (it may hold a secret).
 */
export class NodeAccessError extends EsRemoteError {
    constructor(message: string, details: { host: string } & Record<string, unknown>, options?: { cause?: unknown }) {
        super(message, details, options);
        this.name = "NodeAccessError";
    }
}

/**
 * An SSH host presented a host key other than the pinned one (`hostKey`), or no key was pinned:
 * possibly a man in the middle. `details.expected` and `details.presented` are fingerprints
 * (`SHA256:…`). Nothing was sent to the host.
 */
export class HostKeyError extends NodeAccessError {
    constructor(message: string, details: { host: string; expected: string[]; presented: string }) {
        super(message, details);
        this.name = "HostKeyError";
    }
}

/**
 * One line for a failure: Elasticsearch's error type and reason when it answered (the client's own
 * message repeats the reason over several lines), else the error's message.
 */
export function reasonOf(err: unknown): string {
    const e = err as { statusCode?: number; meta?: { body?: { error?: { type?: string; reason?: string } } } };
    const body = e?.meta?.body?.error;
    return body?.reason ? `HTTP ${e.statusCode ?? "?"} ${body.type ?? "error"}: ${body.reason}` : describeError(err).replace(/\s*\n\s*/g, " ");
}

/** Turns any thrown value into a one-line reason suitable for a user-facing message. */
export function describeError(err: unknown): string {
    if (err instanceof Error) {
        const body = (err as { meta?: { body?: unknown } }).meta?.body as
            | { error?: { type?: string; reason?: string; root_cause?: Array<{ reason?: string }> } }
            | undefined;
        const reason = body?.error?.reason ?? body?.error?.root_cause?.[0]?.reason;
        return reason ? `${err.message} (${reason})` : err.message;
    }
    return String(err);
}
