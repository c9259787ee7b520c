/**
 * Hooks of `CrossClusterUser`: a native-realm user on the local cluster only (with certificate
 * trust the remote cluster never sees the user, only its role names; with API-key trust the
 * remote sees what the cross-cluster API key allows).
 *
 * - check: validates every input (no network), each failure naming the property;
 * - diff: a new username replaces the user, and so do connection URLs that now reach another
 *   cluster (the `cluster_uuid` recorded at create differs);
 * - create: refuses an existing user unless `adoptExisting` ({@link ConflictError}); the password is
 *   the `password` input or, when absent, generated (`crypto.randomBytes`, 32 characters) and
 *   returned as the secret output `password`, kept across updates. A PUT whose outcome is unknown
 *   is recorded as an interrupted create (without any password), which the next `up` finishes;
 * - read: a deleted user makes the resource gone; roles, names, metadata and `enabled` changed by
 *   hand become drift (also returned as `inputs`, so `pulumi preview --diff` shows old => new),
 *   and so does a password changed by hand (the user's credentials are tried against
 *   `_security/_authenticate`);
 * - update: writes the user with its password (so a password changed by hand is restored);
 * - delete: deletes the user; already absent is success.
 *
 * The password never appears in a log line, an error message or an error's `cause`: messages are
 * rebuilt with the password masked, and the error of a request whose body holds the password
 * (PUT of the user) is not attached as `cause` (the client keeps the request body in it).
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { Client, errors } from "@elastic/elasticsearch";
import type { CrossClusterUserArgs } from "../sdk/crossClusterUser";
import { asClusterError, callCluster, clientFor, ClusterConnection, insecureWarnings, validateConnection } from "./core/client";
import { containsUnknown, HookModule, plain } from "./core/dynamic";
import { ClusterUnreachableError, ConflictError, EsRemoteError, reasonOf } from "./core/errors";
import { outcomeUnknown } from "./core/steps";
import { CheckFailure, failOnInvalid, urlsOf } from "./core/validation";
import { clusterUuidOf, urlsDiffer } from "./security/identity";
import { CreateInterruptedError, interruptedAdvice } from "./security/interrupted";
import { securityIndexHint, validateMetadata, validateRoleName, validateUsername } from "./security/roles";

/** Inputs as the hooks receive them: the sdk's arguments, resolved (`pulumi.Unwrap`). */
export type UserInputs = Omit<pulumi.Unwrap<CrossClusterUserArgs>, "local" | "metadata"> & {
    local: ClusterConnection;
    metadata?: Record<string, unknown>;
};

/** Outputs: the inputs as found on the cluster, plus the effective password. */
export interface UserOutputs extends Omit<UserInputs, "password"> {
    /** The password in force: the input, or the generated one (secret). Absent after an interrupted create. */
    password: string;
    /** True when the password was generated (no `password` input). */
    passwordGenerated: boolean;
    /** False when the user's credentials no longer authenticate (password changed by hand); absent when not checked. */
    passwordInSync?: boolean;
    /** `cluster_uuid` of the local cluster at create (absent in states of earlier releases). */
    localClusterUuid?: string;
    /** Set when a create may have written the user and then failed; the next update writes it. */
    createInterrupted?: boolean;
}

/**
 * The local cluster's UUID, or undefined when the connection's user may not read it (HTTP 403: the
 * `monitor` cluster privilege is missing; `manage_security` alone can manage users). The user is
 * then written without it, as by earlier releases, and a warning says what is lost.
 */
async function localUuid(conn: ClusterConnection, username: string): Promise<string | undefined> {
    try {
        return await clusterUuidOf("local", conn);
    } catch (e) {
        if (e instanceof EsRemoteError && e.details.status === 403) {
            pulumi.log.warn(`user '${username}': the connection's user may not read the local cluster's UUID (it lacks the 'monitor' cluster privilege), so a change of local.urls to another cluster cannot be detected`);
            return undefined;
        }
        throw e;
    }
}

/** The input keys of a user except the password, for the `inputs` that `read` returns. */
const INPUT_KEYS = ["local", "username", "roles", "fullName", "email", "metadata", "enabled", "adoptExisting"] as const;

/** Shortest password Elasticsearch accepts (outside FIPS mode). */
export const MIN_PASSWORD_LENGTH = 6;
/** Random bytes of a generated password: 24 bytes → 32 base64url characters. */
const GENERATED_PASSWORD_BYTES = 24;

/** A new random password: 32 characters of base64url (192 bits). @internal */
export function generatePassword(): string {
    return crypto.randomBytes(GENERATED_PASSWORD_BYTES).toString("base64url");
}

function userPath(username: string): string {
    return `/_security/user/${encodeURIComponent(username)}`;
}

