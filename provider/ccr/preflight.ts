/**
 * Preview-time checks of a follower index or an auto-follow pattern, per side and per node, each
 * failure naming the property and the fix. Read-only: nothing is written on either cluster.
 *
 * - the CCR module on every node of each side given (a distribution without `x-pack-ccr` has no
 *   `_ccr` endpoints at all) and a license that allows CCR (Platinum, Enterprise or trial);
 * - the alias registered on the local cluster and connected;
 * - the version rule: every local (follower) node on the same or a newer version than every remote
 *   (leader) node. CCR starts a follower with a restore from the leader, and a snapshot taken on a
 *   newer version does not restore on an older node (measured: 9.5.4 → 8.19.21 refused with
 *   "the snapshot was created with version [8.19.22-[9111000]] which is higher than the version of
 *   this node [8.19.9-8.19.21]"; 8.19.21 → 9.5.4 restores);
 * - the leader index exists and keeps soft deletes; the follower name is free;
 * - privileges: certificate model, the connection user's `manage_ccr` and follower-index privileges
 *   on the local cluster (`_has_privileges`) and its roles' `read_ccr`, `monitor`, `read` on the
 *   remote (the roles API: the remote applies its own roles of the same names); API-key model, the
 *   key's `replication` access covering the leader (provider/apikey/coverage.ts).
 */
import type { Client } from "@elastic/elasticsearch";
import { callCluster, ClusterConnection } from "../core/client";
import { readNodes } from "../core/nodes";
import type { CheckFailure } from "../core/validation";
import { urlsOf } from "../core/validation";
import { parseVersion } from "../link/compat";
import { patternCovers } from "../apikey/coverage";
import type { CrossClusterAccess } from "../apikey/keyBody";

/** Licenses that allow cross-cluster replication. */
export const CCR_LICENSES = ["platinum", "enterprise", "trial"];

/** The module that carries CCR in Elastic's default distribution. */
export const CCR_MODULE = "x-pack-ccr";

export type Side = "local" | "remote";

export interface NodeFacts {
    name: string;
    version: string;
    modules: string[];
}

/** Every node's name, version and modules (`GET _nodes/plugins`). */
export async function nodeFacts(client: Client, side: Side, conn: ClusterConnection): Promise<NodeFacts[]> {
    const listed = await readNodes<{ name: string; version: string; modules?: Array<{ name: string }> }>(side, conn, client, "read the nodes' modules (GET _nodes/plugins)",
        { path: "/_nodes/plugins", filterPath: "nodes.*.name,nodes.*.version,nodes.*.modules.name" });
    return Object.values(listed).map((n) => ({ name: n.name, version: n.version, modules: (n.modules ?? []).map((m) => m.name) }));
}

/** Why a side cannot replicate for want of the module, or undefined. Pure. */
export function moduleProblem(side: Side, conn: ClusterConnection, nodes: NodeFacts[]): CheckFailure | undefined {
    const without = nodes.filter((n) => !n.modules.includes(CCR_MODULE));
    if (!without.length) return undefined;
    return {
        property: `${side}.urls`,
        reason: `this cluster's distribution has no cross-cluster replication (module ${CCR_MODULE}); Elastic's default distribution has it. ` +
            `The ${side} cluster (${urlsOf(conn)}) runs ${without.map((n) => `${n.name} (${n.version})`).join(", ")} without it, so Elasticsearch answers ` +
            `"no handler found for uri [/<index>/_ccr/follow]". Run Elastic's default distribution on every node of both clusters`,
    };
}

/** Why the license does not allow CCR, or undefined. */
export async function ccrLicenseProblem(client: Client, side: Side, conn: ClusterConnection): Promise<CheckFailure | undefined> {
    const r = await callCluster(side, conn, "read the license (GET _license)", () => client.license.get());
    const l = (r as { license?: { type?: string; status?: string } }).license ?? {};
    if (CCR_LICENSES.includes(String(l.type)) && l.status === "active") return undefined;
    return {
        property: `${side}.urls`,
        reason: `the ${side} cluster (${urlsOf(conn)}) has a ${l.type ?? "missing"} license (${l.status ?? "unknown"}); cross-cluster replication needs an active Platinum or Enterprise license (or a trial) ` +
            `on both clusters (Elasticsearch answers "current license is non-compliant for [ccr]"). Install one (PUT _license) or start a trial (POST _license/start_trial?acknowledge=true)`,
    };
}

