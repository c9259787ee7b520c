// An API-key remote cluster (Elasticsearch 8.14+, Enterprise or trial license on both clusters):
// a cross-cluster API key made on the remote, its encoded form written into every local node's
// keystore, and the alias registered at the remote cluster server port (not the transport port).
import * as pulumi from "@pulumi/pulumi";
import { CrossClusterApiKey, CrossClusterRole, CrossClusterUser, RemoteClusterLink } from "pulumi-es-remote";

interface Cluster {
    name: string;
    url: string;
    httpCaPem: string;
    /** `host:port` of the remote cluster server (`remote_cluster.port`, 9443 by default). */
    serverAddress?: string;
    /** Every node of this cluster, on the host running pulumi: its Elasticsearch home and config directory. */
    nodes?: Array<{ esHome: string; configDir: string; javaHome?: string }>;
}
const config = new pulumi.Config();
const [local, remote] = config.requireObject<Cluster[]>("clusters");
const password = config.requireSecret("elasticPassword");
const conn = (c: Cluster) => ({ urls: [c.url], username: "elastic", password, caPem: c.httpCaPem });

// On the remote: what the local cluster may read. `encoded` is a secret output.
// Bump `rotation` to rotate: the new key reaches the keystores before the old one is invalidated.
const key = new CrossClusterApiKey("local-reads-remote", {
    remote: conn(remote),
    name: `${local.name}-reads-${remote.name}`,
    access: { search: [{ names: ["logs-*"] }] },
    rotation: config.get("keyRotation") ?? "1",
});

// On the local cluster: the credential into each node's keystore, a reload, then the alias.
const link = new RemoteClusterLink("link", {
    local: conn(local),
    remote: conn(remote),
    alias: remote.name,
    security: "apiKey",
    credential: key.encoded,
    keystoreOn: local.nodes!,
    seeds: [remote.serverAddress!],
    skipUnavailable: false,
});

// On the local cluster only: the user's role with remote_indices for the alias (the API-key model
// has no role on the remote). keyAccess lets the preview refuse index patterns the key does not
// grant — the remote would refuse every search on them.
const role = new CrossClusterRole("logs-reader", {
    model: "apiKey",
    local: conn(local),
    clusters: [remote.name],
    name: "logs_reader_via_key",
    preset: "search",
    indices: ["logs-*"],
    keyAccess: { [remote.name]: key.access },
});
const user = new CrossClusterUser("analyst", { local: conn(local), username: "analyst", roles: [role.name] }, { dependsOn: [link] });

export const connected = link.connected;
export const keyId = key.keyId;
export const searchAs = user.username;
export const analystPassword = user.password;
export const searchPattern = pulumi.interpolate`${link.alias}:logs-*`;
