/**
 * Roles and users for cross-cluster search and replication over certificate trust (step 4 of
 * Elastic's procedure): the presets as role bodies, validation of names and bodies, and the
 * normal form used to compare a role as declared with a role as Elasticsearch returns it.
 * Pure functions: no network, no Pulumi; nothing here throws.
 *
 * Facts this module relies on (Elastic's "Configure roles and users for remote clusters", the role
 * and user APIs, their source, and what real 8.19.x and 9.x nodes answered):
 * - the user authenticates on the local cluster; its *role names* travel to the remote cluster,
 *   which applies its own role of the same name, so the two sides may differ;
 * - cross-cluster search: remote side `read` + `read_cross_cluster` on the target indices (plus
 *   `view_index_metadata`, which Kibana's field lists need); the local side may be empty;
 * - cross-cluster replication: remote side cluster `read_ccr` and `monitor` + `read` on the leader
 *   indices; local side cluster `manage_ccr` and `monitor`, `read`, `write`, `manage_follow_index`
 *   on the follower indices;
 * - role and user names in the native realm: 1 to 507 characters (document ids are `role-<name>` /
 *   `user-<name>`, at most 512 bytes), printable ASCII (space to `~`), no leading or trailing space;
 * - reserved (built-in) roles and users cannot be written (400 "is reserved");
 * - metadata keys starting with `_` are reserved (400 "metadata keys may not start with [_]");
 * - a role body is parsed strictly: an unknown field is refused ("unexpected field"), an empty
 *   `names` list is refused, and `PUT` without a body is refused ("request body is required");
 * - `GET _security/role/<name>` adds defaults to what was written: `cluster: []`, `indices: []`,
 *   `applications: []`, `run_as: []`, `metadata: {}`, `transient_metadata: {enabled: true}`, and
 *   `allow_restricted_indices: false` on each index entry; a `query` comes back as a JSON string;
 * - API-key model ("Configure roles and users" for API-key remote clusters): the role lives on the
 *   local cluster only; `remote_indices` entries name the remote cluster aliases (`clusters`), search
 *   needs `read` + `read_cross_cluster`, replication the cluster privilege `manage_ccr` and
 *   `cross_cluster_replication` on the leader indices; `remote_cluster` entries take the cluster
 *   privileges `monitor_enrich` (8.15+) and `monitor_stats` (8.17+) only. What a user reaches on the
 *   remote is further limited by the cross-cluster API key's access.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { CrossClusterRoleArgs } from "../../sdk/crossClusterRole";
import type { CheckFailure } from "../core/validation";
import { containsUnknown } from "../core/dynamic";
import { aliasProblem } from "../link/settings";
import { nodesOlderThan } from "../link/compat";

/** The ready-made role pairs. */
export type RolePreset = "search" | "replication";

/** Every preset, in the order the docs list them. */
export const ROLE_PRESETS: readonly RolePreset[] = ["search", "replication"];

/** How the remote cluster is connected: certificate trust (a role on each side) or a cross-cluster API key (local role only). */
export type RoleModel = "certificate" | "apiKey";

/** Every security model. */
export const ROLE_MODELS: readonly RoleModel[] = ["certificate", "apiKey"];

/** `remote_indices` privileges of the search preset in the API-key model. */
export const APIKEY_SEARCH_REMOTE_INDEX_PRIVILEGES: readonly string[] = ["read", "read_cross_cluster", "view_index_metadata"];
/** `remote_indices` privileges of the replication preset in the API-key model, on the leader indices. */
export const APIKEY_REPLICATION_REMOTE_INDEX_PRIVILEGES: readonly string[] = ["cross_cluster_replication"];
/**
 * The first Elasticsearch version whose roles take each `remote_cluster` privilege: the field came
 * with `monitor_enrich` in 8.15 (elastic/elasticsearch#107493), `monitor_stats` in 8.17 (#114964);
 * an older node has no `remote_cluster` field at all.
 */
export const REMOTE_CLUSTER_PRIVILEGE_SINCE: Readonly<Record<string, string>> = { monitor_enrich: "8.15.0", monitor_stats: "8.17.0" };
/** The cluster privileges a `remote_cluster` entry accepts (the keys of {@link REMOTE_CLUSTER_PRIVILEGE_SINCE}). */
export const REMOTE_CLUSTER_PRIVILEGES: readonly string[] = Object.keys(REMOTE_CLUSTER_PRIVILEGE_SINCE);

/** A role body as the create-or-update roles API takes it (`cluster`, `indices`, `run_as`, …). */
export type RoleBody = Record<string, unknown>;