/** The version rule: a follower (local) node older than a leader (remote) node cannot restore the leader's shards. Pure. */
export function versionProblem(local: NodeFacts[], remote: NodeFacts[], property: string): CheckFailure | undefined {
    const cmp = (a: string, b: string) => {
        const x = parseVersion(a), y = parseVersion(b);
        if (!x || !y) return 0;
        return x.major - y.major || x.minor - y.minor || x.patch - y.patch;
    };
    const newestLeader = [...remote].sort((a, b) => cmp(b.version, a.version))[0];
    if (!newestLeader) return undefined;
    const older = local.filter((n) => cmp(n.version, newestLeader.version) < 0);
    if (!older.length) return undefined;
    return {
        property,
        reason: `a follower must run the same or a newer Elasticsearch version than its leader: the leader cluster has ${newestLeader.name} on ${newestLeader.version}, ` +
            `the follower (local) cluster ${older.map((n) => `${n.name} on ${n.version}`).join(", ")}. CCR starts a follower with a restore from the leader, and an older node refuses ` +
            `("the snapshot was created with version [...] which is higher than the version of this node"). Upgrade the local cluster first (Elastic's upgrade order: followers before leaders), or follow from a leader on an older or equal version`,
    };
}

/** The alias as `_remote/info` lists it on the local cluster. */
export interface AliasInfo {
    exists: boolean;
    connected: boolean;
    /** True when the alias is connected with a cross-cluster API key (`cluster_credentials` listed). */
    apiKey: boolean;
}

export async function aliasInfo(client: Client, conn: ClusterConnection, alias: string): Promise<AliasInfo> {
    const r = await callCluster("local", conn, "read the remote clusters (GET _remote/info)", () =>
        client.transport.request<Record<string, { connected?: boolean; cluster_credentials?: string }>>({ method: "GET", path: "/_remote/info" }));
    const a = r?.[alias];
    return { exists: !!a, connected: a?.connected === true, apiKey: a?.cluster_credentials !== undefined };
}

/** Why the alias cannot carry replication, or undefined. Pure. */
export function aliasProblem(alias: string, conn: ClusterConnection, a: AliasInfo): CheckFailure | undefined {
    if (!a.exists) {
        return { property: "alias", reason: `no remote cluster '${alias}' is registered on the local cluster (${urlsOf(conn)}, GET _remote/info). Register it first (a RemoteClusterLink; pass its alias output here so the follower waits for it)` };
    }
    if (!a.connected) {
        return { property: "alias", reason: `remote cluster '${alias}' is registered on the local cluster but not connected (GET _remote/info: connected false). Fix the link first (its seeds or proxy address, trust, the remote being up); a follower cannot start through it` };
    }
    return undefined;
}

/** Whether `index` exists on a cluster; and, when it does, its soft-deletes setting. */
export async function indexFacts(client: Client, side: Side, conn: ClusterConnection, index: string): Promise<{ exists: boolean; softDeletes?: boolean; follower?: boolean }> {
    const r = await callCluster(side, conn, `read index '${index}' (GET /${index}/_settings)`, () =>
        client.transport.request<Record<string, { settings?: Record<string, string>; defaults?: Record<string, string> }>>(
            { method: "GET", path: `/${encodeURIComponent(index)}/_settings`, querystring: { include_defaults: "true", flat_settings: "true", expand_wildcards: "all" } },
            { ignore: [404], meta: true }));
    if (r.statusCode === 404) return { exists: false };
    const s = r.body?.[index];
    if (!s) return { exists: false };
    const get = (k: string) => s.settings?.[k] ?? s.defaults?.[k];
    return { exists: true, softDeletes: get("index.soft_deletes.enabled") !== "false", follower: get("index.xpack.ccr.following_index") === "true" };
}

function hasAny(list: string[] | undefined, wanted: string[]): boolean {
    return (list ?? []).some((p) => wanted.includes(p));
}

/** The connection user's role names on the local cluster (`GET _security/_authenticate`). */
export async function localRoleNames(client: Client, conn: ClusterConnection): Promise<{ user: string; roles: string[] }> {
    const r = await callCluster("local", conn, "read the connection's user (GET _security/_authenticate)", () => client.security.authenticate());
    return { user: String(r.username), roles: (r.roles ?? []) as string[] };
}

