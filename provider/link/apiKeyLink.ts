/**
 * `RemoteClusterLink` with `security: "apiKey"`: the remote is reached at its remote cluster server
 * port and authenticated by a cross-cluster API key held in every local node's keystore.
 *
 * - check: the API-key prerequisites (versions, licenses, server port, trust in the server's CA),
 *   and, once the credential is known, a warning for each local role that reaches beyond the key's
 *   access (the key read on the remote by its id);
 * - create: adds the credential to each keystore in `keystoreOn` (the node's own keystore tool,
 *   secret on stdin), `POST _nodes/reload_secure_settings` (every node must then hold it), writes
 *   the seeds/proxy settings, waits until every local remote_cluster_client node's `_remote/info`
 *   says connected with `cluster_credentials: "::es_redacted::"`; on failure removes all of it again;
 * - update: a new credential is written and reloaded (a rotated key), settings change in place;
 *   from `security: "certificate"` it migrates the same alias in Elastic's documented order (save
 *   and null the old settings, add the credential, re-add the alias at the server port, verify) and
 *   rolls back to the saved certificate settings if the new connection does not come up;
 * - read: the settings as the nodes apply them (persistent, transient, elasticsearch.yml: the same
 *   I/O as the certificate link, ./io.ts), and whether each keystore still holds the declared
 *   credential (compared in this process, never printed);
 * - delete: the alias's settings nulled, the keystore entry removed, reload.
 */
import * as pulumi from "@pulumi/pulumi";
import { Client } from "@elastic/elasticsearch";
import { callCluster, clientFor, ClusterConnection, insecureWarnings, validateConnection } from "../core/client";
import { containsUnknown, plain, plainInputs } from "../core/dynamic";
import { ConflictError, EsRemoteError, LicenseError, RemoteNotConnectedError } from "../core/errors";
import { forgetFact } from "../core/facts";
import { CheckFailure, failOnInvalid, urlsOf } from "../core/validation";
import {
    addCredential, credentialSetting, credentialState, keystoreKey, keystoreProblem, keystoreWhere, KeystoreTarget, removeCredential, validateKeystoreTargets,
} from "../apikey/keystore";
import { nodesMissing, reloadSecureSettings } from "../apikey/reload";
import { getKey, KeyInfo, unusable } from "../apikey/key";
import { clusterRoleWarnings } from "../apikey/roleAccess";
import {
    licenseProblem, localTrustFacts, nodeVersions, remoteServerFacts, serverChain, serverProblems, trustProblem, versionProblem,
} from "../apikey/checks";
import { clearBody, diffSettings, RemoteSettings, SETTING_KEYS, settingsBody, validateRemoteArgs } from "./settings";
import { aliasConflict, currentStatus, LinkStatusOutputs, localNodes, observe, observeForCreate, putSettings, remoteInfoText, RemoteStatus, remoteStatus, waitConnected } from "./io";

/** How the local cluster authenticates to the remote one. */
export type LinkSecurity = "certificate" | "apiKey";

/** The link's inputs as this module needs them (a structural subset of the link's inputs). */
export interface ApiKeyLinkInputs extends RemoteSettings {
    local: ClusterConnection;
    remote?: ClusterConnection;
    alias: string;
    security?: LinkSecurity;
    /** The encoded cross-cluster API key (secret). */
    credential?: string;
    /** Every local node's keystore, each on the host its `access` reaches (default: the host the provider runs on). */
    keystoreOn?: KeystoreTarget[];
    waitForConnection?: boolean;
    connectionTimeoutSeconds?: number;
    adoptExisting?: boolean;
    [k: string]: unknown;
}

/** Outputs of a link in API-key mode. */
export interface ApiKeyLinkOutputs extends ApiKeyLinkInputs, LinkStatusOutputs {}

const DEFAULT_TIMEOUT_SECONDS = 60;
const SECURITY_VALUES: LinkSecurity[] = ["certificate", "apiKey"];

/** True if the hooks of this module handle the change (API-key mode before or after). */
export function involved(olds: unknown, news: unknown): boolean {
    const s = (v: unknown) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>).security : undefined);
    return s(news) === "apiKey" || s(olds) === "apiKey";
}

function isApiKey(i: { security?: unknown } | undefined): boolean {
    return i?.security === "apiKey";
}

