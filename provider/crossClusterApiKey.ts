/**
 * Hooks of `CrossClusterApiKey`: a cross-cluster API key on the remote cluster, whose encoded form
 * is the credential a local cluster puts in its keystore (API-key remote clusters).
 *
 * - check: validates every input (no network); the remote connection must authenticate with a user
 *   (Elasticsearch refuses to create or update cross-cluster keys through an API key);
 * - create: `POST /_security/cross_cluster/api_key`; the encoded key is an output the SDK marks secret;
 * - diff: `name`, `rotation` or remote URLs that reach another cluster (its `cluster_uuid`) replace the key; the engine creates the
 *   replacement first, updates what uses it (the link's keystore), then deletes (invalidates) the
 *   old one; `access`, `metadata`, `expiration` and `certificateIdentity` change in place;
 * - update: `PUT /_security/cross_cluster/api_key/<id>` (same key, same credential);
 * - read: a key invalidated, expired or deleted by hand makes the resource gone (the next `up` makes a
 *   new one and hands it to the links); access, metadata or a declared certificate identity edited
 *   by hand become drift;
 * - read: a key with search access whose role descriptor lacks `monitor_enrich` (made before 8.15)
 *   is a warning; when every remote node runs 8.15+ the state records it and the next `up` updates
 *   the key in place, which makes Elasticsearch rebuild the descriptor (ES|QL `ENRICH`);
 * - check: a `certificateIdentity` to set needs Elasticsearch 9.3+ on every node of the remote
 *   cluster: an older node is named at preview, nothing written;
 * - delete: invalidates the key; a key already gone is success.
 */
import * as pulumi from "@pulumi/pulumi";
import { CheckFailure, clientFor, ClusterConnection, insecureWarnings, validateConnection } from "./core/client";
import { containsUnknown, HookModule, plain, plainInputs } from "./core/dynamic";
import { failOnInvalid, urlsOf } from "./core/validation";
import { CrossClusterAccess, identityIntent, normaliseAccess, validateKeyArgs } from "./apikey/keyBody";
import { nodesOlderThan } from "./link/compat";
import { MIN_STRONG_IDENTITY_VERSION } from "./signing/settings";
import { createKey, getKey, invalidateKey, KeyInfo, lacksEnrich, unusable, updateKey } from "./apikey/key";
import { nodeVersions } from "./apikey/checks";
import { InputError } from "./core/errors";
import { clusterUuidOf, urlsDiffer } from "./security/identity";

/** Inputs as the hooks receive them (resolved, unwrapped). */
export interface ApiKeyInputs {
    remote: ClusterConnection;
    name: string;
    access: CrossClusterAccess;
    expiration?: string;
    metadata?: Record<string, unknown>;
    rotation?: string | number;
    /**
     * Strong identity (9.3+): a regular expression the subject DN (RFC 2253) of the local cluster's
     * signing certificate must match as a whole. Left out keeps the key's; `null` (the SDK sends `""`) clears it.
     */
    certificateIdentity?: string | null;
}

/** Outputs: the inputs plus the key. */
export interface ApiKeyOutputs extends ApiKeyInputs {
    /** The key's id (also the resource id). */
    keyId: string;
    /** The credential (`base64(id:api_key)`): secret. */
    encoded: string;
    /** Expiry in ms since the epoch, if the key expires. */
    expiresAt?: number;
    /**
     * The `cluster_uuid` of the remote cluster the key lives on, recorded by create, update and
     * read (absent in states of earlier releases until their next refresh or update): new URLs of
     * the same cluster are an update, URLs of another cluster a new key.
     */
    remoteClusterUuid?: string;
    /**
     * Set by a refresh that found the key's role descriptor without `monitor_enrich` although it
     * has search access and every remote node runs 8.15+ (a key made before 8.15): the next update
     * rewrites the key's access, and Elasticsearch rebuilds the descriptor with it (ES|QL `ENRICH`).
     */
    enrichOutdated?: boolean;
}

const INPUT_KEYS: Array<keyof ApiKeyInputs> = ["remote", "name", "access", "expiration", "metadata", "rotation", "certificateIdentity"];

/** The first Elasticsearch version whose cross-cluster API keys take `certificate_identity`. */
export const MIN_CERTIFICATE_IDENTITY_VERSION = MIN_STRONG_IDENTITY_VERSION;

/**
 * Why the remote's nodes cannot hold a certificate identity (a node older than 9.3, named with its
 * version), or undefined. Pure; a version that cannot be parsed is not blamed. @internal
 */
