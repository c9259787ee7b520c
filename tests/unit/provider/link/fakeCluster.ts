/**
 * A TEST DOUBLE of a one-node local cluster and its keystore, for the link lifecycle's unit tests:
 * the moments those tests need (the wait, the node listing, a write or an undo failing after the
 * credential and the settings were written) cannot be made to happen on a real node on demand.
 * The real-node suites (tests/integration/linkLifecycle.test.ts, apiKey.test.ts) prove the same
 * hooks against Elasticsearch.
 *
 * - HTTP: tests/support/flakyProxy.ts's double answering from a small model: persistent and
 *   transient settings (null removes, `<prefix>.*: null` removes a prefix), one node, a trial
 *   license, `_remote/info` (connected when `connectable(alias)` says so; `cluster_credentials`
 *   while the reloaded keystore holds the alias's credential), `reload_secure_settings`, the
 *   cluster UUID, and CCR pause/resume of followers and auto-follow patterns;
 * - keystore: a shell script in place of `bin/elasticsearch-keystore` (add --stdin, remove, show,
 *   list, has-passwd; exit 78 when a setting is not there) keeping each setting in a file, run by
 *   the real keystore code (provider/link/keystoreTool.ts) through the local shell. A file
 *   `fail-<command>` in the config directory makes that command fail.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ClusterConnection } from "../../../../provider/core/client";
import { Double, elastic, Reply, SeenRequest, startDouble } from "../../../support/flakyProxy";

const TOOL = `#!/bin/sh
store="$ES_PATH_CONF/fake-keystore"; mkdir -p "$store"
cmd=$1; shift
if [ -f "$ES_PATH_CONF/fail-$cmd" ]; then echo "injected failure of $cmd" >&2; exit 1; fi
case "$cmd" in
  add) name=$3; cat > "$store/$name" ;;
  remove) [ -f "$store/$1" ] || { echo "Setting [$1] does not exist in the keystore." >&2; exit 78; }; rm -f "$store/$1" ;;
  show) [ -f "$store/$1" ] || { echo "Setting [$1] does not exist in the keystore." >&2; exit 78; }; cat "$store/$1" ;;
  list) ls "$store" ;;
  has-passwd) echo "ERROR: Keystore is not password-protected" >&2; exit 1 ;;
  *) echo "unknown command $cmd" >&2; exit 64 ;;
esac
`;

/** A follower index or auto-follow pattern on the double, and whether it is paused. */
export interface FakeFollow {
    remoteCluster: string;
    paused: boolean;
}

export interface FakeCluster {
    double: Double;
    conn: ClusterConnection;
    /** The keystore target of its one node. */
    keystore: { esHome: string; configDir: string };
    persistent: Record<string, unknown>;
    transient: Record<string, unknown>;
    uuid: string;
    version: string;
    /** Whether the node reports `alias` connected (when its settings are there). Default: always. */
    connectable: (alias: string, credentialLoaded: boolean) => boolean;
    /** The keystore settings the node holds since its last reload. */
    loaded: Set<string>;
    followers: Record<string, FakeFollow>;
    patterns: Record<string, FakeFollow>;
    /** Settings held in the keystore files now (read from the double's disk). */
    keystoreSettings(): string[];
    /** Makes the keystore tool fail `cmd` (add, remove, show) until {@link heal}. */
    failKeystore(cmd: string): void;
    heal(): void;
    /** Requests seen as `METHOD /path` (no query). */
    seen(): string[];
    close(): Promise<void>;
}

function applyPersistent(store: Record<string, unknown>, body: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(body)) {
        if (k.endsWith(".*") && v === null) {
            const prefix = k.slice(0, -1);
            for (const key of Object.keys(store)) if (key.startsWith(prefix)) delete store[key];
        } else if (v === null) {
            delete store[k];
        } else {
            store[k] = Array.isArray(v) ? v.map(String) : String(v);
        }
    }
}