/** Validates the API-key specific inputs; each failure names the property. Never echoes the credential. */
export function validateApiKeyLinkArgs(n: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    if (n.security !== undefined && !containsUnknown(n.security) && !SECURITY_VALUES.includes(n.security as LinkSecurity)) {
        f.push({ property: "security", reason: `must be "certificate" or "apiKey" (got ${JSON.stringify(n.security)})` });
    }
    if (n.security === "apiKey") {
        const c = n.credential;
        if (c === undefined || c === null) {
            f.push({ property: "credential", reason: "give the encoded cross-cluster API key made on the remote cluster, e.g. credential: key.encoded of a CrossClusterApiKey" });
        } else if (!containsUnknown(c)) {
            const decoded = typeof c === "string" ? Buffer.from(c, "base64").toString("utf8") : "";
            if (typeof c !== "string" || !/^[A-Za-z0-9+/=_-]+$/.test(c) || !/^[^:\s]+:[^:\s]+$/.test(decoded)) {
                f.push({ property: "credential", reason: "is not an encoded API key (base64 of <id>:<api_key>, the 'encoded' field Elasticsearch returns when it creates a cross-cluster API key); its value is not shown" });
            }
        }
        if (n.keystoreOn === undefined) {
            f.push({ property: "keystoreOn", reason: "list every local node's keystore ({ esHome, configDir, javaHome?, access? }; access reaches a node on another host over SSH or a command): cluster.remote.<alias>.credentials is a secure setting, only the keystore holds it" });
        } else {
            f.push(...validateKeystoreTargets(n.keystoreOn));
        }
    } else if (n.security === undefined || n.security === "certificate") {
        if (n.credential !== undefined) f.push({ property: "credential", reason: "is only used with security: \"apiKey\"; set security: \"apiKey\" or remove it" });
        if (n.keystoreOn !== undefined) f.push({ property: "keystoreOn", reason: "is only used with security: \"apiKey\"; set security: \"apiKey\" or remove it" });
    }
    return f;
}

function validateOwn(n: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    if (!containsUnknown(n.local)) f.push(...validateConnection("local", n.local));
    if (n.remote !== undefined && !containsUnknown(n.remote)) f.push(...validateConnection("remote", n.remote));
    f.push(...validateRemoteArgs(n));
    f.push(...validateApiKeyLinkArgs(n));
    const t = n.connectionTimeoutSeconds;
    if (t !== undefined && (typeof t !== "number" || !Number.isFinite(t) || t < 1 || t > 3600)) {
        f.push({ property: "connectionTimeoutSeconds", reason: "must be a number of seconds between 1 and 3600" });
    }
    for (const k of ["waitForConnection", "adoptExisting"]) {
        if (n[k] !== undefined && typeof n[k] !== "boolean") f.push({ property: k, reason: "must be true or false" });
    }
    return f;
}

/** The settings part of the inputs, mode defaulted to sniff. */
function desired(i: Partial<ApiKeyLinkInputs>): RemoteSettings {
    const s: Record<string, unknown> = {};
    for (const [k] of SETTING_KEYS) if (i[k] !== undefined && i[k] !== null) s[k] = i[k];
    s.mode = i.mode ?? "sniff";
    return s as unknown as RemoteSettings;
}

/** Where the local nodes connect: `seeds[i]` or `proxyAddress`, for the checks. */
function targets(i: ApiKeyLinkInputs): Array<{ property: string; address: string }> {
    if ((i.mode ?? "sniff") === "proxy") return typeof i.proxyAddress === "string" ? [{ property: "proxyAddress", address: i.proxyAddress }] : [];
    return (i.seeds ?? []).map((s, k) => ({ property: `seeds[${k}]`, address: s }));
}

// ------------------------------------------------------------------------------------ checks

