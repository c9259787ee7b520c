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
import { clientFor, ClusterConnection, insecureWarnings, validateConnection } from "./core/client";
import { containsUnknown, HookModule, plain } from "./core/dynamic";
import {
    ClusterUnreachableError, ConflictError, CreateInterruptedError, EsRemoteError, RemoteNotConnectedError, VersionIncompatibilityError,
} from "./core/errors";
import { forgetFact } from "./core/facts";
import { clusterUuidOf } from "./security/identity";
import { CheckFailure, failOnInvalid, urlsOf } from "./core/validation";
import {
    gatewayNodes, hostnameVerdict, hostOf, NameCheck, NodeFacts, nodeTrustVerdict, remoteClientNodes, versionVerdict,
} from "./link/nodes";
import { ClusterFacts, probeCluster, transportSans } from "./link/probe";
import { claimAlias, holdAlias, releaseAlias, releaseClaim } from "./link/claim";
import { nothingPaused, pausedText, resumeReplication } from "./link/replication";
import { desiredSettings, inputsOf, linkOutputs, nextUp, recorded, refuseOtherCluster } from "./link/state";
import type { LinkInputs, LinkOutputs } from "./link/types";
import {
    clearBody, diffSettings, ObservedSettings, RemoteSettings, settingsBody, SETTING_KEYS,
    validateRemoteArgs,
} from "./link/settings";
import { prerequisiteFailures } from "./link/trust";
import * as apiKeyLink from "./link/apiKeyLink";
import { aliasConflict, currentStatus, observe, observeForCreate, putSettings, remoteInfoText, RemoteStatus, remoteStatus, waitConnected, warnUnasked } from "./link/io";

/** What to do when a version pair is wire-compatible but not a supported cross-cluster search configuration. */
export type CcsCompatibility = "enforce" | "warn" | "ignore";

export type { LinkInputs, LinkOutputs } from "./link/types";

const DEFAULT_TIMEOUT_SECONDS = 60;

/** The settings part of the inputs, mode defaulted to sniff (kept here for importers of the hook file). */
export { desiredSettings };

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
    failures.push(...apiKeyLink.validateApiKeyLinkArgs(news));
    return failures;
}

/** A sentence ends with one full stop, whatever the text before it ended with. */
function sentence(s: string): string {
    return `${s.replace(/[.\s]+$/, "")}.`;
}

// ------------------------------------------------------------------- once per process

/** Clusters the 9.0 deprecation of certificate trust was already reported for, in this provider process. */
const deprecationWarned = new Set<string>();

function clusterKey(f: ClusterFacts | undefined, conn: ClusterConnection): string {
    return f?.clusterUuid ?? urlsOf(conn);
}

/** @internal Forgets the once-per-process warnings (tests run many "processes" in one). */
export function forgetWarnings(): void {
    deprecationWarned.clear();
}

// ---------------------------------------------------------------------------------- sides

/** Connection facts about both sides, as the hooks that write need them. */
interface Sides {
    local: ClusterFacts;
    remote?: ClusterFacts;
}

/** What is known of a cluster whose nodes could not be read: one node, reached through the connection. */
function unknownFacts(): ClusterFacts {
    return { minVersion: "", versions: [], securityEnabled: true, transportTls: true, transportCertIssuers: [], trustedCaSubjects: [], trustKnown: false, nodes: [] };
}

async function probeSides(inputs: LinkInputs, localClient: Client): Promise<Sides> {
    let local: ClusterFacts;
    try {
        local = await probeCluster("local", inputs.local, localClient, generation(inputs));
    } catch (e) {
        // A cluster that cannot be reached stops the hook; one that answers something unexpected
        // about its nodes still gets the settings (check judged it), without per-node verdicts.
        if (e instanceof ClusterUnreachableError) throw e;
        pulumi.log.warn(`remote cluster '${inputs.alias}': could not read the local cluster's nodes (${(e as Error).message}); its connection is judged through ${urlsOf(inputs.local)} only`);
        local = unknownFacts();
    }
    let remote: ClusterFacts | undefined;
    if (inputs.remote) {
        try {
            remote = await probeCluster("remote", inputs.remote, undefined, generation(inputs));
        } catch (e) {
            pulumi.log.warn(`remote cluster '${inputs.alias}': could not read the remote cluster's nodes and version: ${(e as Error).message}`);
        }
    }
    return { local, remote };
}

