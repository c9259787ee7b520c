/**
 * Hooks of `RemoteClusterLink`: registers a remote cluster on a local cluster and owns exactly the
 * `cluster.remote.<alias>.*` persistent settings it wrote (steps 1 and 3 of Elastic's procedure).
 *
 * - check: validates every input, then (when the connections are known) checks versions,
 *   prerequisites and mutual trust against the real clusters, before anything is written;
 * - create: refuses an existing alias unless `adoptExisting`, writes the settings in one request,
 *   waits for `_remote/info` to say connected, and removes what it wrote if it never does;
 * - update: writes only what changed (a mode switch clears the other mode's keys in the same request);
 * - read: reports the settings as they are on the cluster (hand edits become drift; a removed alias
 *   makes the resource gone);
 * - delete: sets exactly this alias's keys to null; an alias already gone is success.
 */
import * as pulumi from "@pulumi/pulumi";
import { Client } from "@elastic/elasticsearch";
import { callCluster, CheckFailure, clientFor, ClusterConnection, insecureWarnings, validateConnection } from "./core/client";
import { checkCompatibility } from "./link/compat";
import { containsUnknown, plain } from "./core/dynamic";
import { ClusterUnreachableError, EsRemoteError, InputError, RemoteNotConnectedError } from "./core/errors";
import { cachedFact, forgetFact } from "./core/facts";
import { ClusterFacts, probeCluster } from "./link/probe";
import { clearBody, diffSettings, readRemoteSettings, RemoteSettings, settingsBody, validateRemoteArgs } from "./link/settings";
import { trustFailures } from "./link/trust";

/** What to do when a version pair is wire-compatible but not a supported cross-cluster search configuration. */
export type CcsCompatibility = "enforce" | "warn" | "ignore";

/** Inputs as the hooks receive them (resolved, unwrapped). */
export interface LinkInputs extends RemoteSettings {
    local: ClusterConnection;
    remote?: ClusterConnection;
    alias: string;
    waitForConnection?: boolean;
    connectionTimeoutSeconds?: number;
    ccsCompatibility?: CcsCompatibility;
    adoptExisting?: boolean;
    /** Outputs (e.g. NodeCertificate fingerprints) the trust check waits for; not written anywhere. */
    waitForCertificates?: string[];
}

/** Outputs: the inputs plus what the clusters report. */
export interface LinkOutputs extends LinkInputs {
    connected: boolean;
    numNodesConnected?: number;
    numProxySocketsConnected?: number;
    localVersion: string;
    remoteVersion?: string;
    /** The alias's settings found on the cluster when the link adopted it (restored on failure). */
    adoptedFrom?: RemoteSettings;
    /** Set when a create wrote the settings and then failed without removing them; the next update writes every key. */
    createInterrupted?: boolean;
}

/** Settings keys of the inputs, in the order the user reads them. */
const SETTING_PROPS: Array<keyof RemoteSettings> = [
    "mode", "seeds", "nodeConnections", "proxyAddress", "proxySocketConnections", "serverName",
    "skipUnavailable", "transportCompress", "transportCompressionScheme", "transportPingSchedule",
];

const DEFAULT_TIMEOUT_SECONDS = 60;

/** The settings part of the inputs, mode defaulted to sniff. */
export function desiredSettings(i: Partial<LinkInputs>): RemoteSettings {
    const s: Record<string, unknown> = {};
    for (const k of SETTING_PROPS) {
        if (i[k] !== undefined && i[k] !== null) s[k] = i[k];
    }
    s.mode = i.mode ?? "sniff";
    return s as unknown as RemoteSettings;
}

const ENUMS = {
    ccsCompatibility: ["enforce", "warn", "ignore"],
};