export function identityVersionProblem(nodes: Array<{ name: string; version: string }>, urls: string): string | undefined {
    const old = nodesOlderThan(nodes, MIN_CERTIFICATE_IDENTITY_VERSION);
    if (!old.length) return undefined;
    return `strong identity (certificate_identity) needs Elasticsearch ${MIN_CERTIFICATE_IDENTITY_VERSION} or later on every node of the remote cluster (${urls}); ` +
        `${old.map((n) => `${n.name} runs ${n.version}`).join(", ")}. Upgrade those nodes first, or leave certificateIdentity out`;
}

/** {@link identityVersionProblem} of the cluster behind `remote`, asked now. */
async function remoteIdentityProblem(remote: ClusterConnection): Promise<string | undefined> {
    return identityVersionProblem(await nodeVersions(clientFor(remote), "remote", remote), urlsOf(remote));
}

/** Pure validation of the inputs, each failure naming the property. @internal */
export function validateApiKeyInputs(n: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    if (!containsUnknown(n.remote)) {
        f.push(...validateConnection("remote", n.remote));
        const r = n.remote as Record<string, unknown> | undefined;
        if (r && typeof r === "object" && r.apiKey !== undefined) {
            f.push({ property: "remote.apiKey", reason: "Elasticsearch creates and updates cross-cluster API keys only for a user, not through an API key: give remote.username/password of a user with the manage_security privilege" });
        }
    }
    f.push(...validateKeyArgs(n));
    return f;
}

function inputsOf(o: Partial<ApiKeyOutputs>): ApiKeyInputs {
    const i: Record<string, unknown> = {};
    for (const k of INPUT_KEYS) if (o[k] !== undefined) i[k] = o[k];
    return i as unknown as ApiKeyInputs;
}

export async function check(_olds: Partial<ApiKeyInputs>, news: ApiKeyInputs): Promise<pulumi.dynamic.CheckResult<ApiKeyInputs>> {
    const n = plainInputs<ApiKeyInputs>(news);
    const failures = validateApiKeyInputs(n as unknown as Record<string, unknown>);
    if (!failures.length) insecureWarnings("remote", n.remote).forEach((m) => pulumi.log.warn(m));
    // A pattern to set needs 9.3+ on every remote node: said at preview, naming the old node, rather
    // than by the create's parse error. Clearing or keeping needs nothing.
    if (!failures.length && typeof identityIntent(n.certificateIdentity) === "object" && !containsUnknown(n.remote)) {
        try {
            const p = await remoteIdentityProblem(n.remote);
            if (p) failures.push({ property: "certificateIdentity", reason: p });
        } catch (e) {
            pulumi.log.warn(`cross-cluster API key '${n.name}': could not read the remote nodes' versions to check certificateIdentity (${(e as Error).message}); the create or update checks again`);
        }
    }
    return { inputs: n, failures };
}

/**
 * Whether `news.remote` reaches another cluster than the one the key lives on: the cluster UUID
 * (the state's, or for a state of an earlier release the one the old URLs reach) against the one
 * the new URLs reach. New URLs of the same cluster (a node added, a host renamed) are not another
 * cluster; only that makes a new key, which rotates the credential of every link using it. When a
 * side cannot be asked now, `undefined`: the update asks again and refuses another cluster.
 */
async function otherCluster(olds: ApiKeyOutputs, news: ApiKeyInputs): Promise<{ was: string; now: string } | undefined> {
    if (containsUnknown(news.remote) || !urlsDiffer(olds.remote, news.remote)) return undefined;
    try {
        const was = olds.remoteClusterUuid ?? (await clusterUuidOf("remote", olds.remote));
        const now = await clusterUuidOf("remote", news.remote);
        return was && now && was !== now ? { was, now } : undefined;
    } catch (e) {
        pulumi.log.warn(`cross-cluster API key '${news.name}': could not tell which cluster the new remote.urls reach (${(e as Error).message}); the update checks it again`);
        return undefined;
    }
}

/** True when the key would be managed by another user than the one who created it (both known). */
function ownerChanged(olds: ApiKeyOutputs, news: ApiKeyInputs): boolean {
    const before = olds.remote?.username;
    const after = (news.remote as ClusterConnection | undefined)?.username;
    return typeof before === "string" && typeof after === "string" && !containsUnknown(after) && before !== after;
}

