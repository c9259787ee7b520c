/**
 * Hooks of `CrossClusterRole`. Certificate model: one role name on two clusters, with a definition
 * for each side (step 4 of Elastic's procedure): the user authenticates on the local cluster and its
 * role *names* travel to the remote cluster, which applies its own role of that name. API-key model:
 * one role on the local cluster with `remote_indices` for the remote cluster aliases; nothing is
 * written on the remote cluster (the cross-cluster API key's access limits what users reach there).
 *
 * - check: validates every input, each failure naming the property; nothing is written. No network,
 *   except for a role (model "apiKey") with `remote_cluster` privileges: the local nodes' versions
 *   are read (`GET _nodes`) and a node too old for a privilege is named (8.15 `monitor_enrich`, 8.17
 *   `monitor_stats`);
 * - diff: a new name or model replaces the role; so do connection URLs that now reach another
 *   cluster (the `cluster_uuid` recorded at create differs); a side changed by hand is an update;
 * - create: refuses a name that already exists on either side unless `adoptExisting`
 *   ({@link ConflictError}); writes the remote side first, then the local side, each with its undo
 *   ({@link withUndo}): if the local side fails, the remote side is removed again (or restored, when
 *   adopted), so no half-created pair is left; a write whose outcome is unknown (connection broken
 *   after the request was sent) is taken back too. An undo that fails is recorded as an interrupted
 *   create, which the next `up` finishes;
 * - read: reads each side; a side changed or deleted by hand becomes drift (in the outputs and, in
 *   input names, in `inputs`, so `pulumi preview --diff` shows old => new) that the next update
 *   repairs; no side left = resource gone;
 * - update: writes each side (remote first), each with its undo: a failure puts back what the sides
 *   held before the update, so the pair is never left half-updated;
 * - delete: deletes each side; a side already absent is success.
 */
import * as pulumi from "@pulumi/pulumi";
import { Client } from "@elastic/elasticsearch";
import type { CrossClusterRoleArgs } from "../sdk/crossClusterRole";
import { callCluster, clientFor, ClusterConnection, insecureWarnings, redactUrl, validateConnection } from "./core/client";
import { containsUnknown, HookModule, plain } from "./core/dynamic";
import { ClusterUnreachableError, ConflictError, EsRemoteError, reasonOf } from "./core/errors";
import { outcomeUnknown, withUndo, Writes } from "./core/steps";
import { CheckFailure, failOnInvalid, urlsOf } from "./core/validation";
import { clusterUuidOf, urlsDiffer } from "./security/identity";
import type { CrossClusterAccess } from "./apikey/keyBody";
import { roleAccessProblems, RoleAccessOutcome, validateKeyAccess } from "./apikey/roleAccess";
import { CreateInterruptedError, interruptedAdvice } from "./security/interrupted";
import { nodeVersions } from "./apikey/checks";
import {
    normaliseRole, observedSpec, remoteClusterUses, remoteClusterVersionProblems, RoleBody, roleBodies, RoleSpec, ROLE_SPEC_KEYS, sameRole, securityIndexHint, specOf,
    validateRoleName, validateRoleSpec, writableRole,
} from "./security/roles";

/** Inputs as the hooks receive them: the sdk's arguments, resolved (`pulumi.Unwrap`). */
export type RoleInputs = Omit<pulumi.Unwrap<CrossClusterRoleArgs>, "local" | "remote" | keyof RoleSpec> & RoleSpec & {
    local: ClusterConnection;
    remote?: ClusterConnection;
};

/** Outputs: the inputs plus each side as found on its cluster. */
export interface RoleOutputs extends RoleInputs {
    /** The local side in normal form, or null when the role is absent there. */
    localRole: RoleBody | null;
    /** The remote side in normal form, or null when the role is absent there (always in the API-key model). */
    remoteRole: RoleBody | null;
    localExists: boolean;
    remoteExists: boolean;
    /** The roles found when `adoptExisting` took them over (restored if the create fails). */
    adoptedFrom?: { local?: RoleBody; remote?: RoleBody };
    /** `cluster_uuid` of the local cluster at create (absent in states of earlier releases). */
    localClusterUuid?: string;
    /** `cluster_uuid` of the remote cluster at create (certificate model). */
    remoteClusterUuid?: string;
    /** Set when a create may have written something and then failed; the next update writes every side. */
    createInterrupted?: boolean;
}