function validateOwnArgs(n: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    const w = n.waitForCertificates;
    if (w !== undefined && !containsUnknown(w) && (!Array.isArray(w) || w.some((x) => typeof x !== "string"))) {
        f.push({ property: "waitForCertificates", reason: "must be a list of strings, e.g. [cert.fingerprintSha256] of the NodeCertificates that establish trust" });
    }
    if (n.waitForConnection !== undefined && typeof n.waitForConnection !== "boolean") {
        f.push({ property: "waitForConnection", reason: "must be true or false" });
    }
    if (n.adoptExisting !== undefined && typeof n.adoptExisting !== "boolean") {
        f.push({ property: "adoptExisting", reason: "must be true or false" });
    }
    const t = n.connectionTimeoutSeconds;
    if (t !== undefined && (typeof t !== "number" || !Number.isFinite(t) || t < 1 || t > 3600)) {
        f.push({ property: "connectionTimeoutSeconds", reason: "must be a number of seconds between 1 and 3600" });
    }
    if (n.ccsCompatibility !== undefined && !ENUMS.ccsCompatibility.includes(String(n.ccsCompatibility))) {
        f.push({ property: "ccsCompatibility", reason: `must be one of ${ENUMS.ccsCompatibility.join(", ")} (got ${JSON.stringify(n.ccsCompatibility)})` });
    }
    return f;
}

/** Which certificates the link's checks must see: probes from before their delivery are not reused. */
function generation(i: Partial<LinkInputs>): string {
    return JSON.stringify(i.waitForCertificates ?? null);
}

function where(c: ClusterConnection | undefined): string {
    return (c?.urls ?? []).join(", ");
}

/**
 * Validation without the network (pure): every input, each failure naming the property.
 * @internal
 */
export function validateLinkInputs(news: Record<string, unknown>): CheckFailure[] {
    const failures: CheckFailure[] = [];
    if (!containsUnknown(news.local)) failures.push(...validateConnection("local", news.local));
    if (news.remote !== undefined && !containsUnknown(news.remote)) failures.push(...validateConnection("remote", news.remote));
    failures.push(...validateRemoteArgs(news));
    failures.push(...validateOwnArgs(news));
    return failures;
}

/**
 * The preview-time checks against the real clusters: the alias is free (on create), versions are
 * wire-compatible (and a supported CCS pair, per `ccsCompatibility`), security and transport TLS are
 * on, and each side trusts the other's transport CA. Never writes.
 * @internal
 */