/** Index privileges of the search preset on the remote cluster. */
export const SEARCH_REMOTE_INDEX_PRIVILEGES: readonly string[] = ["read", "read_cross_cluster", "view_index_metadata"];
/** Index privileges of the search preset on the local cluster, for `localIndices`. */
export const SEARCH_LOCAL_INDEX_PRIVILEGES: readonly string[] = ["read", "view_index_metadata"];
/** Cluster privileges of the replication preset on the remote (leader) cluster. */
export const REPLICATION_REMOTE_CLUSTER_PRIVILEGES: readonly string[] = ["read_ccr"];
/** Index privileges of the replication preset on the leader indices. */
export const REPLICATION_REMOTE_INDEX_PRIVILEGES: readonly string[] = ["monitor", "read"];
/** Cluster privileges of the replication preset on the local (follower) cluster. */
export const REPLICATION_LOCAL_CLUSTER_PRIVILEGES: readonly string[] = ["manage_ccr"];
/** Index privileges of the replication preset on the follower indices. */
export const REPLICATION_LOCAL_INDEX_PRIVILEGES: readonly string[] = ["monitor", "read", "write", "manage_follow_index"];

/**
 * Built-in roles, which the role API refuses to write. The union of what `GET _security/role`
 * marks `_reserved` on 8.18.x, 8.19.x and 9.x (the integration tests compare it with real nodes).
 */
export const RESERVED_ROLE_NAMES: ReadonlySet<string> = new Set([
    "apm_system", "apm_user", "beats_admin", "beats_system", "data_frame_transforms_admin", "data_frame_transforms_user",
    "editor", "enrich_user", "inference_admin", "inference_user", "ingest_admin", "kibana_admin", "kibana_system",
    "kibana_user", "logstash_admin", "logstash_system", "machine_learning_admin", "machine_learning_user",
    "monitoring_user", "remote_monitoring_agent", "remote_monitoring_collector", "reporting_user", "rollup_admin",
    "rollup_user", "snapshot_user", "superuser", "transform_admin", "transform_user", "transport_client", "viewer",
    "watcher_admin", "watcher_user",
]);

/**
 * Built-in users (only their password can be changed) and the anonymous user's default name (which
 * the user API refuses to touch). `kibana` is the deprecated name of `kibana_system`.
 */
export const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
    "elastic", "kibana", "kibana_system", "logstash_system", "beats_system", "apm_system", "remote_monitoring_user", "_anonymous",
]);

/** Longest role or user name the native realm stores. */
export const MAX_NAME_LENGTH = 507;

/** Top-level fields of a role body that the role API of 8.18+ accepts. */
export const ROLE_BODY_FIELDS: readonly string[] = [
    "cluster", "indices", "applications", "run_as", "metadata", "global", "remote_indices", "remote_cluster", "description",
];

/** Longest role description Elasticsearch accepts. */
const MAX_DESCRIPTION_LENGTH = 1000;

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

function printable(c: string): string {
    return /[\x21-\x7e]/.test(c) ? `"${c}"` : `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * The native realm's rules for a role or user name, shared by both. `kind` names it in messages.
 * A comma is refused although Elasticsearch stores it: the get APIs read `a,b` as two names, so
 * such a role or user could never be read back (and drift never seen).
 */
function validateName(kind: "role" | "user", v: unknown, property: string): CheckFailure[] {
    if (v === undefined || v === null || v === "") {
        return [{ property, reason: `a ${kind} name is required` }];
    }
    if (typeof v !== "string") {
        return [{ property, reason: `must be a string (got ${typeof v})` }];
    }
    if (v.length > MAX_NAME_LENGTH) {
        return [{ property, reason: `is ${v.length} characters long; Elasticsearch's native realm allows at most ${MAX_NAME_LENGTH}` }];
    }
    const bad = [...v].find((c) => c < " " || c > "~");
    if (bad !== undefined) {
        return [{ property, reason: `contains ${printable(bad)}: ${kind} names may only use printable ASCII (letters, digits, spaces, punctuation and symbols)` }];
    }
    if (v.startsWith(" ") || v.endsWith(" ")) {
        return [{ property, reason: `${JSON.stringify(v)} has leading or trailing whitespace, which Elasticsearch refuses` }];
    }
    if (v.includes(",")) {
        return [{ property, reason: `contains ",": Elasticsearch would store it, but its get APIs read "a,b" as two names, so it could never be read back` }];
    }
    return [];
}

/** Validates a role name: native-realm rules, not a built-in role. Unknown values pass. */
export function validateRoleName(v: unknown, property = "name"): CheckFailure[] {
    if (containsUnknown(v)) return [];
    const f = validateName("role", v, property);
    if (f.length === 0 && RESERVED_ROLE_NAMES.has(v as string)) {
        f.push({ property, reason: `"${v}" is a built-in (reserved) role of Elasticsearch and cannot be written; choose another name` });
    }
    return f;
}

/** Validates a user name: native-realm rules, not a built-in user. Unknown values pass. */
export function validateUsername(v: unknown, property = "username"): CheckFailure[] {
    if (containsUnknown(v)) return [];
    const f = validateName("user", v, property);
    if (f.length === 0 && RESERVED_USERNAMES.has(v as string)) {
        f.push({ property, reason: `"${v}" is a built-in (reserved) user of Elasticsearch; only its password can be changed, and not by this resource. Choose another name` });
    }
    return f;
}