type Side = "local" | "remote";

/** The input keys of a role, for the `inputs` that `read` returns. */
const INPUT_KEYS = ["local", "remote", "name", "adoptExisting", "keyAccess", ...ROLE_SPEC_KEYS] as const;

/** Whether the role lives on the remote cluster too (certificate model, the default). */
function twoSided(i: { model?: string }): boolean {
    return i.model !== "apiKey";
}

/** One line for a failure, with the hint for clusters that cannot store native roles. */
function reasonWithHint(err: unknown): string {
    const reason = reasonOf(err);
    return reason + securityIndexHint(reason);
}

/**
 * An error about `err` with our message, of the same class: a {@link ClusterUnreachableError} stays
 * one (with `details.outcomeUnknown`), so programs can catch it. The cause is kept: role requests
 * carry no secret (the connection's credentials are in the client's headers, not in the error).
 */
function wrap(message: string, err: unknown, details: Record<string, unknown>): EsRemoteError {
    if (err instanceof ClusterUnreachableError) return new ClusterUnreachableError(message, { ...err.details, ...details }, { cause: err });
    return new EsRemoteError(message, details, { cause: err });
}

/** One side's write in a create or update, and what that side held before (its undo restores it; none: the undo deletes the role). */
interface SideWrite {
    conn: ClusterConnection;
    client: Client;
    body: RoleBody;
    before?: RoleBody;
}

/** The sides a create or update writes (no remote in the API-key model). */
interface SideWrites {
    remote?: SideWrite;
    local: SideWrite;
}

/** A failed write of one side: `text` says which side and why; the hook's message adds what is left. */
class SideWriteFailed extends Error {
    constructor(readonly side: Side, readonly text: string, readonly cause: unknown) {
        super(text);
        this.name = "SideWriteFailed";
    }
}

const STEP: Record<Side, string> = { remote: "write the remote side", local: "write the local side" };

function sideOf(what: string): Side {
    return what === STEP.remote ? "remote" : "local";
}

function asSideFailure(err: Error): SideWriteFailed {
    return err instanceof SideWriteFailed ? err : new SideWriteFailed("local", err.message, err);
}

/** The message part for a write whose request left without an answer. */
function landed(f: SideWriteFailed): string {
    return outcomeUnknown(f.cause) ? "; the request was sent, so it may have been applied" : "";
}

/** Whether `side`'s write surely landed (it succeeded), rather than may have (its request broke). */
function certain(f: SideWriteFailed, side: Side): boolean {
    return f.side !== side;
}

function undoVerb(s: SideWrite, side: Side): string {
    return s.before ? `restore the ${side} side's previous definition` : `remove the ${side} side again`;
}