export async function preflight(olds: Partial<LinkInputs>, news: LinkInputs): Promise<CheckFailure[]> {
    const failures: CheckFailure[] = [];
    if (containsUnknown(news.local)) {
        pulumi.log.info(`remote cluster '${news.alias}': the local cluster's connection is not known yet; version and trust checks run at update time`);
        return failures;
    }
    const isCreate = olds.alias !== news.alias;
    const localClient = clientFor(news.local);
    let localFacts: ClusterFacts;
    try {
        localFacts = await probeCluster("local", news.local, localClient, generation(news));
    } catch (e) {
        // Failures about a cluster name `<side>.urls`, never the whole connection: the engine
        // prints the named property's value, and a connection holds credentials.
        return [{ property: "local.urls", reason: (e as Error).message }];
    }
    if (isCreate && !news.adoptExisting) {
        const existing = await aliasInUse(localClient, news.local, news.alias);
        if (existing) {
            failures.push({
                property: "alias",
                reason: `the local cluster (${where(news.local)}) already has a remote cluster '${news.alias}' (${describe(existing)}). ` +
                    `Set adoptExisting: true to take it over (pulumi import does not work for dynamic resources), or choose another alias.`,
            });
        }
    }
    if (news.remote === undefined) {
        pulumi.log.info(`remote cluster '${news.alias}': no 'remote' connection given, so version and trust checks are skipped`);
        return failures;
    }
    if (containsUnknown(news.remote)) {
        pulumi.log.info(`remote cluster '${news.alias}': the remote cluster's connection is not known yet; version and trust checks run at update time`);
        return failures;
    }
    let remoteFacts: ClusterFacts;
    try {
        remoteFacts = await probeCluster("remote", news.remote, undefined, generation(news));
    } catch (e) {
        return [...failures, { property: "remote.urls", reason: (e as Error).message }];
    }
    const verdict = checkCompatibility(localFacts.minVersion, remoteFacts.minVersion);
    if (!verdict.wireCompatible) {
        failures.push({ property: "remote.urls", reason: `${verdict.reason} Nothing was written.` });
        return failures;
    }
    if (!verdict.ccsSupported) {
        const mode = news.ccsCompatibility ?? "warn";
        if (mode === "enforce") {
            failures.push({ property: "ccsCompatibility", reason: `${verdict.reason} (ccsCompatibility: enforce; set it to warn or ignore to link anyway)` });
        } else if (mode === "warn") {
            pulumi.log.warn(`remote cluster '${news.alias}': ${verdict.reason} (set ccsCompatibility: ignore to silence this, or enforce to refuse)`);
        }
    }
    if (Number(localFacts.minVersion.split(".")[0]) >= 9 || Number(remoteFacts.minVersion.split(".")[0]) >= 9) {
        pulumi.log.warn(`remote cluster '${news.alias}': certificate-based remote clusters are deprecated since Elasticsearch 9.0 in favour of API-key remote clusters (remote cluster server port 9443); they still work`);
    }
    if (containsUnknown(news.waitForCertificates)) {
        pulumi.log.info(`remote cluster '${news.alias}': the node certificates in waitForCertificates do not exist yet; the trust check runs at update time, once they are on the nodes`);
        return failures;
    }
    const trust = trustFailures(localFacts, remoteFacts, { local: where(news.local), remote: where(news.remote) });
    trust.info.forEach((m) => pulumi.log.info(`remote cluster '${news.alias}': ${m}`));
    failures.push(...trust.failures);
    return failures;
}

function describe(s: RemoteSettings): string {
    return s.mode === "proxy" ? `proxy ${s.proxyAddress ?? "?"}` : `sniff ${(s.seeds ?? []).join(", ") || "?"}`;
}

async function currentSettings(client: Client, conn: ClusterConnection, alias: string): Promise<RemoteSettings | undefined> {
    const res = await callCluster("local", conn, "read the cluster settings (GET _cluster/settings)", () =>
        client.cluster.getSettings({ flat_settings: true, filter_path: "persistent" }));
    return readRemoteSettings(alias, (res?.persistent ?? {}) as Record<string, unknown>);
}

/** The alias's settings on the local cluster for the alias-free check, shared by check and create (one read per link). */
function aliasInUse(client: Client, conn: ClusterConnection, alias: string): Promise<RemoteSettings | undefined> {
    return cachedFact(conn, `remote:${alias}`, () => currentSettings(client, conn, alias), { maxAgeMs: 60_000 });
}

async function putSettings(client: Client, conn: ClusterConnection, what: string, body: Record<string, unknown>): Promise<void> {
    await callCluster("local", conn, what, () => client.cluster.putSettings({ persistent: body }));
}

interface RemoteStatus {
    connected: boolean;
    numNodesConnected?: number;
    numProxySocketsConnected?: number;
    raw?: Record<string, unknown>;
}

async function remoteStatus(client: Client, conn: ClusterConnection, alias: string): Promise<RemoteStatus> {
    const info = await callCluster("local", conn, "read GET _remote/info", () => client.cluster.remoteInfo());
    const r = (info as Record<string, any>)?.[alias];
    if (!r || typeof r !== "object") {
        return { connected: false };
    }
    const s: RemoteStatus = { connected: r.connected === true, raw: r };
    if (typeof r.num_nodes_connected === "number") s.numNodesConnected = r.num_nodes_connected;
    if (typeof r.num_proxy_sockets_connected === "number") s.numProxySocketsConnected = r.num_proxy_sockets_connected;
    return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `_remote/info` until connected or the timeout; reports progress every 10 s. */
async function waitConnected(client: Client, conn: ClusterConnection, alias: string, timeoutSeconds: number): Promise<RemoteStatus> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    let lastReport = Date.now();
    let status = await remoteStatus(client, conn, alias);
    while (!status.connected && Date.now() < deadline) {
        await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
        status = await remoteStatus(client, conn, alias);
        if (Date.now() - lastReport > 10_000) {
            lastReport = Date.now();
            pulumi.log.info(`remote cluster '${alias}': waiting for the connection (${Math.round((deadline - Date.now()) / 1000)}s left)`);
        }
    }
    return status;
}