/**
 * Validates a list of index patterns: a non-empty list of non-empty strings without surrounding
 * whitespace. With `remoteSide`, an `alias:index` pattern is refused: the remote cluster sees its
 * own index names, without the alias (regular expressions `/…/` are left alone).
 */
export function validateIndexPatterns(v: unknown, property: string, opts: { remoteSide?: boolean } = {}): CheckFailure[] {
    if (containsUnknown(v)) return [];
    if (!Array.isArray(v)) {
        return [{ property, reason: `must be a list of index patterns, e.g. ["logs-*"]` }];
    }
    if (v.length === 0) {
        return [{ property, reason: `is empty: give at least one index pattern, e.g. ["logs-*"]` }];
    }
    const f: CheckFailure[] = [];
    v.forEach((p, i) => {
        const prop = `${property}[${i}]`;
        if (containsUnknown(p)) return;
        if (typeof p !== "string") {
            f.push({ property: prop, reason: `must be a string (got ${typeof p})` });
        } else if (p.trim() === "") {
            f.push({ property: prop, reason: "is an empty index pattern" });
        } else if (p.trim() !== p) {
            f.push({ property: prop, reason: `${JSON.stringify(p)} has leading or trailing whitespace, so it matches no index` });
        } else if (opts.remoteSide && !p.startsWith("/") && p.includes(":")) {
            f.push({
                property: prop,
                reason: `${JSON.stringify(p)} names a remote cluster, but these patterns are applied by the remote cluster to its own indices: write ${JSON.stringify(p.slice(p.lastIndexOf(":") + 1))}`,
            });
        }
    });
    return f;
}

function validateStringList(v: unknown, property: string, what: string, opts: { nonEmpty?: boolean } = {}): CheckFailure[] {
    if (containsUnknown(v)) return [];
    if (typeof v === "string" && v !== "") return [];
    if (!Array.isArray(v)) {
        return [{ property, reason: `must be a list of ${what}` }];
    }
    if (opts.nonEmpty && v.length === 0) {
        return [{ property, reason: `cannot be empty: give at least one of the ${what}` }];
    }
    const f: CheckFailure[] = [];
    v.forEach((x, i) => {
        if (!containsUnknown(x) && (typeof x !== "string" || x === "")) {
            f.push({ property: `${property}[${i}]`, reason: `must be a non-empty string (one of the ${what})` });
        }
    });
    return f;
}

/** Validates metadata: an object whose keys do not start with `_` (reserved by Elasticsearch). */
export function validateMetadata(v: unknown, property: string): CheckFailure[] {
    if (v === undefined || containsUnknown(v)) return [];
    if (!isPlainObject(v)) {
        return [{ property, reason: "must be an object of key/value pairs" }];
    }
    const reserved = Object.keys(v).filter((k) => k.startsWith("_"));
    return reserved.length
        ? [{ property, reason: `keys starting with "_" are reserved by Elasticsearch: ${reserved.map((k) => JSON.stringify(k)).join(", ")}` }]
        : [];
}

function validateIndexEntries(v: unknown, property: string, remote: boolean): CheckFailure[] {
    if (containsUnknown(v)) return [];
    if (!Array.isArray(v)) {
        return [{ property, reason: `must be a list of { names, privileges${remote ? ", clusters" : ""} } entries` }];
    }
    const f: CheckFailure[] = [];
    v.forEach((e, i) => {
        const p = `${property}[${i}]`;
        if (containsUnknown(e)) return;
        if (!isPlainObject(e)) {
            f.push({ property: p, reason: `must be an object { names, privileges${remote ? ", clusters" : ""} }` });
            return;
        }
        if (e.names === undefined) {
            f.push({ property: `${p}.names`, reason: "is required: the index patterns this entry grants privileges on" });
        } else {
            f.push(...validateStringList(e.names, `${p}.names`, "index patterns", { nonEmpty: true }));
        }
        if (e.privileges === undefined) {
            f.push({ property: `${p}.privileges`, reason: 'is required, e.g. ["read"]' });
        } else {
            f.push(...validateStringList(e.privileges, `${p}.privileges`, "index privileges", { nonEmpty: true }));
        }
        if (remote) {
            if (e.clusters === undefined) {
                f.push({ property: `${p}.clusters`, reason: "is required: the remote cluster aliases this entry applies to" });
            } else {
                f.push(...validateStringList(e.clusters, `${p}.clusters`, "remote cluster aliases", { nonEmpty: true }));
            }
        }
    });
    return f;
}

/**
 * Validates a role body's `remote_cluster`: `{ clusters, privileges }` entries, both non-empty lists,
 * the privileges among {@link REMOTE_CLUSTER_PRIVILEGES} (Elasticsearch refuses any other here).
 */