// ----------------------------------------------------------------------------- connection

function notConnected(alias: string, inputs: LinkInputs, status: RemoteStatus, sides: Sides, timeoutSeconds: number, cleanup: string): RemoteNotConnectedError {
    const target = inputs.mode === "proxy" ? `proxy address ${inputs.proxyAddress}` : `seeds ${(inputs.seeds ?? []).join(", ")}`;
    const down = status.perNode.filter((p) => p.asked && !p.connected);
    const gateways = sides.remote ? gatewayNodes(sides.remote.nodes, inputs.mode ?? "sniff").map((n) => n.transportAddress).filter((a): a is string => !!a) : [];
    const nodes = down.length
        ? `local node${down.length > 1 ? "s" : ""} ${down.map((p) => `${p.node.name} (tried ${p.targets?.join(", ") ?? target}${inputs.mode !== "proxy" && gateways.length ? `, then the gateway addresses ${gateways.join(", ")}` : ""}; ${p.numNodesConnected ?? p.numProxySocketsConnected ?? 0} connected)`).join("; ")} did not connect`
        : "no local node answered";
    // Sniff mode dials the seeds to learn the remote's nodes, then dials the addresses those nodes
    // publish: when the local nodes cannot route there (another network, NAT, containers) the seed
    // answers and the link still never connects.
    const seedHosts = new Set((inputs.seeds ?? []).map((s) => s.trim()));
    const elsewhere = inputs.mode !== "proxy" && gateways.length > 0 && gateways.some((g) => !seedHosts.has(g));
    const publish = elsewhere
        ? ` In sniff mode the seeds are only used to discover the remote's gateway nodes; the local nodes then connect to the transport addresses those nodes publish (${gateways.join(", ")}). ` +
          `If the local nodes cannot reach those addresses, use mode: "proxy" with proxyAddress set to an address that reaches the remote cluster (a TCP proxy or load balancer in front of it; serverName for SNI routing), ` +
          `or make the remote nodes publish reachable addresses (transport.publish_host).`
        : "";
    return new RemoteNotConnectedError(
        `remote cluster '${alias}' was registered on the local cluster (${urlsOf(inputs.local)}) but did not connect within ${timeoutSeconds}s; ${cleanup}. ` +
        `${status.nodesConnected} of ${status.nodesTotal} local node(s) with the remote_cluster_client role connected: ${nodes}.${publish} ` +
        `_remote/info: ${remoteInfoText(status)}. Likely causes: the ${target} cannot be reached from the local cluster's nodes ` +
        `(transport port, not HTTP); the two clusters do not trust each other's transport CA (see the nodes' logs for 'certificate' errors); ` +
        `incompatible versions. Set waitForConnection: false to register it without waiting.`,
        {
            alias,
            nodesNotConnected: down.map((p) => p.node.name),
            gatewayAddresses: gateways,
            remoteInfo: Object.fromEntries(status.perNode.map((p) => [p.node.name, { connected: p.connected, numNodesConnected: p.numNodesConnected, numProxySocketsConnected: p.numProxySocketsConnected }])),
        },
    );
}

function outputs(inputs: LinkInputs, status: RemoteStatus | undefined, sides: Partial<Sides>, adoptedFrom?: RemoteSettings): LinkOutputs {
    return linkOutputs(inputs, status, { local: sides.local?.minVersion ?? "", remote: sides.remote?.minVersion }, undefined, {
        localClusterUuid: sides.local?.clusterUuid, remoteClusterUuid: sides.remote?.clusterUuid, adoptedFrom,
    });
}

/** Every run that uses an unverified TLS connection says so. */
export function warnInsecure(i: { local?: ClusterConnection; remote?: ClusterConnection; alias?: string }): void {
    for (const side of ["local", "remote"] as const) {
        insecureWarnings(side, i[side]).forEach((m) => pulumi.log.warn(m));
    }
}