/** What the local connection user lacks for following into `indices` (`_has_privileges`), as failures. */
export async function localPrivilegeProblems(client: Client, conn: ClusterConnection, indices: string[], property: string): Promise<CheckFailure[]> {
    const want = ["monitor", "read", "write", "manage_follow_index"];
    const r = await callCluster("local", conn, "check the connection user's privileges (POST _security/user/_has_privileges)", () =>
        client.security.hasPrivileges({ cluster: ["manage_ccr"], index: [{ names: indices, privileges: want }] }));
    if (r.has_all_requested) return [];
    const missing: string[] = [];
    if (!r.cluster?.manage_ccr) missing.push("the cluster privilege manage_ccr");
    for (const [idx, privs] of Object.entries(r.index ?? {})) {
        const lacking = Object.entries(privs).filter(([, ok]) => !ok).map(([p]) => p);
        if (lacking.length) missing.push(`${lacking.join(", ")} on ${idx}`);
    }
    return [{
        property,
        reason: `the local connection's user '${r.username}' lacks ${missing.join("; ")} on the local cluster (${urlsOf(conn)}), which a follower needs ` +
            `(Elastic's "Configure privileges for cross-cluster replication"). Give its role those privileges (CrossClusterRole preset "replication", followerIndices)`,
    }];
}

/**
 * Certificate model: the remote applies its own roles of the local user's role names. What those
 * lack for reading `leaders` (cluster `read_ccr`; `monitor` and `read` on the leader index), from
 * the remote's roles API.
 */
export async function remoteRoleProblems(client: Client, conn: ClusterConnection, roles: string[], leaders: string[], property: string): Promise<CheckFailure[]> {
    if (roles.includes("superuser")) return [];
    const found = roles.length
        ? await callCluster("remote", conn, "read the roles of the same names (GET _security/role)", () =>
            client.transport.request<Record<string, { cluster?: string[]; indices?: Array<{ names: string[] | string; privileges: string[] }> }>>(
                { method: "GET", path: `/_security/role/${roles.map(encodeURIComponent).join(",")}` }, { ignore: [404] }))
        : {};
    const defs = Object.values(found ?? {});
    const missing: string[] = [];
    if (!defs.some((d) => hasAny(d.cluster, ["read_ccr", "manage_ccr", "manage", "all"]))) missing.push("the cluster privilege read_ccr");
    for (const leader of leaders) {
        const privs = new Set(defs.flatMap((d) => (d.indices ?? [])
            .filter((e) => (Array.isArray(e.names) ? e.names : [e.names]).some((n) => patternCovers(n, leader) === true))
            .flatMap((e) => e.privileges)));
        const lacking = ["monitor", "read"].filter((p) => !privs.has(p) && !privs.has("all") && !(p === "monitor" && privs.has("manage")));
        if (lacking.length) missing.push(`${lacking.join(", ")} on ${leader}`);
    }
    if (!missing.length) return [];
    return [{
        property,
        reason: `with certificates the remote cluster applies its own roles named like the local user's (${roles.join(", ") || "none"}); on the remote cluster (${urlsOf(conn)}) they lack ` +
            `${missing.join("; ")}, so Elasticsearch would refuse the follow with a security_exception. Give the remote role those privileges (CrossClusterRole preset "replication", indices)`,
    }];
}

/** API-key model: the leader indices or patterns the key's `replication` access does not cover, as a failure. Pure. */
export function keyCoverageProblem(access: CrossClusterAccess, leaders: string[], alias: string, property: string): CheckFailure | undefined {
    const keyNames = (access.replication ?? []).flatMap((e) => e.names ?? []);
    const unchecked = leaders.filter((l) => keyNames.some((k) => patternCovers(k, l) === undefined));
    const uncovered = leaders.filter((l) => !keyNames.some((k) => patternCovers(k, l) === true) && !unchecked.includes(l));
    if (!uncovered.length) return undefined;
    return {
        property,
        reason: `the cross-cluster API key of '${alias}' grants replication of ${keyNames.length ? keyNames.join(", ") : "nothing (no access.replication)"}, which does not cover ${uncovered.join(", ")}: ` +
            `the remote cluster would refuse the follow. Add ${uncovered.join(", ")} to the key's access.replication names (CrossClusterApiKey access), or follow an index it covers`,
    };
}
