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
import { callCluster, clientFor, insecureWarnings, validateConnection } from "../core/client";
import { containsUnknown, plain, plainInputs } from "../core/dynamic";
import { ConflictError, CreateInterruptedError, EsRemoteError, LicenseError, RemoteNotConnectedError } from "../core/errors";
import { forgetFact } from "../core/facts";
import { withUndo } from "../core/steps";
import { CheckFailure, failOnInvalid, urlsOf } from "../core/validation";
import {
    addCredential, credentialSetting, credentialState, heldCredential, keystoreKey, keystoreProblem, keystoreWhere, removeCredential, validateKeystoreTargets,
} from "../apikey/keystore";
import { reloadSecureSettings } from "../apikey/reload";
import { getKey, KeyInfo, unusable } from "../apikey/key";
import { clusterRoleWarnings } from "../apikey/roleAccess";
import {
    licenseProblem, localTrustFacts, nodeVersions, remoteServerFacts, serverChain, serverProblems, trustProblem, versionProblem,
} from "../apikey/checks";
import { clusterUuidOf } from "../security/identity";
import { claimAlias, holdAlias, releaseAlias, releaseClaim } from "./claim";
import { nothingPaused, PausedReplication, pausedText, pauseReplication, resumeReplication } from "./replication";
import { clearBody, SETTING_KEYS, settingsBody, validateRemoteArgs } from "./settings";
import { remoteClientNodes } from "./nodes";
import { aliasConflict, currentStatus, localNodes, nodeConnection, observe, observeForCreate, putSettings, remoteInfoText, RemoteStatus, remoteStatus, waitConnected } from "./io";
import { deliverSecureSetting, keystores, keystoresClean, withdrawSecureSetting } from "./keystores";
import { desiredSettings, inputsOf, linkOutputs, nextUp, recorded, refuseOtherCluster } from "./state";
import {
    identityProblem, LinkSigning, removePassphrase, releaseSigningFiles, signingDrift, signingPemProblems, signingSteps, signingVersionProblem, validateSigningArgs,
} from "./signing";
import { signingSettingsBody } from "../signing/settings";
import type { LinkInputs, LinkOutputs, LinkRecordOutputs } from "./types";

/** How the local cluster authenticates to the remote one. */
export type LinkSecurity = "certificate" | "apiKey";

/** @deprecated the link's inputs, one shape for both models ({@link LinkInputs}). */
export type ApiKeyLinkInputs = LinkInputs;
/** @deprecated the link's outputs, one shape for both models ({@link LinkOutputs}). */
export type ApiKeyLinkOutputs = LinkOutputs;

const DEFAULT_TIMEOUT_SECONDS = 60;
const SECURITY_VALUES: LinkSecurity[] = ["certificate", "apiKey"];

/** True if the link authenticates with a cross-cluster API key. */
export function isApiKey(i: { security?: unknown } | undefined): boolean {
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
    f.push(...validateSigningArgs(n));
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

/** Where the local nodes connect: `seeds[i]` or `proxyAddress`, for the checks. */
function targets(i: LinkInputs): Array<{ property: string; address: string }> {
    if ((i.mode ?? "sniff") === "proxy") return typeof i.proxyAddress === "string" ? [{ property: "proxyAddress", address: i.proxyAddress }] : [];
    return (i.seeds ?? []).map((s, k) => ({ property: `seeds[${k}]`, address: s }));
}

// ------------------------------------------------------------------------------------ checks

/** The preview-time checks against the real clusters (never writes). @internal */
export async function preflight(olds: Partial<LinkOutputs>, news: LinkInputs): Promise<CheckFailure[]> {
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
    const signing = news.signing !== undefined && !containsUnknown(news.signing) ? news.signing as LinkSigning : undefined;
    if (signing) f.push(...signingPemProblems(signing));
    else if (news.signing !== undefined) pulumi.log.info(`${tag}: the signing certificate is not known yet; its checks run when it is`);
    if (containsUnknown(news.local)) {
        pulumi.log.info(`${tag}: the local cluster's connection is not known yet; the API-key checks run at update time`);
        return f;
    }
    const local = clientFor(news.local);
    try {
        const nodes = await nodeVersions(local, "local", news.local);
        const v = versionProblem("local", news.local, nodes);
        if (v) f.push(v);
        if (signing) {
            const sv = signingVersionProblem("local", urlsOf(news.local), nodes);
            if (sv) f.push(sv);
        }
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
            pulumi.log.info(`${tag}: migrates from certificate trust to an API key in place (same alias): the follower indices and auto-follow patterns that use the alias are paused before the switch and resumed once the new connection is verified (or after a rollback). Transforms and ML datafeeds that search it are not: stop them first`);
        }
    } catch (e) {
        return [...f, { property: "local.urls", reason: (e as Error).message }];
    }
    if (signing) {
        // cluster.remote.signing.certificate_authorities is a filtered setting: no API reads it back.
        pulumi.log.info(`${tag}: whether the remote cluster trusts the signing certificate's issuer is NOT checked (the remote's cluster.remote.signing.certificate_authorities cannot be read back; RemoteSigningTrust places the CA there)`);
    }
    if (news.remote === undefined) {
        pulumi.log.info(`${tag}: no 'remote' connection given, so the remote's version, license and server checks are skipped${signing ? ", and so are the remote's version for signing and the signing certificate's DN against the key's certificate_identity" : ""}`);
        return f;
    }
    if (containsUnknown(news.remote)) return f;
    const remote = clientFor(news.remote);
    const readKey = keyReader(remote, news);
    try {
        const remoteNodes = await nodeVersions(remote, "remote", news.remote);
        const v = versionProblem("remote", news.remote, remoteNodes);
        if (v) f.push(v);
        if (signing) {
            const sv = signingVersionProblem("remote", urlsOf(news.remote), remoteNodes);
            if (sv) f.push(sv);
            else {
                const ip = await signingIdentityCheck(readKey, news, signing);
                if (ip) f.push(ip);
            }
        }
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
                const t = await localTrustProblem(local, news, chain, tg[0].address);
                if (t) f.push(t);
            }
        }
    } catch (e) {
        f.push({ property: "remote.urls", reason: (e as Error).message });
    }
    if (!f.length) await keyAccessWarnings(local, remote, news, readKey);
    return f;
}