// ------------------------------------------------------------------------------- verdicts

/** The version verdict over node pairs; refusals as check failures. */
function versionFailures(news: LinkInputs, local: ClusterFacts, remote: ClusterFacts, warn = true): { failures: CheckFailure[]; rule?: string } {
    const outcome = versionVerdict(local.nodes, remote.nodes, news.mode ?? "sniff");
    if (warn) outcome.warnings.forEach((w) => pulumi.log.warn(`remote cluster '${news.alias}': ${w}`));
    if (outcome.failures.length) {
        const rule = outcome.pairs.find((p) => !p.verdict.wireCompatible)?.verdict.rule;
        if (local.nodes.length === 1 && remote.nodes.length === 1 && rule) {
            // One node each: the pair is the clusters; the message names the two versions.
            const verdict = outcome.pairs[0].verdict;
            return { failures: [{ property: "remote.urls", reason: `${sentence(verdict.reason)} Nothing was written.` }], rule };
        }
        return { failures: outcome.failures, rule };
    }
    if (!outcome.ccs.supported) {
        const mode = news.ccsCompatibility ?? "warn";
        if (mode === "enforce") {
            return { failures: [{ property: "ccsCompatibility", reason: `${outcome.ccs.reason} (ccsCompatibility: enforce; set it to warn or ignore to link anyway)` }] };
        } else if (mode === "warn" && warn) {
            pulumi.log.warn(`remote cluster '${news.alias}': ${outcome.ccs.reason} (set ccsCompatibility: ignore to silence this, or enforce to refuse)`);
        }
    }
    return { failures: [] };
}

/** The TLS handshake the local nodes make checks the names they dial against the remote's certificates. */
async function hostnameWarnings(news: LinkInputs, local: ClusterFacts, remote: ClusterFacts): Promise<void> {
    // Elasticsearch's default is `full`. The local nodes verify the names they dial; a remote
    // running `full` is the usual sign that the pair uses hostname verification.
    const full = (n: NodeFacts) => (n.verificationMode ?? "full").toLowerCase() === "full";
    if (!remoteClientNodes(local.nodes).some(full) && !remote.nodes.some(full)) return;
    const checks: Array<Promise<NameCheck>> = [];
    const check = async (name: string, source: string, address: string, serverName?: string): Promise<NameCheck> => {
        const r = await transportSans(address, serverName);
        return { name, source, sans: r.sans, error: r.error };
    };
    if (news.mode === "proxy" && news.proxyAddress) {
        checks.push(check(news.serverName ?? hostOf(news.proxyAddress), news.serverName ? "serverName" : "proxyAddress", news.proxyAddress, news.serverName));
    } else {
        (news.seeds ?? []).forEach((s, i) => checks.push(check(hostOf(s), `seeds[${i}]`, s)));
        for (const g of gatewayNodes(remote.nodes, "sniff")) {
            if (g.transportAddress && !(news.seeds ?? []).includes(g.transportAddress)) {
                checks.push(check(hostOf(g.transportAddress), `the publish address of remote node ${g.name}`, g.transportAddress));
            }
        }
    }
    const verdict = hostnameVerdict(await Promise.all(checks));
    if (verdict.missing.length) {
        pulumi.log.warn(`remote cluster '${news.alias}': transport TLS runs with verification_mode: full (hostname verification), and ${verdict.missing.join("; ")}. ` +
            "The local nodes will refuse those connections: issue the remote nodes' transport certificates with those names in subjectAltName (NodeCertificate dnsNames/ipAddresses), or dial names the certificates hold.");
    }
    if (verdict.unchecked.length) {
        pulumi.log.info(`remote cluster '${news.alias}': hostname verification not checked for ${verdict.unchecked.join("; ")}`);
    }
}

