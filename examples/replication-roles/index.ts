// Cross-cluster replication needs the same role name on the follower (local) and the leader (remote):
// `manage_ccr` and follower-index privileges locally, `read_ccr` and read on the leader indices remotely.
import * as pulumi from "@pulumi/pulumi";
import { CrossClusterRole, CrossClusterUser, RemoteClusterLink } from "pulumi-es-remote";

interface Cluster { name: string; url: string; transportAddress: string; httpCaPem: string }
const config = new pulumi.Config();
const [follower, leader] = config.requireObject<Cluster[]>("clusters");
const password = config.requireSecret("elasticPassword");
const conn = (c: Cluster) => ({ urls: [c.url], username: "elastic", password, caPem: c.httpCaPem });

// Assumes transport trust is in place (see cross-cluster-search for SharedCa + NodeCertificate).
const link = new RemoteClusterLink("leader", {
    local: conn(follower),
    remote: conn(leader),
    alias: "leader",
    seeds: [leader.transportAddress],
});

const role = new CrossClusterRole("replicator", {
    local: conn(follower),
    remote: conn(leader),
    name: "ccr_replicator",
    preset: "replication",
    indices: ["orders-*"],          // leader indices, on the remote
    followerIndices: ["orders-*"],  // follower indices, on the local cluster
});
const user = new CrossClusterUser("replication-user", { local: conn(follower), username: "ccr_user", roles: [role.name] }, { dependsOn: [link] });

export const replicationUser = user.username;
export const replicationPassword = user.password;