/** The preview-time checks against the real clusters (never writes). @internal */
export async function preflight(olds: Partial<ApiKeyLinkOutputs>, news: ApiKeyLinkInputs): Promise<CheckFailure[]> {
    const tag = `remote cluster '${news.alias}'`;
    if (!isApiKey(news)) return [];
    const f: CheckFailure[] = [];
    // Every node's keystore, all hosts at once: reachable, host key as pinned, login and sudo work,
    // the tool and the keystore are there, no password. Reads only.
    const keystores = await Promise.all((news.keystoreOn ?? []).map(async (t, k) => {
        if (containsUnknown(t)) return undefined;
        try {
            const problem = await keystoreProblem(t);
            return problem ? { property: `keystoreOn[${k}]`, reason: problem } : undefined;
        } catch (e) {
            return { property: `keystoreOn[${k}].access`, reason: `${(e as Error).message} (checking ${keystoreWhere(t)}; nothing was written)` };
        }
    }));
    f.push(...keystores.filter((x): x is CheckFailure => x !== undefined));
    if (containsUnknown(news.local)) {
        pulumi.log.info(`${tag}: the local cluster's connection is not known yet; the API-key checks run at update time`);
        return f;
    }
    const local = clientFor(news.local);
    try {
        const nodes = await nodeVersions(local, "local", news.local);
        const v = versionProblem("local", news.local, nodes);
        if (v) f.push(v);
        const l = await licenseProblem(local, "local", news.local);
        if (l) f.push(l);
        const ks = (news.keystoreOn ?? []).length;
        if (Array.isArray(news.keystoreOn) && !containsUnknown(news.keystoreOn) && ks < nodes.length) {
            f.push({ property: "keystoreOn", reason: `the local cluster has ${nodes.length} nodes (${nodes.map((n) => n.name).join(", ")}) but keystoreOn lists ${ks}: every node needs the credential in its own keystore` });
        }
        const migrating = olds.alias === news.alias && !isApiKey(olds);
        if (olds.alias !== news.alias) {
            // All three layers, as the certificate link sees them: a transient override or an
            // elasticsearch.yml alias is as taken as a persistent one.
            const conflict = aliasConflict(news, await observeForCreate(local, news.local, news.alias));
            if (conflict) f.push({ property: "alias", reason: conflict });
        }
        if (migrating) {
            pulumi.log.info(`${tag}: migrates from certificate trust to an API key in place (same alias). Stop what uses it first (transforms, ML datafeeds, auto-follow patterns, follower indices: Elastic's migration steps) and resume them after the update`);
        }
    } catch (e) {
        return [...f, { property: "local.urls", reason: (e as Error).message }];
    }
    if (news.remote === undefined) {
        pulumi.log.info(`${tag}: no 'remote' connection given, so the remote's version, license and server checks are skipped`);
        return f;
    }
    if (containsUnknown(news.remote)) return f;
    const remote = clientFor(news.remote);
    try {
        const v = versionProblem("remote", news.remote, await nodeVersions(remote, "remote", news.remote));
        if (v) f.push(v);
        const l = await licenseProblem(remote, "remote", news.remote);
        if (l) f.push(l);
        const facts = await remoteServerFacts(remote, news.remote);
        const tg = containsUnknown(news.seeds) || containsUnknown(news.proxyAddress) ? [] : targets(news);
        const sp = serverProblems(facts, tg, news.remote);
        f.push(...sp);
        if (!sp.length && tg.length) {
            const chain = await serverChain(tg[0].address, news.serverName);
            if ("error" in chain) {
                pulumi.log.info(`${tag}: could not open a TLS connection to ${tg[0].address} from this host (${chain.error}); the check that the local nodes trust the server's certificate is skipped`);
            } else {
                const t = trustProblem(await localTrustFacts(local, news.local), chain, tg[0].address, news.local);
                if (t) f.push(t);
            }
        }
    } catch (e) {
        f.push({ property: "remote.urls", reason: (e as Error).message });
    }
    if (!f.length) await keyAccessWarnings(local, remote, news);
    return f;
}

/** The key id of an encoded cross-cluster API key (`base64(id:api_key)`); the secret half is never kept. */
export function keyIdOf(credential: string): string {
    const decoded = Buffer.from(credential, "base64").toString("utf8");
    return decoded.slice(0, Math.max(0, decoded.indexOf(":")));
}

/**
 * Warns (roles may be managed elsewhere, so never fails) about local roles whose `remote_indices`
 * or `remote_cluster` for this alias reach beyond the access of the key the credential belongs to:
 * the key is read on the remote by its id (`GET _security/api_key?id=`), the roles on the local
 * cluster (`GET _security/role`). Only the key's id is ever printed.
 */