function notConnected(alias: string, inputs: LinkInputs, status: RemoteStatus, timeoutSeconds: number, cleanup: string): RemoteNotConnectedError {
    const target = inputs.mode === "proxy" ? `proxy address ${inputs.proxyAddress}` : `seeds ${(inputs.seeds ?? []).join(", ")}`;
    return new RemoteNotConnectedError(
        `remote cluster '${alias}' was registered on the local cluster (${where(inputs.local)}) but did not connect within ${timeoutSeconds}s; ${cleanup}. ` +
        `_remote/info: ${JSON.stringify(status.raw ?? {})}. Likely causes: the ${target} cannot be reached from the local cluster's nodes ` +
        `(transport port, not HTTP); the two clusters do not trust each other's transport CA (see the nodes' logs for 'certificate' errors); ` +
        `incompatible versions. Set waitForConnection: false to register it without waiting.`,
        { alias, remoteInfo: status.raw ?? {} },
    );
}

function outputs(inputs: LinkInputs, status: RemoteStatus, localVersion: string, remoteVersion: string | undefined, adoptedFrom?: RemoteSettings): LinkOutputs {
    return plain({
        ...inputs,
        connected: status.connected,
        numNodesConnected: status.numNodesConnected,
        numProxySocketsConnected: status.numProxySocketsConnected,
        localVersion,
        remoteVersion,
        adoptedFrom,
    });
}

async function versions(inputs: LinkInputs, localClient: Client): Promise<{ local: string; remote?: string }> {
    const local = (await probeCluster("local", inputs.local, localClient, generation(inputs))).minVersion;
    let remote: string | undefined;
    if (inputs.remote) {
        try {
            remote = (await probeCluster("remote", inputs.remote, undefined, generation(inputs))).minVersion;
        } catch (e) {
            pulumi.log.warn(`remote cluster '${inputs.alias}': could not read the remote cluster's version: ${(e as Error).message}`);
        }
    }
    return { local, remote };
}

/** Every run that uses an unverified TLS connection says so. */
export function warnInsecure(i: { local?: ClusterConnection; remote?: ClusterConnection; alias?: string }): void {
    for (const side of ["local", "remote"] as const) {
        insecureWarnings(side, i[side]).forEach((m) => pulumi.log.warn(m));
    }
}

// ---------------------------------------------------------------------------------------- hooks

export async function check(olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
    const failures = validateLinkInputs(news ?? {});
    if (failures.length) {
        return { inputs: news, failures };
    }
    const inputs: LinkInputs = { ...news, mode: news.mode ?? "sniff" };
    warnInsecure(inputs);
    return { inputs, failures: await preflight(olds ?? {}, inputs) };
}

export async function diff(_id: string, olds: any, news: any): Promise<pulumi.dynamic.DiffResult> {
    const o = olds as LinkOutputs;
    const n = news as LinkInputs;
    const replaces: string[] = [];
    // A new alias is a new remote on the cluster. New URLs for `local` are taken as another way to
    // reach the same cluster (an update of the connection, not a replacement).
    if (o.alias !== n.alias) replaces.push("alias");
    const changed = new Set<string>(diffSettings(desiredSettings(n), desiredSettings(o), { localVersion: o.localVersion }));
    for (const k of ["local", "remote", "waitForConnection", "connectionTimeoutSeconds", "ccsCompatibility", "adoptExisting"] as const) {
        if (JSON.stringify(o[k] ?? null) !== JSON.stringify(n[k] ?? null)) changed.add(k);
    }
    // waitForCertificates only orders the checks: a certificate being replaced is no change here.
    const { waitForCertificates: _ignored, ...compared } = n;
    if (containsUnknown(compared)) {
        return { changes: true, replaces };
    }
    return { changes: changed.size > 0 || replaces.length > 0, replaces, deleteBeforeReplace: false };
}

