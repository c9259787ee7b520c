/**
 * Cross-cluster API key bodies: the access a key grants (`search`, `replication`), validation of
 * the user's inputs, and the request bodies of `POST /_security/cross_cluster/api_key` and
 * `PUT /_security/cross_cluster/api_key/<id>`. Pure: no network.
 */
import { containsUnknown } from "../core/dynamic";
import type { CheckFailure } from "../core/validation";
import { parseTimeValue } from "../link/settings";
import { identityPatternProblem } from "../signing/certificate";

/** One entry of `access.search`: which remote indices a cross-cluster search may read. */
export interface SearchAccess {
    /** Index names or patterns on the remote cluster, e.g. `["logs-*"]`. */
    names: string[];
    /** A document-level security query (JSON string or object) limiting what the key may read. */
    query?: string | Record<string, unknown>;
    /** Field-level security: `{ grant: ["*"], except: ["secret"] }`. */
    fieldSecurity?: { grant?: string[]; except?: string[] };
    /** Whether the patterns may match restricted indices (e.g. `.security`). */
    allowRestrictedIndices?: boolean;
}

/** One entry of `access.replication`: which remote indices a follower may replicate. */
export interface ReplicationAccess {
    /** Leader index names or patterns on the remote cluster. */
    names: string[];
}

/** What a cross-cluster API key lets the local cluster do on the remote one. */
export interface CrossClusterAccess {
    search?: SearchAccess[];
    replication?: ReplicationAccess[];
}

/** The key's body in Elasticsearch's words (`field_security`, `allow_restricted_indices`). */
export function accessBody(a: CrossClusterAccess): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (a.search?.length) {
        out.search = a.search.map((s) => {
            const e: Record<string, unknown> = { names: s.names };
            if (s.query !== undefined) e.query = s.query;
            if (s.fieldSecurity !== undefined) e.field_security = s.fieldSecurity;
            if (s.allowRestrictedIndices !== undefined) e.allow_restricted_indices = s.allowRestrictedIndices;
            return e;
        });
    }
    if (a.replication?.length) {
        out.replication = a.replication.map((r) => ({ names: r.names }));
    }
    return out;
}

/** The `access` Elasticsearch reports for a key (`GET _security/api_key`), in the inputs' words. */
export function accessFromBody(b: unknown): CrossClusterAccess | undefined {
    if (b === null || typeof b !== "object") return undefined;
    const body = b as { search?: Array<Record<string, unknown>>; replication?: Array<Record<string, unknown>> };
    const a: CrossClusterAccess = {};
    if (Array.isArray(body.search) && body.search.length) {
        a.search = body.search.map((s) => {
            const e: SearchAccess = { names: (s.names as string[]) ?? [] };
            if (s.query !== undefined) e.query = s.query as SearchAccess["query"];
            if (s.field_security !== undefined) e.fieldSecurity = s.field_security as SearchAccess["fieldSecurity"];
            if (s.allow_restricted_indices === true) e.allowRestrictedIndices = true;
            return e;
        });
    }
    if (Array.isArray(body.replication) && body.replication.length) {
        a.replication = body.replication.map((r) => ({ names: (r.names as string[]) ?? [] }));
    }
    return a;
}

/** A canonical form of an access, for comparing the declared one with the one on the cluster. */
export function normaliseAccess(a: CrossClusterAccess | undefined): string {
    const x = accessFromBody(accessBody(a ?? {})) ?? {};
    const sortNames = <T extends { names: string[] }>(l: T[] | undefined) => l?.map((e) => ({ ...e, names: [...e.names].sort() }));
    return JSON.stringify({
        search: sortNames(x.search)?.map((s) => ({
            names: s.names,
            query: typeof s.query === "string" ? safeParse(s.query) : s.query,
            fieldSecurity: s.fieldSecurity,
            allowRestrictedIndices: s.allowRestrictedIndices === true ? true : undefined,
        })),
        replication: sortNames(x.replication),
    });
}

function safeParse(s: string): unknown {
    try {
        return JSON.parse(s);
    } catch {
        return s;
    }
}

function namesProblem(v: unknown): string | undefined {
    if (!Array.isArray(v) || v.length === 0) {
        return "give at least one index name or pattern of the remote cluster, e.g. [\"logs-*\"]";
    }
    const bad = v.find((n) => typeof n !== "string" || n.trim() === "" || n.includes(":"));
    if (bad !== undefined) {
        return typeof bad === "string" && bad.includes(":")
            ? `${JSON.stringify(bad)} names a cluster; a key's access names indices of the remote cluster itself (no "<alias>:" prefix)`
            : `${JSON.stringify(bad)} is not an index name or pattern`;
    }
    return undefined;
}

/**
 * Validates the access of a key: each failure names the property (`access.search[0].names`).
 * Never throws.
 */