/**
 * The preview-time checks against the real clusters: the alias is free (on create), every local
 * remote_cluster_client node can talk to the remote's gateway nodes (and the pairs are supported
 * CCS configurations, per `ccsCompatibility`), security and transport TLS are on, and each node
 * trusts the other side's transport CAs. Never writes.
 *
 * Seam for API-key links: the checks after the version verdict are certificate trust's. A link
 * that authenticates with a cross-cluster API key (provider/link/apiKey*.ts) dispatches to its own
 * checks there instead of `certificateTrustChecks`.
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
    if (!remoteClientNodes(localFacts.nodes).length) {
        return versionVerdict(localFacts.nodes, [], news.mode ?? "sniff").failures;
    }
    if (isCreate) {
        const conflict = aliasConflict(news, await observeForCreate(localClient, news.local, news.alias));
        if (conflict) failures.push({ property: "alias", reason: conflict });
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
    const versions = versionFailures(news, localFacts, remoteFacts);
    failures.push(...versions.failures);
    if (versions.rule) {
        return failures;
    }
    failures.push(...await certificateTrustChecks(news, localFacts, remoteFacts));
    return failures;
}

/** Certificate trust (Elastic's step 2) for a link that authenticates with transport certificates. */
async function certificateTrustChecks(news: LinkInputs, localFacts: ClusterFacts, remoteFacts: ClusterFacts): Promise<CheckFailure[]> {
    for (const [f, conn] of [[localFacts, news.local], [remoteFacts, news.remote!]] as const) {
        const key = clusterKey(f, conn);
        if (f.nodes.some((n) => Number(n.version.split(".")[0]) >= 9) && !deprecationWarned.has(key)) {
            deprecationWarned.add(key);
            pulumi.log.warn(`the cluster at ${urlsOf(conn)} runs Elasticsearch 9: certificate-based remote clusters are deprecated since 9.0 in favour of API-key remote clusters (remote cluster server port 9443); they still work`);
        }
    }
    if (containsUnknown(news.waitForCertificates)) {
        pulumi.log.info(`remote cluster '${news.alias}': the node certificates in waitForCertificates do not exist yet; the trust check runs at update time, once they are on the nodes`);
        return [];
    }
    const where = { local: urlsOf(news.local), remote: urlsOf(news.remote) };
    const prerequisites = prerequisiteFailures(localFacts, remoteFacts, where);
    if (prerequisites.length) return prerequisites;
    const trust = nodeTrustVerdict(remoteClientNodes(localFacts.nodes), gatewayNodes(remoteFacts.nodes, news.mode ?? "sniff"), where);
    if (trust.unchecked.length) {
        pulumi.log.warn(`remote cluster '${news.alias}': trust NOT checked for ${trust.unchecked.length} node(s): ${trust.unchecked.join("; ")}`);
    }
    await hostnameWarnings(news, localFacts, remoteFacts).catch((e) =>
        pulumi.log.info(`remote cluster '${news.alias}': hostname verification not checked: ${(e as Error).message}`));
    return trust.failures;
}

/** Refuses, outside check, a version pair that cannot talk (create and update, before writing). */
function refuseVersions(news: LinkInputs, sides: Sides): void {
    if (!sides.remote) return;
    // The preview already warned; here only a refusal matters.
    const v = versionFailures(news, sides.local, sides.remote, false);
    if (v.rule) {
        throw new VersionIncompatibilityError(`remote cluster '${news.alias}': ${v.failures[0].reason}`, {
            localVersion: sides.local.minVersion, remoteVersion: sides.remote.minVersion, rule: v.rule,
        });
    }
}

// ---------------------------------------------------------------------------------------- hooks

/** The engine hands check the program's values as JSON: they are LinkInputs once validated. */
export async function check(olds: unknown, news: unknown): Promise<{ inputs: LinkInputs; failures: CheckFailure[] }> {
    // Dispatched on the model the program declares: a link going back from an API key to
    // certificate trust gets every certificate check, as a new one would.
    if (apiKeyLink.isApiKey(news as { security?: unknown })) return apiKeyLink.check(olds, news);
    const raw = (news !== null && typeof news === "object" ? news : {}) as Record<string, unknown>;
    const failures = validateLinkInputs(raw);
    if (failures.length) {
        return { inputs: raw as unknown as LinkInputs, failures };
    }
    const valid = raw as unknown as LinkInputs;
    const inputs: LinkInputs = { ...valid, mode: valid.mode ?? "sniff" };
    warnInsecure(inputs);
    const previous = (olds !== null && typeof olds === "object" ? olds : {}) as Partial<LinkInputs>;
    return { inputs, failures: await preflight(previous, inputs) };
}