function validateRemoteClusterEntries(v: unknown, property: string): CheckFailure[] {
    if (!Array.isArray(v)) return [{ property, reason: "must be a list of { clusters, privileges } entries" }];
    const f: CheckFailure[] = [];
    v.forEach((e, i) => {
        const p = `${property}[${i}]`;
        if (containsUnknown(e)) return;
        if (!isPlainObject(e)) {
            f.push({ property: p, reason: `must be an object { clusters, privileges }, e.g. { clusters: ["cluster_two"], privileges: ["monitor_enrich"] }` });
            return;
        }
        for (const k of Object.keys(e)) {
            if (k !== "clusters" && k !== "privileges") f.push({ property: `${p}.${k}`, reason: `is not a field of a remote_cluster entry (Elasticsearch refuses unknown fields); the fields are clusters, privileges` });
        }
        if (e.clusters === undefined) f.push({ property: `${p}.clusters`, reason: "is required: the remote cluster aliases this entry applies to" });
        else f.push(...validateStringList(e.clusters, `${p}.clusters`, "remote cluster aliases", { nonEmpty: true }));
        if (e.privileges === undefined) f.push({ property: `${p}.privileges`, reason: 'is required, e.g. ["monitor_enrich"]' });
        else if (!Array.isArray(e.privileges) || e.privileges.length === 0) f.push(...validateStringList(e.privileges, `${p}.privileges`, "remote cluster privileges", { nonEmpty: true }));
        else f.push(...validateRemoteClusterPrivileges(e.privileges, `${p}.privileges`));
    });
    return f;
}

/**
 * Validates an explicit role body, each failure naming `<property>.<field>`. Checks the structure
 * Elasticsearch parses strictly; privilege names are left to Elasticsearch (they vary by version).
 */
export function validateRoleBody(v: unknown, property: string): CheckFailure[] {
    if (v === undefined || containsUnknown(v)) return [];
    if (!isPlainObject(v)) {
        return [{ property, reason: "must be a role body object, e.g. { cluster: [...], indices: [{ names: [...], privileges: [...] }] }" }];
    }
    const f: CheckFailure[] = [];
    for (const k of Object.keys(v)) {
        if (!ROLE_BODY_FIELDS.includes(k)) {
            f.push({ property: `${property}.${k}`, reason: `is not a field of a role (Elasticsearch refuses unknown fields); the fields are ${ROLE_BODY_FIELDS.join(", ")}` });
        }
    }
    if (v.cluster !== undefined) f.push(...validateStringList(v.cluster, `${property}.cluster`, "cluster privileges"));
    if (v.run_as !== undefined) f.push(...validateStringList(v.run_as, `${property}.run_as`, "user names"));
    if (v.indices !== undefined) f.push(...validateIndexEntries(v.indices, `${property}.indices`, false));
    if (v.remote_indices !== undefined) f.push(...validateIndexEntries(v.remote_indices, `${property}.remote_indices`, true));
    if (v.applications !== undefined && !containsUnknown(v.applications) && !Array.isArray(v.applications)) {
        f.push({ property: `${property}.applications`, reason: "must be a list of { application, privileges, resources } entries" });
    }
    if (v.remote_cluster !== undefined && !containsUnknown(v.remote_cluster)) f.push(...validateRemoteClusterEntries(v.remote_cluster, `${property}.remote_cluster`));
    if (v.global !== undefined && !containsUnknown(v.global) && !isPlainObject(v.global)) {
        f.push({ property: `${property}.global`, reason: "must be an object" });
    }
    f.push(...validateMetadata(v.metadata, `${property}.metadata`));
    if (v.description !== undefined && !containsUnknown(v.description)) {
        if (typeof v.description !== "string") {
            f.push({ property: `${property}.description`, reason: "must be a string" });
        } else if (v.description.length > MAX_DESCRIPTION_LENGTH) {
            f.push({ property: `${property}.description`, reason: `is ${v.description.length} characters long; Elasticsearch allows at most ${MAX_DESCRIPTION_LENGTH}` });
        }
    }
    return f;
}

/**
 * The role-shaping inputs of a `CrossClusterRole`, resolved: the sdk's arguments unwrapped (one
 * source for both). Explicit definitions are role bodies.
 */
export type RoleSpec = pulumi.Unwrap<Pick<CrossClusterRoleArgs,
    "model" | "preset" | "indices" | "followerIndices" | "localIndices" | "clusters" | "remoteClusterPrivileges">> & {
    /** Explicit role body for the local cluster (excludes `preset`). */
    localDefinition?: RoleBody;
    /** Explicit role body for the remote cluster (excludes `preset` and the API-key model). */
    remoteDefinition?: RoleBody;
};

/** The keys of {@link RoleSpec}, in the order a reader meets them. */
export const ROLE_SPEC_KEYS = ["model", "preset", "indices", "followerIndices", "localIndices", "clusters", "remoteClusterPrivileges", "localDefinition", "remoteDefinition"] as const;

/**
 * Validates `clusters` of the API-key model: a non-empty list of remote cluster aliases as the
 * local cluster knows them; `*` wildcards allowed (Elasticsearch matches them against aliases).
 */
