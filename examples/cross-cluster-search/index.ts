// Two clusters linked over TLS certificate trust, following Elastic's four steps, and a user who can
// search the remote's `logs-*` indices from the local cluster as `<alias>:logs-*`.
import * as pulumi from "@pulumi/pulumi";
import { CrossClusterRole, CrossClusterUser, NodeCertificate, RemoteClusterLink, SharedCa } from "pulumi-es-remote";

interface Cluster { name: string; url: string; transportAddress: string; nodeName: string; certsDir: string; httpCaPem: string }
const config = new pulumi.Config();
const [local, remote] = config.requireObject<Cluster[]>("clusters");
const password = config.requireSecret("elasticPassword");
const conn = (c: Cluster) => ({ urls: [c.url], username: "elastic", password, caPem: c.httpCaPem });

// Step 2, trust: one CA, a transport certificate per node, written where the node reads it.
const ca = new SharedCa("transport-ca", { commonName: "Cross-cluster transport CA" });
const certs = [local, remote].map((c) => new NodeCertificate(`${c.name}-transport`, {
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    commonName: c.nodeName,
    dnsNames: ["localhost", c.nodeName],
    ipAddresses: ["127.0.0.1"],
    delivery: { directory: c.certsDir },
    verifyOn: { connection: conn(c), nodeName: c.nodeName },
}));

// Steps 1 and 3: versions and trust are checked at preview; the connection is verified after writing.
const link = new RemoteClusterLink("link", {
    local: conn(local),
    remote: conn(remote),
    alias: remote.name,
    seeds: [remote.transportAddress],
    skipUnavailable: false, // an unreachable remote makes searches fail instead of silently missing data
    waitForCertificates: certs.map((c) => c.fingerprintSha256), // check trust against the delivered certificates
});

// Step 4: the same role name on both sides; the user on the local cluster only.
const role = new CrossClusterRole("logs-reader", {
    local: conn(local),
    remote: conn(remote),
    name: "logs_reader",
    preset: "search",
    indices: ["logs-*"],
});
const user = new CrossClusterUser("analyst", { local: conn(local), username: "analyst", roles: [role.name] }, { dependsOn: [link] });

export const connected = link.connected;
export const searchAs = user.username;
export const analystPassword = user.password;
export const searchPattern = pulumi.interpolate`${link.alias}:logs-*`;