function validateOptionalString(v: unknown, property: string): CheckFailure[] {
    if (v === undefined || v === null || containsUnknown(v) || typeof v === "string") return [];
    return [{ property, reason: `must be a string (got ${typeof v})` }];
}

/**
 * Validation without the network (pure). The password is checked for length only and never quoted.
 * @internal
 */
export function validateUserInputs(n: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    if (!containsUnknown(n.local)) f.push(...validateConnection("local", n.local));
    f.push(...validateUsername(n.username, "username"));
    const roles = n.roles;
    if (!containsUnknown(roles)) {
        if (roles === undefined || roles === null) {
            f.push({ property: "roles", reason: 'is required: the role names of the user, e.g. [searchRole.name] (give [] for none)' });
        } else if (!Array.isArray(roles)) {
            f.push({ property: "roles", reason: "must be a list of role names" });
        } else {
            roles.forEach((r, i) => {
                // Built-in roles may be granted: only the name rules apply.
                const rf = validateRoleName(r, `roles[${i}]`).filter((x) => !x.reason.includes("built-in"));
                f.push(...rf);
            });
        }
    }
    const pw = n.password;
    if (pw !== undefined && pw !== null && !containsUnknown(pw)) {
        if (typeof pw !== "string") {
            f.push({ property: "password", reason: "must be a string" });
        } else if (pw.length < MIN_PASSWORD_LENGTH) {
            f.push({ property: "password", reason: `is too short: Elasticsearch requires at least ${MIN_PASSWORD_LENGTH} characters (leave it out to have a 32-character one generated)` });
        }
    }
    f.push(...validateOptionalString(n.fullName, "fullName"));
    f.push(...validateOptionalString(n.email, "email"));
    f.push(...validateMetadata(n.metadata, "metadata"));
    for (const k of ["enabled", "adoptExisting"]) {
        if (n[k] !== undefined && !containsUnknown(n[k]) && typeof n[k] !== "boolean") {
            f.push({ property: k, reason: "must be true or false" });
        }
    }
    return f;
}

/** `text` with every occurrence of `secret` replaced. */
function mask(text: string, secret: string | undefined): string {
    return secret ? text.split(secret).join("[secret]") : text;
}

/**
 * An error safe to show, of the same class as the failure (a {@link ClusterUnreachableError} stays
 * one, `details.outcomeUnknown` included): the cluster's reason with the password masked. The
 * original error is attached as `cause` only when its request carried no password (`keepCause`):
 * the client keeps the request body in the error, and a user's PUT body holds the password.
 */
function safeError(what: string, conn: ClusterConnection, err: unknown, password: string | undefined, keepCause: boolean): EsRemoteError {
    const e = asClusterError("local", conn, what, err);
    const reason = reasonOf(e);
    const message = mask(e instanceof EsRemoteError ? e.message : `local cluster (${urlsOf(conn)}) failed to ${what}: ${reason}${securityIndexHint(reason)}`, password);
    const status = err instanceof errors.ResponseError ? err.statusCode : undefined;
    const details = { ...(e instanceof EsRemoteError ? e.details : {}), ...(status ? { status } : {}) };
    const options = keepCause ? { cause: err } : undefined;
    return e instanceof ClusterUnreachableError ? new ClusterUnreachableError(message, details, options) : new EsRemoteError(message, details, options);
}

/** A request through callCluster (bounded retries, non-JSON answers refused), its errors made safe (see {@link safeError}). */
async function call<T>(what: string, conn: ClusterConnection, password: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
        return await callCluster("local", conn, what, fn);
    } catch (e) {
        throw safeError(what, conn, e, password, password === undefined);
    }
}

interface EsUser {
    username: string;
    roles: string[];
    full_name?: string | null;
    email?: string | null;
    metadata?: Record<string, unknown>;
    enabled?: boolean;
}

async function getUser(client: Client, conn: ClusterConnection, username: string): Promise<EsUser | undefined> {
    const res = await call(`read user '${username}' (GET _security/user)`, conn, undefined, () =>
        client.transport.request<Record<string, EsUser>>({ method: "GET", path: userPath(username) }, { ignore: [404], meta: true }));
    if (res.statusCode === 404) return undefined;
    return res.body?.[username];
}

async function putUser(client: Client, inputs: UserInputs, password: string): Promise<void> {
    const body: Record<string, unknown> = { password, roles: inputs.roles ?? [] };
    if (inputs.fullName !== undefined) body.full_name = inputs.fullName;
    if (inputs.email !== undefined) body.email = inputs.email;
    body.metadata = inputs.metadata ?? {};
    body.enabled = inputs.enabled ?? true;
    await call(`write user '${inputs.username}' (PUT _security/user)`, inputs.local, password, () =>
        client.transport.request({ method: "PUT", path: userPath(inputs.username), body }));
}

