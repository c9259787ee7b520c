/**
 * Hooks of `CrossClusterApiKey`: a cross-cluster API key on the remote cluster, whose encoded form
 * is the credential a local cluster puts in its keystore (API-key remote clusters).
 *
 * - check: validates every input (no network); the remote connection must authenticate with a user
 *   (Elasticsearch refuses to create or update cross-cluster keys through an API key);
 * - create: `POST /_security/cross_cluster/api_key`; the encoded key is an output the SDK marks secret;
 * - diff: `name`, `rotation` or the remote cluster's URLs replace the key; the engine creates the
 *   replacement first, updates what uses it (the link's keystore), then deletes (invalidates) the
 *   old one; `access`, `metadata` and `expiration` change in place;
 * - update: `PUT /_security/cross_cluster/api_key/<id>` (same key, same credential);
 * - read: a key invalidated, expired or deleted by hand makes the resource gone (the next `up` makes a
 *   new one and hands it to the links); access or metadata edited by hand become drift;
 * - delete: invalidates the key; a key already gone is success.
 */
import * as pulumi from "@pulumi/pulumi";
import { CheckFailure, clientFor, ClusterConnection, insecureWarnings, validateConnection } from "./core/client";
import { containsUnknown, HookModule, plain, plainInputs } from "./core/dynamic";
import { failOnInvalid, urlsOf } from "./core/validation";
import { CrossClusterAccess, normaliseAccess, validateKeyArgs } from "./apikey/keyBody";
import { createKey, getKey, invalidateKey, unusable, updateKey } from "./apikey/key";

/** Inputs as the hooks receive them (resolved, unwrapped). */
export interface ApiKeyInputs {
    remote: ClusterConnection;
    name: string;
    access: CrossClusterAccess;
    expiration?: string;
    metadata?: Record<string, unknown>;
    rotation?: string | number;
}

/** Outputs: the inputs plus the key. */
export interface ApiKeyOutputs extends ApiKeyInputs {
    /** The key's id (also the resource id). */
    keyId: string;
    /** The credential (`base64(id:api_key)`): secret. */
    encoded: string;
    /** Expiry in ms since the epoch, if the key expires. */
    expiresAt?: number;
}

const INPUT_KEYS: Array<keyof ApiKeyInputs> = ["remote", "name", "access", "expiration", "metadata", "rotation"];

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
    return { inputs: n, failures };
}

function sameUrls(a: ClusterConnection | undefined, b: ClusterConnection | undefined): boolean {
    const norm = (c: ClusterConnection | undefined) => JSON.stringify([...(c?.urls ?? [])].map(String).sort());
    return norm(a) === norm(b);
}

export async function diff(_id: string, olds: ApiKeyOutputs, news: ApiKeyInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces: string[] = [];
    const changes: string[] = [];
    if (olds.name !== news.name) replaces.push("name");
    if (String(olds.rotation ?? "") !== String(news.rotation ?? "")) replaces.push("rotation");
    if (!containsUnknown(news.remote) && !sameUrls(olds.remote, news.remote)) replaces.push("remote");
    // A key that expires cannot be made to never expire by an update: only a new key can.
    if (olds.expiration !== undefined && news.expiration === undefined) replaces.push("expiration");
    if (normaliseAccess(olds.access) !== normaliseAccess(news.access) || containsUnknown(news.access)) changes.push("access");
    if (JSON.stringify(olds.metadata ?? {}) !== JSON.stringify(news.metadata ?? {})) changes.push("metadata");
    if (olds.expiration !== news.expiration && !replaces.includes("expiration")) changes.push("expiration");
    if (JSON.stringify(olds.remote) !== JSON.stringify(news.remote) && !replaces.includes("remote")) changes.push("remote");
    return {
        changes: replaces.length + changes.length > 0,
        replaces,
        // The replacement key must exist (and reach the links) before the old one is invalidated.
        deleteBeforeReplace: false,
    };
}

export async function create(inputs: ApiKeyInputs): Promise<pulumi.dynamic.CreateResult<ApiKeyOutputs>> {
    const i = plainInputs<ApiKeyInputs>(inputs);
    failOnInvalid(validateApiKeyInputs(i as unknown as Record<string, unknown>));
    const key = await createKey(clientFor(i.remote), i.remote, i);
    return { id: key.id, outs: plain({ ...i, keyId: key.id, encoded: key.encoded, expiresAt: key.expiration }) };
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
    const observed: ApiKeyOutputs = { ...props, metadata: k!.metadata && Object.keys(k!.metadata).length ? k!.metadata : props.metadata === undefined ? undefined : {}, expiresAt: k!.expiration };
    if (k!.access !== undefined && normaliseAccess(k!.access) !== normaliseAccess(props.access)) observed.access = k!.access;
    if (k!.name !== props.name) observed.name = k!.name;
    const out = plain(observed);
    // ReadResult types `inputs` like the outputs; the engine takes them as the inputs seen now.
    return { id: keyId, props: out, inputs: inputsOf(out) as ApiKeyOutputs };
}

export async function update(id: string, olds: ApiKeyOutputs, news: ApiKeyInputs): Promise<pulumi.dynamic.UpdateResult<ApiKeyOutputs>> {
    const i = plainInputs<ApiKeyInputs>(news);
    failOnInvalid(validateApiKeyInputs(i as unknown as Record<string, unknown>));
    const keyId = olds.keyId ?? id;
    const client = clientFor(i.remote);
    await updateKey(client, i.remote, keyId, { access: i.access, metadata: i.metadata, expiration: i.expiration !== olds.expiration ? i.expiration : undefined });
    const k = await getKey(client, i.remote, keyId);
    return { outs: plain({ ...i, keyId, encoded: olds.encoded, expiresAt: k?.expiration }) };
}

async function delete_(id: string, props: ApiKeyOutputs): Promise<void> {
    await invalidateKey(clientFor(props.remote), props.remote, props.keyId ?? id);
}
export { delete_ as delete };

const _hooks: HookModule<ApiKeyInputs, ApiKeyOutputs> = { check, diff, create, read, update, delete: delete_ };
void _hooks;