/** The engine always runs check first; the hooks still refuse invalid inputs before any request. */
function failFast(news: Record<string, unknown>): void {
    const f = validateLinkInputs(news);
    if (f.length) {
        throw new InputError(f[0].property, `${f[0].reason}. Nothing was written.`);
    }
}

export async function create(news: any): Promise<pulumi.dynamic.CreateResult> {
    failFast(news);
    const inputs = news as LinkInputs;
    const alias = inputs.alias;
    const client = clientFor(inputs.local);
    let existing: RemoteSettings | undefined;
    let written = false;
    let v: { local?: string; remote?: string } = {};
    try {
        // What check read moments ago in this process (≤ 60 s), else read now; used once.
        existing = await aliasInUse(client, inputs.local, alias);
        forgetFact(inputs.local, `remote:${alias}`);
        if (existing && !inputs.adoptExisting) {
            throw new EsRemoteError(`the local cluster (${where(inputs.local)}) already has a remote cluster '${alias}' (${describe(existing)}); set adoptExisting: true to take it over, or choose another alias. Nothing was written.`, { alias });
        }
        const desired = desiredSettings(inputs);
        // No `previous`: the body names every key, so an adopted alias ends up exactly as declared.
        try {
            await putSettings(client, inputs.local, `register remote cluster '${alias}' (PUT _cluster/settings)`, settingsBody(alias, desired));
        } catch (e) {
            // The connection broke after the request left: the cluster may have applied it.
            written = e instanceof ClusterUnreachableError && e.details.outcomeUnknown === true;
            throw e;
        }
        written = true;
        v = await versions(inputs, client);
        let status: RemoteStatus;
        const timeout = inputs.connectionTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
        if (inputs.waitForConnection ?? true) {
            status = await waitConnected(client, inputs.local, alias, timeout);
            if (!status.connected) {
                const s = status;
                return await undoCreate(client, news, existing, v, (cleanup) => notConnected(alias, inputs, s, timeout, cleanup));
            }
        } else {
            status = await remoteStatus(client, inputs.local, alias);
            if (!status.connected) {
                pulumi.log.info(`remote cluster '${alias}' is registered but not connected yet (waitForConnection: false)`);
            }
        }
        return { id: alias, outs: outputs(inputs, status, v.local!, v.remote, existing) };
    } catch (err) {
        if (!written || err instanceof RemoteNotConnectedError || err instanceof CreateInterruptedError) {
            throw err;
        }
        // Something failed after the settings were written, most likely the local cluster stopped
        // answering: take them back, or (if that fails too) tell the engine they exist.
        return await undoCreate(client, news, existing, v, (cleanup) => new EsRemoteError(
            `the settings of remote cluster '${alias}' were sent to the local cluster (${where(inputs.local)}), then creating it failed: ${(err as Error).message}; ${cleanup}`,
            { alias }, { cause: err }));
    }
}

/**
 * A create that wrote its settings and then failed, and whose settings could not be removed. The
 * dynamic provider host turns an error carrying `id` and `properties` into "created but failed to
 * initialize": the engine records the resource with these properties (so the stack claims exactly
 * what is on the cluster), runs `update` on it at the next `up` and `delete` at `destroy`. Without
 * it the settings were left on the cluster unrecorded, and the next `up` refused the alias as
 * already taken: no convergence without a manual repair.
 * @internal
 */