/**
 * Whether the user's credentials authenticate on the local cluster: true, false (401), or undefined
 * when the check could not say (user disabled, no password known, or another error — reported, not fatal).
 */
async function passwordWorks(state: UserOutputs): Promise<boolean | undefined> {
    if (state.enabled === false || !state.password) return undefined;
    const conn: ClusterConnection = { ...state.local, username: state.username, password: state.password, apiKey: undefined, maxRetries: 0 };
    const client = clientFor(conn);
    try {
        await client.transport.request({ method: "GET", path: "/_security/_authenticate" });
        return true;
    } catch (e) {
        if (e instanceof errors.ResponseError && e.statusCode === 401) return false;
        pulumi.log.warn(`user '${state.username}': could not check its password against the local cluster: ${safeError("authenticate", conn, e, state.password, false).message}`);
        return undefined;
    }
}

function sortedRoles(r: unknown): string[] {
    return Array.isArray(r) ? [...new Set(r.map(String))].sort() : [];
}

function orUndefined<T>(v: T | null | undefined): T | undefined {
    return v === null || v === undefined ? undefined : v;
}

function outputs(inputs: UserInputs, password: string, generated: boolean, extra: Partial<UserOutputs>): UserOutputs {
    const { password: _input, ...rest } = inputs;
    return plain({ ...rest, password, passwordGenerated: generated, ...extra });
}

/** The password an update writes: the input; else the generated one kept; else a new one. */
function effectivePassword(o: Partial<UserOutputs>, n: UserInputs): { password: string; generated: boolean } {
    if (n.password !== undefined && n.password !== null) return { password: n.password, generated: false };
    if (o.passwordGenerated && o.password) return { password: o.password, generated: true };
    return { password: generatePassword(), generated: true };
}

// ---------------------------------------------------------------------------------------- hooks

export async function check(_olds: Partial<UserInputs>, news: UserInputs): Promise<pulumi.dynamic.CheckResult<UserInputs>> {
    const n = (news ?? {}) as Record<string, unknown>;
    const failures = validateUserInputs(n);
    if (!containsUnknown(n.local)) insecureWarnings("local", n.local).forEach((m) => pulumi.log.warn(m));
    if (!failures.length && containsUnknown(n)) {
        pulumi.log.info(`user '${containsUnknown(n.username) ? "(name not known yet)" : String(n.username)}': some inputs are not known yet; they are checked again at update time`);
    }
    return { inputs: news, failures };
}

export async function diff(_id: string, olds: UserOutputs, news: UserInputs): Promise<pulumi.dynamic.DiffResult> {
    const o = olds;
    const n = news;
    const replaces: string[] = [];
    if (!containsUnknown(n.username) && o.username !== n.username) replaces.push("username");
    // URLs that reach another cluster are a new user there; states of earlier releases have no UUID.
    if (o.localClusterUuid && n.local && !containsUnknown(n.local) && urlsDiffer(o.local, n.local)) {
        try {
            const now = await clusterUuidOf("local", n.local);
            if (now && now !== o.localClusterUuid) {
                replaces.push("local");
                pulumi.log.info(`user '${n.username}': local.urls now reach another cluster (cluster_uuid ${now}, was ${o.localClusterUuid}): the user is replaced`);
            }
        } catch (e) {
            pulumi.log.warn(`user '${n.username}': could not tell which cluster the new local.urls reach (${(e as Error).message}); the update checks it again`);
        }
    }
    if (containsUnknown(n)) {
        return { changes: true, replaces };
    }
    const changed: string[] = [];
    if (o.createInterrupted) changed.push("createInterrupted");
    if (n.password !== undefined && n.password !== null ? n.password !== o.password : !o.passwordGenerated) changed.push("password");
    if (o.passwordInSync === false) changed.push("password");
    if (JSON.stringify(sortedRoles(o.roles)) !== JSON.stringify(sortedRoles(n.roles))) changed.push("roles");
    if ((o.fullName ?? null) !== (n.fullName ?? null)) changed.push("fullName");
    if ((o.email ?? null) !== (n.email ?? null)) changed.push("email");
    if (JSON.stringify(o.metadata ?? {}) !== JSON.stringify(n.metadata ?? {})) changed.push("metadata");
    if ((o.enabled ?? true) !== (n.enabled ?? true)) changed.push("enabled");
    for (const k of ["local", "adoptExisting"] as const) {
        if (JSON.stringify(o[k] ?? null) !== JSON.stringify(n[k] ?? null)) changed.push(k);
    }
    return { changes: changed.length > 0 || replaces.length > 0, replaces, deleteBeforeReplace: false };
}

