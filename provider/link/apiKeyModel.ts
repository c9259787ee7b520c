/**
 * `RemoteClusterLink` with `security: "apiKey"`: the remote is reached at its remote cluster server
 * port and authenticated by a cross-cluster API key held in every local node's keystore. The
 * model's part of the one link lifecycle ({@link LinkModel}; the hooks are
 * provider/remoteClusterLink.ts):
 *
 * - preflight: the API-key prerequisites (every keystore reachable and without a password, versions,
 *   licenses, server port, trust in the server's CA, the signing pair and its DN), and, once the
 *   credential is known, a warning for each local role that reaches beyond the key's access (the
 *   key read on the remote by its id);
 * - refuse: the licenses again at write time;
 * - writes (each with its undo): the credential into each keystore in `keystoreOn` (the node's own
 *   keystore tool, secret on stdin), `POST _nodes/reload_secure_settings` (every node must then hold
 *   it), and the signing files, passphrase and settings; an adopting create puts back the credential
 *   each keystore held;
 * - connected: every local remote_cluster_client node's `_remote/info` shows
 *   `cluster_credentials: "::es_redacted::"`;
 * - drift: whether each keystore still holds the declared credential (compared in this process,
 *   never printed), and the signing files;
 * - release: the signing settings with the alias's, then the passphrase, the credential, the files.
 */
import * as pulumi from "@pulumi/pulumi";
import { Client } from "@elastic/elasticsearch";
import { callCluster, clientFor } from "../core/client";
import { containsUnknown, plain } from "../core/dynamic";
import { EsRemoteError, LicenseError, RemoteNotConnectedError } from "../core/errors";
import { withUndo, Writes } from "../core/steps";
import { CheckFailure, urlsOf } from "../core/validation";
import {
    addCredential, credentialSetting, credentialState, heldCredential, keystoreKey, keystoreProblem, keystoreWhere, removeCredential, validateKeystoreTargets,
} from "./keystoreTool";
import { reloadSecureSettings } from "./reload";
import { getKey, KeyInfo, unusable } from "../apikey/key";
import { clusterRoleWarnings } from "../apikey/roleAccess";
import {
    licenseProblem, localTrustFacts, nodeVersions, remoteServerFacts, serverChain, serverProblems, trustProblem, versionProblem,
} from "../apikey/checks";
import { clusterUuidOf } from "../security/identity";
import { remoteClientNodes } from "./nodes";
import { aliasConflict, localNodes, nodeConnectionOf, observeForCreate, remoteInfoText, RemoteStatus } from "./io";
import { deliverSecureSetting, keystores, keystoresClean, withdrawSecureSetting } from "./keystores";
import { linkOutputs, nextUp, recorded } from "./state";
import {
    identityProblem, LinkSigning, removePassphrase, releaseSigningFiles, signingDrift, signingPemProblems, signingSteps, signingVersionProblem, validateSigningArgs,
} from "./signing";
import { signingSettingsBody } from "../signing/settings";
import type { LinkModel, LinkSecurity, ModelDrift, Sides } from "./model";
import type { LinkInputs, LinkOutputs, LinkRecordOutputs } from "./types";

export type { LinkSecurity } from "./model";

/** @deprecated the link's inputs, one shape for both models ({@link LinkInputs}). */
export type ApiKeyLinkInputs = LinkInputs;
/** @deprecated the link's outputs, one shape for both models ({@link LinkOutputs}). */
export type ApiKeyLinkOutputs = LinkOutputs;

const SECURITY_VALUES: LinkSecurity[] = ["certificate", "apiKey"];


/** True if the link (inputs or state) authenticates with a cross-cluster API key. */
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
        const c = nodeConnectionOf(news.local, n);
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

/** Adds the credential to every keystore, reloads, and proves every node holds it ({@link deliverSecureSetting}). */
export function deliverCredential(client: Client, i: LinkInputs): Promise<void> {
    return deliverSecureSetting(client, i, credentialSetting(i.alias), i.credential!, "the credential");
}