export function validateClusterAliases(v: unknown, property: string): CheckFailure[] {
    if (containsUnknown(v)) return [];
    if (!Array.isArray(v)) {
        return [{ property, reason: `must be a list of remote cluster aliases, e.g. ["cluster_two"] (the alias of the RemoteClusterLink)` }];
    }
    if (v.length === 0) {
        return [{ property, reason: `is empty: give at least one remote cluster alias, e.g. ["cluster_two"]` }];
    }
    const f: CheckFailure[] = [];
    v.forEach((a, i) => {
        if (containsUnknown(a)) return;
        const problem = typeof a === "string" && a.includes("*")
            ? (a.replace(/\*/g, "") === "" ? undefined : aliasProblem(a.replace(/\*/g, "")))
            : aliasProblem(a);
        if (problem) f.push({ property: `${property}[${i}]`, reason: problem.replace(/^is required:/, "is empty:") });
    });
    return f;
}
/**
 * Validates the role-shaping inputs (not the connections or the name), each failure naming its
 * property. Unknown values (preview) are skipped.
 */
export function validateRoleSpec(n: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    const model = n.model;
    if (model !== undefined && model !== null && !containsUnknown(model) && !ROLE_MODELS.includes(model as RoleModel)) {
        f.push({ property: "model", reason: `must be one of ${ROLE_MODELS.map((m) => `"${m}"`).join(", ")} (got ${JSON.stringify(model)}): "certificate" writes the role on both clusters, "apiKey" on the local cluster only` });
    }
    const apiKey = model === "apiKey";
    const modelKnown = !containsUnknown(model);
    const explicit = (["localDefinition", "remoteDefinition"] as const).filter((k) => n[k] !== undefined && n[k] !== null);
    if (apiKey && n.remoteDefinition !== undefined && n.remoteDefinition !== null) {
        f.push({ property: "remoteDefinition", reason: `goes with model "certificate" only: with model "apiKey" no role is written on the remote cluster (the cross-cluster API key's access limits what the local users reach); put remote_indices in localDefinition` });
    }
    if (modelKnown && !apiKey) {
        if (n.clusters !== undefined && n.clusters !== null) {
            f.push({ property: "clusters", reason: `goes with model: "apiKey" only (the remote cluster aliases of the role's remote_indices); with certificate trust the role is written on the remote cluster itself` });
        }
        if (n.remoteClusterPrivileges !== undefined && n.remoteClusterPrivileges !== null) {
            f.push({
                property: "remoteClusterPrivileges",
                reason: `goes with model: "apiKey" only: a role's remote_cluster privileges apply only to remote clusters connected with a cross-cluster API key ` +
                    `(ES|QL across clusters, whose ENRICH needs monitor_enrich, requires that model). Set model: "apiKey" (the remote connected through a CrossClusterApiKey), or leave remoteClusterPrivileges out`,
            });
        }
    }
    const preset = n.preset;
    if (preset !== undefined && preset !== null) {
        if (!containsUnknown(preset) && !ROLE_PRESETS.includes(preset as RolePreset)) {
            f.push({ property: "preset", reason: `must be one of ${ROLE_PRESETS.map((p) => `"${p}"`).join(", ")} (got ${JSON.stringify(preset)}); or leave it out and give localDefinition/remoteDefinition` });
        }
        for (const k of explicit) {
            f.push({ property: k, reason: `goes without preset: give either preset (with indices) or explicit localDefinition/remoteDefinition, not both` });
        }
        if (n.indices === undefined) {
            f.push({ property: "indices", reason: `is required with a preset: the index patterns on the remote cluster, e.g. ["logs-*"]` });
        } else {
            f.push(...validateIndexPatterns(n.indices, "indices", { remoteSide: true }));
        }
        if (apiKey) {
            if (n.clusters === undefined || n.clusters === null) {
                f.push({ property: "clusters", reason: `is required with model "apiKey" and a preset: the remote cluster aliases the role applies to, e.g. ["cluster_two"] (the alias of the RemoteClusterLink)` });
            } else {
                f.push(...validateClusterAliases(n.clusters, "clusters"));
            }
            f.push(...validateRemoteClusterPrivileges(n.remoteClusterPrivileges, "remoteClusterPrivileges"));
        }
        const known = !containsUnknown(preset);
        if (known && preset === "replication") {
            if (n.followerIndices === undefined) {
                f.push({ property: "followerIndices", reason: `is required with the replication preset: the follower index patterns on the local cluster` });
            } else {
                f.push(...validateIndexPatterns(n.followerIndices, "followerIndices"));
            }
            if (n.localIndices !== undefined) {
                f.push({ property: "localIndices", reason: `goes with the search preset only; for replication the local side is followerIndices` });
            }
        } else if (known && preset === "search") {
            if (n.followerIndices !== undefined) {
                f.push({ property: "followerIndices", reason: `goes with the replication preset only` });
            }
            if (n.localIndices !== undefined) f.push(...validateIndexPatterns(n.localIndices, "localIndices"));
        }
        return f;
    }
    for (const k of ["indices", "followerIndices", "localIndices", ...(apiKey ? ["clusters", "remoteClusterPrivileges"] : [])]) {
        if (n[k] !== undefined && n[k] !== null) {
            f.push({ property: k, reason: `goes with a preset only; with explicit definitions, put it inside ${apiKey ? "localDefinition" : "localDefinition/remoteDefinition"}` });
        }
    }
    if (explicit.length === 0) {
        f.push({ property: "preset", reason: `give either preset ("search" or "replication", with indices) or explicit ${apiKey ? "localDefinition" : "localDefinition/remoteDefinition"}` });
    }
    f.push(...validateRoleBody(n.localDefinition ?? undefined, "localDefinition"));
    if (!apiKey) f.push(...validateRoleBody(n.remoteDefinition ?? undefined, "remoteDefinition"));
    return f;
}

