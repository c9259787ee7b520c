/**
 * A link's cluster I/O, one copy for both security models (certificate trust and API keys): what
 * the local cluster has for an alias (the persistent, transient and elasticsearch.yml layers), the
 * write of its persistent settings, and whether each local `remote_cluster_client` node is
 * connected (each asked at its own HTTP address, since `_remote/info` describes only the node that
 * answers), with the wait for it. The hook files and the link's models call these; nothing here
 * decides what to write.
 */
import * as pulumi from "@pulumi/pulumi";
import { Client } from "@elastic/elasticsearch";
import { callCluster, clientFor, ClusterConnection } from "../core/client";
import { ClusterUnreachableError } from "../core/errors";
import { cachedFact } from "../core/facts";
import { urlsOf } from "../core/validation";
import { ConnectionSummary, NodeConnection, NodeFacts, remoteClientNodes, summarizeConnections } from "./nodes";
import { ClusterFacts } from "./probe";
import { nodeConnection, publishAddress, readNodes, urlConnection } from "../core/nodes";
import { observeRemoteSettings, ObservedSettings } from "./settings";

// ---------------------------------------------------------------------------- observation

/** The alias on the local cluster: persistent, transient and elasticsearch.yml layers. */
export async function observe(client: Client, conn: ClusterConnection, alias: string): Promise<ObservedSettings | undefined> {
    const res = await callCluster("local", conn, "read the cluster settings (GET _cluster/settings)", () =>
        client.cluster.getSettings({ flat_settings: true, filter_path: "persistent,transient" }));
    for (const layer of ["persistent", "transient"] as const) {
        const v = (res as unknown as Record<string, unknown> | undefined)?.[layer];
        // An answer that is not a settings object must never read as "the alias is gone": a
        // refresh would then drop a link that exists, and the next up would refuse its alias.
        if (v !== undefined && (v === null || typeof v !== "object" || Array.isArray(v))) {
            throw new ClusterUnreachableError(
                `local cluster (${urlsOf(conn)}) gave an unexpected answer to GET _cluster/settings: '${layer}' is ${JSON.stringify(v)?.slice(0, 80)}, not an object. ` +
                "Check that local.urls point at the cluster's HTTP layer; nothing was changed",
                { cluster: "local" });
        }
    }
    const nodes = await readNodes<{ settings?: Record<string, unknown> } | null>("local", conn, client, "read the node settings (GET _nodes/settings)",
        { path: "/_nodes/settings", query: { flat_settings: "true" }, filterPath: "nodes.*.settings" });
    // elasticsearch.yml may differ between nodes: a key any node sets counts (the first node's value).
    const yml: Record<string, unknown> = {};
    for (const n of Object.values(nodes)) {
        for (const [k, v] of Object.entries(n?.settings ?? {})) {
            if (k.startsWith(`cluster.remote.${alias}.`) && !(k in yml)) yml[k] = v;
        }
    }
    return observeRemoteSettings(alias, {
        "elasticsearch.yml": yml,
        persistent: (res?.persistent ?? {}) as Record<string, unknown>,
        transient: (res?.transient ?? {}) as Record<string, unknown>,
    });
}

/**
 * The alias's settings for the alias-is-free check, shared by check and create in one process (one
 * read per link instead of two); create forgets it (`forgetFact(conn, "remote:<alias>")`) once
 * read, so a retry reads the cluster again.
 */
export function observeForCreate(client: Client, conn: ClusterConnection, alias: string): Promise<ObservedSettings | undefined> {
    return cachedFact(conn, `remote:${alias}`, () => observe(client, conn, alias), { maxAgeMs: 60_000 });
}

function describe(o: ObservedSettings): string {
    const s = o.effective;
    const what = s.mode === "proxy" ? `proxy ${s.proxyAddress ?? "?"}` : `sniff ${(s.seeds ?? []).join(", ") || "?"}`;
    return `${what}; set in ${o.layers.join(" and ")}`;
}

/** Why an alias found on the cluster cannot be taken (over), or undefined when it can. */
export function aliasConflict(inputs: { local: ClusterConnection; alias: string; adoptExisting?: boolean }, o: ObservedSettings | undefined): string | undefined {
    if (!o) return undefined;
    const where = `the local cluster (${urlsOf(inputs.local)}) already has a remote cluster '${inputs.alias}' (${describe(o)})`;
    if (o.layers.includes("transient")) {
        // Transient settings win over the persistent ones a link writes: adopting cannot work.
        return `${where}. Its transient settings override the persistent settings this link writes, so it cannot be taken over: ` +
            `remove them first (PUT _cluster/settings {"transient": {"cluster.remote.${inputs.alias}.*": null}}), or choose another alias`;
    }
    if (inputs.adoptExisting) return undefined;
    return `${where}. Set adoptExisting: true to take it over (pulumi import does not work for dynamic resources), or choose another alias`;
}