export async function diff(_id: string, olds: ApiKeyOutputs, news: ApiKeyInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces: string[] = [];
    const changes: string[] = [];
    if (olds.name !== news.name) replaces.push("name");
    if (String(olds.rotation ?? "") !== String(news.rotation ?? "")) replaces.push("rotation");
    const other = await otherCluster(olds, news);
    if (other) {
        replaces.push("remote");
        pulumi.log.info(`cross-cluster API key '${news.name}': remote.urls now reach another cluster (cluster_uuid ${other.now}, was ${other.was}): a new key is made there`);
    }
    // Elasticsearch updates a key only for the user who created it ("no API key owned by requesting
    // user found for ID", 404, seen on 9.5 even for a superuser): a key made by another user is a new key.
    if (!replaces.includes("remote") && ownerChanged(olds, news)) replaces.push("remote.username");
    // A key that expires cannot be made to never expire by an update: only a new key can.
    if (olds.expiration !== undefined && news.expiration === undefined) replaces.push("expiration");
    if (normaliseAccess(olds.access) !== normaliseAccess(news.access) || containsUnknown(news.access)) changes.push("access");
    if (JSON.stringify(olds.metadata ?? {}) !== JSON.stringify(news.metadata ?? {})) changes.push("metadata");
    if (olds.expiration !== news.expiration && !replaces.includes("expiration")) changes.push("expiration");
    if (JSON.stringify(olds.remote) !== JSON.stringify(news.remote) && !replaces.includes("remote")) changes.push("remote");
    if (identityChange(olds.certificateIdentity, news.certificateIdentity) !== undefined) changes.push("certificateIdentity");
    // A key made before 8.15 whose remote is now 8.15+ (found by a refresh): the update rebuilds its descriptor.
    if (olds.enrichOutdated === true) changes.push("enrichOutdated");
    return {
        changes: replaces.length + changes.length > 0,
        replaces,
        // The replacement key must exist (and reach the links) before the old one is invalidated.
        deleteBeforeReplace: false,
    };
}

/**
 * What an update sends as `certificate_identity` (`undefined`: leave it out), from the recorded
 * identity and the new input: a new pattern, `null` to clear one the key was given, nothing to keep.
 */
export function identityChange(old: string | null | undefined, now: unknown): string | null | undefined {
    const intent = identityIntent(now);
    const had = typeof old === "string" && old !== "" ? old : undefined;
    if (intent === "keep") return undefined;
    if (intent === "clear") return had !== undefined ? null : undefined;
    return intent.set !== had ? intent.set : undefined;
}

export async function create(inputs: ApiKeyInputs): Promise<pulumi.dynamic.CreateResult<ApiKeyOutputs>> {
    const i = plainInputs<ApiKeyInputs>(inputs);
    failOnInvalid(validateApiKeyInputs(i as unknown as Record<string, unknown>));
    const remoteClusterUuid = await clusterUuidOf("remote", i.remote);
    const intent = identityIntent(i.certificateIdentity);
    if (typeof intent === "object") {
        const p = await remoteIdentityProblem(i.remote);
        if (p) throw new InputError("certificateIdentity", `${p}. Nothing was written.`);
    }
    const key = await createKey(clientFor(i.remote), i.remote, { name: i.name, access: i.access, expiration: i.expiration, metadata: i.metadata, certificateIdentity: typeof intent === "object" ? intent.set : undefined });
    return { id: key.id, outs: plain({ ...i, keyId: key.id, encoded: key.encoded, expiresAt: key.expiration, remoteClusterUuid }) };
}

export async function read(id: string, props: ApiKeyOutputs): Promise<pulumi.dynamic.ReadResult<ApiKeyOutputs>> {
    const keyId = props.keyId ?? id;
    const k = await getKey(clientFor(props.remote), props.remote, keyId);
    const why = unusable(k);
    if (why) {
        // The credential no longer authenticates: the resource is gone, and the next `up` makes a
        // new key and hands it to every link that uses this one.
        pulumi.log.warn(`cross-cluster API key '${props.name}' (${keyId}) on the remote cluster (${urlsOf(props.remote)}) ${why}; the next 'pulumi up' creates a new key and updates the links that use it`);
        return {};
    }
    const remoteClusterUuid = props.remoteClusterUuid ?? (await clusterUuidOf("remote", props.remote).catch(() => undefined));
    const observed: ApiKeyOutputs = { ...props, remoteClusterUuid, metadata: k!.metadata && Object.keys(k!.metadata).length ? k!.metadata : props.metadata === undefined ? undefined : {}, expiresAt: k!.expiration };
    if (k!.access !== undefined && normaliseAccess(k!.access) !== normaliseAccess(props.access)) observed.access = k!.access;
    if (k!.name !== props.name) observed.name = k!.name;
    // Drift only where the program declared it: a pattern (changed or removed by hand) or a clear
    // (a pattern added by hand). Left out, the program keeps whatever the key has.
    const declared = identityIntent(props.certificateIdentity);
    if (typeof declared === "object" && k!.certificateIdentity !== declared.set) observed.certificateIdentity = k!.certificateIdentity ?? null;
    if (declared === "clear" && k!.certificateIdentity !== undefined) observed.certificateIdentity = k!.certificateIdentity;
    delete observed.enrichOutdated;
    if (lacksEnrich(k)) observed.enrichOutdated = await enrichOutdated(props, k!) || undefined;
    const out = plain(observed);
    // ReadResult types `inputs` like the outputs; the engine takes them as the inputs seen now.
    return { id: keyId, props: out, inputs: inputsOf(out) as ApiKeyOutputs };
}