/** One `remote_cluster` privilege a role declares, with the input property that names it. */
export interface RemoteClusterUse {
    property: string;
    privilege: string;
}

/**
 * The `remote_cluster` privileges the local role of a spec uses (model "apiKey"; the certificate
 * model writes none through its presets), each named by its input: `remoteClusterPrivileges[i]`
 * with a preset, `localDefinition.remote_cluster[e].privileges[p]` with an explicit definition.
 * Unknown values are skipped. Pure.
 */
export function remoteClusterUses(n: Record<string, unknown>): RemoteClusterUse[] {
    if (n.model !== "apiKey") return [];
    const out: RemoteClusterUse[] = [];
    if (n.preset !== undefined && n.preset !== null) {
        if (Array.isArray(n.remoteClusterPrivileges)) {
            n.remoteClusterPrivileges.forEach((p, i) => { if (typeof p === "string") out.push({ property: `remoteClusterPrivileges[${i}]`, privilege: p }); });
        }
        return out;
    }
    const rc = isPlainObject(n.localDefinition) ? n.localDefinition.remote_cluster : undefined;
    if (!Array.isArray(rc)) return out;
    rc.forEach((e, ei) => {
        if (!isPlainObject(e) || !Array.isArray(e.privileges)) return;
        e.privileges.forEach((p, pi) => { if (typeof p === "string") out.push({ property: `localDefinition.remote_cluster[${ei}].privileges[${pi}]`, privilege: p }); });
    });
    return out;
}

/**
 * Why the local cluster's nodes cannot store these `remote_cluster` privileges: one failure per
 * privilege whose first version ({@link REMOTE_CLUSTER_PRIVILEGE_SINCE}) is newer than some node,
 * naming each such node with its version. A version that cannot be parsed is not blamed. Pure.
 */
export function remoteClusterVersionProblems(uses: RemoteClusterUse[], nodes: Array<{ name: string; version: string }>, urls: string): CheckFailure[] {
    const f: CheckFailure[] = [];
    for (const u of uses) {
        const since = REMOTE_CLUSTER_PRIVILEGE_SINCE[u.privilege];
        if (!since) continue;
        const old = nodesOlderThan(nodes, since);
        if (!old.length) continue;
        f.push({
            property: u.property,
            reason: `the remote_cluster privilege '${u.privilege}' needs Elasticsearch ${since} or later on every node of the local cluster (${urls}), where the role is stored; ` +
                `${old.map((x) => `${x.name} runs ${x.version}`).join(", ")}. Upgrade those nodes first, or leave '${u.privilege}' out`,
        });
    }
    return f;
}

/** Validates `remoteClusterPrivileges`: absent, or a list of the privileges a `remote_cluster` entry accepts. */
function validateRemoteClusterPrivileges(v: unknown, property: string): CheckFailure[] {
    if (v === undefined || v === null || containsUnknown(v)) return [];
    if (!Array.isArray(v)) return [{ property, reason: `must be a list, e.g. ["monitor_enrich"]` }];
    const f: CheckFailure[] = [];
    v.forEach((p, i) => {
        if (!containsUnknown(p) && !REMOTE_CLUSTER_PRIVILEGES.includes(p as string)) {
            // 8.19.21 and 9.5.4 answer 400 "failed to parse remote_cluster for role [<name>]. [monitor_enrich,
            // monitor_stats] are the only values allowed for [privileges] within [remote_cluster]. Found [monitor]".
            f.push({ property: `${property}[${i}]`, reason: `${JSON.stringify(p)} is not a remote cluster privilege: Elasticsearch accepts ${REMOTE_CLUSTER_PRIVILEGES.join(" (8.15+), ")} (8.17+) here and refuses the role otherwise ("are the only values allowed for [privileges] within [remote_cluster]")` });
        }
    });
    return f;
}

/**
 * The role bodies a spec declares. Certificate model: the two sides; the local side of the search
 * preset is the empty role the docs prescribe (`{}`), or read access to `localIndices` when given;
 * in explicit mode a side left out is the empty role, since the name must exist on both clusters.
 * API-key model: the local role only (`remote` is null: nothing is written on the remote cluster).
 */