/** Removes the credential from every keystore and reloads ({@link withdrawSecureSetting}). */
export function withdrawCredential(client: Client, i: Pick<LinkInputs, "alias" | "local" | "keystoreOn">): Promise<void> {
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

function notConnected(i: LinkInputs, s: RemoteStatus, _sides: Sides, timeout: number, cleanup: string): RemoteNotConnectedError {
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

/**
 * Both sides as the API-key model writes on them: the local nodes (for the per-node wait) and
 * `cluster_uuid` (strict: it must be read before anything is written), the remote's lowest version
 * and `cluster_uuid` when it answers.
 */
async function sides(i: LinkInputs, client: Client, strict: boolean): Promise<Sides> {
    const uuid = strict ? await clusterUuidOf("local", i.local) : await clusterUuidOf("local", i.local).catch(() => undefined);
    const local = { clusterUuid: uuid, ...await localNodes(client, i.local) };
    if (!i.remote) return { local };
    const remoteUuid = await clusterUuidOf("remote", i.remote).catch(() => undefined);
    const minVersion = await remoteVersionOf(i);
    return { local, remote: minVersion === undefined && remoteUuid === undefined ? undefined : { clusterUuid: remoteUuid, minVersion: minVersion ?? "", nodes: [] } };
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

/** Refuses the write when a license forbids it: the same message as the preview, as a LicenseError. */
export async function licenseGate(i: LinkInputs): Promise<void> {
    for (const side of ["local", "remote"] as const) {
        const conn = i[side];
        if (!conn) continue;
        const p = await licenseProblem(clientFor(conn), side, conn);
        if (p) throw new LicenseError(`${p.property}: ${p.reason}. Nothing was written.`, { side });
    }
}

/** What the recorded-link message of an API-key link says: once what answers, the next up writes what. */
const NEXT_UP_WHEN = "the cluster and the keystores' hosts answer";
const NEXT_UP_WRITES = "every setting and the credential";
const NEXT_UP = nextUp(NEXT_UP_WHEN, NEXT_UP_WRITES);

// ------------------------------------------------------------------------------------- writes

/**
 * A create's writes before the settings: the credential into every keystore and reload (an adopted
 * alias's keystores get back what they held if the create fails), then the signing files,
 * passphrase and settings (Elasticsearch refuses a signing path not on the node).
 */
async function createWrites(w: Writes, client: Client, i: LinkInputs, adopting: boolean): Promise<void> {
    const held = adopting ? await heldCredentials(i) : undefined;
    const adoptedCredential = held?.some((h) => h !== undefined) ?? false;
    await w.step("add the credential to the keystores", () => deliverCredential(client, i),
        () => (held ? putBackCredentials(client, i, held) : withdrawCredential(client, i)),
        {
            undoIfFailed: (e) => !keystoresClean(e),
            undoneText: adoptedCredential ? "the keystores hold their previous credential again" : "the credential was removed from the keystores",
        });
    if (i.signing) await signingSteps(w, client, i, undefined, i.signing as LinkSigning);
}

/** Keystores the state lists and the inputs no longer do. */
function droppedKeystores(olds: LinkOutputs, i: LinkInputs) {
    return keystores(olds).filter((o) => !keystores(i).some((n) => keystoreKey(n) === keystoreKey(o)));
}

/** Whether an update writes the credential again (a new key, a keystore out of sync or added, an unfinished create). */
function credentialChanged(olds: LinkOutputs, i: LinkInputs): boolean {
    return olds.credential !== i.credential || olds.keystoresInSync === false || olds.createInterrupted === true ||
        JSON.stringify(olds.keystoreOn) !== JSON.stringify(i.keystoreOn);
}

/** An update's writes before the settings: keystores dropped from the list lose the credential; the declared ones get it (again). */
async function updateBefore(client: Client, olds: LinkOutputs, i: LinkInputs): Promise<boolean> {
    await Promise.all(droppedKeystores(olds, i).map((t) => removeCredential(t, i.alias)));
    if (!credentialChanged(olds, i)) return false;
    await deliverCredential(client, i);
    return true;
}

/** An update's writes after the settings: signing given up on dropped nodes, then brought to the declared one. */
async function updateAfter(client: Client, olds: LinkOutputs, i: LinkInputs, rec: LinkRecordOutputs): Promise<void> {
    const removed = droppedKeystores(olds, i);
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
            i, plain({ ...linkOutputs(i, undefined, { local: olds.localVersion ?? "" }, false, rec), signing: next ?? prev, signingInSync: false, createInterrupted: true }) as LinkOutputs, err),
    });
}

/**
 * Resumes what an earlier, interrupted migration paused (`olds.pausedReplication`) once this link is
 * connected; until then (or if resuming fails) the state keeps the list, so the next up tries again.

/** Drift at a refresh: each keystore's credential and, with signing, each node's signing files. */
async function drift(props: LinkOutputs): Promise<ModelDrift> {
    const { inSync, drift: keystoreDrift } = await keystoresInSync(props);
    const signingDriftNow = props.signing ? await signingDrift(props) : [];
    signingDriftNow.forEach((d) => pulumi.log.warn(`remote cluster '${props.alias}': signing: ${d}; recorded as not in sync (the next 'pulumi up' writes the declared signing files again)`));
    return {
        keystoresInSync: inSync, keystoreDrift: keystoreDrift.length ? keystoreDrift : undefined,
        signingInSync: props.signing ? signingDriftNow.length === 0 : undefined, signingDrift: signingDriftNow.length ? signingDriftNow : undefined,
    };
}

/** A cross-cluster API key as a {@link LinkModel}. */
export const apiKeyModel: LinkModel = {
    security: "apiKey",
    withCredentials: true,
    nextUpWrites: NEXT_UP_WRITES,
    nextUpWhen: NEXT_UP_WHEN,
    preflight,
    sides,
    refuse: (i) => licenseGate(i),
    createWrites,
    updateBefore,
    updateAfter,
    updateWrites: (olds, i) => credentialChanged(olds, i) || droppedKeystores(olds, i).length > 0 || !!olds.signing || !!i.signing,
    notConnected,
    drift,
    // The signing settings go with the alias's, before their passphrase and files.
    clearedWithAlias: (props) => (props.signing ? signingSettingsBody(props.alias, null).persistent as Record<string, null> : {}),
    release: async (client, props) => {
        const signing = props.signing as LinkSigning | undefined;
        if (signing?.keyPassphrase !== undefined) await removePassphrase(client, props);
        await withdrawCredential(client, props);
        if (signing) await releaseSigningFiles(props, signing);
    },
};