async function keyAccessWarnings(local: Client, remote: Client, news: ApiKeyLinkInputs): Promise<void> {
    const tag = `remote cluster '${news.alias}'`;
    if (typeof news.credential !== "string" || containsUnknown(news.credential) || !news.remote) {
        pulumi.log.info(`${tag}: the API key is not known yet; whether its access covers the local roles is checked when it is`);
        return;
    }
    const id = keyIdOf(news.credential);
    let k: KeyInfo | undefined;
    try {
        k = await getKey(remote, news.remote, id);
    } catch (e) {
        pulumi.log.info(`${tag}: could not read API key ${id} on the remote cluster (${(e as Error).message.split("\n")[0]}); whether its access covers the local roles is not checked (the remote user needs manage_api_key or manage_security)`);
        return;
    }
    const why = unusable(k);
    if (why) {
        pulumi.log.warn(`${tag}: the credential's API key ${id} ${why} on the remote cluster (${urlsOf(news.remote)}): the link cannot connect with it. Give the encoded form of a valid cross-cluster key (CrossClusterApiKey.encoded)`);
        return;
    }
    if (k!.type !== undefined && k!.type !== "cross_cluster") {
        pulumi.log.warn(`${tag}: API key ${id} is a ${k!.type} key; the remote cluster server accepts only cross-cluster keys (POST _security/cross_cluster/api_key, or a CrossClusterApiKey)`);
        return;
    }
    if (!k!.access) {
        pulumi.log.info(`${tag}: the remote cluster does not report the access of API key ${id}; whether it covers the local roles is not checked`);
        return;
    }
    let roles: Record<string, unknown>;
    try {
        roles = await callCluster("local", news.local, "read the local roles (GET _security/role)", () =>
            local.transport.request<Record<string, unknown>>({ method: "GET", path: "/_security/role" }));
    } catch (e) {
        pulumi.log.info(`${tag}: could not read the local roles (${(e as Error).message.split("\n")[0]}); whether API key ${id} covers them is not checked`);
        return;
    }
    clusterRoleWarnings(roles ?? {}, k!.access, news.alias, id).forEach((w) => pulumi.log.warn(w));
}

// ------------------------------------------------------------------------------- cluster I/O

/** Every local remote_cluster_client node's view of the alias; connected means with the credential in use. */
async function statusOf(client: Client, i: Pick<ApiKeyLinkInputs, "local" | "alias">): Promise<RemoteStatus> {
    return remoteStatus(client, i.local, i.alias, await localNodes(client, i.local), { apiKey: true });
}

/** Waits until every local remote_cluster_client node is connected (with the credential when `apiKey`). */
async function waitFor(client: Client, i: Pick<ApiKeyLinkInputs, "local" | "alias">, apiKey: boolean, timeoutSeconds: number): Promise<RemoteStatus> {
    return waitConnected(client, i.local, i.alias, await localNodes(client, i.local), timeoutSeconds, { apiKey });
}

/**
 * Adds the credential to every keystore (all hosts at once), reloads, and checks that every node
 * holds it. If a keystore cannot be written (a host down, a refused login), the keystores already
 * written lose the credential again before this throws, naming the host: nothing is left behind
 * that the state would not know.
 */
async function deliverCredential(client: Client, i: ApiKeyLinkInputs): Promise<void> {
    const setting = credentialSetting(i.alias);
    const targets = i.keystoreOn ?? [];
    const results = await Promise.allSettled(targets.map((t) => addCredential(t, i.alias, i.credential!)));
    const failed = results.map((r, k) => ({ r, t: targets[k] })).filter((x) => x.r.status === "rejected");
    if (failed.length) {
        const written = targets.filter((_, k) => results[k].status === "fulfilled");
        const undo = await Promise.allSettled(written.map((t) => removeCredential(t, i.alias)));
        const undoFailed = written.filter((_, k) => undo[k].status === "rejected");
        if (written.length) await reloadSecureSettings(client, i.local).catch(() => undefined);
        const why = failed.map((x) => `${keystoreWhere(x.t)}: ${((x.r as PromiseRejectedResult).reason as Error).message}`).join("; ");
        const back = written.length === 0 ? "no keystore was written"
            : undoFailed.length === 0 ? `the ${written.length} keystore(s) already written lost the credential again (${written.map(keystoreWhere).join(", ")})`
                : `removing it again failed on ${undoFailed.map(keystoreWhere).join(", ")}: remove ${setting} there by hand`;
        // keystoresClean: the callers' undo must not try the keystores again (a host that is down
        // would fail it a second time and the message would ask for a removal by hand that is done).
        throw new EsRemoteError(`could not add ${setting} to every local keystore: ${why}; ${back}`,
            { keystores: failed.map((x) => keystoreWhere(x.t)), keystoresClean: undoFailed.length === 0 }, { cause: (failed[0].r as PromiseRejectedResult).reason });
    }
    const nodes = await reloadSecureSettings(client, i.local);
    const missing = nodesMissing(nodes, setting);
    if (missing.length) {
        throw new EsRemoteError(
            `after the reload, ${missing.map((n) => `${n.name} (keystore ${n.keystorePath ?? "?"})`).join(", ")} of the local cluster (${urlsOf(i.local)}) do not hold ${setting}: ` +
            `add each node's { esHome, configDir, access } to keystoreOn`, { nodes: missing.map((n) => n.name) });
    }
}

