/**
 * Hooks of `CrossClusterRole`: one role name on two clusters, with a definition for each side
 * (step 4 of Elastic's procedure). With certificate trust the user authenticates on the local
 * cluster and its role *names* travel to the remote cluster, which applies its own role of that name.
 *
 * - check: validates every input (no network), each failure naming the property; nothing is written;
 * - create: refuses a name that already exists on either side unless `adoptExisting`; writes the
 *   remote side first, then the local side; if the local side fails, the remote side is removed
 *   again (or restored, when adopted), so no half-created pair is left — and if that fails too, the
 *   error says exactly which side exists;
 * - read: reads both sides; a side changed or deleted by hand becomes drift (`localRole`/`remoteRole`,
 *   `localExists`/`remoteExists`) that the next update repairs; both sides gone = resource gone;
 * - update: writes both sides (remote first);
 * - delete: deletes both sides; a side already absent is success.
 */
import * as pulumi from "@pulumi/pulumi";
import { Client } from "@elastic/elasticsearch";
import { callCluster, CheckFailure, clientFor, ClusterConnection, insecureWarnings, redactUrl, validateConnection } from "./core/client";
import { containsUnknown, plain } from "./core/dynamic";
import { describeError, EsRemoteError, InputError } from "./core/errors";
import { cachedFact } from "./core/facts";
import { normaliseRole, RoleBody, roleBodies, RoleSpec, sameRole, securityIndexHint, validateRoleName, validateRoleSpec, writableRole } from "./security/roles";

/** Inputs as the hooks receive them (resolved, unwrapped). */
export interface RoleInputs extends RoleSpec {
    local: ClusterConnection;
    remote: ClusterConnection;
    name: string;
    adoptExisting?: boolean;
}

/** Outputs: the inputs plus each side as found on its cluster. */
export interface RoleOutputs extends RoleInputs {
    /** The local side in normal form, or null when the role is absent there. */
    localRole: RoleBody | null;
    /** The remote side in normal form, or null when the role is absent there. */
    remoteRole: RoleBody | null;
    localExists: boolean;
    remoteExists: boolean;
    /** The roles found when `adoptExisting` took them over (restored if the create fails). */
    adoptedFrom?: { local?: RoleBody; remote?: RoleBody };
}

type Side = "local" | "remote";

function where(c: ClusterConnection | undefined): string {
    return (c?.urls ?? []).join(", ");
}

/**
 * One line for a failure: Elasticsearch's error type and reason when it answered (the client's own
 * message repeats the reason over several lines), else the error's message.
 */