/**
 * Whether every local remote_cluster_client node trusts the server's chain: `_ssl/certificates`
 * describes only the node that answers, so with several nodes each is asked at its own HTTP address
 * (a node that cannot be asked is named as unchecked, never counted as trusting).
 */
async function localTrustProblem(local: Client, news: LinkInputs, chain: { issuers: string[]; subjects: string[] }, address: string): Promise<CheckFailure | undefined> {
    const nodes = remoteClientNodes((await localNodes(local, news.local)).nodes);
    if (nodes.length <= 1) return trustProblem(await localTrustFacts(local, news.local), chain, address, news.local);
    const verdicts = await Promise.all(nodes.map(async (n) => {
        const c = nodeConnection(news.local, n);
        if (!c) return { n, unchecked: "it publishes no HTTP address" };
        try {
            return { n, problem: trustProblem(await localTrustFacts(clientFor(c), c), chain, address, news.local) };
        } catch (e) {
            return { n, unchecked: `${c.urls[0]} did not answer (${(e as Error).message.split("\n")[0]})` };
        }
    }));
    const unchecked = verdicts.filter((v) => v.unchecked);
    if (unchecked.length) {
        pulumi.log.warn(`remote cluster '${news.alias}': whether the remote cluster server's CA is trusted was NOT checked on ${unchecked.map((v) => `${v.n.name} (${v.unchecked})`).join("; ")}`);
    }
    const refusing = verdicts.filter((v) => v.problem);
    if (!refusing.length) return undefined;
    return { ...refusing[0].problem!, reason: `${refusing[0].problem!.reason} (local node${refusing.length > 1 ? "s" : ""} ${refusing.map((v) => v.n.name).join(", ")} of ${nodes.length})` };
}

/** The key the credential belongs to, as read on the remote: undefined while the credential or the remote is not known. */
type KeyRead = { id: string; key?: KeyInfo; error?: Error };
type KeyReader = () => Promise<KeyRead | undefined>;

/** Reads the credential's key on the remote by its id (`GET _security/api_key?id=`) once, however many checks ask. */
function keyReader(remote: Client, news: LinkInputs): KeyReader {
    let read: Promise<KeyRead | undefined> | undefined;
    return () => (read ??= (async () => {
        if (typeof news.credential !== "string" || containsUnknown(news.credential) || !news.remote) return undefined;
        const id = keyIdOf(news.credential);
        try {
            return { id, key: await getKey(remote, news.remote, id) };
        } catch (e) {
            return { id, error: e as Error };
        }
    })());
}

/**
 * The signing certificate's subject DN against the `certificate_identity` of the key the credential
 * belongs to, read on the remote by its id: a failure naming `signing.certPem` when they do not
 * match; a key that cannot be read, or requires no identity, is said in the log (never a failure).
 */
