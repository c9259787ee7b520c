/**
 * The earlier demo's program, kept for tests/e2e/stack.test.ts (which runs dist/demo/program.js on
 * two single-node clusters on this host): one generated CA, a certificate per node written into a
 * local folder, links in both directions, cross-cluster search roles and a user. `npm run demo` runs
 * demo/index.ts (nodes on hosts of their own, over SSH) instead.
 *
 * Config (set by the e2e test):
 *   clusters         [{ name, url, transportAddress, nodeName, certsDir, httpCaPem }] (two entries)
 *   elasticPassword  the `elastic` user's password (secret)
 */
import * as pulumi from "@pulumi/pulumi";
import { CrossClusterRole, CrossClusterUser, NodeCertificate, RemoteClusterLink, SharedCa } from "pulumi-es-remote";

interface DemoCluster {
    name: string;
    url: string;
    transportAddress: string;
    nodeName: string;
    certsDir: string;
    httpCaPem: string;
}

const config = new pulumi.Config();
const [a, b] = config.requireObject<DemoCluster[]>("clusters");
const password = config.requireSecret("elasticPassword");
const connection = (c: DemoCluster) => ({ urls: [c.url], username: "elastic", password, caPem: c.httpCaPem });

// Step 2 of Elastic's procedure: one CA for all nodes, a transport certificate per node, written into
// each node's config directory (Elasticsearch reloads them without a restart) and verified on the node.
const ca = new SharedCa("demo-ca", { commonName: "pulumi-es-remote demo CA", validityDays: 730 });
const certs = [a, b].map((c) => new NodeCertificate(`${c.name}-transport`, {
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    commonName: c.nodeName,
    dnsNames: ["localhost", c.nodeName],
    ipAddresses: ["127.0.0.1"],
    delivery: { directory: c.certsDir, certFile: "transport.crt", keyFile: "transport.key", caFile: "transport-ca.crt" },
    verifyOn: { connection: connection(c), nodeName: c.nodeName },
}));

// Step 3: each cluster registers the other as a remote (checked at preview, verified after writing).
const links = [[a, b], [b, a]].map(([local, remote]) => new RemoteClusterLink(`${local.name}-to-${remote.name}`, {
    local: connection(local),
    remote: connection(remote),
    alias: remote.name,
    mode: "sniff",
    seeds: [remote.transportAddress],
    skipUnavailable: true,
    // The trust check must see the delivered certificates, not the nodes' bootstrap ones.
    waitForCertificates: certs.map((c) => c.fingerprintSha256),
}));

// Step 4: the same role name on both clusters; the user only on the local one. Searches go from the
// 8.19 cluster to the 9.x one: Elastic supports 8.19 → 9.x cross-cluster search, not 9.x → 8.x
// (the 9.x → 8.19 link above connects, and its preview warns about exactly that).
const role = new CrossClusterRole("demo-search-role", {
    local: connection(b),
    remote: connection(a),
    name: "demo_ccs_reader",
    preset: "search",
    indices: ["demo-*"],
});
const user = new CrossClusterUser("demo-user", {
    local: connection(b),
    username: "demo_ccs_user",
    roles: [role.name],
}, { dependsOn: links });

export const caFingerprint = ca.fingerprintSha256;
export const nodeCertificateSerials = certs.map((c) => c.serialNumber);
export const linked = links.map((l) => pulumi.interpolate`${l.alias}: connected=${l.connected} (local ${l.localVersion} → remote ${l.remoteVersion})`);
export const searchUser = user.username;
export const searchUserPassword = user.password;