/**
 * A key with search access whose role descriptor lacks `monitor_enrich` (made before 8.15): true
 * when every remote node is 8.15+, so an update rebuilds the descriptor; said as a warning either way.
 */
async function enrichOutdated(props: ApiKeyOutputs, k: KeyInfo): Promise<boolean> {
    const tag = `cross-cluster API key '${props.name}' (${k.id}) on the remote cluster (${urlsOf(props.remote)})`;
    const what = `its role descriptor grants ${k.clusterPrivileges!.join(", ") || "no cluster privilege"}, without monitor_enrich: it was made before Elasticsearch 8.15, and ES|QL ENRICH through it is refused`;
    let old: Array<{ name: string; version: string }> = [];
    try {
        old = nodesOlderThan(await nodeVersions(clientFor(props.remote), "remote", props.remote), "8.15.0");
    } catch (e) {
        pulumi.log.warn(`${tag}: ${what}. Could not read the remote nodes' versions (${(e as Error).message.split("\n")[0]}); once every node runs 8.15+, an update of the key adds it`);
        return false;
    }
    if (old.length) {
        pulumi.log.warn(`${tag}: ${what}. ${old.map((n) => `${n.name} runs ${n.version}`).join(", ")}: once every node runs 8.15+, a refresh and pulumi up update the key, which adds it`);
        return false;
    }
    pulumi.log.warn(`${tag}: ${what}. The next pulumi up updates the key in place (same credential), and Elasticsearch rebuilds its descriptor with monitor_enrich`);
    return true;
}

export async function update(id: string, olds: ApiKeyOutputs, news: ApiKeyInputs): Promise<pulumi.dynamic.UpdateResult<ApiKeyOutputs>> {
    const i = plainInputs<ApiKeyInputs>(news);
    failOnInvalid(validateApiKeyInputs(i as unknown as Record<string, unknown>));
    const keyId = olds.keyId ?? id;
    if (ownerChanged(olds, i)) {
        throw new InputError("remote.username",
            `cross-cluster API key '${olds.name}' (${keyId}) was created by user '${olds.remote.username}', and Elasticsearch updates a key only for the user who created it; ` +
            `a change to '${i.remote.username}' makes a new key (its diff asks for a replacement). Nothing was written.`);
    }
    const client = clientFor(i.remote);
    const remoteClusterUuid = await clusterUuidOf("remote", i.remote);
    const was = olds.remoteClusterUuid ?? (urlsDiffer(olds.remote, i.remote) ? await clusterUuidOf("remote", olds.remote).catch(() => undefined) : remoteClusterUuid);
    if (was && remoteClusterUuid && was !== remoteClusterUuid) {
        throw new InputError("remote.urls",
            `${urlsOf(i.remote)} reach another cluster (cluster_uuid ${remoteClusterUuid}) than the one cross-cluster API key '${olds.name}' (${keyId}) lives on (${was}); ` +
            "a key cannot move between clusters. Change rotation to make a new key there (the links get it, then the old key is invalidated), or point remote.urls back. Nothing was written.");
    }
    const certificateIdentity = identityChange(olds.certificateIdentity, i.certificateIdentity);
    if (typeof certificateIdentity === "string") {
        const p = await remoteIdentityProblem(i.remote);
        if (p) throw new InputError("certificateIdentity", `${p}. Nothing was written.`);
    }
    await updateKey(client, i.remote, keyId, { access: i.access, metadata: i.metadata, expiration: i.expiration !== olds.expiration ? i.expiration : undefined, certificateIdentity });
    const k = await getKey(client, i.remote, keyId);
    if (lacksEnrich(k)) pulumi.log.warn(`cross-cluster API key '${i.name}' (${keyId}): after the update its role descriptor still lacks monitor_enrich (cluster: ${k!.clusterPrivileges!.join(", ")}); ES|QL ENRICH through it is refused until it is updated on Elasticsearch 8.15+`);
    return { outs: plain({ ...i, keyId, encoded: olds.encoded, expiresAt: k?.expiration, remoteClusterUuid: remoteClusterUuid ?? olds.remoteClusterUuid }) };
}

async function delete_(id: string, props: ApiKeyOutputs): Promise<void> {
    await invalidateKey(clientFor(props.remote), props.remote, props.keyId ?? id);
}
export { delete_ as delete };

const _hooks: HookModule<ApiKeyInputs, ApiKeyOutputs> = { check, diff, create, read, update, delete: delete_ };
void _hooks;