function reasonOf(err: unknown): string {
    const e = err as { statusCode?: number; meta?: { body?: { error?: { type?: string; reason?: string } } } };
    const body = e?.meta?.body?.error;
    const reason = body?.reason ? `HTTP ${e.statusCode ?? "?"} ${body.type ?? "error"}: ${body.reason}` : describeError(err).replace(/\s*\n\s*/g, " ");
    return reason + securityIndexHint(reason);
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
 * Validation without the network (pure): connections, name, preset or definitions.
 * @internal
 */
export function validateRoleInputs(n: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    if (!containsUnknown(n.local)) f.push(...validateConnection("local", n.local));
    if (!containsUnknown(n.remote)) f.push(...validateConnection("remote", n.remote));
    if (!containsUnknown(n.local) && !containsUnknown(n.remote) && f.length === 0) {
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
    return f;
}

/** Throws the first failure as an {@link InputError}: the hooks never write on bad input, even if check was bypassed. */
function assertValid(n: Record<string, unknown>): void {
    const f = validateRoleInputs(n);
    if (f.length) throw new InputError(f[0].property, `${f[0].reason}. Nothing was written.`);
}

/** The role on one side as Elasticsearch returns it, or undefined when absent. @internal */
export async function getRole(client: Client, side: Side, conn: ClusterConnection, name: string): Promise<RoleBody | undefined> {
    const res = await callCluster(side, conn, `read role '${name}' (GET _security/role)`, () =>
        client.transport.request<Record<string, RoleBody>>({ method: "GET", path: rolePath(name) }, { ignore: [404], meta: true }));
    if (res.statusCode === 404) return undefined;
    const found = res.body?.[name];
    return found && typeof found === "object" ? found : undefined;
}

/** The cluster's UUID, to tell two connections to one cluster apart from two clusters. */
async function clusterUuid(client: Client, side: Side, conn: ClusterConnection): Promise<string | undefined> {
    const res = await callCluster(side, conn, "read the cluster UUID (GET _cluster/state/metadata)", () =>
        client.transport.request<{ metadata?: { cluster_uuid?: string } }>({ method: "GET", path: "/_cluster/state/metadata", querystring: { filter_path: "metadata.cluster_uuid" } }));
    return res?.metadata?.cluster_uuid;
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

interface Clients {
    local: Client;
    remote: Client;
}

/** The two sides' shared clients (see {@link clientFor}). */
function clients(i: { local: ClusterConnection; remote: ClusterConnection }): Clients {
    return { local: clientFor(i.local), remote: clientFor(i.remote) };
}

function outputs(inputs: RoleInputs, found: { local?: RoleBody; remote?: RoleBody }, adoptedFrom?: RoleOutputs["adoptedFrom"]): RoleOutputs {
    return plain({
        ...inputs,
        localRole: found.local ? normaliseRole(found.local) : null,
        remoteRole: found.remote ? normaliseRole(found.remote) : null,
        localExists: found.local !== undefined,
        remoteExists: found.remote !== undefined,
        adoptedFrom,
    });
}

// ---------------------------------------------------------------------------------------- hooks

export async function check(_olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
    const n = (news ?? {}) as Record<string, unknown>;
    const failures = validateRoleInputs(n);
    for (const side of ["local", "remote"] as const) {
        if (!containsUnknown(n[side])) insecureWarnings(side, n[side]).forEach((m) => pulumi.log.warn(m));
    }
    if (!failures.length && containsUnknown(n)) {
        pulumi.log.info(`role '${containsUnknown(n.name) ? "(name not known yet)" : String(n.name)}': some inputs are not known yet; they are checked again at update time`);
    }
    return { inputs: news, failures };
}

export async function diff(_id: string, olds: any, news: any): Promise<pulumi.dynamic.DiffResult> {
    const o = olds as RoleOutputs;
    const n = news as RoleInputs;
    const replaces: string[] = [];
    // The role name is the role's identity on both clusters: a new name is a new pair. New URLs for
    // a connection are another way to reach the same cluster (as for RemoteClusterLink).
    if (!containsUnknown(n.name) && o.name !== n.name) replaces.push("name");
    if (containsUnknown(n)) {
        return { changes: true, replaces };
    }
    const changed: string[] = [];
    const desired = roleBodies(n);
    const before = o.localRole === undefined || o.remoteRole === undefined ? roleBodies(o) : { local: o.localRole, remote: o.remoteRole };
    if (o.localExists === false || !sameRole(before.local, desired.local)) changed.push("localRole");
    if (o.remoteExists === false || !sameRole(before.remote, desired.remote)) changed.push("remoteRole");
    for (const k of ["local", "remote", "preset", "indices", "followerIndices", "localIndices", "localDefinition", "remoteDefinition", "adoptExisting"] as const) {
        if (JSON.stringify(o[k] ?? null) !== JSON.stringify(n[k] ?? null)) changed.push(k);
    }
    return { changes: changed.length > 0 || replaces.length > 0, replaces, deleteBeforeReplace: false };
}

export async function create(news: any): Promise<pulumi.dynamic.CreateResult> {
    assertValid(news ?? {});
    const inputs = news as RoleInputs;
    const name = inputs.name;
    const bodies = roleBodies(inputs);
    const c = clients(inputs);
    const [existingLocal, existingRemote] = await Promise.all([
        getRole(c.local, "local", inputs.local, name),
        getRole(c.remote, "remote", inputs.remote, name),
    ]);
    if ((existingLocal || existingRemote) && !inputs.adoptExisting) {
        const sides = [existingRemote && `the remote cluster (${where(inputs.remote)})`, existingLocal && `the local cluster (${where(inputs.local)})`].filter(Boolean).join(" and ");
        throw new EsRemoteError(
            `role '${name}' already exists on ${sides}; set adoptExisting: true to take it over (pulumi import does not work for dynamic resources), or choose another name. Nothing was written.`,
            { name, localExists: !!existingLocal, remoteExists: !!existingRemote },
        );
    }
    // Once per cluster per process (a mesh's roles ask each cluster once, not once per role).
    const uuidOf = (side: Side, client: Client, conn: ClusterConnection) =>
        cachedFact(conn, "clusterUuid", () => clusterUuid(client, side, conn), { scope: "cluster", keepIf: (u) => typeof u === "string" && u !== "_na_" });
    const [localUuid, remoteUuid] = await Promise.all([uuidOf("local", c.local, inputs.local), uuidOf("remote", c.remote, inputs.remote)]);
    if (localUuid && localUuid === remoteUuid) {
        throw new EsRemoteError(
            `the local (${where(inputs.local)}) and remote (${where(inputs.remote)}) connections reach the same cluster (cluster_uuid ${localUuid}): ` +
            `a role name is one role on a cluster, so the two definitions would overwrite each other. Nothing was written.`,
            { name, clusterUuid: localUuid },
        );
    }
    const adoptedFrom = existingLocal || existingRemote
        ? plain({ local: existingLocal && writableRole(existingLocal), remote: existingRemote && writableRole(existingRemote) })
        : undefined;

    // Remote first: a local role whose remote counterpart is missing would let the user in
    // locally and fail on every cross-cluster request.
    try {
        await putRole(c.remote, "remote", inputs.remote, name, bodies.remote);
    } catch (e) {
        throw new EsRemoteError(
            `role '${name}' could not be written on the remote cluster (${where(inputs.remote)}): ${reasonOf(e)}. Nothing was written.`,
            { name, localExists: !!existingLocal, remoteExists: !!existingRemote },
            { cause: e },
        );
    }
    try {
        await putRole(c.local, "local", inputs.local, name, bodies.local);
    } catch (localErr) {
        const why = reasonOf(localErr);
        const undo = adoptedFrom?.remote ? "restore the remote side's previous definition" : "remove the remote side again";
        try {
            if (adoptedFrom?.remote) await putRole(c.remote, "remote", inputs.remote, name, adoptedFrom.remote);
            else await deleteRole(c.remote, "remote", inputs.remote, name);
        } catch (undoErr) {
            throw new EsRemoteError(
                `role '${name}' could not be written on the local cluster (${where(inputs.local)}): ${why}. ` +
                `Trying to ${undo} failed too (${reasonOf(undoErr)}), so role '${name}' now EXISTS on the remote cluster (${where(inputs.remote)}) ` +
                `with the new definition and ${existingLocal ? "keeps its previous definition" : "does NOT exist"} on the local cluster. ` +
                `Delete it on the remote cluster by hand (DELETE _security/role/${name}) or fix the cause and run pulumi up again.`,
                { name, localExists: !!existingLocal, remoteExists: true },
                { cause: localErr },
            );
        }
        throw new EsRemoteError(
            `role '${name}' could not be written on the local cluster (${where(inputs.local)}): ${why}. ` +
            (adoptedFrom?.remote
                ? `The remote side's previous definition was restored, so both clusters are as before.`
                : `The remote side was removed again, so neither cluster has the role (nothing half-created).`),
            { name, localExists: !!existingLocal, remoteExists: !!existingRemote },
            { cause: localErr },
        );
    }
    return { id: name, outs: outputs(inputs, bodies, adoptedFrom) };
}

export async function read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    const state = props as RoleOutputs;
    const name = state.name ?? id;
    const c = clients(state);
    const [local, remote] = await Promise.all([
        getRole(c.local, "local", state.local, name),
        getRole(c.remote, "remote", state.remote, name),
    ]);
    if (!local && !remote) {
        // Removed by hand on both sides: the resource is gone, the next `up` creates it again.
        return {};
    }
    return { id: name, props: outputs(state, { local, remote }, state.adoptedFrom) };
}

export async function update(_id: string, olds: any, news: any): Promise<pulumi.dynamic.UpdateResult> {
    assertValid(news ?? {});
    const o = olds as RoleOutputs;
    const inputs = news as RoleInputs;
    const name = inputs.name;
    const bodies = roleBodies(inputs);
    const c = clients(inputs);
    try {
        await putRole(c.remote, "remote", inputs.remote, name, bodies.remote);
    } catch (e) {
        throw new EsRemoteError(
            `role '${name}' could not be updated on the remote cluster (${where(inputs.remote)}): ${reasonOf(e)}. Neither side was changed.`,
            { name, remoteUpdated: false, localUpdated: false },
            { cause: e },
        );
    }
    try {
        await putRole(c.local, "local", inputs.local, name, bodies.local);
    } catch (e) {
        throw new EsRemoteError(
            `role '${name}' was updated on the remote cluster (${where(inputs.remote)}) but not on the local cluster (${where(inputs.local)}): ${reasonOf(e)}. ` +
            `The local side ${o.localExists === false ? "is still missing" : "keeps its previous definition"}; fix the cause and run pulumi up again.`,
            { name, remoteUpdated: true, localUpdated: false },
            { cause: e },
        );
    }
    return { outs: outputs(inputs, bodies, o.adoptedFrom) };
}

export async function delete_(id: string, props: any): Promise<void> {
    const state = props as RoleOutputs;
    const name = state.name ?? id;
    const c = clients(state);
    // Both sides are attempted even if one fails, so a retry has as little left to do as possible.
    const [local, remote] = await Promise.allSettled([
        deleteRole(c.local, "local", state.local, name),
        deleteRole(c.remote, "remote", state.remote, name),
    ]);
    const failed = ([["local", local], ["remote", remote]] as const).filter(([, r]) => r.status === "rejected");
    if (failed.length) {
        const gone = ([["local", local], ["remote", remote]] as const).filter(([, r]) => r.status === "fulfilled").map(([s]) => s);
        throw new EsRemoteError(
            `role '${name}' could not be deleted on the ${failed.map(([s]) => `${s} cluster (${where(state[s])})`).join(" and ")}: ` +
            failed.map(([, r]) => reasonOf((r as PromiseRejectedResult).reason)).join("; ") +
            (gone.length ? `. It is gone from the ${gone[0]} cluster; run pulumi destroy again to finish.` : ". Nothing was deleted; run pulumi destroy again."),
            { name, deleted: gone },
            { cause: (failed[0][1] as PromiseRejectedResult).reason },
        );
    }
}
export { delete_ as delete };
