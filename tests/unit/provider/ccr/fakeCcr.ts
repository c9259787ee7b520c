/**
 * A TEST DOUBLE of a follower (local) cluster's cross-cluster replication endpoints. Real nodes here
 * run Elastic's integ-test-zip, which has no x-pack-ccr module: every `_ccr` call answers
 * 400 "no handler found for uri [/f/_ccr/follow] and method [PUT]" (measured on 9.5.4 and 8.19.21).
 * The CCR calls are therefore proved against this double, whose request and response shapes follow
 * Elastic's REST API specification (ccr.follow, ccr.pause_follow, ccr.resume_follow, ccr.unfollow,
 * ccr.follow_info — `parameters` omitted while paused —, ccr.follow_stats with each shard's
 * `fatal_exception`, ccr.stats' `auto_follow_stats.recent_auto_follow_errors`,
 * ccr.put/get/pause/resume/delete_auto_follow_pattern). The preview's reads (`_nodes/plugins`,
 * `_license`, `_remote/info`, `_has_privileges`, `_authenticate`, index `_settings`) are modelled
 * too, so a hook runs end to end; what does not need the module is proved on real nodes as well
 * (tests/integration/replication.test.ts).
 */
import { ClusterConnection } from "../../../../provider/core/client";
import { Double, elastic, startDouble } from "../../../support/flakyProxy";

export interface FakeFollower {
    remoteCluster: string;
    leaderIndex: string;
    paused: boolean;
    closed: boolean;
    parameters: Record<string, unknown>;
    settings: Record<string, unknown>;
    /** A shard's fatal_exception: Elasticsearch paused following by itself. */
    fatal?: { type: string; reason: string };
    leaderCheckpoint: number;
    followerCheckpoint: number;
}

export interface FakePattern {
    body: Record<string, unknown>;
    active: boolean;
}

export interface FakeCcr {
    double: Double;
    conn: ClusterConnection;
    /** Whether the nodes list the x-pack-ccr module (false: every _ccr call answers "no handler found"). */
    module: boolean;
    version: string;
    aliases: Record<string, { connected: boolean; apiKey?: boolean }>;
    /** Regular indices (not followers) on the local cluster. */
    indices: Set<string>;
    followers: Record<string, FakeFollower>;
    patterns: Record<string, FakePattern>;
    /** Leader indices that exist on the remote (a follow of another one fails as Elasticsearch does). */
    leaders: Set<string>;
    autoFollowErrors: Array<{ leader_index: string; timestamp: number; auto_follow_exception: { type: string; reason: string } }>;
    /** Privileges the connection user lacks (names as _has_privileges reports them). */
    lacking: Set<string>;
    seen(): string[];
    close(): Promise<void>;
}

/** Elasticsearch's follow defaults, as `_ccr/info` lists them. */
export const DEFAULT_PARAMETERS = {
    max_read_request_operation_count: 5120, max_outstanding_read_requests: 12, max_read_request_size: "32mb",
    max_write_request_operation_count: 5120, max_write_request_size: "9223372036854775807b", max_outstanding_write_requests: 9,
    max_write_buffer_count: 2147483647, max_write_buffer_size: "512mb", max_retry_delay: "500ms", read_poll_timeout: "1m",
};

const err = (status: number, type: string, reason: string) => elastic({ error: { root_cause: [{ type, reason }], type, reason }, status }, status);