/** `cluster_uuid` of the cluster behind a connection, or undefined when it cannot be told now. */
async function uuidBehind(label: string, conn: ClusterConnection | undefined): Promise<string | undefined> {
    if (!conn || containsUnknown(conn)) return undefined;
    try {
        return await clusterUuidOf(label, conn);
    } catch {
        return undefined;
    }
}

export async function diff(_id: string, olds: LinkOutputs, news: LinkInputs): Promise<pulumi.dynamic.DiffResult> {
    const o = olds;
    const n = news;
    const replaces: string[] = [];
    if (o.alias !== n.alias) replaces.push("alias");
    const changed = new Set<string>(diffSettings(desiredSettings(n), desiredSettings(o), { localVersion: o.localVersion }));
    for (const k of ["local", "remote", "waitForConnection", "connectionTimeoutSeconds", "ccsCompatibility", "adoptExisting", "security", "credential", "keystoreOn", "signing"] as const) {
        if (JSON.stringify(o[k] ?? null) !== JSON.stringify(n[k] ?? null)) changed.add(k);
    }
    // A keystore found without the credential at refresh is written again.
    if (o.keystoresInSync === false) changed.add("credential");
    // A signing file missing or changed on a node (refresh) is written again.
    if (o.signingInSync === false) changed.add("signing");
    // An unfinished create or migration, or replication it left paused: the update finishes it.
    if (o.createInterrupted) changed.add("createInterrupted");
    if (!nothingPaused(o.pausedReplication)) changed.add("pausedReplication");
    // New URLs for `local` are another way to reach the same cluster (an update), unless they reach
    // another cluster: the settings are not there, so the link is created there (a replacement).
    // States written before the UUID was recorded have none: they keep updating as before.
    let sameLocal = true;
    if (changed.has("local") && o.localClusterUuid) {
        const now = await uuidBehind("local", n.local);
        if (now && now !== o.localClusterUuid) {
            replaces.push("local");
            sameLocal = false;
        }
    }
    if (changed.has("remote") && o.remoteClusterUuid) {
        const now = await uuidBehind("remote", n.remote);
        if (now && now !== o.remoteClusterUuid) replaces.push("remote");
    }
    // waitForCertificates only orders the checks: a certificate being replaced is no change here.
    const { waitForCertificates: _ignored, ...compared } = n;
    if (containsUnknown(compared)) {
        return { changes: true, replaces };
    }
    // Replaced with the same alias on the same cluster: the old link's keys must go before the new
    // link writes them, or the create finds the alias taken and the delete then removes the new keys.
    const deleteBeforeReplace = replaces.length > 0 && !replaces.includes("alias") && sameLocal;
    return { changes: changed.size > 0 || replaces.length > 0, replaces, deleteBeforeReplace };
}

