/**
 * core/nodes: the TLS reader every per-node check uses (real TLS servers on loopback, with
 * certificates from our own CA code) and the address and connection helpers.
 */
import * as assert from "assert";
import * as net from "net";
import * as tls from "tls";
import { AddressInfo } from "net";
import { generateCa, issueNodeCertificate, normalizeSerial } from "../../../../provider/certs/pem";
import { nodeConnection, peerCertificates, publishAddress, splitHostPort, urlConnection } from "../../../../provider/core/nodes";

async function listen(server: net.Server): Promise<number> {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return (server.address() as AddressInfo).port;
}

describe("core/nodes", function () {
    this.timeout(20_000);
    let ca: { certPem: string; keyPem: string };
    let node: Awaited<ReturnType<typeof issueNodeCertificate>>;
    const servers: net.Server[] = [];
    before(async () => {
        ca = await generateCa({ commonName: "nodes test ca" });
        node = await issueNodeCertificate(ca, { commonName: "es-node-1", dnsNames: ["es-node-1.example"], ipAddresses: ["127.0.0.1"] });
    });
    after(() => servers.forEach((s) => s.close()));

    async function tlsServer(opts: tls.TlsOptions): Promise<number> {
        const s = tls.createServer(opts, (socket) => socket.end());
        s.on("tlsClientError", () => undefined);
        servers.push(s);
        return listen(s);
    }

    it("reads the chain a listener presents, leaf first, without verifying it", async () => {
        const port = await tlsServer({ cert: node.certPem + node.caPem, key: node.keyPem });
        const r = await peerCertificates("127.0.0.1", port);
        assert.strictEqual(r.secure, true);
        assert.strictEqual(r.tcpUp, true);
        assert.deepStrictEqual(r.chain.map((c) => c.subject.CN), ["es-node-1", "nodes test ca"]);
        assert.strictEqual(normalizeSerial(r.chain[0].serialNumber), node.serialNumber);
        assert.strictEqual(r.chain[0].fingerprint256, node.fingerprintSha256);
    });

    it("with verify, a chain from a CA not given is refused; with that CA it passes", async () => {
        const port = await tlsServer({ cert: node.certPem, key: node.keyPem });
        const refused = await peerCertificates("127.0.0.1", port, { verify: true });
        assert.strictEqual(refused.secure, false);
        assert.match(String(refused.error?.code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
        const trusted = await peerCertificates("127.0.0.1", port, { verify: true, ca: node.caPem });
        assert.strictEqual(trusted.secure, true, String(trusted.error));
    });

    it("a server that rejects our missing client certificate (TLS 1.3, as transport TLS does) still shows its certificate", async () => {
        const port = await tlsServer({ cert: node.certPem, key: node.keyPem, requestCert: true, rejectUnauthorized: true, ca: [node.caPem], minVersion: "TLSv1.3" });
        const r = await peerCertificates("127.0.0.1", port);
        assert.strictEqual(r.chain[0]?.subject.CN, "es-node-1", JSON.stringify({ secure: r.secure, error: r.error?.message }));
    });

    it("a refused port: no TCP connection, the error's code kept", async () => {
        const s = net.createServer();
        const port = await listen(s);
        await new Promise((resolve) => s.close(resolve));
        const r = await peerCertificates("127.0.0.1", port);
        assert.deepStrictEqual([r.secure, r.tcpUp, r.error?.code, r.chain.length], [false, false, "ECONNREFUSED", 0]);
    });

    it("a listener that never answers the handshake: timed out, with the TCP connection made", async () => {
        const s = net.createServer(() => undefined);
        servers.push(s);
        const port = await listen(s);
        const r = await peerCertificates("127.0.0.1", port, { timeoutMs: 300 });
        assert.deepStrictEqual([r.secure, r.tcpUp, r.timedOut], [false, true, true]);
        assert.match(r.error!.message, new RegExp(`TLS handshake with 127\\.0\\.0\\.1:${port} timed out`));
    });

    it("addresses: publish addresses as _nodes prints them, host:port split", () => {
        assert.deepStrictEqual(
            ["10.0.0.2:9200", "es1.example/10.0.0.2:9200", "/10.0.0.2:9200", "[::1]:9200", " ", 7].map(publishAddress),
            ["10.0.0.2:9200", "es1.example:9200", "10.0.0.2:9200", "[::1]:9200", undefined, undefined]);
        assert.deepStrictEqual(["a:9300", "[::1]:9443", "a"].map(splitHostPort), [{ host: "a", port: 9300 }, { host: "::1", port: 9443 }, undefined]);
    });

    it("a node's connection keeps the credentials and CA, the connection's scheme, no retries, at most 10 s", () => {
        const conn = { urls: ["https://lb.example:443"], username: "u", password: "p", caPem: "CA", requestTimeoutSeconds: 30, maxRetries: 3 };
        assert.deepStrictEqual(nodeConnection(conn, "10.0.0.5:9200"), { ...conn, urls: ["https://10.0.0.5:9200"], maxRetries: 0, requestTimeoutSeconds: 10 });
        assert.deepStrictEqual(urlConnection({ ...conn, requestTimeoutSeconds: 4 }, "https://x:1"), { ...conn, urls: ["https://x:1"], maxRetries: 0, requestTimeoutSeconds: 4 });
    });
});