/** True when `e` is {@link deliverCredential}'s failure after it took back every credential it wrote. */
function keystoresClean(e: unknown): boolean {
    return e instanceof EsRemoteError && e.details.keystoresClean === true;
}

/** Removes the credential from every keystore (all hosts at once) and reloads (best effort per keystore; throws the first failure at the end). */
async function withdrawCredential(client: Client, i: Pick<ApiKeyLinkInputs, "alias" | "local" | "keystoreOn">): Promise<void> {
    const results = await Promise.allSettled((i.keystoreOn ?? []).map((t) => removeCredential(t, i.alias)));
    await reloadSecureSettings(client, i.local);
    const first = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (first) throw first.reason;
}

function notConnected(i: ApiKeyLinkInputs, s: RemoteStatus, timeout: number, cleanup: string): RemoteNotConnectedError {
    const target = (i.mode ?? "sniff") === "proxy" ? `proxy address ${i.proxyAddress}` : `seeds ${(i.seeds ?? []).join(", ")}`;
    const down = s.perNode.filter((p) => p.asked && !p.connected).map((p) => p.node.name);
    return new RemoteNotConnectedError(
        `remote cluster '${i.alias}' (security: apiKey) did not connect with its API key within ${timeout}s; ${cleanup}. ` +
        `${s.nodesConnected} of ${s.nodesTotal} local node(s) with the remote_cluster_client role connected with the credential${down.length && s.nodesTotal > 1 ? ` (not: ${down.join(", ")})` : ""}. _remote/info: ${remoteInfoText(s)}. ` +
        `Likely causes: the ${target} is not the remote cluster server port (remote_cluster.port, 9443 by default); the local nodes do not trust the server's CA ` +
        `(xpack.security.remote_cluster_client.ssl.certificate_authorities; the local log says "PKIX path building failed"); the key was invalidated or expired; ` +
        `a license below Enterprise on either side ("current license is non-compliant for [advanced-remote-cluster-security]"). See the local nodes' logs`,
        { alias: i.alias, nodesNotConnected: down, remoteInfo: Object.fromEntries(s.perNode.map((p) => [p.node.name, p.raw ?? {}])) });
}

async function versionsOf(i: ApiKeyLinkInputs, local: Client): Promise<{ local: string; remote?: string }> {
    const min = (l: Array<{ version: string }>) => l.map((n) => n.version).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))[0] ?? "";
    const lv = min(await nodeVersions(local, "local", i.local));
    let rv: string | undefined;
    if (i.remote) {
        try {
            rv = min(await nodeVersions(clientFor(i.remote), "remote", i.remote));
        } catch (e) {
            pulumi.log.warn(`remote cluster '${i.alias}': could not read the remote cluster's version: ${(e as Error).message}`);
        }
    }
    return { local: lv, remote: rv };
}

function outputs(i: ApiKeyLinkInputs, s: RemoteStatus, v: { local: string; remote?: string }, inSync: boolean): ApiKeyLinkOutputs {
    return plain({
        ...i,
        connected: s.connected,
        numNodesConnected: s.numNodesConnected,
        numProxySocketsConnected: s.numProxySocketsConnected,
        nodesConnected: s.nodesConnected,
        nodesTotal: s.nodesTotal,
        credentialsInUse: s.credentialsInUse,
        keystoresInSync: inSync,
        localVersion: v.local,
        remoteVersion: v.remote,
    });
}