export class CreateInterruptedError extends EsRemoteError {
    readonly id: string;
    readonly properties: Record<string, unknown>;
    readonly reasons: string[];
    constructor(message: string, id: string, properties: Record<string, unknown>, cause: unknown) {
        super(message, { alias: id }, { cause });
        this.name = "CreateInterruptedError";
        this.id = id;
        this.properties = properties;
        this.reasons = [message];
    }
}

/** Puts back what the alias had before the create (or removes it); throws `failure(what happened)`. */
async function undoCreate(client: Client, news: any, existing: RemoteSettings | undefined, v: { local?: string; remote?: string }, failure: (cleanup: string) => Error): Promise<never> {
    const inputs = news as LinkInputs;
    const alias = inputs.alias;
    try {
        await putSettings(client, inputs.local, `remove remote cluster '${alias}' after the failed create`, existing ? settingsBody(alias, existing) : clearBody(alias));
    } catch (e) {
        const cause = failure(`removing what it wrote failed too (${(e as Error).message})`);
        const properties: Record<string, unknown> = { ...outputs(inputs, { connected: false }, v.local!, v.remote, existing), createInterrupted: true };
        // The host does not add the serialized provider to an error's properties; later hooks need it.
        if (news.__provider !== undefined) properties.__provider = news.__provider;
        throw new CreateInterruptedError(
            `${cause.message}. What it wrote may still be on the cluster, so the stack records the link as not finished: run 'pulumi up' again once the local cluster answers (it writes every setting and finishes the link), 'pulumi refresh' (it drops the link if nothing is there), or 'pulumi destroy' (it removes it)`,
            alias, properties, cause);
    }
    throw failure(existing ? "its previous settings were restored" : "the settings this link wrote were removed");
}

export async function read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    const state = props as LinkOutputs;
    const alias = state.alias ?? id;
    const client = clientFor(state.local);
    const actual = await currentSettings(client, state.local, alias);
    if (!actual) {
        // Removed by hand: the resource is gone, and the next `up` creates it again.
        return {};
    }
    const status = await remoteStatus(client, state.local, alias);
    const settingsNow: Record<string, unknown> = {};
    for (const k of SETTING_PROPS) settingsNow[k] = undefined;
    Object.assign(settingsNow, actual);
    return { id: alias, props: plain({ ...state, ...settingsNow, ...{ connected: status.connected, numNodesConnected: status.numNodesConnected, numProxySocketsConnected: status.numProxySocketsConnected } }) };
}

export async function update(_id: string, olds: any, news: any): Promise<pulumi.dynamic.UpdateResult> {
    failFast(news);
    const o = olds as LinkOutputs;
    const inputs = news as LinkInputs;
    const alias = inputs.alias;
    const client = clientFor(inputs.local);
    const desired = desiredSettings(inputs);
    // After an interrupted create nobody knows what is on the cluster: write every key.
    const previous = o.createInterrupted ? undefined : desiredSettings(o);
    const body = settingsBody(alias, desired, previous);
    const wrote = Object.keys(body).length > 0;
    if (wrote) {
        await putSettings(client, inputs.local, `update remote cluster '${alias}' (PUT _cluster/settings)`, body);
    }
    const v = await versions(inputs, client);
    const timeout = inputs.connectionTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const status = wrote && (inputs.waitForConnection ?? true)
        ? await waitConnected(client, inputs.local, alias, timeout)
        : await remoteStatus(client, inputs.local, alias);
    if (wrote && (inputs.waitForConnection ?? true) && !status.connected) {
        // The settings stay as declared (the state says so); the update fails so the user sees it.
        throw notConnected(alias, inputs, status, timeout, "the new settings stay in place");
    }
    return { outs: outputs(inputs, status, v.local, v.remote, o.adoptedFrom) };
}

export async function delete_(_id: string, props: any): Promise<void> {
    const state = props as LinkOutputs;
    const client = clientFor(state.local);
    await putSettings(client, state.local, `remove remote cluster '${state.alias}' (PUT _cluster/settings)`, clearBody(state.alias));
}
export { delete_ as delete };
