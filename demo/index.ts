/**
 * The demo's Pulumi program (the root Pulumi.yaml runs it; `npm run demo` starts the clusters and
 * sets this stack's config): what a user writes for two self-managed clusters whose nodes run on
 * hosts of their own, reached over SSH from the machine that runs `pulumi`.
 *
 * Act "certificate" (`npm run demo`): the nodes' transport certificates from the CA both clusters
 * already trust, written into each node's /etc/elasticsearch/certs over SSH and checked served by
 * the node; a certificate remote cluster; the same role on both clusters and a user on the local one.
 *
 * Act "apiKey" (`npm run demo -- api-key`): the same alias migrated to a cross-cluster API key in
 * one `pulumi up` — the key made on the remote, written into every local node's keystore over SSH,
 * the alias moved to the remote cluster server port, the role moved to `remote_indices`.
 *
 * Config (set by demo/run.ts): `act`; `local` and `remote` ({@link Cluster}); `sshUser`; the secrets
 * `localSshKey`, `remoteSshKey`, `elasticPassword`, `transportCaKeyPem`; `transportCaCertPem`.
 */
import * as pulumi from "@pulumi/pulumi";
import {
    CrossClusterApiKey, CrossClusterRole, CrossClusterUser, NodeAccessArgs, NodeCertificate, RemoteClusterLink, SharedCa,
} from "pulumi-es-remote";

/** One node as its admin knows it: where it answers and how to log in. */
interface Node {
    /** `node.name`. */
    name: string;
    /** Its HTTPS URL. */
    url: string;
    /** Its address (the certificate's IP SAN). */
    ip: string;
    /** `ip:9300`, the transport port: the certificate link's seed. */
    transport: string;
    /** `ip:9443`, the remote cluster server (remote cluster only): the API-key link's seed. */
    remoteClusterServer?: string;
    /** Its sshd. */
    ssh: { host: string; port: number };
    /** Its SSH host key, pinned (`ssh-keyscan -t ed25519 <host>`, checked out of band). */
    hostKey: string;
    /** The JDK the keystore tool runs with (the rig's distributions have none bundled). */
    javaHome: string;
}

/** One cluster. */
interface Cluster {
    name: string;
    /** The CA of its HTTP certificates. */
    httpCaPem: string;
    nodes: Node[];
}

const config = new pulumi.Config();
const act = config.require("act") as "certificate" | "apiKey";
const local = config.requireObject<Cluster>("local");
const remote = config.requireObject<Cluster>("remote");
const password = config.requireSecret("elasticPassword");
const sshUser = config.require("sshUser");
const sshKeys = { [local.name]: config.requireSecret("localSshKey"), [remote.name]: config.requireSecret("remoteSshKey") };
const conn = (c: Cluster) => ({ urls: c.nodes.map((n) => n.url), username: "elastic", password, caPem: c.httpCaPem });

/** SSH as the admin (passwordless sudo on the node), the node's host key pinned. */
const accessTo = (c: Cluster, n: Node): NodeAccessArgs => ({
    ssh: { host: n.ssh.host, port: n.ssh.port, user: sshUser, privateKey: sshKeys[c.name], hostKey: n.hostKey },
    sudo: true,
});

// The CA both clusters' nodes trust on their transport layer, adopted (its key is a secret).
const ca = new SharedCa("transport-ca", { certPem: config.require("transportCaCertPem"), keyPem: config.requireSecret("transportCaKeyPem") });

// A transport certificate for every node, written into the node's own /etc/elasticsearch/certs over
// SSH (Elasticsearch reloads it without a restart) and proven served by that node.
const certificates = [local, remote].flatMap((c) => c.nodes.map((n) => new NodeCertificate(n.name, {
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    commonName: n.name,
    dnsNames: [n.name],
    ipAddresses: [n.ip],
    delivery: { directory: "/etc/elasticsearch/certs", access: accessTo(c, n) },
    verifyOn: { connection: conn(c), nodeName: n.name },
})));

// Act two's credential: a cross-cluster API key on the remote, bounding what the local cluster may read there.
const key = act === "apiKey"
    ? new CrossClusterApiKey("local-reads-remote", { remote: conn(remote), name: `${local.name}-reads-${remote.name}`, access: { search: [{ names: ["logs-*"] }] } })
    : undefined;

// The link, checked at preview per node pair. Act two changes its security, credential, keystores and
// seeds: one `pulumi up` migrates the same alias in place.
const link = new RemoteClusterLink("link", {
    local: conn(local),
    remote: conn(remote),
    alias: remote.name,
    skipUnavailable: false,
    waitForCertificates: certificates.map((c) => c.fingerprintSha256),
    ...(key
        ? {
            security: "apiKey" as const,
            credential: key.encoded,
            keystoreOn: local.nodes.map((n) => ({ esHome: "/usr/share/elasticsearch", configDir: "/etc/elasticsearch", javaHome: n.javaHome, access: accessTo(local, n) })),
            seeds: remote.nodes.map((n) => n.remoteClusterServer!),
        }
        : { seeds: remote.nodes.map((n) => n.transport) }),
}, { dependsOn: certificates });

// Who may search: certificate model, one role name on both clusters; API-key model, the local role
// only, with remote_indices the key must cover (checked at preview).
const role = new CrossClusterRole("logs-reader", key
    ? { model: "apiKey", local: conn(local), clusters: [remote.name], name: "logs_reader", preset: "search", indices: ["logs-*"], keyAccess: { [remote.name]: key.access } }
    : { local: conn(local), remote: conn(remote), name: "logs_reader", preset: "search", indices: ["logs-*"] });
const user = new CrossClusterUser("analyst", { local: conn(local), username: "analyst", roles: [role.name] }, { dependsOn: [link] });

export const security = act;
export const alias = link.alias;
export const seeds = link.seeds;
export const connected = link.connected;
export const nodesConnected = pulumi.interpolate`${link.nodesConnected}/${link.nodesTotal}`;
export const versions = pulumi.interpolate`${link.localVersion} → ${link.remoteVersion}`;
export const certificatesServed = pulumi.all(certificates.map((c) => c.servedByNode)).apply((s) => s.filter(Boolean).length);
export const keyId = key ? key.keyId : "none (certificate trust)";
export const searchUser = user.username;
export const searchUserPassword = user.password;