/** The input part of a state (what the program declared), for `read`'s `inputs`. */
function inputsOf(o: ApiKeyLinkOutputs): ApiKeyLinkOutputs {
    const {
        connected: _c, numNodesConnected: _n, numProxySocketsConnected: _p, nodesConnected: _nc, nodesTotal: _nt,
        credentialsInUse: _ci, keystoresInSync: _k, localVersion: _lv, remoteVersion: _rv, ...inputs
    } = o;
    // ReadResult types `inputs` as the outputs; the engine takes them as the inputs seen now.
    return inputs as ApiKeyLinkOutputs;
}

/** Refuses the write when a license forbids it: the same message as the preview, as a LicenseError. */
async function licenseGate(i: ApiKeyLinkInputs): Promise<void> {
    for (const side of ["local", "remote"] as const) {
        const conn = i[side];
        if (!conn) continue;
        const p = await licenseProblem(clientFor(conn), side, conn);
        if (p) throw new LicenseError(`${p.property}: ${p.reason}. Nothing was written.`, { side });
    }
}

// ------------------------------------------------------------------------------------- hooks

export async function check(olds: unknown, news: unknown): Promise<pulumi.dynamic.CheckResult> {
    const n = plainInputs<ApiKeyLinkInputs>(news);
    const failures = validateOwn(n);
    if (failures.length) return { inputs: n, failures };
    const inputs: ApiKeyLinkInputs = { ...n, mode: n.mode ?? "sniff" };
    for (const side of ["local", "remote"] as const) insecureWarnings(side, inputs[side]).forEach((m) => pulumi.log.warn(m));
    return { inputs, failures: await preflight(plainInputs<ApiKeyLinkOutputs>(olds), inputs) };
}

export async function diff(_id: string, olds: ApiKeyLinkOutputs, news: ApiKeyLinkInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces: string[] = [];
    if (olds.alias !== news.alias) replaces.push("alias");
    const changed = new Set<string>(diffSettings(desired(news), desired(olds), { localVersion: olds.localVersion }));
    for (const k of ["local", "remote", "security", "credential", "keystoreOn", "waitForConnection", "connectionTimeoutSeconds", "adoptExisting"]) {
        if (JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null)) changed.add(k);
    }
    if (olds.keystoresInSync === false) changed.add("credential");
    const { waitForCertificates: _w, ...compared } = news;
    if (containsUnknown(compared)) return { changes: true, replaces, deleteBeforeReplace: false };
    return { changes: changed.size > 0 || replaces.length > 0, replaces, deleteBeforeReplace: false };
}

export async function create(news: ApiKeyLinkInputs): Promise<pulumi.dynamic.CreateResult> {
    const i = plainInputs<ApiKeyLinkInputs>(news);
    failOnInvalid(validateOwn(i));
    const client = clientFor(i.local);
    const observed = await observeForCreate(client, i.local, i.alias);
    forgetFact(i.local, `remote:${i.alias}`);
    const conflict = aliasConflict(i, observed);
    if (conflict) throw new ConflictError(`${conflict.replace(/[.\s]+$/, "")}. Nothing was written.`, { kind: "remote cluster alias", name: i.alias });
    // What the persistent layer held (an adopted alias) is what a failed create puts back.
    const existing = observed?.byLayer.persistent;
    await licenseGate(i);
    const timeout = i.connectionTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const undo = async (why: (cleanup: string) => Error): Promise<never> => {
        try {
            await putSettings(client, i.local, `remove remote cluster '${i.alias}' after the failed create`, existing ? settingsBody(i.alias, existing) : clearBody(i.alias));
            await withdrawCredential(client, i);
        } catch (e) {
            throw why(`removing what it wrote failed too (${(e as Error).message}); run 'pulumi up' again once the cluster answers, or remove cluster.remote.${i.alias}.* and the keystore entry by hand`);
        }
        throw why(existing ? "its previous settings were restored and the credential removed from the keystores" : "the settings and the keystore entries it wrote were removed");
    };
    try {
        await deliverCredential(client, i);
    } catch (e) {
        if (keystoresClean(e)) {
            // Nothing else was written yet, and every keystore written has given the credential back.
            throw new EsRemoteError(`creating remote cluster '${i.alias}' (security: apiKey) failed: ${(e as Error).message}. Nothing is left on the cluster`, { alias: i.alias }, { cause: e });
        }
        return await undo((cleanup) => new EsRemoteError(`creating remote cluster '${i.alias}' (security: apiKey) failed: ${(e as Error).message}; ${cleanup}`, { alias: i.alias }, { cause: e }));
    }
    try {
        await putSettings(client, i.local, `register remote cluster '${i.alias}' (PUT _cluster/settings)`, settingsBody(i.alias, desired(i)));
    } catch (e) {
        return await undo((cleanup) => new EsRemoteError(`creating remote cluster '${i.alias}' (security: apiKey) failed: ${(e as Error).message}; ${cleanup}`, { alias: i.alias }, { cause: e }));
    }
    let s: RemoteStatus;
    if (i.waitForConnection ?? true) {
        s = await waitFor(client, i, true, timeout);
        if (!s.connected) {
            const st = s;
            return await undo((cleanup) => notConnected(i, st, timeout, cleanup));
        }
    } else {
        s = await statusOf(client, i);
    }
    return { id: i.alias, outs: outputs(i, s, await versionsOf(i, client), true) };
}