export function roleBodies(spec: RoleSpec): { local: RoleBody; remote: RoleBody | null } {
    if (spec.model === "apiKey") return { local: apiKeyLocalRole(spec), remote: null };
    if (spec.preset === "search") {
        const local: RoleBody = spec.localIndices?.length
            ? { indices: [{ names: [...spec.localIndices], privileges: [...SEARCH_LOCAL_INDEX_PRIVILEGES] }] }
            : {};
        return {
            local,
            remote: { indices: [{ names: [...(spec.indices ?? [])], privileges: [...SEARCH_REMOTE_INDEX_PRIVILEGES] }] },
        };
    }
    if (spec.preset === "replication") {
        return {
            local: {
                cluster: [...REPLICATION_LOCAL_CLUSTER_PRIVILEGES],
                indices: [{ names: [...(spec.followerIndices ?? [])], privileges: [...REPLICATION_LOCAL_INDEX_PRIVILEGES] }],
            },
            remote: {
                cluster: [...REPLICATION_REMOTE_CLUSTER_PRIVILEGES],
                indices: [{ names: [...(spec.indices ?? [])], privileges: [...REPLICATION_REMOTE_INDEX_PRIVILEGES] }],
            },
        };
    }
    return { local: { ...(spec.localDefinition ?? {}) }, remote: { ...(spec.remoteDefinition ?? {}) } };
}

/** The local role of the API-key model: `remote_indices` (and `remote_cluster`) for the aliases in `clusters`. */
function apiKeyLocalRole(spec: RoleSpec): RoleBody {
    if (spec.preset !== "search" && spec.preset !== "replication") return { ...(spec.localDefinition ?? {}) };
    const clusters = [...(spec.clusters ?? [])];
    const body: RoleBody = {};
    if (spec.preset === "replication") {
        body.cluster = [...REPLICATION_LOCAL_CLUSTER_PRIVILEGES];
        body.indices = [{ names: [...(spec.followerIndices ?? [])], privileges: [...REPLICATION_LOCAL_INDEX_PRIVILEGES] }];
    } else if (spec.localIndices?.length) {
        body.indices = [{ names: [...spec.localIndices], privileges: [...SEARCH_LOCAL_INDEX_PRIVILEGES] }];
    }
    const privileges = spec.preset === "search" ? APIKEY_SEARCH_REMOTE_INDEX_PRIVILEGES : APIKEY_REPLICATION_REMOTE_INDEX_PRIVILEGES;
    body.remote_indices = [{ clusters, names: [...(spec.indices ?? [])], privileges: [...privileges] }];
    if (spec.remoteClusterPrivileges?.length) {
        body.remote_cluster = [{ clusters: [...clusters], privileges: [...spec.remoteClusterPrivileges] }];
    }
    return body;
}

/** Only the spec's own keys (no connections, no outputs). */
export function specOf(v: RoleSpec): RoleSpec {
    const out: Record<string, unknown> = {};
    for (const k of ROLE_SPEC_KEYS) out[k] = (v as Record<string, unknown>)[k];
    return out as RoleSpec;
}

function firstEntry(body: RoleBody | undefined, field: string): Record<string, unknown> | undefined {
    const list = body?.[field];
    return Array.isArray(list) && list.length === 1 && isPlainObject(list[0]) ? list[0] : undefined;
}

function stringList(v: unknown): string[] | undefined {
    return Array.isArray(v) && v.every((x) => typeof x === "string") ? [...v] : typeof v === "string" ? [v] : undefined;
}

/**
 * The spec as found on the clusters, in the user's input names, so that `pulumi preview --diff`
 * after a refresh shows `old => new` for what was changed by hand. A side that is as declared keeps
 * the declared form; a preset whose bodies were edited within its shape (other index patterns,
 * other aliases) stays a preset with the found patterns; anything else becomes explicit
 * `localDefinition`/`remoteDefinition` in normal form (a side absent on its cluster is left out).
 */
export function observedSpec(spec: RoleSpec, found: { local?: RoleBody; remote?: RoleBody }): RoleSpec {
    const declared = roleBodies(spec);
    const apiKey = spec.model === "apiKey";
    const localSame = found.local !== undefined && sameRole(found.local, declared.local);
    const remoteSame = apiKey || (found.remote !== undefined && sameRole(found.remote, declared.remote));
    if (localSame && remoteSame) return specOf(spec);
    if (spec.preset && found.local && (apiKey || found.remote)) {
        const remoteIdx = apiKey ? firstEntry(found.local, "remote_indices") : firstEntry(found.remote, "indices");
        const localIdx = firstEntry(found.local, "indices");
        const candidate: RoleSpec = {
            ...specOf(spec),
            indices: stringList(remoteIdx?.names) ?? spec.indices,
            ...(spec.preset === "replication" ? { followerIndices: stringList(localIdx?.names) ?? spec.followerIndices } : {}),
            ...(spec.preset === "search" ? { localIndices: stringList(localIdx?.names) } : {}),
            ...(apiKey ? {
                clusters: stringList(remoteIdx?.clusters) ?? spec.clusters,
                remoteClusterPrivileges: stringList(firstEntry(found.local, "remote_cluster")?.privileges) as RoleSpec["remoteClusterPrivileges"],
            } : {}),
        };
        const bodies = roleBodies(candidate);
        if (sameRole(bodies.local, found.local) && (apiKey || sameRole(bodies.remote, found.remote))) return candidate;
    }
    return {
        model: spec.model,
        localDefinition: found.local === undefined ? undefined : localSame ? declared.local : normaliseRole(found.local),
        remoteDefinition: apiKey || found.remote === undefined ? undefined : remoteSame ? declared.remote ?? undefined : normaliseRole(found.remote),
    };
}

