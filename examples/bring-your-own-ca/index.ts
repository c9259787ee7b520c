// A CA made by @pulumi/tls (or read from your PKI as PEM) adopted as the SharedCa: SharedCa checks that
// the certificate is a CA and that the key matches it, then NodeCertificate signs with it.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { NodeCertificate, SharedCa } from "pulumi-es-remote";

const caKey = new tls.PrivateKey("ca-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
const caCert = new tls.SelfSignedCert("ca-cert", {
    privateKeyPem: caKey.privateKeyPem,
    subject: { commonName: "Corporate transport CA", organization: "Example Corp" },
    isCaCertificate: true,
    validityPeriodHours: 3 * 365 * 24,
    allowedUses: ["cert_signing", "crl_signing"],
});

const ca = new SharedCa("corporate-ca", { certPem: caCert.certPem, keyPem: caKey.privateKeyPem });

const nodes = new pulumi.Config().getObject<string[]>("nodes") ?? ["es-node-0", "es-node-1"];
const certs = nodes.map((n) => new NodeCertificate(n, {
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    commonName: n,
    dnsNames: [n],
}));

export const caFingerprint = ca.fingerprintSha256;
export const serials = certs.map((c) => c.serialNumber);
