/**
 * Hooks of `CrossClusterUser`: a native-realm user on the local cluster only (with certificate
 * trust the remote cluster never sees the user, only its role names).
 *
 * - check: validates every input (no network), each failure naming the property;
 * - create: refuses an existing user unless `adoptExisting`; the password is the `password` input
 *   or, when absent, generated (`crypto.randomBytes`, 32 characters) and returned as the secret
 *   output `password`, kept across updates;
 * - read: a deleted user makes the resource gone; roles, names, metadata and `enabled` changed by
 *   hand become drift, and so does a password changed by hand (the user's credentials are tried
 *   against `_security/_authenticate`);
 * - update: writes the user with its password (so a password changed by hand is restored);
 * - delete: deletes the user; already absent is success.
 *
 * The password never appears in a log line or an error message: errors from these hooks are
 * rebuilt from Elasticsearch's reason with the password masked, without the original error (whose
 * request body holds the password) attached.
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { Client, errors } from "@elastic/elasticsearch";
import { asClusterError, callCluster, CheckFailure, clientFor, ClusterConnection, insecureWarnings, validateConnection } from "./core/client";
import { containsUnknown, plain } from "./core/dynamic";
import { describeError, EsRemoteError, InputError } from "./core/errors";
import { securityIndexHint, validateMetadata, validateRoleName, validateUsername } from "./security/roles";

/** Inputs as the hooks receive them (resolved, unwrapped). */
export interface UserInputs {
    local: ClusterConnection;
    username: string;
    roles: string[];
    password?: string;
    fullName?: string;
    email?: string;
    metadata?: Record<string, unknown>;
    enabled?: boolean;
    adoptExisting?: boolean;
}

/** Outputs: the inputs as found on the cluster, plus the effective password. */
export interface UserOutputs extends Omit<UserInputs, "password"> {
    /** The password in force: the input, or the generated one (secret). */
    password: string;
    /** True when the password was generated (no `password` input). */
    passwordGenerated: boolean;
    /** False when the user's credentials no longer authenticate (password changed by hand); absent when not checked. */
    passwordInSync?: boolean;
}

/** Shortest password Elasticsearch accepts (outside FIPS mode). */
export const MIN_PASSWORD_LENGTH = 6;
/** Random bytes of a generated password: 24 bytes → 32 base64url characters. */
const GENERATED_PASSWORD_BYTES = 24;

/** A new random password: 32 characters of base64url (192 bits). @internal */
export function generatePassword(): string {
    return crypto.randomBytes(GENERATED_PASSWORD_BYTES).toString("base64url");
}

function where(c: ClusterConnection | undefined): string {
    return (c?.urls ?? []).join(", ");
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

function assertValid(n: Record<string, unknown>): void {
    const f = validateUserInputs(n);
    if (f.length) throw new InputError(f[0].property, `${f[0].reason}. Nothing was written.`);
}

/**
 * An error safe to show: the cluster's reason with the password masked, and no `cause` (the
 * original error carries the request body, password included).
 */
function safeError(what: string, conn: ClusterConnection, err: unknown, password: string | undefined, details: Record<string, unknown> = {}): EsRemoteError {
    const e = asClusterError("local", conn, what, err);
    const body = (e as { meta?: { body?: { error?: { type?: string; reason?: string } } } }).meta?.body?.error;
    const reason = body?.reason ? `HTTP ${(e as { statusCode?: number }).statusCode ?? "?"} ${body.type ?? "error"}: ${body.reason}` : describeError(e).replace(/\s*\n\s*/g, " ");
    let message = e instanceof EsRemoteError ? e.message : `local cluster (${where(conn)}) failed to ${what}: ${reason}${securityIndexHint(reason)}`;
    if (password) message = message.split(password).join("[secret]");
    const status = err instanceof errors.ResponseError ? err.statusCode : undefined;
    return new EsRemoteError(message, { ...details, ...(status ? { status } : {}) });
}

/** A request through callCluster (bounded retries, non-JSON answers refused), its errors with the password masked. */
async function call<T>(what: string, conn: ClusterConnection, password: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
        return await callCluster("local", conn, what, fn);
    } catch (e) {
        throw safeError(what, conn, e, password);
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
 * when the check could not say (user disabled, or another error — reported, not fatal).
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
        pulumi.log.warn(`user '${state.username}': could not check its password against the local cluster: ${safeError("authenticate", conn, e, state.password).message}`);
        return undefined;
    }
}