// ------------------------------------------------------------------------------- normal form

function sortedSet(v: unknown): unknown {
    const list = typeof v === "string" ? [v] : Array.isArray(v) ? v : undefined;
    if (!list) return v;
    return [...new Set(list.map((x) => (typeof x === "string" ? x : JSON.stringify(x))))].sort();
}

/** Deep copy with object keys sorted, so JSON text compares equal for equal values. */
function canonical(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(canonical);
    if (isPlainObject(v)) {
        const o: Record<string, unknown> = {};
        for (const k of Object.keys(v).sort()) {
            if (v[k] !== undefined) o[k] = canonical(v[k]);
        }
        return o;
    }
    return v;
}

function isEmpty(v: unknown): boolean {
    return v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);
}

function normaliseQuery(q: unknown): unknown {
    if (typeof q === "string") {
        try {
            return canonical(JSON.parse(q));
        } catch {
            return q;
        }
    }
    return canonical(q);
}

function normaliseIndexEntry(e: unknown): unknown {
    if (!isPlainObject(e)) return e;
    const o: Record<string, unknown> = { ...e };
    for (const k of ["names", "privileges", "clusters"]) {
        if (o[k] !== undefined) o[k] = sortedSet(o[k]);
    }
    if (o.allow_restricted_indices === false) delete o.allow_restricted_indices;
    if (isPlainObject(o.field_security)) {
        const fs: Record<string, unknown> = { ...o.field_security };
        for (const k of ["grant", "except"]) {
            if (fs[k] !== undefined) fs[k] = sortedSet(fs[k]);
            if (k === "except" && isEmpty(fs[k])) delete fs[k];
        }
        o.field_security = fs;
    }
    if (o.query !== undefined && o.query !== null) o.query = normaliseQuery(o.query);
    else delete o.query;
    return canonical(o);
}

function sortEntries(list: unknown[]): unknown[] {
    return list.map((x) => [JSON.stringify(x), x] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, x]) => x);
}

/**
 * The normal form of a role body: what was written and what `GET _security/role` returns compare
 * equal. Drops what Elasticsearch adds (empty lists and objects, `transient_metadata`,
 * `allow_restricted_indices: false`), treats privilege, name and cluster lists as sets, parses a
 * string `query`, and sorts keys and index entries. Unknown fields are kept (keys sorted).
 */
export function normaliseRole(body: unknown): RoleBody {
    if (!isPlainObject(body)) return {};
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) {
        if (k === "transient_metadata" || isEmpty(v)) continue;
        switch (k) {
            case "cluster":
            case "run_as":
                out[k] = sortedSet(v);
                break;
            case "indices":
            case "remote_indices":
                out[k] = Array.isArray(v) ? sortEntries(v.map(normaliseIndexEntry)) : canonical(v);
                break;
            case "applications":
                out[k] = Array.isArray(v)
                    ? sortEntries(v.map((a) => (isPlainObject(a)
                        ? canonical({ ...a, privileges: sortedSet(a.privileges), resources: sortedSet(a.resources) })
                        : a)))
                    : canonical(v);
                break;
            case "remote_cluster":
                out[k] = Array.isArray(v)
                    ? sortEntries(v.map((a) => (isPlainObject(a) ? canonical({ ...a, privileges: sortedSet(a.privileges), clusters: sortedSet(a.clusters) }) : a)))
                    : canonical(v);
                break;
            default:
                out[k] = canonical(v);
        }
    }
    return canonical(out) as RoleBody;
}

/** True if two role bodies grant the same (compared in normal form). Never throws. */
export function sameRole(a: unknown, b: unknown): boolean {
    return JSON.stringify(normaliseRole(a)) === JSON.stringify(normaliseRole(b));
}

/**
 * A role as read back, ready to be written again (to restore an adopted role): the read-only
 * `transient_metadata` removed.
 */
export function writableRole(body: RoleBody): RoleBody {
    const { transient_metadata: _ignored, ...rest } = body;
    return rest;
}

/**
 * Advice for a failure whose reason shows the cluster cannot create its `.security` index: the
 * index's settings need analysis components (`pattern_capture`, `unique`, `uax_url_email`) from the
 * `analysis-common` module, which minimal distributions such as the integ-test-zip leave out.
 * Empty for any other reason.
 */
export function securityIndexHint(reason: string): string {
    return /Unknown (filter|tokenizer) type \[(pattern_capture|unique|uax_url_email)\]/.test(reason)
        ? " — this cluster cannot create its .security index, where native roles and users are stored: it lacks the analysis-common module (a minimal distribution such as the integ-test-zip?); install the full Elasticsearch distribution"
        : "";
}
