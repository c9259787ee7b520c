/**
 * Helpers shared by the certificate tests (certs, sharedCa, nodeCertificate, files): openssl via
 * child_process, temp directories, a fake Elasticsearch node for `GET _ssl/certificates`.
 */
import * as assert from "assert";
import * as childProcess from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { AddressInfo } from "net";

export function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export function openssl(args: string[]): string {
    return childProcess.execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** A CA made by `openssl req -x509` with an EC P-256 key in SEC1 form (`-----BEGIN EC PRIVATE KEY-----`). */
export function opensslCa(dir: string, subject = "/O=Ops/CN=openssl ca"): { certPem: string; keyPem: string } {
    const id = crypto.randomUUID();
    const keyFile = path.join(dir, `${id}.key`);
    const certFile = path.join(dir, `${id}.crt`);
    openssl(["ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", keyFile]);
    openssl(["req", "-x509", "-key", keyFile, "-out", certFile, "-days", "30", "-subj", subject]);
    return { certPem: fs.readFileSync(certFile, "utf8"), keyPem: fs.readFileSync(keyFile, "utf8") };
}

/** Asserts that `failures` holds exactly one failure for `property`, whose reason contains `fragment`. */
export function assertFailure(failures: Array<{ property: string; reason: string }> | undefined, property: string, fragment: string): void {
    const mine = (failures ?? []).filter((f) => f.property === property);
    assert.strictEqual(mine.length, 1, `expected one failure for ${property}, got ${JSON.stringify(failures)}`);
    assert.ok(mine[0].reason.includes(fragment), `reason for ${property} "${mine[0].reason}" should contain "${fragment}"`);
}

/** Asserts that no string in `values` contains any of the secrets (by a distinctive slice of each). */
export function assertNoSecrets(values: unknown, secrets: string[]): void {
    const text = typeof values === "string" ? values : JSON.stringify(values);
    for (const s of secrets) {
        const body = s.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
        const probe = body.length > 40 ? body.slice(20, 60) : s;
        assert.ok(!text.includes(probe), "a secret leaked into a message or output");
    }
}

/** A fake Elasticsearch node: answers `_nodes/_local/http`, `_nodes/<name>/http` and `_ssl/certificates`. */
export interface FakeNode {
    url: string;
    /** What `_ssl/certificates` lists next; change it to simulate a reload. */
    serials: string[];
    /** Requests seen, as `METHOD path`. */
    requests: string[];
    /** Authorization headers seen. */
    authorizations: string[];
    /** Publish addresses reported for other node names (for the `_nodes/<name>/http` fallback). */
    others: Record<string, string>;
    /** Called before answering `_ssl/certificates` (e.g. to flip `serials` after a few polls). */
    onSsl?: (count: number) => void;
    /** `host:port` reported as the transport publish address. */
    transportAddress: string;
    /** Changes the certificate the fake transport layer presents (like Elasticsearch's reload). */
    setTransportCert(pems: { certPem: string; keyPem: string }): void;
    close(): Promise<void>;
}

/** A port nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
    const s = http.createServer();
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", () => resolve()));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return port;
}

/**
 * Starts a fake node. With `transportCert`, a TLS server stands in for the transport layer and
 * presents it; without, the transport address is a port nothing listens on (unreachable).
 */
export async function fakeNode(name: string, transportCert?: { certPem: string; keyPem: string }): Promise<FakeNode> {
    let sslCount = 0;
    let transport: tls.Server | undefined;
    let transportAddress: string;
    if (transportCert) {
        const t = tls.createServer({ cert: transportCert.certPem, key: transportCert.keyPem }, (socket) => socket.end());
        t.on("tlsClientError", () => undefined);
        await new Promise<void>((resolve) => t.listen(0, "127.0.0.1", () => resolve()));
        transport = t;
        transportAddress = `127.0.0.1:${(t.address() as AddressInfo).port}`;
    } else {
        transportAddress = `127.0.0.1:${await closedPort()}`;
    }
    const node: FakeNode = {
        url: "",
        serials: [],
        requests: [],
        authorizations: [],
        others: {},
        transportAddress,
        setTransportCert: (pems) => {
            if (!transport) {
                throw new Error("this fake node has no transport layer");
            }
            transport.setSecureContext({ cert: pems.certPem, key: pems.keyPem });
        },
        close: async () => {
            await new Promise<void>((resolve) => server.close(() => resolve()));
            if (transport) {
                await new Promise<void>((resolve) => transport!.close(() => resolve()));
            }
        },
    };
    const server = http.createServer((req, res) => {
        const p = (req.url ?? "").split("?")[0];
        node.requests.push(`${req.method} ${p}`);
        node.authorizations.push(String(req.headers.authorization ?? ""));
        const send = (status: number, body: unknown) => {
            res.writeHead(status, { "content-type": "application/json", "x-elastic-product": "Elasticsearch" });
            res.end(JSON.stringify(body));
        };
        const addr = server.address() as AddressInfo;
        if (p === "/_nodes/_local/http") {
            return send(200, { nodes: { id0: { name, http: { publish_address: `127.0.0.1:${addr.port}` } } } });
        }
        const t = /^\/_nodes\/([^/]+)\/transport$/.exec(p);
        if (t) {
            const nodes = decodeURIComponent(t[1]) === name ? { id0: { name, transport: { publish_address: `localhost/${transportAddress}` } } } : {};
            return send(200, { nodes });
        }
        const m = /^\/_nodes\/([^/]+)\/http$/.exec(p);
        if (m) {
            const wanted = decodeURIComponent(m[1]);
            if (wanted === name) {
                return send(200, { nodes: { id0: { name, http: { publish_address: `localhost/127.0.0.1:${addr.port}` } } } });
            }
            if (node.others[wanted]) {
                return send(200, { nodes: { id1: { name: wanted, http: { publish_address: node.others[wanted] } } } });
            }
            return send(200, { nodes: {} });
        }
        if (p === "/_ssl/certificates") {
            node.onSsl?.(++sslCount);
            return send(200, [
                { path: "certs/transport-ca.crt", format: "PEM", alias: null, subject_dn: "CN=ca", serial_number: "01", has_private_key: false, expiry: "2030-01-01T00:00:00.000Z" },
                ...node.serials.map((s) => ({
                    path: "certs/transport.crt", format: "PEM", alias: null, subject_dn: `CN=${name}`, serial_number: s, has_private_key: true,
                    expiry: "2030-01-01T00:00:00.000Z",
                })),
            ]);
        }
        return send(404, { error: { type: "not_found", reason: `no handler for ${p}` }, status: 404 });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    node.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return node;
}