export async function startFakeCcr(opts: Partial<Pick<FakeCcr, "module" | "version">> = {}): Promise<FakeCcr> {
    const fc = {
        module: opts.module ?? true, version: opts.version ?? "9.5.4",
        aliases: { leader: { connected: true } } as FakeCcr["aliases"],
        indices: new Set<string>(), followers: {} as Record<string, FakeFollower>, patterns: {} as Record<string, FakePattern>,
        leaders: new Set<string>(["logs"]), autoFollowErrors: [] as FakeCcr["autoFollowErrors"], lacking: new Set<string>(),
    };
    const noHandler = (method: string, p: string) => elastic({ error: `no handler found for uri [${p}] and method [${method}]` }, 400);
    const answer = (r: { method: string; path: string; body: string }) => {
        const [p] = r.path.split("?");
        const body = r.body ? JSON.parse(r.body) : {};
        if (r.method === "GET" && p === "/_nodes/plugins") {
            return elastic({ nodes: { n1id: { name: "n1", version: fc.version, modules: [{ name: "x-pack-core" }, { name: "x-pack-security" }, ...(fc.module ? [{ name: "x-pack-ccr" }] : [])] } } });
        }
        if (r.method === "GET" && p === "/_license") return elastic({ license: { type: "trial", status: "active" } });
        if (r.method === "GET" && p === "/_remote/info") {
            return elastic(Object.fromEntries(Object.entries(fc.aliases).map(([a, x]) => [a, { connected: x.connected, mode: "sniff", ...(x.apiKey ? { cluster_credentials: "::es_redacted::" } : {}) }])));
        }
        if (p === "/_security/_authenticate") return elastic({ username: "elastic", roles: ["superuser"] });
        if (p === "/_security/user/_has_privileges") {
            const cluster = Object.fromEntries((body.cluster ?? []).map((c: string) => [c, !fc.lacking.has(c)]));
            const index = Object.fromEntries((body.index ?? []).flatMap((e: { names: string[]; privileges: string[] }) => e.names.map((n) => [n, Object.fromEntries(e.privileges.map((x) => [x, !fc.lacking.has(x)]))])));
            return elastic({ username: "elastic", has_all_requested: fc.lacking.size === 0, cluster, index });
        }
        let m = /^\/([^/_][^/]*)\/_settings$/.exec(p);
        if (m && r.method === "GET") {
            const i = decodeURIComponent(m[1]);
            if (fc.followers[i]) return elastic({ [i]: { settings: { "index.xpack.ccr.following_index": "true" }, defaults: { "index.soft_deletes.enabled": "true" } } });
            if (fc.indices.has(i)) return elastic({ [i]: { settings: {}, defaults: { "index.soft_deletes.enabled": "true" } } });
            return err(404, "index_not_found_exception", `no such index [${i}]`);
        }
        if (m && r.method === "PUT") {
            const i = decodeURIComponent(m[1]);
            if (!fc.followers[i]) return err(404, "index_not_found_exception", `no such index [${i}]`);
            Object.assign(fc.followers[i].settings, body.settings ?? {});
            return elastic({ acknowledged: true });
        }
        m = /^\/([^/_][^/]*)\/_(close|open)$/.exec(p);
        if (m) {
            const i = decodeURIComponent(m[1]);
            if (fc.followers[i]) fc.followers[i].closed = m[2] === "close";
            else if (!fc.indices.has(i)) return err(404, "index_not_found_exception", `no such index [${i}]`);
            return elastic({ acknowledged: true });
        }
        m = /^\/([^/_][^/]*)$/.exec(p);
        if (m && r.method === "DELETE") {
            const i = decodeURIComponent(m[1]);
            if (!fc.followers[i] && !fc.indices.has(i)) return err(404, "index_not_found_exception", `no such index [${i}]`);
            delete fc.followers[i];
            fc.indices.delete(i);
            return elastic({ acknowledged: true });
        }
        if (p.includes("/_ccr") && !fc.module) return noHandler(r.method, p);
        if (r.method === "GET" && p === "/_ccr/stats") {
            return elastic({
                auto_follow_stats: { number_of_failed_follow_indices: fc.autoFollowErrors.length, number_of_failed_remote_cluster_state_requests: 0, number_of_successful_follow_indices: 0, recent_auto_follow_errors: fc.autoFollowErrors, auto_followed_clusters: [] },
                follow_stats: { indices: [] },
            });
        }
        m = /^\/([^/]+)\/_ccr\/(follow|pause_follow|resume_follow|unfollow|info|stats)$/.exec(p);
        if (m) {
            const i = decodeURIComponent(m[1]);
            const f = fc.followers[i];
            switch (m[2]) {
                case "follow": {
                    if (fc.followers[i] || fc.indices.has(i)) return err(400, "resource_already_exists_exception", `index [${i}/x] already exists`);
                    if (!fc.aliases[body.remote_cluster]) return err(400, "no_such_remote_cluster_exception", `no such remote cluster: [${body.remote_cluster}]`);
                    if (!fc.leaders.has(body.leader_index)) return err(404, "index_not_found_exception", `no such index [${body.leader_index}]`);
                    const { remote_cluster, leader_index, settings, ...params } = body;
                    fc.followers[i] = { remoteCluster: remote_cluster, leaderIndex: leader_index, paused: false, closed: false, parameters: { ...DEFAULT_PARAMETERS, ...params }, settings: settings ?? {}, leaderCheckpoint: 9, followerCheckpoint: 9 };
                    return elastic({ follow_index_created: true, follow_index_shards_acked: true, index_following_started: true });
                }
                case "info":
                    if (i === "_all") return elastic({ follower_indices: Object.entries(fc.followers).map(([n, x]) => info(n, x)) });
                    if (!f) return fc.indices.has(i) ? elastic({ follower_indices: [] }) : err(404, "index_not_found_exception", `no such index [${i}]`);
                    return elastic({ follower_indices: [info(i, f)] });
                case "stats":
                    if (!f) return err(404, "index_not_found_exception", `no such index [${i}]`);
                    if (f.paused) return elastic({ indices: [] });
                    return elastic({ indices: [{ index: i, total_global_checkpoint_lag: f.leaderCheckpoint - f.followerCheckpoint, shards: [{ remote_cluster: f.remoteCluster, leader_index: f.leaderIndex, follower_index: i, shard_id: 0, leader_global_checkpoint: f.leaderCheckpoint, follower_global_checkpoint: f.followerCheckpoint, read_exceptions: [], ...(f.fatal ? { fatal_exception: f.fatal } : {}) }] }] });
                case "pause_follow":
                    if (!f) return err(404, "index_not_found_exception", `no such index [${i}]`);
                    if (f.paused) return err(400, "illegal_argument_exception", `no shard follow tasks for [${i}]`);
                    f.paused = true;
                    f.fatal = undefined;
                    return elastic({ acknowledged: true });
                case "resume_follow":
                    if (!f) return err(404, "index_not_found_exception", `no such index [${i}]`);
                    if (!f.paused) return err(400, "illegal_argument_exception", `cannot resume following index [${i}], because it is already being followed`);
                    if (!fc.leaders.has(f.leaderIndex)) return err(404, "index_not_found_exception", `no such index [${f.leaderIndex}]`);
                    f.paused = false;
                    f.parameters = { ...DEFAULT_PARAMETERS, ...body };
                    return elastic({ acknowledged: true });
                case "unfollow":
                    if (!f) return err(404, "index_not_found_exception", `no such index [${i}]`);
                    if (!f.paused) return err(400, "illegal_argument_exception", `cannot convert the follower index [${i}] to a non-follower, because it has not been paused`);
                    if (!f.closed) return err(400, "illegal_argument_exception", `cannot convert the follower index [${i}] to a non-follower, because it has not been closed`);
                    delete fc.followers[i];
                    fc.indices.add(i);
                    return elastic({ acknowledged: true });
            }
        }
        m = /^\/_ccr\/auto_follow(?:\/([^/]+))?(?:\/(pause|resume))?$/.exec(p);
        if (m) {
            const name = m[1] && decodeURIComponent(m[1]);
            const pat = name ? fc.patterns[name] : undefined;
            const missing = () => err(404, "resource_not_found_exception", `auto-follow pattern [${name}] is missing`);
            if (m[2]) {
                if (!pat) return missing();
                pat.active = m[2] === "resume";
                return elastic({ acknowledged: true });
            }
            if (r.method === "PUT") {
                fc.patterns[name!] = { body, active: pat?.active ?? true };
                return elastic({ acknowledged: true });
            }
            if (r.method === "DELETE") {
                if (!pat) return missing();
                delete fc.patterns[name!];
                return elastic({ acknowledged: true });
            }
            const list = name ? (pat ? [[name, pat] as const] : null) : Object.entries(fc.patterns);
            if (!list) return missing();
            return elastic({ patterns: list.map(([n, x]) => ({ name: n, pattern: { ...x.body, active: x.active } })) });
        }
        return err(400, "fake_unsupported", `the fake does not know ${r.method} ${p}`);
    };
    const info = (n: string, x: FakeFollower) => ({ follower_index: n, remote_cluster: x.remoteCluster, leader_index: x.leaderIndex, status: x.paused ? "paused" : "active", ...(x.paused ? {} : { parameters: x.parameters }) });
    const double = await startDouble({ answer });
    const conn: ClusterConnection = { urls: [double.url], username: "elastic", password: "fake-pw", caPem: double.caPem, maxRetries: 0 };
    return Object.assign(fc, {
        double, conn,
        seen: () => double.requests.map((q) => `${q.method} ${q.path.split("?")[0]}`),
        close: () => double.close(),
    });
}
