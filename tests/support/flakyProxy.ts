/**
 * A test double for the faults a real Elasticsearch node cannot be made to show on demand: an
 * HTTPS server on 127.0.0.1 that answers from a script (HTTP 429/503 a given number of times, an
 * HTML error page, a body without Elasticsearch's product header, a dropped connection) and
 * otherwise passes requests through to a real cluster (`upstream`) or answers them itself
 * (`answer`). Its certificate comes from its own CA (`caPem`), so clients verify TLS against it as
 * they would against a real node.
 *
 * Tests using it must say so: it stands in for a node (or a proxy in front of one), it is not one.
 */
import * as https from "https";
import { AddressInfo } from "net";
import { generateCa, issueNodeCertificate } from "../../provider/certs/pem";

/** An HTTP answer. */
export interface Answer {
    status: number;
    headers?: Record<string, string>;
    body?: string | object;
}

/** What the double sends back for one request. */
export type Reply =
    | Answer
    /** Close the socket without an answer (a node dying mid-request). */
    | "reset"
    /** Hold the request this long, then handle it as if unscripted (a slow node). */
    | { delayMs: number };

/** One scripted fault: the next `times` requests matching `when` get `reply`. */
export interface Step {
    when?: (req: SeenRequest) => boolean;
    times: number;
    reply: Reply;
}

/** A request the double received. */
export interface SeenRequest {
    method: string;
    /** Path with query string. */
    path: string;
    /** ms since the double started. */
    at: number;
    body: string;
    /** How it was answered. */
    answeredBy?: "script" | "upstream" | "answer";
}

/** Options of {@link startDouble}. */
export interface DoubleOptions {
    /** A real cluster to pass unscripted requests to. */
    upstream?: { url: string; caPem: string };
    /** Answers unscripted requests when there is no upstream. Default: 200 `{}` as Elasticsearch. */
    answer?: (req: SeenRequest) => Reply;
    /** Present the CA after the leaf in the TLS handshake (as Elasticsearch does when its HTTP certificate file holds the chain). */
    sendChain?: boolean;
    /** Serve this certificate (PEM, with any chain appended) and key instead of the double's own. */
    serverTls?: { certPem: string; keyPem: string };
}

/** A running double. */
export interface Double {
    url: string;
    /** PEM of the CA that signed the double's HTTPS certificate (give it to clients as caPem). */
    caPem: string;
    /** Every request received, in order. */
    requests: SeenRequest[];
    /** Scripted faults, consumed in order; push more at any time. */
    script: Step[];
    /** Requests received whose path starts with `prefix`. */
    count(prefix?: string): number;
    /** TLS handshakes completed so far (each new client connection makes one). */
    handshakes(): number;
    close(): Promise<void>;
}

/** An answer as Elasticsearch gives it: JSON with the product header. */
export function elastic(body: object, status = 200, headers: Record<string, string> = {}): Answer {
    return { status, headers: { "content-type": "application/json", "x-elastic-product": "Elasticsearch", ...headers }, body };
}

let tlsMaterial: Promise<{ caPem: string; certPem: string; keyPem: string }> | undefined;

function material() {
    tlsMaterial ??= (async () => {
        const ca = await generateCa({ commonName: "flaky double CA" });
        const leaf = await issueNodeCertificate(ca, { commonName: "flaky-double", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
        return { caPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem };
    })();
    return tlsMaterial;
}

/** Starts a double on a free loopback port. */
export async function startDouble(opts: DoubleOptions = {}): Promise<Double> {
    const m = await material();
    const started = Date.now();
    const requests: SeenRequest[] = [];
    const script: Step[] = [];
    const sockets = new Set<{ destroy(): void; on(ev: "close", f: () => void): unknown }>();

    const send = (res: import("http").ServerResponse, reply: Exclude<Reply, { delayMs: number }>) => {
        if (reply === "reset") {
            res.socket?.destroy();
            return;
        }
        const body = reply.body === undefined ? "" : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
        res.writeHead(reply.status, { "content-length": Buffer.byteLength(body), ...(reply.headers ?? {}) });
        res.end(body);
    };

    const cert = opts.serverTls?.certPem ?? (opts.sendChain ? m.certPem + m.caPem : m.certPem);
    const server = https.createServer({ cert, key: opts.serverTls?.keyPem ?? m.keyPem }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const seen: SeenRequest = { method: req.method ?? "GET", path: req.url ?? "/", at: Date.now() - started, body: Buffer.concat(chunks).toString() };
            requests.push(seen);
            const step = script.find((s) => s.times > 0 && (!s.when || s.when(seen)));
            if (step) {
                step.times--;
                const reply = step.reply;
                if (typeof reply === "object" && "delayMs" in reply) {
                    setTimeout(() => passOn(req, res, seen), reply.delayMs);
                    return;
                }
                seen.answeredBy = "script";
                send(res, reply);
                return;
            }
            passOn(req, res, seen);
        });
    });
    function passOn(req: import("http").IncomingMessage, res: import("http").ServerResponse, seen: SeenRequest): void {
        if (res.destroyed || res.socket?.destroyed) {
            return; // the client gave up while the request was held
        }
        {
            if (opts.upstream) {
                seen.answeredBy = "upstream";
                const target = new URL(seen.path, opts.upstream.url);
                const headers = { ...req.headers };
                delete headers.host;
                const up = https.request(target, { method: seen.method, headers, ca: opts.upstream.caPem }, (ur) => {
                    res.writeHead(ur.statusCode ?? 502, ur.headers);
                    ur.pipe(res);
                });
                up.on("error", (e) => send(res, { status: 502, headers: { "content-type": "text/plain" }, body: `double: upstream failed: ${e.message}` }));
                up.end(seen.body);
                return;
            }
            seen.answeredBy = "answer";
            const a = opts.answer ? opts.answer(seen) : elastic({});
            send(res, typeof a === "object" && "delayMs" in a ? elastic({}) : a as Answer | "reset");
        }
    }
    let handshakes = 0;
    server.on("secureConnection", () => void handshakes++);
    server.on("connection", (s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return {
        url: `https://127.0.0.1:${port}`,
        caPem: m.caPem,
        requests,
        script,
        count: (prefix = "") => requests.filter((r) => r.path.startsWith(prefix)).length,
        handshakes: () => handshakes,
        close: () => new Promise<void>((resolve) => {
            sockets.forEach((s) => s.destroy());
            server.close(() => resolve());
        }),
    };
}