/** `PUT _cluster/settings` with a persistent body (the only layer a link writes). */
export async function putSettings(client: Client, conn: ClusterConnection, what: string, body: Record<string, unknown>): Promise<void> {
    await callCluster("local", conn, what, () => client.cluster.putSettings({ persistent: body }));
}

// ----------------------------------------------------------------------------- connection

/** A connection to one node at its HTTP publish address (core/nodes), or undefined when it publishes none. */
export function nodeConnectionOf(conn: ClusterConnection, node: NodeFacts): ClusterConnection | undefined {
    return node.httpAddress ? nodeConnection(conn, node.httpAddress) : undefined;
}

/**
 * The local nodes as the connection check needs them (name, version, roles, HTTP address): one
 * `GET _nodes` request, reused for a minute in this process. A link that does not run the
 * certificate model's probe (the API-key link) asks each node through this.
 */
export function localNodes(client: Client, conn: ClusterConnection): Promise<Pick<ClusterFacts, "nodes" | "minVersion">> {
    return cachedFact(conn, "link:nodes", async () => {
        const listed = await readNodes<{ name?: string; version?: string; roles?: string[]; http?: { publish_address?: string } } | null>(
            "local", conn, client, "read the nodes' roles and HTTP addresses (GET _nodes)", { filterPath: "nodes.*.name,nodes.*.version,nodes.*.roles,nodes.*.http.publish_address" });
        const nodes: NodeFacts[] = Object.entries(listed).map(([id, n]) => ({
            id, name: String(n?.name ?? id), version: String(n?.version ?? ""),
            roles: Array.isArray(n?.roles) ? n.roles.map(String) : [], httpAddress: publishAddress(n?.http?.publish_address),
        }));
        const minVersion = nodes.map((n) => n.version).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))[0] ?? "";
        return { nodes, minVersion };
    }, { maxAgeMs: 60_000 });
}

/** What the link needs to see to call a node connected: an API-key link also needs the node to use the credential. */
export interface StatusOptions {
    /** The link authenticates with a cross-cluster API key: a node counts as connected only if its entry shows `cluster_credentials`. */
    apiKey?: boolean;
}

function nodeAnswer(node: NodeFacts, info: unknown, alias: string, opts: StatusOptions): NodeConnection & { credentials: boolean } {
    const r = (info as Record<string, Record<string, unknown>> | undefined)?.[alias];
    if (!r || typeof r !== "object") return { node, asked: true, connected: false, credentials: false };
    const targets = Array.isArray(r.seeds) ? r.seeds.map(String) : typeof r.proxy_address === "string" ? [r.proxy_address] : undefined;
    // `cluster_credentials: "::es_redacted::"` is there when the node holds a credential for the
    // alias (seen on 8.19 and 9.5); removed from the keystore and reloaded, the field disappears.
    const credentials = r.cluster_credentials !== undefined;
    return {
        node, asked: true, connected: r.connected === true && (!opts.apiKey || credentials), targets, raw: r, credentials,
        numNodesConnected: typeof r.num_nodes_connected === "number" ? r.num_nodes_connected : undefined,
        numProxySocketsConnected: typeof r.num_proxy_sockets_connected === "number" ? r.num_proxy_sockets_connected : undefined,
    };
}

/** What a link of either security model reports about its connection (outputs of both). */
export interface LinkStatusOutputs {
    /** Every local node with the remote_cluster_client role that could be asked reports the remote connected (an API-key link: with the credential in use). */
    connected: boolean;
    /** sniff: gateway nodes connected, the lowest count among the local nodes. */
    numNodesConnected?: number;
    /** proxy: sockets connected, the lowest count among the local nodes. */
    numProxySocketsConnected?: number;
    /** Local remote_cluster_client nodes that report the remote connected. */
    nodesConnected?: number;
    /** Local remote_cluster_client nodes. */
    nodesTotal?: number;
    /** API-key links: `_remote/info` shows `cluster_credentials` for the alias (the API-key model is in use). */
    credentialsInUse?: boolean;
    /** API-key links: every keystore in `keystoreOn` holds the declared credential (at the last create, update or refresh). */
    keystoresInSync?: boolean;
    /**
     * API-key links, at the last refresh: each keystore of `keystoreOn` that does not hold the declared
     * credential, where it is and what was found (no longer there, another value, or why it could not
     * be read: its config directory or keystore file gone, its host down). Absent when all are in sync.
     */
    keystoreDrift?: string[];
    localVersion: string;
    remoteVersion?: string;
}