function capitalised(text: string): string {
    return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Writes the sides, remote first (a local role whose remote counterpart is missing would let the
 * user in locally and fail on every cross-cluster request), each paired with its undo: a failure
 * of the local side takes the remote side back, and a write whose outcome is unknown is taken back
 * too. A failed write throws {@link SideWriteFailed}.
 */
async function writeSides(w: Writes, name: string, sides: SideWrites, done: "written" | "updated"): Promise<void> {
    for (const side of ["remote", "local"] as const) {
        const s = sides[side];
        if (!s) continue;
        await w.step(STEP[side], async () => {
            try {
                await putRole(s.client, side, s.conn, name, s.body);
            } catch (e) {
                throw new SideWriteFailed(side, `role '${name}' could not be ${done} on the ${side} cluster (${urlsOf(s.conn)}): ${reasonWithHint(e)}`, e);
            }
        }, async () => {
            if (s.before) await putRole(s.client, side, s.conn, name, s.before);
            else await deleteRole(s.client, side, s.conn, name);
        }, {
            undoneText: s.before ? `the ${side} side's previous definition was restored` : `the ${side} side was removed again`,
            undoIfFailed: (e) => outcomeUnknown((e as SideWriteFailed).cause),
        });
    }
}

function rolePath(name: string): string {
    return `/_security/role/${encodeURIComponent(name)}`;
}

function sameUrl(a: unknown, b: unknown): string | undefined {
    const norm = (u: unknown): string | undefined => {
        try {
            const p = new URL(String(u));
            return `${p.protocol}//${p.host}${p.pathname.replace(/\/+$/, "")}`.toLowerCase();
        } catch {
            return undefined;
        }
    };
    if (!Array.isArray(a) || !Array.isArray(b)) return undefined;
    const left = new Set(a.map(norm).filter(Boolean));
    return b.find((u) => left.has(norm(u)));
}

/**
 * Validation without the network (pure): connections, name, model, preset or definitions.
 * @internal
 */
export function validateRoleInputs(n: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    const apiKey = n.model === "apiKey";
    if (!containsUnknown(n.local)) f.push(...validateConnection("local", n.local));
    if (apiKey) {
        if (n.remote !== undefined && n.remote !== null) {
            f.push({ property: "remote", reason: `goes with model "certificate" only: with model "apiKey" the role lives on the local cluster alone (the cross-cluster API key limits what its users reach on the remote), so leave remote out` });
        }
    } else if (!containsUnknown(n.remote)) {
        f.push(...validateConnection("remote", n.remote));
    }
    if (!apiKey && !containsUnknown(n.local) && !containsUnknown(n.remote) && f.length === 0) {
        const shared = sameUrl((n.local as ClusterConnection | undefined)?.urls, (n.remote as ClusterConnection | undefined)?.urls);
        if (shared !== undefined) {
            f.push({ property: "remote.urls", reason: `is the same cluster as local (${redactUrl(String(shared))}): a role name is one role on a cluster, so the local and remote definitions would overwrite each other` });
        }
    }
    f.push(...validateRoleName(n.name, "name"));
    f.push(...validateRoleSpec(n));
    if (n.adoptExisting !== undefined && !containsUnknown(n.adoptExisting) && typeof n.adoptExisting !== "boolean") {
        f.push({ property: "adoptExisting", reason: "must be true or false" });
    }
    f.push(...validateKeyAccess(n.keyAccess, n.model));
    // Both sides known (the key's access is an input of the key resource, known at preview): an
    // index pattern the key does not grant is refused here, before anything is written.
    if (!f.length) f.push(...keyAccessOutcome(n)?.failures ?? []);
    return f;
}

/** The declared role against each alias's key access (model "apiKey"), or undefined when a side is not known yet. */
function keyAccessOutcome(n: Record<string, unknown>): RoleAccessOutcome | undefined {
    if (n.model !== "apiKey" || n.keyAccess === undefined || n.keyAccess === null) return undefined;
    if (containsUnknown(n.keyAccess) || containsUnknown(n)) return undefined;
    const spec = n as unknown as RoleSpec;
    return roleAccessProblems(String(n.name), roleBodies(spec).local, n.keyAccess as Record<string, CrossClusterAccess>, !!spec.preset);
}

/** The role on one side as Elasticsearch returns it, or undefined when absent. @internal */
export async function getRole(client: Client, side: Side, conn: ClusterConnection, name: string): Promise<RoleBody | undefined> {
    const res = await callCluster(side, conn, `read role '${name}' (GET _security/role)`, () =>
        client.transport.request<Record<string, RoleBody>>({ method: "GET", path: rolePath(name) }, { ignore: [404], meta: true }));
    if (res.statusCode === 404) return undefined;
    const found = res.body?.[name];
    return found && typeof found === "object" ? found : undefined;
}

async function putRole(client: Client, side: Side, conn: ClusterConnection, name: string, body: RoleBody): Promise<void> {
    // A raw request: the typed API needs at least one field (`PUT` without a body is refused, and the
    // docs' local search role is `{}`) and would move fields it does not know into the query string.
    await callCluster(side, conn, `write role '${name}' (PUT _security/role)`, () =>
        client.transport.request({ method: "PUT", path: rolePath(name), body }));
}

/** Deletes the role on one side; true if it was there. */
async function deleteRole(client: Client, side: Side, conn: ClusterConnection, name: string): Promise<boolean> {
    const res = await callCluster(side, conn, `delete role '${name}' (DELETE _security/role)`, () =>
        client.transport.request<{ found?: boolean }>({ method: "DELETE", path: rolePath(name) }, { ignore: [404], meta: true }));
    return res.statusCode !== 404 && res.body?.found !== false;
}

/** The UUIDs of the clusters the inputs reach (the remote one in the certificate model only). */
async function uuids(i: RoleInputs): Promise<{ local?: string; remote?: string }> {
    const [local, remote] = await Promise.all([
        clusterUuidOf("local", i.local),
        twoSided(i) && i.remote ? clusterUuidOf("remote", i.remote) : Promise.resolve(undefined),
    ]);
    return { local, remote };
}

function outputs(inputs: RoleInputs, found: { local?: RoleBody | null; remote?: RoleBody | null }, extra: Partial<RoleOutputs>): RoleOutputs {
    return plain({
        ...inputs,
        localRole: found.local ? normaliseRole(found.local) : null,
        remoteRole: found.remote ? normaliseRole(found.remote) : null,
        localExists: !!found.local,
        remoteExists: !!found.remote,
        ...extra,
    });
}

/** The inputs part of a state, for `read`'s `inputs`. */
function inputsOf(o: RoleOutputs): RoleInputs {
    const out: Record<string, unknown> = {};
    for (const k of INPUT_KEYS) out[k] = (o as unknown as Record<string, unknown>)[k];
    return plain(out) as RoleInputs;
}

/** Refuses an update whose connection now reaches another cluster than the state records (diff replaces it). */
async function assertSameClusters(o: RoleOutputs, i: RoleInputs, now: { local?: string; remote?: string }): Promise<void> {
    for (const side of ["local", "remote"] as const) {
        const was = side === "local" ? o.localClusterUuid : o.remoteClusterUuid;
        if (was && now[side] && was !== now[side]) {
            throw new EsRemoteError(
                `role '${i.name}': ${side}.urls (${urlsOf(i[side])}) now reach another cluster (cluster_uuid ${now[side]}, the state records ${was}). ` +
                `Nothing was written. Run pulumi up again: its preview replaces the role (created on the new cluster, deleted from the old one).`,
                { name: i.name, side, recordedClusterUuid: was, clusterUuid: now[side] });
        }
    }
}

/** The engine's `__provider` of the inputs: the host does not add it to an error's properties, and later hooks need it. */
function withProvider(properties: Record<string, unknown>, news: unknown): Record<string, unknown> {
    const p = (news as { __provider?: unknown }).__provider;
    return p === undefined ? properties : { ...properties, __provider: p };
}

// ---------------------------------------------------------------------------------------- hooks

export async function check(_olds: Partial<RoleInputs>, news: RoleInputs): Promise<pulumi.dynamic.CheckResult<RoleInputs>> {
    const n = (news ?? {}) as Record<string, unknown>;
    const failures = validateRoleInputs(n);
    for (const side of ["local", "remote"] as const) {
        if (!containsUnknown(n[side]) && n[side] !== undefined) insecureWarnings(side, n[side]).forEach((m) => pulumi.log.warn(m));
    }
    if (!failures.length && containsUnknown(n)) {
        pulumi.log.info(`role '${containsUnknown(n.name) ? "(name not known yet)" : String(n.name)}': some inputs are not known yet; they are checked again at update time`);
    }
    if (!failures.length) keyAccessOutcome(n)?.warnings.forEach((w) => pulumi.log.warn(w));
    if (!failures.length) failures.push(...await remoteClusterVersionFailures(n));
    return { inputs: news, failures };
}

/**
 * `remote_cluster` privileges against the local nodes' versions (8.15+ for `monitor_enrich`, 8.17+
 * for `monitor_stats`): each too-old node named at preview, rather than by the create's parse error.
 * Nothing is read when the role uses none or the local connection is not known yet; a failed read
 * is a warning (the create meets Elasticsearch's own refusal).
 */
async function remoteClusterVersionFailures(n: Record<string, unknown>): Promise<CheckFailure[]> {
    const uses = remoteClusterUses(n);
    if (!uses.length || containsUnknown(n.local)) return [];
    const local = n.local as ClusterConnection;
    try {
        return remoteClusterVersionProblems(uses, await nodeVersions(clientFor(local), "local", local), urlsOf(local));
    } catch (e) {
        pulumi.log.warn(`role '${String(n.name)}': could not read the local nodes' versions to check its remote_cluster privileges (${(e as Error).message.split("\n")[0]}); Elasticsearch checks them when the role is written`);
        return [];
    }
}

export async function diff(_id: string, olds: RoleOutputs, news: RoleInputs): Promise<pulumi.dynamic.DiffResult> {
    const o = olds;
    const n = news;
    const replaces: string[] = [];
    let deleteBeforeReplace = false;
    // The role name is the role's identity on its clusters: a new name is a new role.
    if (!containsUnknown(n.name) && o.name !== n.name) replaces.push("name");
    // Another model puts the role on other clusters; the name stays, so the old one goes first.
    if (!containsUnknown(n.model) && (o.model ?? "certificate") !== (n.model ?? "certificate")) {
        replaces.push("model");
        deleteBeforeReplace = o.name === n.name;
    }
    // New URLs are usually another way to reach the same cluster (an update); URLs that reach
    // another cluster are a new role there. States of earlier releases have no UUID: no replace.
    for (const side of ["local", "remote"] as const) {
        const was = side === "local" ? o.localClusterUuid : o.remoteClusterUuid;
        const conn = n[side];
        if (!was || !conn || containsUnknown(conn) || !urlsDiffer(o[side], conn)) continue;
        try {
            const now = await clusterUuidOf(side, conn);
            if (now && now !== was) {
                replaces.push(side);
                pulumi.log.info(`role '${n.name}': ${side}.urls now reach another cluster (cluster_uuid ${now}, was ${was}): the role is replaced`);
            }
        } catch (e) {
            pulumi.log.warn(`role '${n.name}': could not tell which cluster the new ${side}.urls reach (${(e as Error).message}); the update checks it again`);
        }
    }
    if (containsUnknown(n)) {
        return { changes: true, replaces, deleteBeforeReplace };
    }
    const changed: string[] = [];
    if (o.createInterrupted) changed.push("createInterrupted");
    const desired = roleBodies(n);
    const before = o.localRole === undefined || o.remoteRole === undefined ? roleBodies(o) : { local: o.localRole, remote: o.remoteRole };
    if (o.localExists === false || !sameRole(before.local, desired.local)) changed.push("localRole");
    if (twoSided(n) && (o.remoteExists === false || !sameRole(before.remote, desired.remote))) changed.push("remoteRole");
    for (const k of ["local", "remote", "adoptExisting", ...ROLE_SPEC_KEYS] as const) {
        if (JSON.stringify(o[k] ?? null) !== JSON.stringify(n[k] ?? null)) changed.push(k);
    }
    return { changes: changed.length > 0 || replaces.length > 0, replaces, deleteBeforeReplace };
}

export async function create(news: RoleInputs): Promise<pulumi.dynamic.CreateResult<RoleOutputs>> {
    failOnInvalid(validateRoleInputs((news ?? {}) as Record<string, unknown>));
    const inputs = news;
    const name = inputs.name;
    const bodies = roleBodies(inputs);
    const remote = twoSided(inputs) ? { conn: inputs.remote!, client: clientFor(inputs.remote!), body: bodies.remote! } : undefined;
    const localClient = clientFor(inputs.local);
    const [existingLocal, existingRemote] = await Promise.all([
        getRole(localClient, "local", inputs.local, name),
        remote ? getRole(remote.client, "remote", remote.conn, name) : Promise.resolve(undefined),
    ]);
    if ((existingLocal || existingRemote) && !inputs.adoptExisting) {
        const sides = [existingRemote && `the remote cluster (${urlsOf(inputs.remote)})`, existingLocal && `the local cluster (${urlsOf(inputs.local)})`].filter(Boolean).join(" and ");
        throw new ConflictError(
            `role '${name}' already exists on ${sides}; set adoptExisting: true to take it over (pulumi import does not work for dynamic resources), or choose another name. Nothing was written.`,
            { kind: "role", name, localExists: !!existingLocal, remoteExists: !!existingRemote },
        );
    }
    const ids = await uuids(inputs);
    if (remote && ids.local && ids.local === ids.remote) {
        throw new EsRemoteError(
            `the local (${urlsOf(inputs.local)}) and remote (${urlsOf(inputs.remote)}) connections reach the same cluster (cluster_uuid ${ids.local}): ` +
            `a role name is one role on a cluster, so the two definitions would overwrite each other. Nothing was written.`,
            { name, clusterUuid: ids.local },
        );
    }
    const adoptedFrom = existingLocal || existingRemote
        ? plain({ local: existingLocal && writableRole(existingLocal), remote: existingRemote && writableRole(existingRemote) })
        : undefined;
    const extra: Partial<RoleOutputs> = { adoptedFrom, localClusterUuid: ids.local, remoteClusterUuid: ids.remote };
    /** Records what may be on the clusters, so the next `up` finishes it (see CreateInterruptedError). */
    const interrupted = (message: string, cause: unknown): CreateInterruptedError => new CreateInterruptedError(
        `${message}. What it wrote may be on the cluster${remote ? "s" : ""}, ${interruptedAdvice("role")}`,
        name,
        withProvider({ ...outputs(inputs, {}, extra), createInterrupted: true }, news),
        { name },
        cause,
    );
    const details = remote ? { name, localExists: !!existingLocal, remoteExists: !!existingRemote } : { name, localExists: !!existingLocal };
    const sides: SideWrites = {
        remote: remote && { conn: remote.conn, client: remote.client, body: remote.body, before: adoptedFrom?.remote },
        local: { conn: inputs.local, client: localClient, body: bodies.local, before: adoptedFrom?.local },
    };
    try {
        await withUndo((w) => writeSides(w, name, sides, "written"), {
            undone: (err, cleanup) => {
                const f = asSideFailure(err);
                const as = adoptedFrom?.local || adoptedFrom?.remote
                    ? (remote ? "both clusters are as before" : "the local cluster is as before")
                    : (remote ? "neither cluster has the role (nothing half-created)" : "the local cluster does not have the role");
                return wrap(`${f.text}${landed(f)}. ${capitalised(cleanup)}, so ${as}.`, f.cause, details);
            },
            interrupted: (err, failed) => {
                const f = asSideFailure(err);
                const left = failed.map((x) => sideOf(x.what));
                const stays = left.map((side) => `${certain(f, side) ? "now EXISTS" : "may EXIST"} on the ${side} cluster (${urlsOf(sides[side]!.conn)}) with the new definition`);
                // The local side, never written or taken back, is as it was.
                if (!left.includes("local")) stays.push(`${existingLocal ? "keeps its previous definition" : "does NOT exist"} on the local cluster`);
                return interrupted(
                    `${f.text}${landed(f)}. Trying to ${left.map((side) => undoVerb(sides[side]!, side)).join(" and to ")} ` +
                    `failed too (${failed.map((x) => reasonOf(x.error)).join("; ")}), so role '${name}' ${stays.join(" and ")}`,
                    f.cause,
                );
            },
        });
    } catch (e) {
        // Nothing was written (the first write failed and its request never landed).
        if (e instanceof SideWriteFailed) throw wrap(`${e.text}. Nothing was written.`, e.cause, details);
        throw e;
    }
    return { id: name, outs: outputs(inputs, bodies, extra) };
}

export async function read(id: string, props: RoleOutputs): Promise<pulumi.dynamic.ReadResult<RoleOutputs>> {
    const state = props;
    const name = state.name ?? id;
    const remote = twoSided(state) && state.remote ? state.remote : undefined;
    const [local, remoteRole] = await Promise.all([
        getRole(clientFor(state.local), "local", state.local, name),
        remote ? getRole(clientFor(remote), "remote", remote, name) : Promise.resolve(undefined),
    ]);
    if (!local && !remoteRole) {
        // Removed by hand (or an interrupted create that never landed): the resource is gone, the
        // next `up` creates it again.
        return {};
    }
    // States of earlier releases have no UUIDs: record them now, from the connections they hold.
    const ids = state.localClusterUuid && (!remote || state.remoteClusterUuid) ? {} : await uuids(state);
    // The spec as found, in input names: `preview --diff` then shows what was changed by hand.
    const seen = observedSpec(specOf(state), { local, remote: remoteRole });
    const now = outputs({ ...state, ...Object.fromEntries(ROLE_SPEC_KEYS.map((k) => [k, undefined])), ...seen } as RoleInputs, { local, remote: remoteRole }, {
        adoptedFrom: state.adoptedFrom,
        localClusterUuid: state.localClusterUuid ?? ids.local,
        remoteClusterUuid: state.remoteClusterUuid ?? ids.remote,
        createInterrupted: state.createInterrupted,
    });
    // `ReadResult.inputs` is typed as the outputs; the engine takes any object of input names.
    return { id: name, props: now, inputs: inputsOf(now) as RoleOutputs };
}

export async function update(_id: string, olds: RoleOutputs, news: RoleInputs): Promise<pulumi.dynamic.UpdateResult<RoleOutputs>> {
    failOnInvalid(validateRoleInputs((news ?? {}) as Record<string, unknown>));
    const o = olds;
    const inputs = news;
    const name = inputs.name;
    const bodies = roleBodies(inputs);
    const ids = await uuids(inputs);
    await assertSameClusters(o, inputs, ids);
    const extra: Partial<RoleOutputs> = { adoptedFrom: o.adoptedFrom, localClusterUuid: ids.local, remoteClusterUuid: ids.remote };
    const remoteConn = twoSided(inputs) ? inputs.remote! : undefined;
    const remoteClient = remoteConn && clientFor(remoteConn);
    const localClient = clientFor(inputs.local);
    // What each side holds now is what a failed update puts back, so the pair is never left
    // half-updated (the remote side new, the local side old).
    const [localNow, remoteNow] = await Promise.all([
        getRole(localClient, "local", inputs.local, name),
        remoteConn ? getRole(remoteClient!, "remote", remoteConn, name) : Promise.resolve(undefined),
    ]);
    const sides: SideWrites = {
        remote: remoteConn && { conn: remoteConn, client: remoteClient!, body: bodies.remote!, before: remoteNow && writableRole(remoteNow) },
        local: { conn: inputs.local, client: localClient, body: bodies.local, before: localNow && writableRole(localNow) },
    };
    const unchanged = { name, remoteUpdated: false, localUpdated: false };
    try {
        // A failed update keeps the state it started from, whose diff against the program asks for
        // this update again: the next `up` writes both sides, also after an undo that failed.
        await withUndo((w) => writeSides(w, name, sides, "updated"), {
            undone: (err, cleanup) => {
                const f = asSideFailure(err);
                return wrap(`${f.text}${landed(f)}. ${capitalised(cleanup)}, so ${remoteConn ? "neither side was changed" : "the local side keeps its previous definition"}; fix the cause and run pulumi up again.`, f.cause, unchanged);
            },
            interrupted: (err, failed, cleanup) => {
                const f = asSideFailure(err);
                const left = failed.map((x) => sideOf(x.what));
                return wrap(
                    `${f.text}${landed(f)}. ${capitalised(cleanup)}, so role '${name}' ${left.map((side) => `${certain(f, side) ? "has" : "may have"} the new definition on the ${side} cluster (${urlsOf(sides[side]!.conn)})`).join(" and ")}; ` +
                    `fix the cause and run pulumi up again (it writes every side).`,
                    f.cause, { name, remoteUpdated: left.includes("remote"), localUpdated: left.includes("local") });
            },
        });
    } catch (e) {
        if (!(e instanceof SideWriteFailed)) throw e;
        // The first write failed and its request never landed: nothing was written.
        throw wrap(remoteConn
            ? `${e.text}. Neither side was changed.`
            : `${e.text}. The local side ${o.localExists === false || o.createInterrupted ? "may still be missing" : "keeps its previous definition"}; fix the cause and run pulumi up again.`,
        e.cause, unchanged);
    }
    return { outs: outputs(inputs, bodies, extra) };
}

export async function delete_(id: string, props: RoleOutputs): Promise<void> {
    const state = props;
    const name = state.name ?? id;
    const sides: Array<[Side, ClusterConnection]> = [["local", state.local]];
    if (twoSided(state) && state.remote) sides.push(["remote", state.remote]);
    // Every side is attempted even if one fails, so a retry has as little left to do as possible.
    const results = await Promise.allSettled(sides.map(([side, conn]) => deleteRole(clientFor(conn), side, conn, name)));
    const failed = sides.map((s, i) => [s, results[i]] as const).filter(([, r]) => r.status === "rejected");
    if (failed.length) {
        const gone = sides.filter((_, i) => results[i].status === "fulfilled").map(([s]) => s);
        const first = (failed[0][1] as PromiseRejectedResult).reason;
        throw wrap(
            `role '${name}' could not be deleted on the ${failed.map(([[s, conn]]) => `${s} cluster (${urlsOf(conn)})`).join(" and ")}: ` +
            failed.map(([, r]) => reasonOf((r as PromiseRejectedResult).reason)).join("; ") +
            (gone.length ? `. It is gone from the ${gone[0]} cluster; run pulumi destroy again to finish.` : ". Nothing was deleted; run pulumi destroy again."),
            first, { name, deleted: gone },
        );
    }
}
export { delete_ as delete };

/** Compile-time proof that these hooks match the resource's types. */
const _hooks: HookModule<RoleInputs, RoleOutputs> = { check, diff, create, read, update, delete: delete_ };
void _hooks;