function sortedRoles(r: unknown): string[] {
    return Array.isArray(r) ? [...new Set(r.map(String))].sort() : [];
}

function orUndefined<T>(v: T | null | undefined): T | undefined {
    return v === null || v === undefined ? undefined : v;
}

function outputs(inputs: UserInputs, password: string, generated: boolean, passwordInSync: boolean | undefined): UserOutputs {
    const { password: _input, ...rest } = inputs;
    return plain({ ...rest, password, passwordGenerated: generated, passwordInSync });
}

/** The password an update writes: the input; else the generated one kept; else a new one. */
function effectivePassword(o: Partial<UserOutputs>, n: UserInputs): { password: string; generated: boolean } {
    if (n.password !== undefined && n.password !== null) return { password: n.password, generated: false };
    if (o.passwordGenerated && o.password) return { password: o.password, generated: true };
    return { password: generatePassword(), generated: true };
}

// ---------------------------------------------------------------------------------------- hooks

export async function check(_olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
    const n = (news ?? {}) as Record<string, unknown>;
    const failures = validateUserInputs(n);
    if (!containsUnknown(n.local)) insecureWarnings("local", n.local).forEach((m) => pulumi.log.warn(m));
    if (!failures.length && containsUnknown(n)) {
        pulumi.log.info(`user '${containsUnknown(n.username) ? "(name not known yet)" : String(n.username)}': some inputs are not known yet; they are checked again at update time`);
    }
    return { inputs: news, failures };
}

export async function diff(_id: string, olds: any, news: any): Promise<pulumi.dynamic.DiffResult> {
    const o = olds as UserOutputs;
    const n = news as UserInputs;
    const replaces: string[] = [];
    if (!containsUnknown(n.username) && o.username !== n.username) replaces.push("username");
    if (containsUnknown(n)) {
        return { changes: true, replaces };
    }
    const changed: string[] = [];
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

export async function create(news: any): Promise<pulumi.dynamic.CreateResult> {
    assertValid(news ?? {});
    const inputs = news as UserInputs;
    const client = clientFor(inputs.local);
    const existing = await getUser(client, inputs.local, inputs.username);
    if (existing && !inputs.adoptExisting) {
        throw new EsRemoteError(
            `user '${inputs.username}' already exists on the local cluster (${where(inputs.local)}) with roles [${existing.roles.join(", ")}]; ` +
            `set adoptExisting: true to take it over (its password is replaced), or choose another username. Nothing was written.`,
            { username: inputs.username },
        );
    }
    const { password, generated } = effectivePassword({}, inputs);
    await putUser(client, inputs, password);
    return { id: inputs.username, outs: outputs(inputs, password, generated, true) };
}

export async function read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    const state = props as UserOutputs;
    const username = state.username ?? id;
    const client = clientFor(state.local);
    const found = await getUser(client, state.local, username);
    if (!found) {
        // Deleted by hand: the resource is gone, and the next `up` creates it again.
        return {};
    }
    const now: UserOutputs = {
        ...state,
        roles: found.roles ?? [],
        fullName: orUndefined(found.full_name),
        email: orUndefined(found.email),
        metadata: found.metadata && Object.keys(found.metadata).length ? found.metadata : (state.metadata === undefined ? undefined : {}),
        enabled: found.enabled ?? true,
    };
    if (state.enabled === undefined && now.enabled === true) delete now.enabled;
    now.passwordInSync = await passwordWorks(now);
    return { id: username, props: plain(now) };
}

export async function update(_id: string, olds: any, news: any): Promise<pulumi.dynamic.UpdateResult> {
    assertValid(news ?? {});
    const o = olds as UserOutputs;
    const inputs = news as UserInputs;
    const client = clientFor(inputs.local);
    const { password, generated } = effectivePassword(o, inputs);
    // Always with the password: it restores one changed by hand, and recreates a user deleted
    // by hand since the last refresh (Elasticsearch requires a password for a new user).
    await putUser(client, inputs, password);
    return { outs: outputs(inputs, password, generated, true) };
}

export async function delete_(id: string, props: any): Promise<void> {
    const state = props as UserOutputs;
    const username = state.username ?? id;
    const client = clientFor(state.local);
    await call(`delete user '${username}' (DELETE _security/user)`, state.local, state.password, () =>
        client.transport.request({ method: "DELETE", path: userPath(username) }, { ignore: [404] }));
}
export { delete_ as delete };
