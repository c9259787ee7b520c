/**
 * Hooks of `RemoteSigningTrust`: one CA the remote (key-owning) cluster verifies signed
 * cross-cluster requests against (strong identity, 9.3+), as one entry of the global
 * `cluster.remote.signing.certificate_authorities`, with its file on every remote node.
 *
 * The global list is a filtered setting that no API reads back (docs/strong-identity.md), and a
 * write replaces it whole. So every owner's entries are kept in a registry file beside the CAs on
 * each node ({@link REGISTRY_FILE}, a JSON list of paths, no secrets); a write starts from the union
 * of every node's registry and `alsoTrust` (entries others made by hand), adds or removes only this
 * resource's path, writes the setting, then the registries.
 *
 * - create: the CA file on every node (atomic, 0644, the directory's owner), then the list, then
 *   the registries; a failed list write removes the files it placed;
 * - update: a new `caPem` rewrites the files in place (same path); `alsoTrust` rewrites the list;
 * - diff: `remote`, `name` or `nodes` replace (create first, then delete the old entry);
 * - read: a CA file missing or changed on a node is drift (`caInSync: false`, `observedDrift`);
 * - delete: only this path out of the list (`null` when empty), the registries, then its files.
 */
import * as crypto from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { callCluster, CheckFailure, clientFor, ClusterConnection, validateConnection } from "./core/client";
import { containsUnknown, HookModule, plain, plainInputs } from "./core/dynamic";
import { EsRemoteError, InputError } from "./core/errors";
import { failOnInvalid, urlsOf } from "./core/validation";
import { filesOn, onLocation } from "./access/node";
import { accessProblems } from "./access/validate";
import type { NodeAccess } from "./access/types";
import { isPemCertificate } from "./certs/pem";
import { mergeSigningCas, signingCaFileFor, signingCasBody } from "./signing/settings";

/** One remote node: where its config directory is, how it is reached. */
export interface TrustNode {
    /** The node's config directory (`ES_PATH_CONF`); the CA goes to `<configDir>/certs/`. */
    configDir: string;
    /** How the node is reached; absent: the machine that runs `pulumi`. */
    access?: NodeAccess;
}

/** Inputs as the hooks receive them. */
export interface TrustInputs {
    /** The remote cluster, as a user who may write cluster settings. */
    remote: ClusterConnection;
    /** The owner's tag: the CA's file is `certs/es-remote-signing-ca-<name>.crt`. */
    name: string;
    /** The CA certificate (PEM) that issued the local cluster's signing certificates. */
    caPem: string;
    /** Every node of the remote cluster. */
    nodes: TrustNode[];
    /** Paths (relative to the config dir) others put in the list by hand, kept in every write. */
    alsoTrust?: string[];
}

/** Outputs. */
export interface TrustOutputs extends TrustInputs {
    /** This resource's entry of the global list. */
    caFile: string;
    /** The whole list as last written. */
    trustedList: string[];
    /** Whether every node holds this CA file with this content (refresh). */
    caInSync?: boolean;
    /** Which nodes drifted and how (refresh). */
    observedDrift?: string[];
}

/** The registry of the global list's entries, beside the CA files. */
export const REGISTRY_FILE = "certs/es-remote-signing-cas.list";

const sha = (s: string) => crypto.createHash("sha256").update(s).digest("hex");
const onNode = (n: TrustNode) => `${n.configDir}${onLocation(n.access)}`;