export async function create(news: LinkInputs): Promise<{ id: string; outs: LinkOutputs }> {
    if (apiKeyLink.isApiKey(news)) return apiKeyLink.create(news);
    failOnInvalid(validateLinkInputs(news as unknown as Record<string, unknown>));
    const inputs = news;
    const alias = inputs.alias;
    const client = clientFor(inputs.local);
    let existing: ObservedSettings | undefined;
    let written = false;
    let sides: Partial<Sides> = {};
    let claim: string | undefined;
    try {
        const probed = await probeSides(inputs, client);
        sides = probed;
        claim = claimAlias(probed.local.clusterUuid, inputs.local, alias);
        existing = await observeForCreate(client, inputs.local, alias);
        forgetFact(inputs.local, `remote:${alias}`);
        const conflict = aliasConflict(inputs, existing);
        if (conflict) {
            throw new ConflictError(`${sentence(conflict)} Nothing was written.`, { kind: "remote cluster alias", name: alias });
        }
        refuseVersions(inputs, probed);
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
        let status: RemoteStatus;
        const timeout = inputs.connectionTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
        if (inputs.waitForConnection ?? true) {
            status = await waitConnected(client, inputs.local, alias, probed.local, timeout);
            if (!status.connected) {
                const s = status;
                return await undoCreate(client, news, existing?.byLayer.persistent, sides, (cleanup) => notConnected(alias, inputs, s, probed, timeout, cleanup));
            }
        } else {
            status = await remoteStatus(client, inputs.local, alias, probed.local);
            if (!status.connected) {
                pulumi.log.info(`remote cluster '${alias}' is registered but not connected yet (waitForConnection: false)`);
            }
        }
        return { id: alias, outs: outputs(inputs, status, sides, existing?.effective) };
    } catch (err) {
        // A failed create leaves the alias free, unless its settings may still be on the cluster.
        if (!(err instanceof CreateInterruptedError)) releaseClaim(claim);
        if (!written || err instanceof RemoteNotConnectedError || err instanceof CreateInterruptedError) {
            throw err;
        }
        // Something failed after the settings were written, most likely the local cluster stopped
        // answering: take them back, or (if that fails too) tell the engine they exist.
        return await undoCreate(client, news, existing?.byLayer.persistent, sides, (cleanup) => new EsRemoteError(
            `the settings of remote cluster '${alias}' were sent to the local cluster (${urlsOf(inputs.local)}), then creating it failed: ${(err as Error).message}; ${cleanup}`,
            { alias }, { cause: err })).catch((e) => {
            if (!(e instanceof CreateInterruptedError)) releaseClaim(claim);
            throw e;
        });
    }
}

/** Puts back what the alias had before the create (or removes it); throws `failure(what happened)`. */
async function undoCreate(client: Client, news: LinkInputs, existing: RemoteSettings | undefined, sides: Partial<Sides>, failure: (cleanup: string) => Error): Promise<never> {
    const inputs = news;
    const alias = inputs.alias;
    try {
        await putSettings(client, inputs.local, `remove remote cluster '${alias}' after the failed create`, existing ? settingsBody(alias, existing) : clearBody(alias));
    } catch (e) {
        const cause = failure(`removing what it wrote failed too (${(e as Error).message})`);
        throw recorded(`${cause.message}. What it wrote may still be on the cluster, so the stack records the link as not finished: ${nextUp("the local cluster answers", "every setting")}`,
            news, { ...outputs(inputs, undefined, sides, existing), createInterrupted: true }, cause);
    }
    throw failure(existing ? "its previous settings were restored" : "the settings this link wrote were removed");
}

export async function read(id: string, props: LinkOutputs): Promise<pulumi.dynamic.ReadResult<LinkOutputs>> {
    if (apiKeyLink.isApiKey(props)) return apiKeyLink.read(id, props);
    const state = props;
    const alias = state.alias ?? id;
    const client = clientFor(state.local);
    const observed = await observe(client, state.local, alias);
    if (!observed) {
        // Removed by hand: the resource is gone, and the next `up` creates it again.
        return {};
    }
    // Versions change with upgrades (and diff takes skip_unavailable's default from the local one).
    const sides = await probeSides(state, client);
    const status = await currentStatus(client, state.local, alias, sides.local);
    warnUnasked(alias, status);
    // The settings as the nodes apply them (transient over persistent over elasticsearch.yml),
    // under the input names: after a refresh, `pulumi preview --diff` shows each changed key as
    // old => new, and keys removed by hand as removed.
    const settingsNow: Record<string, unknown> = {};
    for (const [k] of SETTING_KEYS) settingsNow[k] = undefined;
    Object.assign(settingsNow, observed.effective);
    const inputs = plain({ ...inputsOf(state), ...settingsNow }) as LinkInputs;
    const fresh = outputs(inputs, status, {
        local: sides.local,
        remote: sides.remote,
    }, state.adoptedFrom);
    // A remote that could not be probed keeps what the state knew.
    if (!sides.remote) {
        fresh.remoteVersion = state.remoteVersion;
        fresh.remoteClusterUuid = state.remoteClusterUuid;
    }
    if (state.createInterrupted) fresh.createInterrupted = true;
    if (!nothingPaused(state.pausedReplication)) fresh.pausedReplication = state.pausedReplication;
    // ReadResult types `inputs` as the outputs' type; they are the inputs (see the engine's ReadResult doc).
    return { id: alias, props: plain(fresh), inputs: inputs as unknown as LinkOutputs };
}