async function signingIdentityCheck(readKey: KeyReader, news: LinkInputs, signing: LinkSigning): Promise<CheckFailure | undefined> {
    const tag = `remote cluster '${news.alias}'`;
    const r = await readKey();
    if (!r) {
        pulumi.log.info(`${tag}: the API key is not known yet; the signing certificate's DN is checked against its certificate_identity when it is`);
        return undefined;
    }
    const { id, key: k } = r;
    if (r.error) {
        pulumi.log.info(`${tag}: could not read API key ${id} on the remote cluster (${r.error.message.split("\n")[0]}); the signing certificate's DN is NOT checked against its certificate_identity`);
        return undefined;
    }
    if (!k) {
        pulumi.log.info(`${tag}: API key ${id} is not on the remote cluster; the signing certificate's DN is NOT checked against its certificate_identity`);
        return undefined;
    }
    if (k.certificateIdentity === undefined) {
        pulumi.log.info(`${tag}: API key ${id} requires no certificate identity: the requests are signed, and the remote verifies the signature, but nothing requires it`);
        return undefined;
    }
    return identityProblem(signing.certPem, k.certificateIdentity, id);
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
export async function keyAccessWarnings(local: Client, remote: Client, news: LinkInputs, readKey: KeyReader = keyReader(remote, news)): Promise<void> {
    const tag = `remote cluster '${news.alias}'`;
    const r = await readKey();
    if (!r) {
        pulumi.log.info(`${tag}: the API key is not known yet; whether its access covers the local roles is checked when it is`);
        return;
    }
    const { id, key: k } = r;
    if (r.error) {
        pulumi.log.info(`${tag}: could not read API key ${id} on the remote cluster (${r.error.message.split("\n")[0]}); whether its access covers the local roles is not checked (the remote user needs manage_api_key or manage_security)`);
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
    clusterRoleWarnings(roles ?? {}, k!.access, news.alias, id, k!.clusterPrivileges).forEach((w) => pulumi.log.warn(w));
}

// ------------------------------------------------------------------------------- cluster I/O

/** Every local remote_cluster_client node's view of the alias; connected means with the credential in use. */
async function statusOf(client: Client, i: Pick<LinkInputs, "local" | "alias">): Promise<RemoteStatus> {
    return remoteStatus(client, i.local, i.alias, await localNodes(client, i.local), { apiKey: true });
}

/** Waits until every local remote_cluster_client node is connected (with the credential when `apiKey`). */
async function waitFor(client: Client, i: Pick<LinkInputs, "local" | "alias">, apiKey: boolean, timeoutSeconds: number): Promise<RemoteStatus> {
    return waitConnected(client, i.local, i.alias, await localNodes(client, i.local), timeoutSeconds, { apiKey });
}

/** Adds the credential to every keystore, reloads, and proves every node holds it ({@link deliverSecureSetting}). */
function deliverCredential(client: Client, i: LinkInputs): Promise<void> {
    return deliverSecureSetting(client, i, credentialSetting(i.alias), i.credential!, "the credential");
}

/** Removes the credential from every keystore and reloads ({@link withdrawSecureSetting}). */
function withdrawCredential(client: Client, i: Pick<LinkInputs, "alias" | "local" | "keystoreOn">): Promise<void> {
    return withdrawSecureSetting(client, i, credentialSetting(i.alias));
}

/**
 * What each keystore holds for the alias before an adopting create overwrites it (`add --force`):
 * the undo of a failed adopt puts these back instead of removing the credential the adopted link
 * works with. In memory only, for the length of the create.
 */
async function heldCredentials(i: LinkInputs): Promise<Array<string | undefined>> {
    return Promise.all(keystores(i).map((t) => heldCredential(t, i.alias)));
}

/** Gives every keystore back what it held before (`held[k]`, or nothing), then reloads. */
async function putBackCredentials(client: Client, i: LinkInputs, held: Array<string | undefined>): Promise<void> {
    const results = await Promise.allSettled(keystores(i).map((t, k) => (held[k] !== undefined ? addCredential(t, i.alias, held[k]!) : removeCredential(t, i.alias))));
    await reloadSecureSettings(client, i.local);
    const first = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (first) throw first.reason;
}

function notConnected(i: LinkInputs, s: RemoteStatus, timeout: number, cleanup: string): RemoteNotConnectedError {
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

/** A failure whose message is only complete once the undo has said what it took back. */
class Unfinished extends Error {
    constructor(readonly make: (cleanup: string) => Error) {
        super("unfinished");
    }
}

/** The `cluster_uuid`s behind the connections: local must be read (before anything is written), remote when it answers. */
async function identities(i: LinkInputs): Promise<{ local?: string; remote?: string }> {
    const local = await clusterUuidOf("local", i.local);
    let remote: string | undefined;
    if (i.remote) remote = await clusterUuidOf("remote", i.remote).catch(() => undefined);
    return { local, remote };
}

/** The remote's minimum node version, or undefined when it cannot be read now (a warning says so). */
async function remoteVersionOf(i: Pick<LinkInputs, "remote" | "alias">): Promise<string | undefined> {
    if (!i.remote) return undefined;
    try {
        const min = (l: Array<{ version: string }>) => l.map((n) => n.version).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))[0];
        return min(await nodeVersions(clientFor(i.remote), "remote", i.remote));
    } catch (e) {
        pulumi.log.warn(`remote cluster '${i.alias}': could not read the remote cluster's version: ${(e as Error).message}`);
        return undefined;
    }
}

/** The link's outputs: one assembly for both models (./state.ts). */
const outputs = linkOutputs;

export { inputsOf } from "./state";

/** Refuses the write when a license forbids it: the same message as the preview, as a LicenseError. */
async function licenseGate(i: LinkInputs): Promise<void> {
    for (const side of ["local", "remote"] as const) {
        const conn = i[side];
        if (!conn) continue;
        const p = await licenseProblem(clientFor(conn), side, conn);
        if (p) throw new LicenseError(`${p.property}: ${p.reason}. Nothing was written.`, { side });
    }
}

const NEXT_UP = nextUp("the cluster and the keystores' hosts answer", "every setting and the credential");

// ------------------------------------------------------------------------------------- hooks

export async function check(olds: unknown, news: unknown): Promise<{ inputs: LinkInputs; failures: CheckFailure[] }> {
    const n = plainInputs<LinkInputs>(news);
    const failures = validateOwn(n as unknown as Record<string, unknown>);
    if (failures.length) return { inputs: n, failures };
    const inputs: LinkInputs = { ...n, mode: n.mode ?? "sniff" };
    for (const side of ["local", "remote"] as const) insecureWarnings(side, inputs[side]).forEach((m) => pulumi.log.warn(m));
    return { inputs, failures: await preflight(plainInputs<LinkOutputs>(olds), inputs) };
}

/**
 * Creates an API-key link: credential into every keystore and reload, settings, wait. Each write is
 * paired with its undo ({@link withUndo}); a failure after the first write takes them back (an
 * adopted alias gets its previous settings and keystore credential back), and if that fails too the
 * engine records the link as not finished, so nothing is left on the cluster the state does not know.
 */
export async function create(news: LinkInputs): Promise<{ id: string; outs: LinkOutputs }> {
    const i = plainInputs<LinkInputs>(news);
    failOnInvalid(validateOwn(i as unknown as Record<string, unknown>));
    // Kept for a recorded state's properties (see recorded); outputs() drops it again.
    if (news?.__provider !== undefined) i.__provider = news.__provider;
    const alias = i.alias;
    const client = clientFor(i.local);
    const ids = await identities(i);
    const claim = claimAlias(ids.local, i.local, alias);
    try {
        const observed = await observeForCreate(client, i.local, alias);
        forgetFact(i.local, `remote:${alias}`);
        const conflict = aliasConflict(i, observed);
        if (conflict) throw new ConflictError(`${conflict.replace(/[.\s]+$/, "")}. Nothing was written.`, { kind: "remote cluster alias", name: alias });
        // What the persistent layer held (an adopted alias) is what a failed create puts back.
        const existing = observed?.byLayer.persistent;
        await licenseGate(i);
        const timeout = i.connectionTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
        const rec: LinkRecordOutputs = { localClusterUuid: ids.local, remoteClusterUuid: ids.remote, adoptedFrom: observed?.effective };
        const held = observed ? await heldCredentials(i) : undefined;
        const adoptedCredential = held?.some((h) => h !== undefined) ?? false;
        const outs = await withUndo(async (w) => {
            await w.step("add the credential to the keystores", () => deliverCredential(client, i),
                () => (held ? putBackCredentials(client, i, held) : withdrawCredential(client, i)),
                {
                    undoIfFailed: (e) => !keystoresClean(e),
                    undoneText: adoptedCredential ? "the keystores hold their previous credential again" : "the credential was removed from the keystores",
                });
            // Files, passphrase, then the signing settings (Elasticsearch refuses a path not on the node).
            if (i.signing) await signingSteps(w, client, i, undefined, i.signing as LinkSigning);
            await w.step("write the settings", () => putSettings(client, i.local, `register remote cluster '${alias}' (PUT _cluster/settings)`, settingsBody(alias, desiredSettings(i))),
                () => putSettings(client, i.local, `remove remote cluster '${alias}' after the failed create`, existing ? settingsBody(alias, existing) : clearBody(alias)),
                { undoneText: existing ? "its previous settings were restored" : "the settings it wrote were removed" });
            let s: RemoteStatus;
            if (i.waitForConnection ?? true) {
                s = await waitFor(client, i, true, timeout);
                if (!s.connected) {
                    const st = s;
                    throw new Unfinished((cleanup) => notConnected(i, st, timeout, cleanup));
                }
            } else {
                s = await statusOf(client, i);
            }
            const local = (await localNodes(client, i.local)).minVersion;
            return outputs(i, s, { local, remote: await remoteVersionOf(i) }, true, rec);
        }, {
            undone: (err, cleanup) => err instanceof Unfinished ? err.make(cleanup)
                : new EsRemoteError(`creating remote cluster '${alias}' (security: apiKey) failed: ${err.message}; ${cleanup}`, { alias }, { cause: err }),
            interrupted: (err, _failed, cleanup) => {
                const why = err instanceof Unfinished ? err.make(cleanup).message : `creating remote cluster '${alias}' (security: apiKey) failed: ${err.message}; ${cleanup}`;
                return recorded(`${why}. What it wrote may still be on the cluster, so the stack records the link as not finished: ${NEXT_UP}`,
                    i, { ...outputs(i, undefined, { local: "" }, false, rec), createInterrupted: true }, err);
            },
        });
        return { id: alias, outs };
    } catch (e) {
        if (keystoresClean(e)) {
            releaseClaim(claim);
            // Nothing else was written yet, and every keystore written has given the credential back.
            throw new EsRemoteError(`creating remote cluster '${alias}' (security: apiKey) failed: ${(e as Error).message}. Nothing is left on the cluster`, { alias }, { cause: e });
        }
        if (!(e instanceof CreateInterruptedError)) releaseClaim(claim);
        throw e;
    }
}

/**
 * Whether each keystore holds the declared credential, and for each one that does not, where it is
 * and what was found; a keystore that cannot be read (its path gone, its host down) is drift, never
 * a failed refresh.
 */
async function keystoresInSync(props: LinkOutputs): Promise<{ inSync: boolean; drift: string[] }> {
    const alias = props.alias;
    const targets = keystores(props);
    const states = await Promise.all(targets.map(async (t) => {
        try {
            return { st: await credentialState(t, alias, props.credential) };
        } catch (e) {
            return { st: "unreadable" as const, why: (e as Error).message };
        }
    }));
    const drift: string[] = [];
    targets.forEach((t, k) => {
        const { st, why } = states[k] as { st: string; why?: string };
        if (st === "same") return;
        const found = st === "absent" ? `no longer holds ${credentialSetting(alias)}` : st === "different" ? `holds another value for ${credentialSetting(alias)}` : `could not be read (${why})`;
        drift.push(`${keystoreWhere(t)}: ${found}`);
        pulumi.log.warn(`remote cluster '${alias}': the keystore ${keystoreWhere(t)} ${found}; recorded as not in sync (the next 'pulumi up' writes the declared credential again)`);
    });
    return { inSync: drift.length === 0, drift };
}

export async function read(id: string, props: LinkOutputs): Promise<pulumi.dynamic.ReadResult<LinkOutputs>> {
    const client = clientFor(props.local);
    const alias = props.alias ?? id;
    const observed = await observe(client, props.local, alias);
    if (!observed) return {};
    const nodes = await localNodes(client, props.local);
    // As for a certificate link: a node that lost the remote is asked to try once before it is reported.
    const s = await currentStatus(client, props.local, alias, nodes, { apiKey: true });
    const { inSync, drift } = await keystoresInSync(props);
    const sDrift = await signingDrift(props);
    sDrift.forEach((d) => pulumi.log.warn(`remote cluster '${alias}': signing: ${d}; recorded as not in sync (the next 'pulumi up' writes the declared signing files again)`));
    // The settings as the nodes apply them (transient over persistent over elasticsearch.yml), under
    // the input names: `pulumi preview --diff` after a refresh shows each changed key as old => new.
    const now: Record<string, unknown> = {};
    for (const [k] of SETTING_KEYS) now[k] = undefined;
    Object.assign(now, observed.effective);
    // Versions change with upgrades (diff takes skip_unavailable's default from the local one);
    // states of releases before the UUIDs were recorded get them now.
    const localUuid = props.localClusterUuid ?? await clusterUuidOf("local", props.local).catch(() => undefined);
    const remoteUuid = props.remoteClusterUuid ?? (props.remote ? await clusterUuidOf("remote", props.remote).catch(() => undefined) : undefined);
    const out = plain({
        ...props, ...now, connected: s.connected, numNodesConnected: s.numNodesConnected, numProxySocketsConnected: s.numProxySocketsConnected,
        nodesConnected: s.nodesConnected, nodesTotal: s.nodesTotal, credentialsInUse: s.credentialsInUse, keystoresInSync: inSync,
        keystoreDrift: drift.length ? drift : undefined,
        signingInSync: props.signing ? sDrift.length === 0 : undefined, signingDrift: sDrift.length ? sDrift : undefined,
        localVersion: nodes.minVersion || props.localVersion, remoteVersion: (await remoteVersionOf(props)) ?? props.remoteVersion,
        localClusterUuid: localUuid, remoteClusterUuid: remoteUuid,
    }) as LinkOutputs;
    // ReadResult types `inputs` as the outputs; the engine takes them as the inputs seen now.
    return { id: alias, props: out, inputs: inputsOf(out) as LinkOutputs };
}

/** An update of an API-key link, or a switch of the security model in either direction. */
export async function update(_id: string, olds: LinkOutputs, news: LinkInputs): Promise<{ outs: LinkOutputs }> {
    const i = plainInputs<LinkInputs>(news);
    failOnInvalid(validateOwn(i as unknown as Record<string, unknown>));
    // Kept for a recorded state's properties (see recorded); outputs() drops it again.
    if (news?.__provider !== undefined) i.__provider = news.__provider;
    const client = clientFor(i.local);
    const timeout = i.connectionTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const ids = await identities(i);
    refuseOtherCluster(olds, ids.local);
    const rec: LinkRecordOutputs = {
        localClusterUuid: ids.local ?? olds.localClusterUuid, remoteClusterUuid: ids.remote ?? olds.remoteClusterUuid, adoptedFrom: olds.adoptedFrom,
    };
    if (isApiKey(i) !== isApiKey(olds)) {
        return { outs: await switchModel(client, olds, i, rec, timeout) };
    }
    await licenseGate(i);
    // Keystores dropped from the list lose the credential; the declared ones get it (again).
    const removed = keystores(olds).filter((o) => !keystores(i).some((n) => keystoreKey(n) === keystoreKey(o)));
    await Promise.all(removed.map((t) => removeCredential(t, i.alias)));
    const credentialChanged = olds.credential !== i.credential || olds.keystoresInSync === false || olds.createInterrupted === true ||
        JSON.stringify(olds.keystoreOn) !== JSON.stringify(i.keystoreOn);
    if (credentialChanged) await deliverCredential(client, i);
    // After an interrupted create or migration nobody knows what is on the cluster: write every key.
    const body = settingsBody(i.alias, desiredSettings(i), olds.createInterrupted ? undefined : desiredSettings(olds));
    if (Object.keys(body).length) await putSettings(client, i.local, `update remote cluster '${i.alias}' (PUT _cluster/settings)`, body);
    const oldSigning = olds.signing as LinkSigning | undefined;
    if (oldSigning && removed.length) {
        // Nodes no longer listed: no passphrase, no files (their settings are the cluster's, kept for the others).
        const gone = { alias: i.alias, local: i.local, keystoreOn: removed };
        if (oldSigning.keyPassphrase !== undefined) await removePassphrase(client, gone);
        await releaseSigningFiles(gone, oldSigning);
    }
    if (oldSigning || i.signing) {
        const force = olds.createInterrupted === true || olds.signingInSync === false || JSON.stringify(olds.keystoreOn) !== JSON.stringify(i.keystoreOn);
        await changeSigning(client, olds, i, rec, force);
    }
    const wrote = credentialChanged || Object.keys(body).length > 0;
    const s = wrote && (i.waitForConnection ?? true) ? await waitFor(client, i, true, timeout) : await statusOf(client, i);
    if (wrote && (i.waitForConnection ?? true) && !s.connected) throw notConnected(i, s, timeout, "the new settings and credential stay in place");
    holdAlias(rec.localClusterUuid, i.local, i.alias);
    const outs = outputs(i, s, { local: (await localNodes(client, i.local)).minVersion, remote: await remoteVersionOf(i) }, true, rec);
    return { outs: await resumeLeftPaused(client, olds, i, s, outs) };
}

/**
 * Brings the alias's signing from the state's (`olds.signing`) to the declared one, every write with
 * its undo: a failure is taken back (the update fails, the state keeps the old signing), or, when
 * taking it back fails too, recorded as an unfinished link (the declared signing, or the old one
 * while stopping it) that the next up writes again in full.
 */
async function changeSigning(client: Client, olds: LinkOutputs, i: LinkInputs, rec: LinkRecordOutputs, force: boolean): Promise<void> {
    const prev = olds.signing as LinkSigning | undefined;
    const next = i.signing as LinkSigning | undefined;
    const what = !prev ? "starting to sign" : !next ? "stopping the signing of" : "changing the signing of";
    await withUndo((w) => signingSteps(w, client, i, prev, next, force, keystores(olds)), {
        undone: (err, cleanup) => new EsRemoteError(`${what} remote cluster '${i.alias}' failed: ${err.message}; ${cleanup}. The stack keeps the link's previous signing`, { alias: i.alias }, { cause: err }),
        interrupted: (err, _failed, cleanup) => recorded(
            `${what} remote cluster '${i.alias}' failed: ${err.message}; ${cleanup}. What it wrote may still be on the cluster, so the stack records the link as not finished: ${NEXT_UP}`,
            i, plain({ ...outputs(i, undefined, { local: olds.localVersion ?? "" }, false, rec), signing: next ?? prev, signingInSync: false, createInterrupted: true }) as LinkOutputs, err),
    });
}

/**
 * Resumes what an earlier, interrupted migration paused (`olds.pausedReplication`) once this link is
 * connected; until then (or if resuming fails) the state keeps the list, so the next up tries again.
 */
async function resumeLeftPaused(client: Client, olds: LinkOutputs, i: LinkInputs, s: RemoteStatus, outs: LinkOutputs): Promise<LinkOutputs> {
    const paused = olds.pausedReplication;
    if (nothingPaused(paused)) return outs;
    if (!s.connected) {
        pulumi.log.warn(`remote cluster '${i.alias}': ${pausedText(paused!)} stay paused until the link is connected (the next 'pulumi up' resumes them)`);
        return { ...outs, pausedReplication: paused };
    }
    try {
        await resumeReplication(client, i.alias, paused);
    } catch (e) {
        throw recorded(`remote cluster '${i.alias}' is connected, but resuming ${pausedText(paused!)} (paused by an earlier migration) failed: ${(e as Error).message}; the stack keeps them as paused: run 'pulumi up' again`,
            i, { ...outs, pausedReplication: paused }, e as Error);
    }
    return outs;
}

/**
 * Certificate trust ⇄ API key, same alias, in Elastic's order: pause what replicates through the
 * alias, save and null the old settings, add (or remove) the credential and reload, re-add the alias
 * at the new port, verify, resume. Every step has its undo: any failure after the first write rolls
 * back to the old model's settings (the state's, not the cluster's, which after an earlier attempt
 * may already be the new model's), gives the keystores back what they held, and resumes what it
 * paused. If the rollback fails too, the engine records the link in the new model as not finished,
 * with what is still paused, so the next up finishes it and resumes them.
 */
async function switchModel(client: Client, olds: LinkOutputs, i: LinkInputs, rec: LinkRecordOutputs, timeout: number): Promise<LinkOutputs> {
    const alias = i.alias;
    const toApiKey = isApiKey(i);
    const from = toApiKey ? "certificate trust" : "an API key";
    const to = toApiKey ? "an API key" : "certificate trust";
    const fromLabel = toApiKey ? "certificate" : "API-key";
    const toLabel = toApiKey ? "API-key" : "certificate";
    if (toApiKey) await licenseGate(i);
    const saved = desiredSettings(olds);
    pulumi.log.info(`remote cluster '${alias}': migrating from ${from} to ${to} (saved settings: ${JSON.stringify(saved)})`);
    const earlier = olds.pausedReplication ?? { followers: [], patterns: [] };
    let paused: PausedReplication = { followers: [], patterns: [] };
    const allPaused = (): PausedReplication => ({
        followers: [...new Set([...earlier.followers, ...paused.followers])], patterns: [...new Set([...earlier.patterns, ...paused.patterns])],
    });
    let resumeFailed = false;
    const s = await withUndo(async (w) => {
        paused = await w.step("pause replication through the alias", () => pauseReplication(client, alias),
            async () => {
                try {
                    await resumeReplication(client, alias, paused);
                } catch (e) {
                    resumeFailed = true;
                    throw e;
                }
            }, { undoneText: "what it paused was resumed" });
        if (!nothingPaused(paused)) pulumi.log.info(`remote cluster '${alias}': paused ${pausedText(paused)} for the switch`);
        // Certificate trust signs nothing: the API-key link's signing stops first (settings, passphrase, files).
        if (!toApiKey && olds.signing) await signingSteps(w, client, { ...olds, local: i.local }, olds.signing as LinkSigning, undefined);
        await w.step(`null the ${from} settings`, () => putSettings(client, i.local, `null remote cluster '${alias}' (migration step: remove the ${from} connection)`, clearBody(alias)),
            async () => {
                await putSettings(client, i.local, `restore remote cluster '${alias}' with ${from} (migration rollback)`, settingsBody(alias, saved));
                const back = await waitFor(client, olds, !toApiKey, timeout).catch(() => undefined);
                if (!back?.connected) pulumi.log.warn(`remote cluster '${alias}': the restored ${from} settings have not reconnected yet`);
            }, { undoneText: `the ${fromLabel} settings were restored` });
        if (toApiKey) {
            await w.step("add the credential to the keystores", () => deliverCredential(client, i), () => withdrawCredential(client, i),
                { undoIfFailed: (e) => !keystoresClean(e), undoneText: "the credential was removed from the keystores" });
            if (i.signing) await signingSteps(w, client, i, undefined, i.signing as LinkSigning);
        } else {
            await w.step("remove the credential from the keystores", () => withdrawCredential(client, olds), () => deliverCredential(client, olds),
                { undoIfFailed: () => true, undoneText: "the keystores hold the API key again" });
        }
        await w.step(`re-add the alias with ${to}`, () => putSettings(client, i.local, `re-add remote cluster '${alias}' with ${to} (PUT _cluster/settings)`, settingsBody(alias, desiredSettings(i))),
            () => putSettings(client, i.local, `null remote cluster '${alias}' (migration rollback)`, clearBody(alias)), { undoneText: `the ${toLabel} settings were removed` });
        const st = await waitFor(client, i, toApiKey, timeout);
        if ((i.waitForConnection ?? true) && !st.connected) {
            throw new Unfinished(() => notConnected(i, st, timeout, "rolling back"));
        }
        return st;
    }, {
        undone: (err, cleanup) => new RemoteNotConnectedError(
            `migrating remote cluster '${alias}' to ${to} failed: ${err instanceof Unfinished ? err.make("it was rolled back").message : err.message}. Rolled back: ${cleanup}. The stack still records the ${fromLabel} link`,
            { alias, rolledBack: true }),
        interrupted: (err, failed, cleanup) => {
            const why = `migrating remote cluster '${alias}' to ${to} failed: ${err instanceof Unfinished ? err.make("rolling back").message : err.message}. Rolling back: ${cleanup}`;
            if (resumeFailed && failed.length === 1) {
                // Everything else is back as it was: the old model's state, with what is still paused.
                return recorded(`${why}. The ${fromLabel} link is back; the stack records ${pausedText(allPaused())} as paused: run 'pulumi up' again to resume them`,
                    i, { ...olds, ...rec, pausedReplication: allPaused() } as LinkOutputs, err);
            }
            // Recorded so that the next up finishes the switch: to an API key, as an unfinished
            // API-key link (its update writes the credential and every key); back to certificate
            // trust, as the unfinished API-key link it was (the next up runs this switch again, with
            // the API-key settings as the ones to restore, and takes the credential out).
            const paused = nothingPaused(allPaused()) ? "" : `, and ${pausedText(allPaused())} as paused`;
            const state = toApiKey
                ? outputs(i, undefined, { local: olds.localVersion ?? "" }, false, { ...rec, pausedReplication: allPaused() })
                : { ...olds, ...rec, connected: false, pausedReplication: nothingPaused(allPaused()) ? undefined : allPaused() } as LinkOutputs;
            return recorded(`${why}. What it wrote may still be on the cluster, so the stack records the link (security: ${toApiKey ? "apiKey" : "apiKey, to be switched"}) as not finished${paused}: ${NEXT_UP}`,
                i, plain({ ...state, createInterrupted: true }), err);
        },
    });
    holdAlias(rec.localClusterUuid, i.local, alias);
    const outs = outputs(i, s, { local: (await localNodes(client, i.local)).minVersion, remote: await remoteVersionOf(i) }, toApiKey ? true : undefined, rec);
    return resumeLeftPaused(client, { ...olds, pausedReplication: allPaused() }, i, s, outs);
}

export async function delete_(_id: string, props: LinkOutputs): Promise<void> {
    const client = clientFor(props.local);
    const signing = isApiKey(props) ? props.signing as LinkSigning | undefined : undefined;
    // The signing settings go with the alias's, before their passphrase and files.
    await putSettings(client, props.local, `remove remote cluster '${props.alias}' (PUT _cluster/settings)`,
        { ...clearBody(props.alias), ...(signing ? signingSettingsBody(props.alias, null).persistent : {}) });
    if (signing?.keyPassphrase !== undefined) await removePassphrase(client, props);
    if (isApiKey(props)) await withdrawCredential(client, props);
    if (signing) await releaseSigningFiles(props, signing);
    releaseAlias(props.localClusterUuid, props.local, props.alias);
}
export { delete_ as delete };
