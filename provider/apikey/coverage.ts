/**
 * Does a cross-cluster API key's access cover what a local role will use through it? Pure.
 *
 * In the API-key model a local user's reach on the remote cluster is the intersection of its role's
 * `remote_indices` (for the alias the key is used under) and the key's `access`. Elasticsearch turns
 * the access into a role descriptor on the remote (its CrossClusterApiKeyRoleDescriptorBuilder):
 * `search` entries grant the index privileges `read`, `read_cross_cluster`, `view_index_metadata`
 * (and the cluster privileges `cross_cluster_search`, `monitor_enrich`); `replication` entries grant
 * `cross_cluster_replication`, `cross_cluster_replication_internal` (cluster:
 * `cross_cluster_replication`). What a role grants beyond that, the remote refuses.
 *
 * The key's role descriptor is built when the key is created or updated, by the remote's version
 * then: `monitor_enrich` joined `cross_cluster_search` in 8.15 (the builder's comment: "monitor_enrich
 * is needed for ES|QL + ENRICH"), so a key made earlier lacks it until it is updated. Elastic's
 * "ES|QL cross-cluster querying" page (elastic.co/docs/explore-analyze/query-filter/languages/esql-cross-clusters):
 * "Cross cluster API keys created in versions prior to 8.15.0 will need to replaced or updated to
 * add the new permissions required for ES|QL with ENRICH." What is observable is the descriptor
 * itself: `GET _security/api_key?id=` answers `role_descriptors.cross_cluster.cluster`
 * (`["cross_cluster_search", "monitor_enrich"]` for a search key made on 8.19.21 and 9.5.4).
 *
 * Index patterns: a role pattern P is covered when some key pattern K matches the text of P, K's
 * wildcards (`*` any string, `?` one character) matching P's characters and P's own wildcards taken
 * literally (K's `?` never stands for P's `*`). That is sound: every index P matches, K matches too.
 * It is not complete (two key patterns may together cover P without either covering it alone:
 * reported as uncovered). A regular expression (`/…/`) on either side cannot be compared this way:
 * reported as "cannot check", never passed silently.
 */
import type { CrossClusterAccess } from "./keyBody";

/** One `remote_indices` entry of a role, as the roles API takes it. */
export interface RemoteIndicesEntry {
    clusters: string[];
    names: string[];
    privileges: string[];
    allow_restricted_indices?: boolean;
    [k: string]: unknown;
}

/** One `remote_cluster` entry of a role. */
export interface RemoteClusterEntry {
    clusters: string[];
    privileges: string[];
}

/** Which part of a key's access a privilege needs. */
export type AccessKind = "search" | "replication";

/** Index privileges a key's `search` access grants on the remote. */
export const SEARCH_INDEX_PRIVILEGES: readonly string[] = ["read", "read_cross_cluster", "view_index_metadata"];
/** Index privileges a key's `replication` access grants on the remote. */
export const REPLICATION_INDEX_PRIVILEGES: readonly string[] = ["cross_cluster_replication", "cross_cluster_replication_internal"];
/** `remote_cluster` privileges a key's `search` access grants (`monitor_enrich` since 8.15). */
export const SEARCH_CLUSTER_PRIVILEGES: readonly string[] = ["monitor_enrich"];

/** Something of the role the key's access does not cover, or that cannot be compared. */
export interface Gap {
    /** `remote_indices` or `remote_cluster`. */
    list: "remote_indices" | "remote_cluster";
    /** Index of the entry in its list. */
    entry: number;
    /** Index in the entry's `names` (an index pattern gap). */
    name?: number;
    /** Index in the entry's `privileges` (a privilege gap). */
    privilege?: number;
    /** The role's index pattern or privilege. */
    value: string;
    /** The part of the key's access it needs. */
    needs?: AccessKind;
    /** One sentence: what is missing (no fix; the caller knows where the fix goes). */
    reason: string;
    /** The fix, when it is not to widen the key's access (e.g. an old key to update). */
    fix?: string;
}

/** The outcome of {@link keyCoverage}. */
export interface Coverage {
    /** Patterns (or cluster privileges) the role uses that the key does not grant: the remote refuses them. */
    uncovered: Gap[];
    /** Patterns that cannot be compared (regular expressions): neither passed nor failed. */
    unchecked: Gap[];
    /** Privileges no cross-cluster API key grants (e.g. `write`, `monitor`): they have no effect through a key. */
    notGranted: Gap[];
    /** Entries of the role that apply to the alias (and were checked). */
    entries: number;
}

