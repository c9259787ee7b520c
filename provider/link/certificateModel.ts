/**
 * `RemoteClusterLink` with certificate trust (`security: "certificate"`, the default): the local
 * nodes dial the remote's transport port and both sides trust each other's transport CA (steps 2
 * and 3 of Elastic's procedure). The model's part of the one link lifecycle ({@link LinkModel}):
 *
 * - preflight: every local remote_cluster_client node can talk to the remote's gateway nodes (and
 *   the pairs are supported CCS configurations, per `ccsCompatibility`), security and transport TLS
 *   are on, each node trusts the other side's transport CAs, and the names dialled match the
 *   remote's certificates; never writes;
 * - refuse: the version verdict again at write time (versions change with upgrades);
 * - writes: none beyond the alias's settings, so nothing else to undo, drift or release.
 */
import * as pulumi from "@pulumi/pulumi";
import { Client } from "@elastic/elasticsearch";
import { clientFor, ClusterConnection } from "../core/client";
import { containsUnknown } from "../core/dynamic";
import { ClusterUnreachableError, RemoteNotConnectedError, VersionIncompatibilityError } from "../core/errors";
import { CheckFailure, urlsOf } from "../core/validation";
import { gatewayNodes, hostnameVerdict, hostOf, NameCheck, NodeFacts, nodeTrustVerdict, remoteClientNodes, versionVerdict } from "./nodes";
import { ClusterFacts, probeCluster, transportSans } from "./probe";
import { aliasConflict, observeForCreate, remoteInfoText, RemoteStatus } from "./io";
import { prerequisiteFailures } from "./trust";
import type { LinkModel, Sides } from "./model";
import type { LinkInputs } from "./types";

/** Which certificates the link's checks must see: probes from before their delivery are not reused. */
function generation(i: Partial<LinkInputs>): string {
    return JSON.stringify(i.waitForCertificates ?? null);
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

/** Both sides' full facts (the probe): the certificate checks judge each node's trust. */
interface CertificateSides extends Sides {
    local: ClusterFacts;
    remote?: ClusterFacts;
}

/** What is known of a cluster whose nodes could not be read: one node, reached through the connection. */
function unknownFacts(): ClusterFacts {
    return { minVersion: "", versions: [], securityEnabled: true, transportTls: true, transportCertIssuers: [], trustedCaSubjects: [], trustKnown: false, nodes: [] };
}

async function probeSides(inputs: LinkInputs, localClient: Client): Promise<CertificateSides> {
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

function notConnected(inputs: LinkInputs, status: RemoteStatus, sides: Sides, timeoutSeconds: number, cleanup: string): RemoteNotConnectedError {
    const alias = inputs.alias;
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
function refuseVersions(news: LinkInputs, sides: CertificateSides): void {
    if (!sides.remote) return;
    // The preview already warned; here only a refusal matters.
    const v = versionFailures(news, sides.local, sides.remote, false);
    if (v.rule) {
        throw new VersionIncompatibilityError(`remote cluster '${news.alias}': ${v.failures[0].reason}`, {
            localVersion: sides.local.minVersion, remoteVersion: sides.remote.minVersion, rule: v.rule,
        });
    }
}

/** Certificate trust as a {@link LinkModel}: the alias's settings are its only write. */
export const certificateModel: LinkModel = {
    security: "certificate",
    withCredentials: false,
    nextUpWrites: "every setting",
    nextUpWhen: "the local cluster answers",
    preflight,
    sides: (i, client) => probeSides(i, client),
    refuse: async (i, sides) => refuseVersions(i, sides as CertificateSides),
    createWrites: async () => undefined,
    updateBefore: async () => false,
    updateAfter: async () => undefined,
    updateWrites: () => false,
    notConnected,
    drift: async () => ({}),
    clearedWithAlias: () => ({}),
    release: async () => undefined,
};