/** Pure validation, each failure naming the property. @internal */
export function validateTrustInputs(n: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    if (!containsUnknown(n.remote)) f.push(...validateConnection("remote", n.remote));
    if (!containsUnknown(n.name) && (typeof n.name !== "string" || !/^[A-Za-z0-9_.-]{1,100}$/.test(n.name))) {
        f.push({ property: "name", reason: "give 1 to 100 letters, digits, '.', '_' or '-': it names the CA's file on the nodes" });
    }
    if (!containsUnknown(n.caPem)) {
        if (!isPemCertificate(n.caPem)) f.push({ property: "caPem", reason: "must be a PEM certificate (-----BEGIN CERTIFICATE-----), the CA that issued the signing certificates" });
        else if (!new crypto.X509Certificate(String(n.caPem)).ca) f.push({ property: "caPem", reason: "is not a CA certificate (basicConstraints CA:TRUE): give the issuer of the signing certificates, not a signing certificate itself" });
    }
    if (!containsUnknown(n.nodes)) {
        if (!Array.isArray(n.nodes) || n.nodes.length === 0) {
            f.push({ property: "nodes", reason: "list every node of the remote cluster: [{ configDir, access? }] (the CA file must be on each before the setting is written)" });
        } else {
            n.nodes.forEach((x, i) => {
                const e = (x ?? {}) as Record<string, unknown>;
                if (typeof e.configDir !== "string" || !path.posix.isAbsolute(e.configDir)) f.push({ property: `nodes[${i}].configDir`, reason: "must be the node's absolute config directory (ES_PATH_CONF)" });
                if (e.access !== undefined) f.push(...accessProblems(e.access, `nodes[${i}].access`));
            });
        }
    }
    if (n.alsoTrust !== undefined && !containsUnknown(n.alsoTrust) && (!Array.isArray(n.alsoTrust) || n.alsoTrust.some((p) => typeof p !== "string" || p.trim() === ""))) {
        f.push({ property: "alsoTrust", reason: "must be a list of CA paths relative to the config dir, e.g. [\"certs/their-ca.crt\"]" });
    }
    return f;
}

/** The union of every node's registry (in the first node's order, then what others add). */
async function registryUnion(nodes: TrustNode[]): Promise<string[]> {
    const out: string[] = [];
    for (const n of nodes) {
        const text = await (await filesOn(n.access)).readFile(path.posix.join(n.configDir, REGISTRY_FILE));
        let list: unknown = [];
        try {
            list = text === undefined ? [] : JSON.parse(text);
        } catch {
            throw new EsRemoteError(`${path.posix.join(n.configDir, REGISTRY_FILE)}${onLocation(n.access)} is not this package's registry (a JSON list of paths); fix or remove it`, { node: onNode(n) });
        }
        for (const p of Array.isArray(list) ? list.map(String) : []) if (!out.includes(p)) out.push(p);
    }
    return out;
}

async function writeRegistries(nodes: TrustNode[], list: string[] | null): Promise<void> {
    for (const n of nodes) {
        const files = await filesOn(n.access);
        const file = path.posix.join(n.configDir, REGISTRY_FILE);
        if (list === null) await files.remove(file);
        else await files.writeAtomic(file, `${JSON.stringify(list)}\n`, 0o644);
    }
}

async function putList(i: { remote: ClusterConnection }, list: string[] | null): Promise<void> {
    await callCluster("remote", i.remote, "write cluster.remote.signing.certificate_authorities (PUT _cluster/settings)", () =>
        clientFor(i.remote).transport.request({ method: "PUT", path: "/_cluster/settings", body: signingCasBody(list) }), { maxRetries: 0 });
}

async function placeCa(nodes: TrustNode[], caFile: string, caPem: string): Promise<TrustNode[]> {
    const placed: TrustNode[] = [];
    for (const n of nodes) {
        await (await filesOn(n.access)).writeAtomic(path.posix.join(n.configDir, caFile), caPem, 0o644);
        placed.push(n);
    }
    return placed;
}

async function removeCa(nodes: TrustNode[], caFile: string): Promise<void> {
    for (const n of nodes) await (await filesOn(n.access)).remove(path.posix.join(n.configDir, caFile));
}

/** The list to write: every registered and declared entry, ours added or removed. @internal */
export function trustList(registry: string[], alsoTrust: string[] | undefined, ours: string, adding: boolean): string[] | null {
    const known = mergeSigningCas(registry, alsoTrust ?? []).list ?? [];
    return mergeSigningCas(known, adding ? [ours] : [], adding ? [] : [ours]).list;
}