const isRegex = (p: string) => p.length >= 2 && p.startsWith("/") && p.endsWith("/");

type Token = { kind: "star" | "one" | "lit"; ch?: string };

/** Elasticsearch's wildcard syntax: `*`, `?`, and `\` escaping the next character. */
function tokens(p: string): Token[] {
    const out: Token[] = [];
    for (let i = 0; i < p.length; i++) {
        const c = p[i];
        if (c === "\\" && i + 1 < p.length) out.push({ kind: "lit", ch: p[++i] });
        else if (c === "*") out.push({ kind: "star" });
        else if (c === "?") out.push({ kind: "one" });
        else out.push({ kind: "lit", ch: c });
    }
    return out;
}

/**
 * True when every name `role` matches, `key` matches too (see the top of this file); undefined when
 * either is a regular expression. Predicate: never throws.
 */
export function patternCovers(key: string, role: string): boolean | undefined {
    if (isRegex(key) || isRegex(role)) return undefined;
    const k = tokens(key);
    const r = tokens(role);
    // can[j]: k[0..i) matches r[0..j)
    let can = new Array<boolean>(r.length + 1).fill(false);
    can[0] = true;
    for (const t of k) {
        const next = new Array<boolean>(r.length + 1).fill(false);
        if (t.kind === "star") {
            let seen = false;
            for (let j = 0; j <= r.length; j++) {
                seen = seen || can[j];
                next[j] = seen;
            }
        } else {
            for (let j = 0; j < r.length; j++) {
                if (!can[j]) continue;
                const x = r[j];
                const ok = t.kind === "one" ? x.kind !== "star" : x.kind === "lit" && x.ch === t.ch;
                if (ok) next[j + 1] = true;
            }
        }
        can = next;
    }
    return can[r.length];
}

/** True when a role's `clusters` pattern applies to `alias` (Elasticsearch matches them with wildcards). */
export function clusterMatches(pattern: string, alias: string): boolean | undefined {
    if (isRegex(pattern)) return undefined;
    return patternCovers(pattern, alias.replace(/[\\*?]/g, (c) => `\\${c}`));
}

function kindsOf(privilege: string): AccessKind[] | "notGranted" | "unchecked" {
    const p = privilege.toLowerCase();
    if (SEARCH_INDEX_PRIVILEGES.includes(p)) return ["search"];
    if (REPLICATION_INDEX_PRIVILEGES.includes(p)) return ["replication"];
    // `all` reaches whatever the key grants: either part covers it.
    if (p === "all") return ["search", "replication"];
    // Action names (`indices:data/read/search`) are not compared with the key's privileges.
    if (p.includes(":")) return "unchecked";
    return "notGranted";
}

/** The key's patterns for one part of its access (restricted-index ones separately). */
function keyPatterns(access: CrossClusterAccess, kind: AccessKind, restricted: boolean): string[] {
    if (kind === "replication") return restricted ? [] : (access.replication ?? []).flatMap((e) => e.names ?? []);
    return (access.search ?? []).filter((e) => !restricted || e.allowRestrictedIndices === true).flatMap((e) => e.names ?? []);
}

function list(xs: string[]): string {
    return xs.length ? xs.join(", ") : "none";
}

/**
 * What of a role's `remote_indices` and `remote_cluster` entries for `alias` the key's `access`
 * does not cover. Entries whose `clusters` do not match the alias are not the key's business and
 * are skipped; an entry whose `clusters` is a regular expression is reported unchecked.
 */