/** The link's connection as every local `remote_cluster_client` node sees it. */
export interface RemoteStatus extends ConnectionSummary {
    /** sniff: gateway nodes connected, the lowest count among the local nodes. */
    numNodesConnected?: number;
    /** proxy: sockets connected, the lowest count among the local nodes. */
    numProxySocketsConnected?: number;
    /** Every local node that answered shows `cluster_credentials` for the alias (the API-key model is in use). */
    credentialsInUse: boolean;
    perNode: NodeConnection[];
}

/**
 * `_remote/info` is answered by the node that receives it (it describes that node's connections),
 * so each local node with the remote_cluster_client role is asked at its own HTTP address. With a
 * one-node cluster that node is the connection itself.
 */
export async function remoteStatus(client: Client, conn: ClusterConnection, alias: string, local: Pick<ClusterFacts, "nodes" | "minVersion">, opts: StatusOptions = {}): Promise<RemoteStatus> {
    const clients = remoteClientNodes(local.nodes);
    let perNode: Array<NodeConnection & { credentials?: boolean }>;
    if (local.nodes.length <= 1) {
        const info = await callCluster("local", conn, "read GET _remote/info", () => client.cluster.remoteInfo());
        perNode = [nodeAnswer(local.nodes[0] ?? { id: "?", name: "?", version: local.minVersion, roles: [] }, info, alias, opts)];
    } else {
        perNode = await Promise.all(clients.map(async (n) => {
            const c = nodeConnectionOf(conn, n);
            if (!c) return { node: n, asked: false, connected: false, error: "it publishes no HTTP address" };
            try {
                return nodeAnswer(n, await clientFor(c).cluster.remoteInfo(), alias, opts);
            } catch (e) {
                return { node: n, asked: false, connected: false, error: `${c.urls[0]} (its HTTP publish address) did not answer: ${(e as Error).message.split("\n")[0]}` };
            }
        }));
        if (perNode.some((p) => !p.asked)) {
            // Publish addresses that do not route from the Pulumi host (containers, NAT, a load
            // balancer in front): ask through the connection's own URLs, each bound to the node
            // that answers it, so a link that works is not judged "not connected" for want of a route.
            const through = await askThroughUrls(conn, alias, opts);
            perNode = perNode.map((p) => {
                if (p.asked) return p;
                const t = through.get(p.node.id);
                return t ? { ...nodeAnswer(p.node, t.info, alias, opts), via: t.url } : p;
            });
        }
    }
    const sum = summarizeConnections(perNode);
    const min = (xs: Array<number | undefined>) => {
        const ns = xs.filter((x): x is number => typeof x === "number");
        return ns.length ? Math.min(...ns) : undefined;
    };
    const asked = perNode.filter((p) => p.asked);
    return {
        ...sum, perNode: perNode.map(({ credentials: _c, ...p }) => p),
        credentialsInUse: asked.length > 0 && asked.every((p) => p.credentials === true),
        numNodesConnected: min(asked.map((p) => p.numNodesConnected)), numProxySocketsConnected: min(asked.map((p) => p.numProxySocketsConnected)),
    };
}

/**
 * `_remote/info` through each URL of the connection, with the id of the node that answered it (read
 * before and after, so an answer through a load balancer that switched nodes in between is not
 * credited to either).
 */
async function askThroughUrls(conn: ClusterConnection, alias: string, opts: StatusOptions): Promise<Map<string, { url: string; info: unknown }>> {
    void alias;
    void opts;
    const out = new Map<string, { url: string; info: unknown }>();
    await Promise.all(conn.urls.map(async (url) => {
        const c = clientFor(urlConnection(conn, url));
        const who = async () => Object.keys((await c.transport.request<{ nodes?: Record<string, unknown> }>({ method: "GET", path: "/_nodes/_local", querystring: { filter_path: "nodes.*.name" } }))?.nodes ?? {})[0];
        try {
            const before = await who();
            const info = await c.cluster.remoteInfo();
            const after = await who();
            if (before && before === after && !out.has(before)) out.set(before, { url, info });
        } catch {
            // Not reachable this way either: the node stays unasked.
        }
    }));
    return out;
}

/** Asks a node to use the remote once: `_resolve/cluster` (8.13+) dials a remote it is not connected to, and reads nothing. */
function tryRemoteOnce(c: Client, alias: string, timeoutMs: number): Promise<unknown> {
    return c.transport.request({ method: "GET", path: `/_resolve/cluster/${encodeURIComponent(alias)}:*` }, { ignore: [400, 403, 404, 500, 502, 503], requestTimeout: timeoutMs })
        .catch(() => undefined);
}

