/**
 * The hand-written baseline of the full-mesh benchmark: a plain script doing what the Pulumi
 * program does, with the same client (@elastic/elasticsearch) and the same REST calls, and nothing
 * else — no state, no engine, one client per cluster reused for all its requests. At most 8 links
 * or roles at a time, like the Pulumi engine's default `--parallel 8`.
 *
 *   node dist/bench/meshScript.js <up|preview|refresh|destroy> <config.json>
 *
 * config.json: `{ password, clusters: [{ alias, url, transport, caPem }] }`.
 * - up: probe every cluster (GET _nodes/settings, GET _ssl/certificates: versions, security, trust),
 *   then per link: GET _cluster/settings (alias free), PUT _cluster/settings, poll GET _remote/info
 *   until connected; per role: GET the role on both clusters, PUT remote, PUT local;
 * - preview: the probes;
 * - refresh: per link GET _cluster/settings + GET _remote/info; per role GET on both clusters;
 * - destroy: per link PUT null for the alias's keys; per role DELETE on both clusters.
 */
import * as fs from "fs";
import { Client } from "@elastic/elasticsearch";

interface Member {
    alias: string;
    url: string;
    transport: string;
    caPem: string;
}

const KEYS = ["mode", "seeds", "node_connections", "proxy_address", "proxy_socket_connections", "server_name", "skip_unavailable",
    "transport.compress", "transport.compression_scheme", "transport.ping_schedule"];
const PARALLEL = 8;

async function pool(tasks: Array<() => Promise<void>>): Promise<void> {
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(PARALLEL, tasks.length) }, async () => {
        while (next < tasks.length) await tasks[next++]();
    }));
}

function settings(alias: string, values: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(KEYS.map((k) => [`cluster.remote.${alias}.${k}`, values[k] ?? null]));
}

async function main(op: string, configFile: string): Promise<void> {
    const cfg = JSON.parse(fs.readFileSync(configFile, "utf8")) as { password: string; clusters: Member[] };
    const clients = new Map(cfg.clusters.map((c) => [c.alias, new Client({
        node: c.url,
        auth: { username: "elastic", password: cfg.password },
        tls: { ca: c.caPem, rejectUnauthorized: true },
        requestTimeout: 30_000,
    })]));
    const pairs = cfg.clusters.flatMap((a) => cfg.clusters.filter((b) => b !== a).map((b) => [a, b] as const));
    const roleName = (a: Member, b: Member) => `mesh_search_${a.alias}_${b.alias}`;
    const role = (c: Client, name: string, method: "GET" | "PUT" | "DELETE", body?: Record<string, unknown>) =>
        c.transport.request({ method, path: `/_security/role/${name}`, body }, { ignore: [404] });
    const probe = async () => {
        await Promise.all(cfg.clusters.map(async (c) => {
            const client = clients.get(c.alias)!;
            await client.transport.request({ method: "GET", path: "/_nodes/settings", querystring: { filter_path: "nodes.*.version,nodes.*.settings.xpack.security" } });
            await client.transport.request({ method: "GET", path: "/_ssl/certificates" });
        }));
    };
    try {
        if (op === "up") {
            await probe();
            await pool([
                ...pairs.map(([a, b]) => async () => {
                    const c = clients.get(a.alias)!;
                    await c.cluster.getSettings({ flat_settings: true, filter_path: "persistent" });
                    await c.cluster.putSettings({ persistent: settings(b.alias, { mode: "sniff", seeds: [b.transport], skip_unavailable: true }) });
                    const deadline = Date.now() + 60_000;
                    for (;;) {
                        const info = (await c.cluster.remoteInfo()) as Record<string, { connected?: boolean }>;
                        if (info[b.alias]?.connected) break;
                        if (Date.now() > deadline) throw new Error(`${a.alias} -> ${b.alias} did not connect`);
                        await new Promise((r) => setTimeout(r, 500));
                    }
                }),
                ...pairs.map(([a, b]) => async () => {
                    const local = clients.get(a.alias)!;
                    const remote = clients.get(b.alias)!;
                    await Promise.all([role(local, roleName(a, b), "GET"), role(remote, roleName(a, b), "GET")]);
                    await role(remote, roleName(a, b), "PUT", { indices: [{ names: ["logs-*"], privileges: ["read", "read_cross_cluster", "view_index_metadata"] }] });
                    await role(local, roleName(a, b), "PUT", {});
                }),
            ]);
        } else if (op === "preview") {
            await probe();
        } else if (op === "refresh") {
            await pool([
                ...pairs.map(([a]) => async () => {
                    const c = clients.get(a.alias)!;
                    await c.cluster.getSettings({ flat_settings: true, filter_path: "persistent" });
                    await c.cluster.remoteInfo();
                }),
                ...pairs.map(([a, b]) => async () => {
                    await Promise.all([role(clients.get(a.alias)!, roleName(a, b), "GET"), role(clients.get(b.alias)!, roleName(a, b), "GET")]);
                }),
            ]);
        } else if (op === "destroy") {
            await pool([
                ...pairs.map(([a, b]) => async () => {
                    await clients.get(a.alias)!.cluster.putSettings({ persistent: settings(b.alias, {}) });
                }),
                ...pairs.map(([a, b]) => async () => {
                    await Promise.all([role(clients.get(a.alias)!, roleName(a, b), "DELETE"), role(clients.get(b.alias)!, roleName(a, b), "DELETE")]);
                }),
            ]);
        } else {
            throw new Error(`unknown operation '${op}': up, preview, refresh or destroy`);
        }
    } finally {
        await Promise.all([...clients.values()].map((c) => c.close()));
    }
}

if (require.main === module) {
    main(process.argv[2], process.argv[3]).catch((e) => {
        console.error((e as Error).message);
        process.exitCode = 1;
    });
}