export function keyCoverage(access: CrossClusterAccess, role: { remote_indices?: unknown; remote_cluster?: unknown }, alias: string, keyClusterPrivileges?: readonly string[]): Coverage {
    const out: Coverage = { uncovered: [], unchecked: [], notGranted: [], entries: 0 };
    const entries = Array.isArray(role.remote_indices) ? (role.remote_indices as RemoteIndicesEntry[]) : [];
    const applies = (clusters: unknown): boolean | undefined => {
        if (!Array.isArray(clusters)) return false;
        let unknown = false;
        for (const c of clusters) {
            const m = typeof c === "string" ? clusterMatches(c, alias) : false;
            if (m === true) return true;
            if (m === undefined) unknown = true;
        }
        return unknown ? undefined : false;
    };
    entries.forEach((e, ei) => {
        if (!e || typeof e !== "object") return;
        const a = applies(e.clusters);
        if (a === false) return;
        if (a === undefined) {
            out.unchecked.push({ list: "remote_indices", entry: ei, value: JSON.stringify(e.clusters), reason: `its clusters ${JSON.stringify(e.clusters)} are regular expressions: whether they name '${alias}' cannot be checked` });
            return;
        }
        out.entries++;
        const names = Array.isArray(e.names) ? e.names.filter((n): n is string => typeof n === "string") : [];
        const privileges = Array.isArray(e.privileges) ? e.privileges.filter((p): p is string => typeof p === "string") : [];
        const needed = new Set<AccessKind>();
        let either = false;
        privileges.forEach((p, pi) => {
            const k = kindsOf(p);
            if (k === "notGranted") {
                out.notGranted.push({ list: "remote_indices", entry: ei, privilege: pi, value: p, reason: `no cross-cluster API key grants '${p}' (search access grants ${SEARCH_INDEX_PRIVILEGES.join(", ")}; replication access ${REPLICATION_INDEX_PRIVILEGES.join(", ")}), so it has no effect on '${alias}'` });
            } else if (k === "unchecked") {
                out.unchecked.push({ list: "remote_indices", entry: ei, privilege: pi, value: p, reason: `'${p}' is an action name, not compared with the key's privileges` });
            } else if (k.length === 2) {
                either = true;
            } else {
                needed.add(k[0]);
            }
        });
        const restricted = e.allow_restricted_indices === true;
        names.forEach((n, ni) => {
            const judge = (kind: AccessKind): { covered: boolean; unknown: boolean; keys: string[] } => {
                const keys = keyPatterns(access, kind, restricted);
                let unknown = false;
                for (const k of keys) {
                    const c = patternCovers(k, n);
                    if (c === true) return { covered: true, unknown: false, keys };
                    if (c === undefined) unknown = true;
                }
                return { covered: false, unknown, keys };
            };
            const kinds: AccessKind[] = [...needed];
            // `all` alone: covered when either part of the access covers the pattern.
            if (either && !kinds.length) {
                const s = judge("search");
                const r = judge("replication");
                if (s.covered || r.covered) return;
                kinds.push("search");
            }
            for (const kind of kinds) {
                const j = judge(kind);
                if (j.covered) continue;
                const what = `'${n}' (privileges ${privileges.join(", ")}${restricted ? ", allow_restricted_indices" : ""}) on remote cluster '${alias}'`;
                const keys = `the key's ${kind} access${restricted ? " with allowRestrictedIndices" : ""} (${list(j.keys)})`;
                if (j.unknown || isRegex(n)) {
                    out.unchecked.push({ list: "remote_indices", entry: ei, name: ni, value: n, needs: kind, reason: `${what} cannot be compared with ${keys}: a regular expression` });
                } else {
                    out.uncovered.push({ list: "remote_indices", entry: ei, name: ni, value: n, needs: kind, reason: `${what} is not covered by ${keys}` });
                }
            }
        });
    });
    const clusterEntries = Array.isArray(role.remote_cluster) ? (role.remote_cluster as RemoteClusterEntry[]) : [];
    clusterEntries.forEach((e, ei) => {
        if (!e || typeof e !== "object" || applies(e.clusters) !== true) return;
        out.entries++;
        (Array.isArray(e.privileges) ? e.privileges : []).forEach((p, pi) => {
            if (typeof p !== "string") return;
            if (SEARCH_CLUSTER_PRIVILEGES.includes(p)) {
                if (!(access.search ?? []).length) {
                    out.uncovered.push({ list: "remote_cluster", entry: ei, privilege: pi, value: p, needs: "search", reason: `the cluster privilege '${p}' on remote cluster '${alias}' needs search access, and the key has none` });
                } else if (keyClusterPrivileges !== undefined && !keyClusterPrivileges.includes(p)) {
                    out.uncovered.push({
                        list: "remote_cluster", entry: ei, privilege: pi, value: p, needs: "search",
                        reason: `the cluster privilege '${p}' on remote cluster '${alias}' is not in the role descriptor (cluster: ${list([...keyClusterPrivileges])})`,
                        fix: `Elasticsearch added it to search access in 8.15 and builds a key's descriptor when the key is created or updated, so this key predates it: ` +
                            `update the key on the 8.15+ remote cluster (PUT _security/cross_cluster/api_key/<id> with its access), or make a new one (CrossClusterApiKey: change rotation)`,
                    });
                }
            } else {
                out.notGranted.push({ list: "remote_cluster", entry: ei, privilege: pi, value: p, reason: `no cross-cluster API key grants the cluster privilege '${p}' (search access grants ${SEARCH_CLUSTER_PRIVILEGES.join(", ")}), so it has no effect on '${alias}'` });
            }
        });
    });
    return out;
}
