// Two self-managed clusters whose nodes run on hosts of their own (VMs, bare metal), `pulumi up`
// from a laptop or a CI runner. Every node-side step goes over SSH: the transport certificate of
// each node is written into /etc/elasticsearch/certs on that node (atomically, owner of the file it
// replaces kept, certificates 0644, the key 0640 under root:elasticsearch, the node's own files kept
// aside and put back on destroy), through
// `sudo -n` since admins log in as themselves and the files belong to elasticsearch. Host keys are
// pinned: a host presenting another key is refused at preview, before anything is written.
//
// Each node's elasticsearch.yml points at the delivered files once:
//   xpack.security.transport.ssl.certificate: certs/transport.crt
//   xpack.security.transport.ssl.key: certs/transport.key
//   xpack.security.transport.ssl.certificate_authorities: [certs/transport-ca.crt]
import * as pulumi from "@pulumi/pulumi";
import { CrossClusterRole, CrossClusterUser, NodeAccessArgs, NodeCertificate, RemoteClusterLink, SharedCa } from "pulumi-es-remote";

interface Node {
    /** node.name */
    name: string;
    /** Where its SSH server listens (and its transport address, for the certificate's IP SAN). */
    host: string;
    /** The host's SSH host key: `ssh-keyscan -t ed25519 <host>`, checked out of band, or a `SHA256:` fingerprint. */
    hostKey: string;
    /** The node's transport address as the other cluster dials it (a seed), `ip:9300`. */
    transport: string;
}
interface Cluster {
    name: string;
    url: string;
    httpCaPem: string;
    nodes: Node[];
}
interface Bastion {
    host: string;
    hostKey: string;
}

const config = new pulumi.Config();
const [local, remote] = config.requireObject<Cluster[]>("clusters");
const password = config.requireSecret("elasticPassword");
// The admin's own login, allowed passwordless sudo on every node; a secret in the stack's config.
const sshUser = config.require("sshUser");
const sshKey = config.requireSecret("sshPrivateKey");
const bastion = config.getObject<Bastion>("bastion");
const conn = (c: Cluster) => ({ urls: [c.url], username: "elastic", password, caPem: c.httpCaPem });

/** How this package reaches a node: SSH as the admin, pinned, through the bastion if there is one, sudo to root. */
const accessTo = (n: Node): NodeAccessArgs => ({
    ssh: {
        host: n.host,
        user: sshUser,
        privateKey: sshKey,
        hostKey: n.hostKey,
        jumpHost: bastion && { host: bastion.host, user: sshUser, privateKey: sshKey, hostKey: bastion.hostKey },
    },
    sudo: true,
});

// One CA for both clusters' transport layers: the simplest trust between them.
const ca = new SharedCa("transport-ca", { commonName: "es transport CA" });

// A certificate for every node of both clusters, delivered to that node over SSH and proven
// served by it (a TLS handshake with its transport port) before `up` moves on.
const certificates = [local, remote].flatMap((c) => c.nodes.map((n) => new NodeCertificate(`${c.name}-${n.name}`, {
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    commonName: n.name,
    dnsNames: [n.name],
    ipAddresses: [n.transport.split(":")[0]],
    delivery: { directory: "/etc/elasticsearch/certs", access: accessTo(n) },
    verifyOn: { connection: conn(c), nodeName: n.name },
})));

// The link: checked at preview per local node (versions, trust, reachability of every seed).
const link = new RemoteClusterLink("link", {
    local: conn(local),
    remote: conn(remote),
    alias: remote.name,
    seeds: remote.nodes.map((n) => n.transport),
    skipUnavailable: false,
}, { dependsOn: certificates });

const role = new CrossClusterRole("logs-reader", {
    local: conn(local),
    remote: conn(remote),
    clusters: [remote.name],
    name: "logs_reader",
    preset: "search",
    indices: ["logs-*"],
});
const user = new CrossClusterUser("analyst", { local: conn(local), username: "analyst", roles: [role.name] }, { dependsOn: [link] });

export const connected = link.connected;
export const nodesConnected = link.nodesConnected;
export const searchAs = user.username;
export const analystPassword = user.password;
export const searchPattern = pulumi.interpolate`${link.alias}:logs-*`;