export function validateAccess(v: unknown): CheckFailure[] {
    if (containsUnknown(v)) return [];
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
        return [{ property: "access", reason: "give { search: [{ names: [...] }] } and/or { replication: [{ names: [...] }] }" }];
    }
    const a = v as Record<string, unknown>;
    const f: CheckFailure[] = [];
    for (const k of Object.keys(a)) {
        if (k !== "search" && k !== "replication") {
            f.push({ property: `access.${k}`, reason: "is not a cross-cluster access; use search and/or replication" });
        }
    }
    const hasEntries = (x: unknown) => Array.isArray(x) && x.length > 0;
    if (!hasEntries(a.search) && !hasEntries(a.replication)) {
        f.push({ property: "access", reason: "grants nothing: give search and/or replication entries (Elasticsearch refuses a key without access)" });
    }
    for (const kind of ["search", "replication"] as const) {
        const list = a[kind];
        if (list === undefined) continue;
        if (!Array.isArray(list)) {
            f.push({ property: `access.${kind}`, reason: `must be a list like [{ names: ["logs-*"] }]` });
            continue;
        }
        list.forEach((e, i) => {
            const p = `access.${kind}[${i}]`;
            if (e === null || typeof e !== "object" || Array.isArray(e)) {
                f.push({ property: p, reason: "must be an object like { names: [\"logs-*\"] }" });
                return;
            }
            const entry = e as Record<string, unknown>;
            const allowed = kind === "search" ? ["names", "query", "fieldSecurity", "allowRestrictedIndices"] : ["names"];
            for (const k of Object.keys(entry)) {
                if (!allowed.includes(k)) {
                    f.push({ property: `${p}.${k}`, reason: kind === "replication"
                        ? "is not allowed: replication access has only names (Elasticsearch grants the follower privileges itself)"
                        : `is not a search access property; use ${allowed.join(", ")}` });
                }
            }
            const np = namesProblem(entry.names);
            if (np) f.push({ property: `${p}.names`, reason: np });
            if (entry.query !== undefined && typeof entry.query !== "string" && (entry.query === null || typeof entry.query !== "object")) {
                f.push({ property: `${p}.query`, reason: "must be a query object or its JSON text" });
            }
            if (typeof entry.query === "string") {
                try {
                    JSON.parse(entry.query);
                } catch {
                    f.push({ property: `${p}.query`, reason: "is not JSON; give a query object like { term: { team: \"eu\" } }" });
                }
            }
            const fs = entry.fieldSecurity;
            if (fs !== undefined) {
                const ok = fs !== null && typeof fs === "object" && !Array.isArray(fs)
                    && Object.entries(fs as Record<string, unknown>).every(([k, x]) => (k === "grant" || k === "except") && Array.isArray(x) && x.every((s) => typeof s === "string"));
                if (!ok) f.push({ property: `${p}.fieldSecurity`, reason: "must be { grant?: string[], except?: string[] }" });
            }
            if (entry.allowRestrictedIndices !== undefined && typeof entry.allowRestrictedIndices !== "boolean") {
                f.push({ property: `${p}.allowRestrictedIndices`, reason: "must be true or false" });
            }
        });
    }
    return f;
}

/**
 * What an input `certificateIdentity` asks of the key: `"keep"` (left out: whatever the key has),
 * `"clear"` (`null`, or `""` which the SDK sends for `null` because the engine drops null inputs),
 * or the pattern to set.
 */
export function identityIntent(v: unknown): "keep" | "clear" | { set: string } {
    if (v === undefined) return "keep";
    if (v === null || v === "") return "clear";
    return { set: String(v) };
}

/** Validates a key's name, expiration, metadata and certificate identity. */
export function validateKeyArgs(n: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    if (!containsUnknown(n.name)) {
        if (typeof n.name !== "string" || n.name.trim() === "") {
            f.push({ property: "name", reason: "give the key a name (shown in Kibana and GET _security/api_key), e.g. \"eu-to-us-search\"" });
        } else if (n.name !== n.name.trim() || n.name.length > 1024 || /[\u0000-\u001f]/.test(n.name)) {
            f.push({ property: "name", reason: "must be 1 to 1024 printable characters without leading or trailing spaces" });
        }
    }
    f.push(...validateAccess(n.access));
    if (n.expiration !== undefined && !containsUnknown(n.expiration)) {
        const t = typeof n.expiration === "string" ? parseTimeValue(n.expiration) : undefined;
        if (t === undefined || t <= 0n) {
            f.push({ property: "expiration", reason: `${JSON.stringify(n.expiration)} is not a time span such as "30d" or "12h"; leave it unset for a key that never expires` });
        }
    }
    if (n.metadata !== undefined && !containsUnknown(n.metadata)) {
        const m = n.metadata;
        if (m === null || typeof m !== "object" || Array.isArray(m)) {
            f.push({ property: "metadata", reason: "must be an object" });
        } else {
            for (const k of Object.keys(m)) {
                if (k.startsWith("_")) f.push({ property: `metadata.${k}`, reason: "keys beginning with _ are reserved by Elasticsearch" });
            }
        }
    }
    if (n.certificateIdentity !== undefined && n.certificateIdentity !== null && n.certificateIdentity !== "" && !containsUnknown(n.certificateIdentity)) {
        const p = identityPatternProblem(n.certificateIdentity);
        if (p) f.push({ property: "certificateIdentity", reason: `${p}; null clears it, leaving it out keeps the key's` });
    }
    if (n.rotation !== undefined && !containsUnknown(n.rotation) && typeof n.rotation !== "string" && typeof n.rotation !== "number") {
        f.push({ property: "rotation", reason: "must be a string or a number (change it to rotate the key)" });
    }
    return f;
}