export async function update(_id: string, olds: LinkOutputs, news: LinkInputs): Promise<{ outs: LinkOutputs }> {
    // Either side an API key: an API-key update, or a switch of the model (with its checks and rollback).
    if (apiKeyLink.isApiKey(olds) || apiKeyLink.isApiKey(news)) {
        if (!apiKeyLink.isApiKey(news)) {
            // Back to certificate trust: that model's version rule, read now as a certificate update
            // reads it (versions may have changed since the preview), before anything is paused or nulled.
            failOnInvalid(validateLinkInputs(news as unknown as Record<string, unknown>));
            refuseVersions(news, await probeSides(news, clientFor(news.local)));
        }
        return apiKeyLink.update(_id, olds, news);
    }
    failOnInvalid(validateLinkInputs(news as unknown as Record<string, unknown>));
    const o = olds;
    const inputs = news;
    const alias = inputs.alias;
    const client = clientFor(inputs.local);
    const sides = await probeSides(inputs, client);
    refuseOtherCluster(o, sides.local.clusterUuid);
    const desired = desiredSettings(inputs);
    // After an interrupted create nobody knows what is on the cluster: write every key.
    const previous = o.createInterrupted ? undefined : desiredSettings(o);
    const body = settingsBody(alias, desired, previous);
    const wrote = Object.keys(body).length > 0;
    if (wrote) {
        refuseVersions(inputs, sides);
        await putSettings(client, inputs.local, `update remote cluster '${alias}' (PUT _cluster/settings)`, body);
    }
    const timeout = inputs.connectionTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const status = wrote && (inputs.waitForConnection ?? true)
        ? await waitConnected(client, inputs.local, alias, sides.local, timeout)
        : await remoteStatus(client, inputs.local, alias, sides.local);
    if (wrote && (inputs.waitForConnection ?? true) && !status.connected) {
        // The settings stay as declared (the state says so); the update fails so the user sees it.
        throw notConnected(alias, inputs, status, sides, timeout, "the new settings stay in place");
    }
    holdAlias(sides.local.clusterUuid, inputs.local, alias);
    const outs = outputs(inputs, status, sides, o.adoptedFrom);
    // Replication an earlier switch from an API key left paused resumes once the link is connected.
    if (!nothingPaused(o.pausedReplication)) {
        if (!status.connected) return { outs: { ...outs, pausedReplication: o.pausedReplication } };
        try {
            await resumeReplication(client, alias, o.pausedReplication);
        } catch (e) {
            pulumi.log.warn(`remote cluster '${alias}': resuming ${pausedText(o.pausedReplication!)} failed (${(e as Error).message}); the next 'pulumi up' tries again`);
            return { outs: { ...outs, pausedReplication: o.pausedReplication } };
        }
    }
    return { outs };
}

export async function delete_(_id: string, props: LinkOutputs): Promise<void> {
    if (apiKeyLink.isApiKey(props)) return apiKeyLink.delete(_id, props);
    const state = props;
    const client = clientFor(state.local);
    await putSettings(client, state.local, `remove remote cluster '${state.alias}' (PUT _cluster/settings)`, clearBody(state.alias));
    releaseAlias(state.localClusterUuid, state.local, state.alias);
}
export { delete_ as delete };

/** Compile-time proof that the hooks match the resource's inputs and outputs. */
const _hooks: HookModule<LinkInputs, LinkOutputs> = { check, diff, create, read, update, delete: delete_ };
void _hooks;