export async function read(id: string, props: ApiKeyLinkOutputs): Promise<pulumi.dynamic.ReadResult> {
    const client = clientFor(props.local);
    const alias = props.alias ?? id;
    const observed = await observe(client, props.local, alias);
    if (!observed) return {};
    // As for a certificate link: a node that lost the remote is asked to try once before it is reported.
    const s = await currentStatus(client, props.local, alias, await localNodes(client, props.local), { apiKey: true });
    let inSync = true;
    if (isApiKey(props)) {
        const states = await Promise.all((props.keystoreOn ?? []).map(async (t) => {
            try {
                return await credentialState(t, alias, props.credential);
            } catch (e) {
                pulumi.log.warn(`remote cluster '${alias}': could not read the keystore ${keystoreWhere(t)}: ${(e as Error).message}; recorded as not in sync`);
                return "unreadable" as const;
            }
        }));
        (props.keystoreOn ?? []).forEach((t, k) => {
            const st = states[k];
            if (st === "same") return;
            inSync = false;
            if (st !== "unreadable") {
                pulumi.log.warn(`remote cluster '${alias}': the keystore ${keystoreWhere(t)} ${st === "absent" ? "no longer holds" : "holds another value for"} ${credentialSetting(alias)}; the next 'pulumi up' writes the declared credential again`);
            }
        });
    }
    // The settings as the nodes apply them (transient over persistent over elasticsearch.yml), under
    // the input names: `pulumi preview --diff` after a refresh shows each changed key as old => new.
    const now: Record<string, unknown> = {};
    for (const [k] of SETTING_KEYS) now[k] = undefined;
    Object.assign(now, observed.effective);
    const out = plain({
        ...props, ...now, connected: s.connected, numNodesConnected: s.numNodesConnected, numProxySocketsConnected: s.numProxySocketsConnected,
        nodesConnected: s.nodesConnected, nodesTotal: s.nodesTotal, credentialsInUse: s.credentialsInUse, keystoresInSync: inSync,
    });
    return { id: alias, props: out, inputs: inputsOf(out) };
}