/** Starts the double. Every request the hooks send is answered from the model above. */
export async function startFakeCluster(opts: { version?: string; uuid?: string; unroutableNodes?: number } = {}): Promise<FakeCluster> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-es-"));
    const esHome = path.join(dir, "es");
    const configDir = path.join(dir, "config");
    fs.mkdirSync(path.join(esHome, "bin"), { recursive: true });
    fs.mkdirSync(path.join(configDir, "fake-keystore"), { recursive: true });
    fs.writeFileSync(path.join(esHome, "bin", "elasticsearch-keystore"), TOOL, { mode: 0o755 });
    fs.writeFileSync(path.join(configDir, "elasticsearch.keystore"), "fake keystore (see fake-keystore/)\n");
    const store = path.join(configDir, "fake-keystore");
    const keystoreSettings = () => fs.readdirSync(store).sort();

    let port = 0;
    const fc = {
        persistent: {} as Record<string, unknown>,
        transient: {} as Record<string, unknown>,
        uuid: opts.uuid ?? `uuid-${Math.random().toString(36).slice(2, 12)}`,
        version: opts.version ?? "9.5.4",
        connectable: (_a: string, _c: boolean) => true,
        loaded: new Set<string>(),
        followers: {} as Record<string, FakeFollow>,
        patterns: {} as Record<string, FakeFollow>,
    };
    const aliases = () => [...new Set(Object.keys(fc.persistent).map((k) => /^cluster\.remote\.([^.]+)\./.exec(k)?.[1]).filter((a): a is string => !!a))];
    const answer = (r: SeenRequest): Reply => {
        const u = new URL(r.path, "http://x");
        const p = u.pathname;
        const body = r.body ? JSON.parse(r.body) : {};
        const node = {
            name: "n1", version: fc.version, roles: ["master", "data", "remote_cluster_client"],
            http: { publish_address: `127.0.0.1:${port}` }, transport: { publish_address: "127.0.0.1:9300" },
            settings: { xpack: { security: { enabled: "true", transport: { ssl: { enabled: "true" } } } } },
        };
        if (r.method === "GET" && p === "/_cluster/settings") return elastic({ persistent: { ...fc.persistent }, transient: { ...fc.transient } });
        if (r.method === "PUT" && p === "/_cluster/settings") {
            applyPersistent(fc.persistent, body.persistent ?? {});
            return elastic({ acknowledged: true, persistent: {}, transient: {} });
        }
        if (p === "/_cluster/state/metadata") return elastic({ metadata: { cluster_uuid: fc.uuid } });
        if (p === "/_nodes/settings") return elastic({ nodes: { n1: { settings: {} } } });
        if (p === "/_nodes/reload_secure_settings") {
            fc.loaded = new Set(keystoreSettings());
            return elastic({ _nodes: { total: 1, successful: 1, failed: 0 }, nodes: { n1: { name: "n1", secure_setting_names: [...fc.loaded].sort() } } });
        }
        if (p === "/_nodes/_local") return elastic({ nodes: { n1: { name: "n1" } } });
        if (p.startsWith("/_nodes")) {
            // unroutableNodes: a cluster of that many nodes whose HTTP publish addresses do not
            // answer from here (containers, NAT); this double answers the connection's URL as n1.
            if (!opts.unroutableNodes) return elastic({ nodes: { n1: node } });
            const nodes: Record<string, unknown> = {};
            for (let k = 1; k <= opts.unroutableNodes; k++) nodes[`n${k}`] = { ...node, name: `n${k}`, http: { publish_address: "127.0.0.1:1" } };
            return elastic({ nodes });
        }
        if (p === "/_license") return elastic({ license: { type: "trial", status: "active" } });
        if (p === "/_ssl/certificates") return elastic([]);
        if (p === "/_security/role") return elastic({});
        if (p === "/_remote/info") {
            const out: Record<string, unknown> = {};
            for (const a of aliases()) {
                const credential = fc.loaded.has(`cluster.remote.${a}.credentials`);
                const proxy = fc.persistent[`cluster.remote.${a}.proxy_address`];
                out[a] = {
                    connected: fc.connectable(a, credential), mode: proxy ? "proxy" : "sniff",
                    ...(proxy ? { proxy_address: proxy, num_proxy_sockets_connected: 1 } : { seeds: fc.persistent[`cluster.remote.${a}.seeds`] ?? [], num_nodes_connected: 1 }),
                    skip_unavailable: true,
                    ...(credential ? { cluster_credentials: "::es_redacted::" } : {}),
                };
            }
            return elastic(out);
        }
        if (p.startsWith("/_resolve/cluster")) return elastic({});
        // CCR, as far as the migration's pause and resume use it (the stats: whether CCR is there at all).
        if (r.method === "GET" && p === "/_ccr/stats") {
            return elastic({ auto_follow_stats: { number_of_failed_follow_indices: 0, number_of_failed_remote_cluster_state_requests: 0, number_of_successful_follow_indices: 0, recent_auto_follow_errors: [], auto_followed_clusters: [] }, follow_stats: { indices: [] } });
        }
        if (r.method === "GET" && p === "/_ccr/auto_follow") {
            return elastic({ patterns: Object.entries(fc.patterns).map(([name, f]) => ({ name, pattern: { remote_cluster: f.remoteCluster, active: !f.paused, leader_index_patterns: ["*"] } })) });
        }
        let m = /^\/_ccr\/auto_follow\/([^/]+)\/(pause|resume)$/.exec(p);
        if (m && fc.patterns[m[1]]) {
            fc.patterns[m[1]].paused = m[2] === "pause";
            return elastic({ acknowledged: true });
        }
        if (r.method === "GET" && /^\/(_all|\*)\/_ccr\/info$/.test(p)) {
            return elastic({ follower_indices: Object.entries(fc.followers).map(([i, f]) => ({ follower_index: i, remote_cluster: f.remoteCluster, leader_index: i, status: f.paused ? "paused" : "active" })) });
        }
        m = /^\/([^/]+)\/_ccr\/(pause_follow|resume_follow)$/.exec(p);
        if (m && fc.followers[m[1]]) {
            fc.followers[m[1]].paused = m[2] === "pause_follow";
            return elastic({ acknowledged: true });
        }
        return elastic({ error: { type: "fake_unsupported", reason: `the fake cluster does not know ${r.method} ${p}` } }, 400);
    };
    const double = await startDouble({ answer });
    port = Number(new URL(double.url).port);
    const conn: ClusterConnection = { urls: [double.url], username: "elastic", password: "fake-pw", caPem: double.caPem, maxRetries: 0 };
    return Object.assign(fc, {
        double, conn, keystore: { esHome, configDir }, keystoreSettings,
        failKeystore: (cmd: string) => fs.writeFileSync(path.join(configDir, `fail-${cmd}`), ""),
        heal: () => {
            for (const f of fs.readdirSync(configDir)) if (f.startsWith("fail-")) fs.rmSync(path.join(configDir, f));
            double.script.length = 0;
        },
        seen: () => double.requests.map((q) => `${q.method} ${q.path.split("?")[0]}`),
        close: async () => {
            await double.close();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    });
}

/** A credential of the right form (base64 of id:key); nothing connects with it. */
export function fakeCredential(id = "fakeid"): string {
    return Buffer.from(`${id}:fake-secret-${Math.random().toString(36).slice(2, 10)}`).toString("base64");
}
