/**
 * The certificate chain a TLS listener presents: one handshake, nothing sent. Used through
 * core/nodes (per-node facts) and by core/client (a CA pinned by fingerprint).
 */
import * as net from "net";
import * as tls from "tls";

/** What one TLS handshake with a node's listener showed. */
export interface PeerCertificates {
    /** The chain the listener presented, leaf first, each certificate once; empty if none arrived. */
    chain: tls.DetailedPeerCertificate[];
    /** True once the handshake completed (with `verify`, the chain verified too). */
    secure: boolean;
    /** True once a TCP connection was made (false: refused, unroutable, filtered). */
    tcpUp: boolean;
    /** Why the handshake did not complete. A chain may still have arrived (TLS 1.3 servers reject a missing client certificate after sending their own). */
    error?: NodeJS.ErrnoException;
    /** The handshake did not finish within the time given. */
    timedOut?: boolean;
}

/** `host` and `port` of `host:port` or `[v6]:port`; undefined when it has no port. */
export function splitHostPort(address: string): { host: string; port: number } | undefined {
    const m = /^\[?(.+?)\]?:(\d+)$/.exec(address.trim());
    return m ? { host: m[1], port: Number(m[2]) } : undefined;
}

/**
 * Opens a TLS connection to `host:port`, reads the chain presented and closes it; nothing is sent.
 * Verification is off unless `verify` (then against `ca`, or the system's CAs): callers that
 * compare fingerprints or read names are stricter than a chain check, and must see what a
 * misconfigured node presents. The server name (SNI) is the host unless it is an IP address.
 */
export function peerCertificates(host: string, port: number, opts: { servername?: string; ca?: string; verify?: boolean; timeoutMs?: number } = {}): Promise<PeerCertificates> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise((resolve) => {
        let tcpUp = false;
        let done = false;
        const chainOf = (): tls.DetailedPeerCertificate[] => {
            const chain: tls.DetailedPeerCertificate[] = [];
            let c: tls.DetailedPeerCertificate | undefined;
            try {
                c = socket.getPeerCertificate(true);
            } catch {
                return chain;
            }
            while (c && c.raw && !chain.some((x) => x.fingerprint256 === c!.fingerprint256)) {
                chain.push(c);
                c = c.issuerCertificate;
            }
            return chain;
        };
        const finish = (r: Omit<PeerCertificates, "chain" | "tcpUp">) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            const chain = chainOf();
            socket.destroy();
            resolve({ chain, tcpUp, ...r });
        };
        const socket = tls.connect({
            host, port, ca: opts.ca, rejectUnauthorized: opts.verify === true,
            servername: opts.servername ?? (net.isIP(host) ? undefined : host),
        });
        socket.once("connect", () => {
            tcpUp = true;
        });
        socket.once("secureConnect", () => finish({ secure: true }));
        socket.once("error", (error: NodeJS.ErrnoException) => finish({ secure: false, error }));
        const timer = setTimeout(() => finish({ secure: false, timedOut: true, error: new Error(`TLS handshake with ${host}:${port} timed out`) }), timeoutMs);
    });
}