/**
 * The link's connection as a refresh reports it: {@link remoteStatus}, after every local node that
 * reports the remote not connected was asked to try it once. Seen on 9.5 (sniff, separate hosts):
 * after the remote was down or the network between the sides was cut, a node does not redial by
 * itself (none within 240 s after a heal) until a cross-cluster request needs the remote — so
 * without the retry a refresh would call a link that works on its first use "not connected".
 * A node that still cannot connect stays not connected; nothing is written.
 */
export async function currentStatus(client: Client, conn: ClusterConnection, alias: string, local: Pick<ClusterFacts, "nodes" | "minVersion">, opts: StatusOptions = {}): Promise<RemoteStatus> {
    const first = await remoteStatus(client, conn, alias, local, opts);
    const retry = first.perNode.filter((p) => p.asked && !p.connected);
    if (first.connected || !retry.length) return first;
    await Promise.all(retry.map((p) => {
        if (local.nodes.length <= 1) return tryRemoteOnce(client, alias, 10_000);
        const c = p.via ? { ...conn, urls: [p.via], maxRetries: 0 } : nodeConnectionOf(conn, p.node);
        return c ? tryRemoteOnce(clientFor(c), alias, 10_000) : undefined;
    }));
    return remoteStatus(client, conn, alias, local, opts);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls every local node's `_remote/info` until all are connected (with the credential in use, for
 * an API-key link) or the timeout; reports progress every 10 s.
 */
export async function waitConnected(client: Client, conn: ClusterConnection, alias: string, local: Pick<ClusterFacts, "nodes" | "minVersion">, timeoutSeconds: number, opts: StatusOptions = {}): Promise<RemoteStatus> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    let lastReport = Date.now();
    let lastPoke = 0;
    let status = await remoteStatus(client, conn, alias, local, opts);
    while (!status.connected && Date.now() < deadline) {
        if (opts.apiKey && Date.now() - lastPoke > 5_000) {
            // Seen on 9.5: a remote whose connection failed (e.g. its key was invalidated) is not
            // retried after a reload with a new credential until a request needs it;
            // `_resolve/cluster` (8.13+) is such a request, and reads nothing.
            // Every local node that is not connected yet, as a refresh does, each at its own address
            // (or the URL it answered through): one node's request dials that node's connection only.
            lastPoke = Date.now();
            const behind = status.perNode.filter((p) => p.asked && !p.connected);
            if (local.nodes.length <= 1 || !behind.length) {
                await tryRemoteOnce(client, alias, 30_000);
            } else {
                await Promise.all(behind.map((p) => {
                    const c = p.via ? { ...conn, urls: [p.via], maxRetries: 0 } : nodeConnectionOf(conn, p.node);
                    return c ? tryRemoteOnce(clientFor(c), alias, 30_000) : undefined;
                }));
            }
        }
        await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
        status = await remoteStatus(client, conn, alias, local, opts);
        if (Date.now() - lastReport > 10_000) {
            lastReport = Date.now();
            pulumi.log.info(`remote cluster '${alias}': waiting for the connection (${status.nodesConnected} of ${status.nodesTotal} local nodes connected${opts.apiKey ? " with the API key" : ""}, ${Math.round((deadline - Date.now()) / 1000)}s left)`);
        }
    }
    warnUnasked(alias, status);
    return status;
}

/** Says which local nodes could not be asked: `connected` then speaks only for the others. */
export function warnUnasked(alias: string, status: RemoteStatus): void {
    const through = status.perNode.filter((p) => p.via);
    if (through.length) {
        pulumi.log.info(`remote cluster '${alias}': ${through.map((p) => `${p.node.name} was asked through ${p.via}`).join("; ")} (its HTTP publish address does not answer from here); ` +
            `${status.perNode.filter((p) => p.asked && !p.via).map((p) => p.node.name).join(", ") || "no node"} at its publish address`);
    }
    if (status.unasked.length) {
        pulumi.log.warn(`remote cluster '${alias}': could not ask ${status.unasked.length} local node(s) whether they are connected (${status.unasked.join("; ")}); 'connected' only speaks for the ${status.nodesTotal - status.unasked.length} that answered`);
    }
}

/** What the local nodes' `_remote/info` said: the one node's entry, or each node's by name. */
export function remoteInfoText(status: RemoteStatus): string {
    if (status.perNode.length === 1) return JSON.stringify(status.perNode[0].raw ?? {});
    return JSON.stringify(Object.fromEntries(status.perNode.map((p) => [p.node.name, p.raw ?? (p.asked ? {} : { error: p.error })])));
}