export async function check(_olds: Partial<TrustInputs>, news: TrustInputs): Promise<pulumi.dynamic.CheckResult<TrustInputs>> {
    const n = plainInputs<TrustInputs>(news);
    return { inputs: n, failures: validateTrustInputs(n as unknown as Record<string, unknown>) };
}

export async function diff(_id: string, olds: TrustOutputs, news: TrustInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces: string[] = [];
    if (urlsOf(olds.remote) !== urlsOf(news.remote)) replaces.push("remote");
    if (olds.name !== news.name) replaces.push("name");
    if (JSON.stringify(olds.nodes) !== JSON.stringify(news.nodes)) replaces.push("nodes");
    const changes = replaces.length > 0 || olds.caPem !== news.caPem || JSON.stringify(olds.alsoTrust ?? []) !== JSON.stringify(news.alsoTrust ?? [])
        || JSON.stringify(olds.remote) !== JSON.stringify(news.remote) || olds.caInSync === false;
    return { changes, replaces, deleteBeforeReplace: false };
}

export async function create(inputs: TrustInputs): Promise<pulumi.dynamic.CreateResult<TrustOutputs>> {
    const i = plainInputs<TrustInputs>(inputs);
    failOnInvalid(validateTrustInputs(i as unknown as Record<string, unknown>));
    const caFile = signingCaFileFor(i.name);
    const registry = await registryUnion(i.nodes);
    if (registry.includes(caFile)) {
        throw new InputError("name", `${caFile} is already an entry of the remote's signing CA list (${REGISTRY_FILE} on its nodes): another RemoteSigningTrust named '${i.name}' owns it; choose another name. Nothing was written.`);
    }
    const list = trustList(registry, i.alsoTrust, caFile, true);
    const placed = await placeCa(i.nodes, caFile, i.caPem).catch(async (e) => {
        await removeCa(i.nodes, caFile).catch(() => undefined);
        throw e;
    });
    try {
        await putList(i, list);
    } catch (e) {
        await removeCa(placed, caFile).catch(() => undefined);
        throw e;
    }
    await writeRegistries(i.nodes, list);
    return { id: `${urlsOf(i.remote)}|${caFile}`, outs: plain({ ...i, caFile, trustedList: list ?? [], caInSync: true }) };
}

export async function read(id: string, props: TrustOutputs): Promise<pulumi.dynamic.ReadResult<TrustOutputs>> {
    const drift: string[] = [];
    for (const n of props.nodes) {
        const text = await (await filesOn(n.access)).readFile(path.posix.join(n.configDir, props.caFile));
        if (text === undefined) drift.push(`${onNode(n)}: ${props.caFile} is missing`);
        else if (sha(text) !== sha(props.caPem)) drift.push(`${onNode(n)}: ${props.caFile} holds another certificate`);
    }
    const out = plain({ ...props, caInSync: drift.length === 0, observedDrift: drift.length ? drift : undefined });
    return { id, props: out };
}

export async function update(_id: string, olds: TrustOutputs, news: TrustInputs): Promise<pulumi.dynamic.UpdateResult<TrustOutputs>> {
    const i = plainInputs<TrustInputs>(news);
    failOnInvalid(validateTrustInputs(i as unknown as Record<string, unknown>));
    await placeCa(i.nodes, olds.caFile, i.caPem);
    const list = trustList(await registryUnion(i.nodes), i.alsoTrust, olds.caFile, true);
    await putList(i, list);
    await writeRegistries(i.nodes, list);
    return { outs: plain({ ...i, caFile: olds.caFile, trustedList: list ?? [], caInSync: true }) };
}

async function delete_(_id: string, props: TrustOutputs): Promise<void> {
    const list = trustList(await registryUnion(props.nodes), props.alsoTrust, props.caFile, false);
    await putList(props, list);
    await writeRegistries(props.nodes, list);
    await removeCa(props.nodes, props.caFile);
}
export { delete_ as delete };

const _hooks: HookModule<TrustInputs, TrustOutputs> = { check, diff, create, read, update, delete: delete_ };
void _hooks;