export async function create(news: UserInputs): Promise<pulumi.dynamic.CreateResult<UserOutputs>> {
    failOnInvalid(validateUserInputs((news ?? {}) as Record<string, unknown>));
    const inputs = news;
    const client = clientFor(inputs.local);
    const existing = await getUser(client, inputs.local, inputs.username);
    if (existing && !inputs.adoptExisting) {
        throw new ConflictError(
            `user '${inputs.username}' already exists on the local cluster (${urlsOf(inputs.local)}) with roles [${existing.roles.join(", ")}]; ` +
            `set adoptExisting: true to take it over (its password is replaced), or choose another username. Nothing was written.`,
            { kind: "user", name: inputs.username },
        );
    }
    const localClusterUuid = await localUuid(inputs.local, inputs.username);
    const { password, generated } = effectivePassword({}, inputs);
    try {
        await putUser(client, inputs, password);
    } catch (e) {
        if (outcomeUnknown(e)) {
            // Recorded without any password: the state of an unfinished user holds no secret beyond
            // its inputs, and the next update writes the user with the input or a new generated one.
            const { password: _pw, ...recorded } = outputs(inputs, password, false, { localClusterUuid, createInterrupted: true });
            const p = (news as { __provider?: unknown }).__provider;
            throw new CreateInterruptedError(
                `${(e as Error).message}. The request was sent, so the user may exist on the cluster, ${interruptedAdvice("user")}`,
                inputs.username,
                p === undefined ? recorded : { ...recorded, __provider: p },
                { username: inputs.username },
            );
        }
        throw e;
    }
    return { id: inputs.username, outs: outputs(inputs, password, generated, { passwordInSync: true, localClusterUuid }) };
}

export async function read(id: string, props: UserOutputs): Promise<pulumi.dynamic.ReadResult<UserOutputs>> {
    const state = props;
    const username = state.username ?? id;
    const client = clientFor(state.local);
    const found = await getUser(client, state.local, username);
    if (!found) {
        // Deleted by hand (or an interrupted create that never landed): the resource is gone, and
        // the next `up` creates it again.
        return {};
    }
    const now: UserOutputs = {
        ...state,
        roles: found.roles ?? [],
        fullName: orUndefined(found.full_name),
        email: orUndefined(found.email),
        metadata: found.metadata && Object.keys(found.metadata).length ? found.metadata : (state.metadata === undefined ? undefined : {}),
        enabled: found.enabled ?? true,
        // States of earlier releases have no UUID: record it now, from the connection they hold.
        localClusterUuid: state.localClusterUuid ?? await localUuid(state.local, username),
    };
    if (state.enabled === undefined && now.enabled === true) delete now.enabled;
    now.passwordInSync = await passwordWorks(now);
    // Input names as found, for `preview --diff`. Never the password: a read's inputs are not
    // covered by additionalSecretOutputs, so it would land in the state in plain text.
    const inputs: Record<string, unknown> = {};
    for (const k of INPUT_KEYS) inputs[k] = now[k];
    return { id: username, props: plain(now), inputs: plain(inputs) as unknown as UserOutputs };
}

export async function update(_id: string, olds: UserOutputs, news: UserInputs): Promise<pulumi.dynamic.UpdateResult<UserOutputs>> {
    failOnInvalid(validateUserInputs((news ?? {}) as Record<string, unknown>));
    const o = olds;
    const inputs = news;
    const client = clientFor(inputs.local);
    const localClusterUuid = await localUuid(inputs.local, inputs.username);
    if (o.localClusterUuid && localClusterUuid && o.localClusterUuid !== localClusterUuid) {
        throw new EsRemoteError(
            `user '${inputs.username}': local.urls (${urlsOf(inputs.local)}) now reach another cluster (cluster_uuid ${localClusterUuid}, the state records ${o.localClusterUuid}). ` +
            `Nothing was written. Run pulumi up again: its preview replaces the user (created on the new cluster, deleted from the old one).`,
            { username: inputs.username, recordedClusterUuid: o.localClusterUuid, clusterUuid: localClusterUuid });
    }
    const { password, generated } = effectivePassword(o, inputs);
    // Always with the password: it restores one changed by hand, and recreates a user deleted
    // by hand since the last refresh (Elasticsearch requires a password for a new user).
    await putUser(client, inputs, password);
    return { outs: outputs(inputs, password, generated, { passwordInSync: true, localClusterUuid }) };
}

export async function delete_(id: string, props: UserOutputs): Promise<void> {
    const state = props;
    const username = state.username ?? id;
    const client = clientFor(state.local);
    await call(`delete user '${username}' (DELETE _security/user)`, state.local, undefined, () =>
        client.transport.request({ method: "DELETE", path: userPath(username) }, { ignore: [404] }));
}
export { delete_ as delete };

/** Compile-time proof that these hooks match the resource's types. */
const _hooks: HookModule<UserInputs, UserOutputs> = { check, diff, create, read, update, delete: delete_ };
void _hooks;
