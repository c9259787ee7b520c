// Cross-cluster replication from a leader cluster to a follower cluster: the link (certificate
// model; transport trust assumed in place, see cross-cluster-search), the same-named replication
// role on both sides, a follower index and an auto-follow pattern. Both clusters need Elastic's
// default distribution (module x-pack-ccr) and a Platinum/Enterprise or trial license.
import * as pulumi from "@pulumi/pulumi";
import { AutoFollowPattern, CrossClusterRole, FollowerIndex, RemoteClusterLink } from "pulumi-es-remote";

interface Cluster { name: string; url: string; transportAddress: string; httpCaPem: string }
const config = new pulumi.Config();
const [follower, leader] = config.requireObject<Cluster[]>("clusters");
const password = config.requireSecret("elasticPassword");
const conn = (c: Cluster) => ({ urls: [c.url], username: "elastic", password, caPem: c.httpCaPem });

const link = new RemoteClusterLink("leader", {
    local: conn(follower),
    remote: conn(leader),
    alias: "leader",
    seeds: [leader.transportAddress],
});

// For users who manage replication themselves; the resources below use the connections' user.
new CrossClusterRole("replicator", {
    local: conn(follower),
    remote: conn(leader),
    name: "ccr_replicator",
    preset: "replication",
    indices: ["orders", "metrics-*"],
    followerIndices: ["orders-copy", "metrics-*-copy"],
});

const orders = new FollowerIndex("orders", {
    local: conn(follower),
    remote: conn(leader),          // lets the preview check the leader, the versions and the remote roles
    alias: link.alias,
    leaderIndex: "orders",
    followerIndex: "orders-copy",
    maxReadRequestOperationCount: 1024,
    readPollTimeout: "30s",
    settings: { "index.number_of_replicas": 0 },
    onDestroy: "unfollow",         // destroy keeps a regular index with the data
});

const metrics = new AutoFollowPattern("metrics", {
    local: conn(follower),
    remote: conn(leader),
    alias: link.alias,
    name: "metrics",
    leaderIndexPatterns: ["metrics-*"],
    leaderIndexExclusionPatterns: ["metrics-tmp-*"],
    followIndexPattern: "{{leader_index}}-copy",
});

export const ordersStatus = orders.status;
export const ordersLag = orders.lagOperations;
export const ordersFatalError = orders.fatalError;
export const metricsFollowers = metrics.followedIndices;
export const metricsErrors = metrics.recentErrors;
