/**
 * What the FollowerIndex and AutoFollowPattern hooks share: input validation of the fields they
 * have in common, the preview checks that apply to both, and error wrapping. Pure apart from the
 * preview checks (read-only).
 */
import * as pulumi from "@pulumi/pulumi";
import type { Client } from "@elastic/elasticsearch";
import { clientFor, ClusterConnection, validateConnection } from "../core/client";
import { containsUnknown } from "../core/dynamic";
import { EsRemoteError, reasonOf } from "../core/errors";
import type { CheckFailure } from "../core/validation";
import { validateAccess } from "../apikey/keyBody";
import type { CrossClusterAccess } from "../apikey/keyBody";
import { ccrMissing, ccrUnlicensed } from "./api";
import { validateTuning } from "./params";
import * as pf from "./preflight";

/** Elasticsearch's rules for an index name (the follower's, the leader's). */
export function indexNameProblem(property: string, v: unknown, wildcards = false): CheckFailure | undefined {
    if (containsUnknown(v)) return undefined;
    if (typeof v !== "string" || v === "") return { property, reason: "an index name is required (a non-empty string)" };
    if (v !== v.toLowerCase()) return { property, reason: `${JSON.stringify(v)} has upper-case letters; Elasticsearch index names are lower case` };
    if (/^[-_+]/.test(v) || v === "." || v === "..") return { property, reason: `${JSON.stringify(v)} may not start with -, _ or + nor be . or ..` };
    const bad = wildcards ? /[\\/?"<>| ,#:]/ : /[\\/*?"<>| ,#:]/;
    if (bad.test(v)) return { property, reason: `${JSON.stringify(v)} has a character Elasticsearch refuses in index names (\\ / ${wildcards ? "" : "* "}? " < > | space , # :)` };
    if (Buffer.byteLength(v) > 255) return { property, reason: "is longer than 255 bytes" };
    return undefined;
}

/** Failures of the fields both resources have. */
export function validateCommon(n: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    if (!containsUnknown(n.local)) f.push(...validateConnection("local", n.local));
    if (n.remote !== undefined && n.remote !== null && !containsUnknown(n.remote)) f.push(...validateConnection("remote", n.remote));
    if (!containsUnknown(n.alias) && (typeof n.alias !== "string" || !/^[A-Za-z0-9_-]+$/.test(n.alias))) {
        f.push({ property: "alias", reason: `must be the remote cluster alias as registered on the local cluster (letters, digits, - and _), not ${JSON.stringify(n.alias)}` });
    }
    if (n.status !== undefined && !containsUnknown(n.status) && n.status !== "active" && n.status !== "paused") {
        f.push({ property: "status", reason: `must be "active" or "paused", not ${JSON.stringify(n.status)}` });
    }
    if (!containsUnknown(n)) f.push(...validateTuning(n));
    if (n.keyAccess !== undefined && n.keyAccess !== null && !containsUnknown(n.keyAccess)) {
        f.push(...validateAccess(n.keyAccess).map((x) => ({ property: `keyAccess${x.property.replace(/^access/, "")}`, reason: x.reason })));
    }
    return f;
}

/** One side's nodes (modules, versions); that side's module and license failures go into `f`. */
async function sideNodes(c: Client, side: pf.Side, conn: ClusterConnection, f: CheckFailure[]): Promise<pf.NodeFacts[]> {
    const nodes = await pf.nodeFacts(c, side, conn);
    const m = pf.moduleProblem(side, conn, nodes);
    if (m) f.push(m);
    const lic = await pf.ccrLicenseProblem(c, side, conn);
    if (lic) f.push(lic);
    return nodes;
}

/**
 * The preview checks both resources run (everything read-only): module and license on each side
 * given, alias, version rule, privileges on `leaders` (names or patterns) and follower `indices`.
 * Unknown inputs skip what needs them, said in the log.
 */
export async function commonPreflight(what: string, n: Record<string, unknown>, leaders: string[], followerIndices: string[]): Promise<CheckFailure[]> {
    const local = n.local as ClusterConnection;
    const remote = n.remote as ClusterConnection | undefined;
    const alias = String(n.alias);
    const f: CheckFailure[] = [];
    const lc = clientFor(local);
    const localNodes = await sideNodes(lc, "local", local, f);
    let model: "apiKey" | "certificate" | undefined;
    if (containsUnknown(n.alias)) {
        pulumi.log.info(`${what}: the alias is not known yet (a link created in this update): its checks run at update time`);
    } else {
        const a = await pf.aliasInfo(lc, local, alias);
        const p = pf.aliasProblem(alias, local, a);
        if (p) f.push(p);
        if (a.exists) model = a.apiKey ? "apiKey" : "certificate";
    }
    f.push(...await pf.localPrivilegeProblems(lc, local, followerIndices, "local.username"));
    if (model === "apiKey" && n.keyAccess) {
        const p = pf.keyCoverageProblem(n.keyAccess as CrossClusterAccess, leaders, alias, "keyAccess.replication");
        if (p) f.push(p);
    } else if (model === "apiKey") {
        pulumi.log.info(`${what}: '${alias}' is connected with a cross-cluster API key; give keyAccess (the key's access) to have the preview check that it covers ${leaders.join(", ")}`);
    }
    if (!remote || containsUnknown(remote)) {
        pulumi.log.info(`${what}: no remote connection given: the leader side (its module and license, the version rule, the remote roles) is not checked at preview`);
        return f;
    }
    const rc = clientFor(remote);
    const remoteNodes = await sideNodes(rc, "remote", remote, f);
    const v = pf.versionProblem(localNodes, remoteNodes, "remote.urls");
    if (v) f.push(v);
    if (model === "certificate") {
        const { roles } = await pf.localRoleNames(lc, local);
        f.push(...await pf.remoteRoleProblems(rc, remote, roles, leaders, "remote.username"));
    }
    return f;
}

/** Throws the failures of a preflight as one error (what create refuses with when check was bypassed). */
export function refuse(what: string, failures: CheckFailure[]): void {
    if (!failures.length) return;
    throw new EsRemoteError(`${what}: ${failures.map((x) => `${x.property}: ${x.reason}`).join("; ")}. Nothing was written.`, { failures });
}

/** An error about a CCR call, with the module / license hint when that is the cause. */
export function ccrError(what: string, err: unknown, details: Record<string, unknown> = {}): EsRemoteError {
    if (ccrMissing(err)) {
        return new EsRemoteError(`${what}: this cluster's distribution has no cross-cluster replication (module x-pack-ccr); Elastic's default distribution has it (Elasticsearch: ${reasonOf(err)})`, details, { cause: err });
    }
    if (ccrUnlicensed(err)) {
        return new EsRemoteError(`${what}: the license does not allow cross-cluster replication (Elasticsearch: ${reasonOf(err)}); install a Platinum or Enterprise license or start a trial`, details, { cause: err });
    }
    return new EsRemoteError(`${what}: ${reasonOf(err)}`, details, { cause: err });
}

/** The client of a connection (the one factory). */
export function client(conn: ClusterConnection): Client {
    return clientFor(conn);
}