export async function update(_id: string, olds: ApiKeyLinkOutputs, news: ApiKeyLinkInputs): Promise<pulumi.dynamic.UpdateResult> {
    const i = plainInputs<ApiKeyLinkInputs>(news);
    failOnInvalid(validateOwn(i));
    const client = clientFor(i.local);
    const timeout = i.connectionTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    if (isApiKey(i) && !isApiKey(olds)) {
        return { outs: await migrateToApiKey(client, olds, i, timeout) };
    }
    if (!isApiKey(i)) {
        // Back to certificate trust: the same steps in reverse (settings nulled, credential removed).
        await putSettings(client, i.local, `null remote cluster '${i.alias}' before leaving API-key mode`, clearBody(i.alias));
        await withdrawCredential(client, olds);
        await putSettings(client, i.local, `re-add remote cluster '${i.alias}' with certificate trust`, settingsBody(i.alias, desired(i)));
        const s = await waitFor(client, i, false, timeout);
        if ((i.waitForConnection ?? true) && !s.connected) throw notConnected(i, s, timeout, "the certificate settings stay in place");
        return { outs: { ...outputs(i, s, await versionsOf(i, client), true), credentialsInUse: undefined, keystoresInSync: undefined } };
    }
    await licenseGate(i);
    // Keystores dropped from the list lose the credential; the declared ones get it (again).
    const removed = (olds.keystoreOn ?? []).filter((o) => !(i.keystoreOn ?? []).some((n) => keystoreKey(n) === keystoreKey(o)));
    await Promise.all(removed.map((t) => removeCredential(t, i.alias)));
    const credentialChanged = olds.credential !== i.credential || olds.keystoresInSync === false || JSON.stringify(olds.keystoreOn) !== JSON.stringify(i.keystoreOn);
    if (credentialChanged) await deliverCredential(client, i);
    const body = settingsBody(i.alias, desired(i), desired(olds));
    if (Object.keys(body).length) await putSettings(client, i.local, `update remote cluster '${i.alias}' (PUT _cluster/settings)`, body);
    const wrote = credentialChanged || Object.keys(body).length > 0;
    const s = wrote && (i.waitForConnection ?? true) ? await waitFor(client, i, true, timeout) : await statusOf(client, i);
    if (wrote && (i.waitForConnection ?? true) && !s.connected) throw notConnected(i, s, timeout, "the new settings and credential stay in place");
    return { outs: outputs(i, s, await versionsOf(i, client), true) };
}

/**
 * Certificate trust → API key, same alias, in Elastic's order: save and null the old settings, add
 * the credential and reload, re-add the alias at the server port, verify. If the new connection
 * does not come up: the credential is removed again and the saved certificate settings restored.
 */
async function migrateToApiKey(client: Client, olds: ApiKeyLinkOutputs, i: ApiKeyLinkInputs, timeout: number): Promise<ApiKeyLinkOutputs> {
    await licenseGate(i);
    const saved = (await observe(client, i.local, i.alias))?.byLayer.persistent ?? desired(olds);
    pulumi.log.info(`remote cluster '${i.alias}': migrating from certificate trust to an API key (saved settings: ${JSON.stringify(saved)})`);
    await putSettings(client, i.local, `null remote cluster '${i.alias}' (migration step: remove the certificate-based connection)`, clearBody(i.alias));
    const rollback = async (failure: string, cause?: unknown): Promise<never> => {
        let restored = "the certificate settings were restored";
        try {
            if (!keystoresClean(cause)) await withdrawCredential(client, i);
        } catch (e) {
            restored = `removing the credential failed (${(e as Error).message}); `;
        }
        try {
            await putSettings(client, i.local, `restore remote cluster '${i.alias}' with certificate trust (migration rollback)`, settingsBody(i.alias, saved));
            const back = await waitFor(client, i, false, timeout);
            restored += back.connected ? " and it is connected again" : " but it has not reconnected yet";
        } catch (e) {
            restored += `; restoring the certificate settings failed too (${(e as Error).message}): set them by hand: ${JSON.stringify(settingsBody(i.alias, saved))}`;
        }
        throw new RemoteNotConnectedError(`migrating remote cluster '${i.alias}' to an API key failed: ${failure}. Rolled back: ${restored}. The stack still records the certificate link`, { alias: i.alias, rolledBack: true });
    };
    try {
        await deliverCredential(client, i);
        await putSettings(client, i.local, `re-add remote cluster '${i.alias}' at the remote cluster server (PUT _cluster/settings)`, settingsBody(i.alias, desired(i)));
    } catch (e) {
        return await rollback((e as Error).message, e);
    }
    const s = await waitFor(client, i, true, timeout);
    if (!s.connected) {
        return await rollback(notConnected(i, s, timeout, "rolling back").message);
    }
    return outputs(i, s, await versionsOf(i, client), true);
}

export async function delete_(_id: string, props: ApiKeyLinkOutputs): Promise<void> {
    const client = clientFor(props.local);
    await putSettings(client, props.local, `remove remote cluster '${props.alias}' (PUT _cluster/settings)`, clearBody(props.alias));
    if (isApiKey(props)) await withdrawCredential(client, props);
}
export { delete_ as delete };
