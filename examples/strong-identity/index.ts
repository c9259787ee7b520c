// Strong identity (Elasticsearch 9.3+ on every node of both clusters, API-key model, Enterprise or
// trial license): the remote's cross-cluster API key accepts only requests the local cluster signs
// with a certificate whose subject DN matches `certificateIdentity`. A stolen `encoded` credential
// alone then authenticates nothing.
//
// 1. a signing CA and a signing certificate (this package's own certificate code; any PEM pair works);
// 2. on the remote: the CA in `cluster.remote.signing.certificate_authorities` (RemoteSigningTrust,
//    its file on every remote node) and the key bound to the certificate's DN;
// 3. on the local cluster: the link with the credential and `signing` (files on every node, then the
//    settings). Rotate the signing certificate by bumping `signerRotation`: the new files are written
//    over the same paths and Elasticsearch signs with them within seconds (docs/strong-identity.md).
import * as pulumi from "@pulumi/pulumi";
import { CrossClusterApiKey, NodeCertificate, RemoteClusterLink, RemoteSigningTrust, SharedCa } from "pulumi-es-remote";

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

// The issuer of the local cluster's signing certificates, and one signing certificate (EC P-256).
const signingCa = new SharedCa("signing-ca", { commonName: `${local.name}-signing-ca` });
const signerName = `${local.name}-signer`;
const signer = new NodeCertificate(`signer-${config.get("signerRotation") ?? "1"}`, {
    caCertPem: signingCa.certPem,
    caKeyPem: signingCa.keyPem,
    commonName: signerName,
    dnsNames: [signerName],
    validityDays: 90,
});

// On the remote: trust the signing CA (its file on every remote node, only its own entry of the list) ...
const trust = new RemoteSigningTrust("local-signers", {
    remote: conn(remote),
    caPem: signingCa.certPem,
    nodes: remote.nodes!.map((n) => ({ configDir: n.configDir })),
});

// ... and a key that only a request signed by `CN=<signerName>` may use (the whole RFC 2253 DN).
const key = new CrossClusterApiKey("local-reads-remote", {
    remote: conn(remote),
    name: `${local.name}-reads-${remote.name}`,
    access: { search: [{ names: ["logs-*"] }] },
    certificateIdentity: `CN=${signerName}`,
});

// On the local cluster: the credential in every keystore and the link signing with the certificate.
// The preview checks the pair, the versions and the DN against the key's pattern before anything is written.
const link = new RemoteClusterLink("link", {
    local: conn(local),
    remote: conn(remote),
    alias: remote.name,
    security: "apiKey",
    credential: key.encoded,
    keystoreOn: local.nodes!,
    seeds: [remote.serverAddress!],
    skipUnavailable: false,
    signing: { certPem: signer.certPem, keyPem: signer.keyPem },
}, { dependsOn: [trust] });

export const connected = link.connected;
export const signingInSync = link.signingInSync;
export const keyId = key.keyId;
export const searchPattern = pulumi.interpolate`${link.alias}:logs-*`;
