/**
 * The key-access coverage check applied to roles, in the words of the resources: a
 * `CrossClusterRole` (model "apiKey") against the access of the keys its program declares for each
 * alias (`keyAccess`), each gap named by the role's own property; and any local role found on a
 * cluster against the key an API-key link uses. Pure: the callers read what they need.
 */
import { containsUnknown } from "../core/dynamic";
import type { CheckFailure } from "../core/validation";
import { aliasProblem } from "../link/settings";
import { CrossClusterAccess, validateAccess } from "./keyBody";
import { Gap, keyCoverage } from "./coverage";

/** Validates `keyAccess`: `{ <alias>: <a key's access> }`, with model "apiKey" only. */
export function validateKeyAccess(v: unknown, model: unknown): CheckFailure[] {
    if (v === undefined || v === null || containsUnknown(v)) return [];
    if (!containsUnknown(model) && model !== "apiKey") {
        return [{ property: "keyAccess", reason: `goes with model: "apiKey" only (the access of the cross-cluster API key each alias uses); with certificate trust there is no key to check against` }];
    }
    if (typeof v !== "object" || Array.isArray(v)) {
        return [{ property: "keyAccess", reason: `must map each remote cluster alias to its key's access, e.g. { us: key.access } (key: the CrossClusterApiKey the link of alias "us" uses)` }];
    }
    const f: CheckFailure[] = [];
    for (const [alias, access] of Object.entries(v as Record<string, unknown>)) {
        const p = aliasProblem(alias);
        if (p) f.push({ property: `keyAccess.${alias}`, reason: `is not a remote cluster alias: it ${p}. Use the alias of the RemoteClusterLink (as in the role's clusters)` });
        f.push(...validateAccess(access).map((x) => ({ ...x, property: x.property.replace(/^access/, `keyAccess.${alias}`) })));
    }
    return f;
}

/** How the role's inputs name a gap's place: the preset's own inputs, or the path inside localDefinition. */
function propertyOf(g: Gap, preset: boolean): string {
    if (preset) {
        if (g.list === "remote_cluster") return `remoteClusterPrivileges[${g.privilege}]`;
        return g.name !== undefined ? `indices[${g.name}]` : `preset`;
    }
    const base = `localDefinition.${g.list}[${g.entry}]`;
    if (g.name !== undefined) return `${base}.names[${g.name}]`;
    if (g.privilege !== undefined) return `${base}.privileges[${g.privilege}]`;
    return `${base}.clusters`;
}

/** What a role's check reports about the keys' access: failures (nothing is written) and warnings. */
export interface RoleAccessOutcome {
    failures: CheckFailure[];
    warnings: string[];
}

/**
 * The declared role (its local body, as written) against each alias's key access: an index pattern
 * or cluster privilege the key does not grant fails, naming the property, the alias and the fix;
 * what cannot be compared and privileges no key grants are warnings.
 */
export function roleAccessProblems(roleName: string, body: { remote_indices?: unknown; remote_cluster?: unknown }, keyAccess: Record<string, CrossClusterAccess>, preset: boolean): RoleAccessOutcome {
    const out: RoleAccessOutcome = { failures: [], warnings: [] };
    for (const [alias, access] of Object.entries(keyAccess)) {
        const c = keyCoverage(access ?? {}, body, alias);
        for (const g of c.uncovered) {
            out.failures.push({
                property: propertyOf(g, preset),
                reason: `${g.reason}, so the remote cluster refuses it. Add it to CrossClusterApiKey.access.${g.needs} of the key '${alias}' uses, or remove it from the role`,
            });
        }
        for (const g of [...c.unchecked, ...c.notGranted]) {
            out.warnings.push(`role '${roleName}': ${propertyOf(g, preset)}: ${g.reason}`);
        }
        if (c.entries === 0) {
            out.warnings.push(`role '${roleName}': keyAccess names '${alias}', but no remote_indices or remote_cluster entry of the role applies to it: nothing to check`);
        }
    }
    return out;
}

/**
 * Warnings for the local roles found on a cluster that use `alias`, against the access of the key
 * the link uses (`keyId`, never the key itself) and, when given, the cluster privileges of its role
 * descriptor as the remote reports them (`KeyInfo.clusterPrivileges`: an old key lacks
 * `monitor_enrich`). Reserved roles are skipped.
 */
export function clusterRoleWarnings(roles: Record<string, unknown>, access: CrossClusterAccess, alias: string, keyId: string, keyClusterPrivileges?: readonly string[]): string[] {
    const out: string[] = [];
    for (const [name, r] of Object.entries(roles ?? {})) {
        if (!r || typeof r !== "object") continue;
        const role = r as { remote_indices?: unknown; remote_cluster?: unknown; metadata?: Record<string, unknown> };
        if (role.metadata?._reserved === true) continue;
        const c = keyCoverage(access, role, alias, keyClusterPrivileges);
        for (const g of c.uncovered) {
            out.push(`remote cluster '${alias}': local role '${name}' ${g.list}[${g.entry}]: ${g.reason} of API key ${keyId}, so the remote cluster refuses it. ` +
                (g.fix ?? `Add it to the key's access.${g.needs} (CrossClusterApiKey.access.${g.needs}), or remove it from the role`));
        }
        for (const g of [...c.unchecked, ...c.notGranted]) {
            out.push(`remote cluster '${alias}': local role '${name}' ${g.list}[${g.entry}]: ${g.reason}`);
        }
    }
    return out;
}
