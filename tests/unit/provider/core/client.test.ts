/**
 * provider/core/client: retries with backoff and a bound, TLS verification by default, and a clear
 * error for every answer that is not Elasticsearch's.
 *
 * The cluster here is a TEST DOUBLE (tests/support/flakyProxy.ts), an HTTPS server on loopback, not
 * Elasticsearch: a real node cannot be made to answer 429/503, an HTML page or a body without its
 * product header on demand. tests/integration/faults.test.ts puts the same double in front of a
 * real cluster.
 */
import * as assert from "assert";
import { errors } from "@elastic/elasticsearch";
import {
    backoffMs, callCluster, clientFor, closeClients, ClusterConnection, createClient, pooledClientCount, DEFAULT_MAX_RETRIES, RETRY_BASE_DELAY_MS, RETRY_MAX_DELAY_MS, RetryPolicy,
} from "../../../../provider/core/client";
import * as crypto from "crypto";
import * as tls from "tls";
import { generateCa, issueNodeCertificate } from "../../../../provider/certs/pem";
import { ClusterUnreachableError, EsRemoteError } from "../../../../provider/core/errors";
import * as link from "../../../../provider/remoteClusterLink";
import { clearProbeMemo } from "../../../../provider/link/probe";
import { Double, elastic, startDouble } from "../../../support/flakyProxy";

const PASSWORD = "double-pw-not-for-logs";

/** The base64 DER of each certificate `url` presents, leaf first. */
function tlsChain(url: string): Promise<string[]> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () => {
            const out: string[] = [];
            let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
            while (c?.raw && !out.includes(c.raw.toString("base64"))) {
                out.push(c.raw.toString("base64"));
                c = c.issuerCertificate;
            }
            socket.destroy();
            resolve(out);
        });
        socket.once("error", reject);
    });
}

/** Records the backoffs instead of sleeping: no test here waits for real. */
function recorder(): { waits: number[]; policy: Partial<RetryPolicy> } {
    const waits: number[] = [];
    return { waits, policy: { sleep: async (ms: number) => void waits.push(ms) } };
}

function conn(d: Double, extra: Partial<ClusterConnection> = {}): ClusterConnection {
    return { urls: [d.url], username: "elastic", password: PASSWORD, caPem: d.caPem, ...extra };
}

/** One GET _cluster/settings through createClient + callCluster, as the hooks do it. */
async function getSettings(c: ClusterConnection, policy?: Partial<RetryPolicy>): Promise<unknown> {
    const client = createClient(c, { label: "local" });
    try {
        return await callCluster("local", c, "read the cluster settings (GET _cluster/settings)", () => client.cluster.getSettings(), policy);
    } finally {
        await client.close();
    }
}

/** Asserts a ClusterUnreachableError naming the cluster and its URL, with no stack in its message and no password. */
function assertClear(e: unknown, d: Double, ...fragments: RegExp[]): true {
    assert.ok(e instanceof ClusterUnreachableError, `expected a ClusterUnreachableError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    const m = (e as Error).message;
    assert.ok(m.includes(`local cluster (${d.url})`), `the message names the cluster and its URL: ${m}`);
    assert.ok(!/\n\s+at /.test(m), `no stack trace in the message: ${m}`);
    assert.ok(!m.includes(PASSWORD), "no password in the message");
    for (const f of fragments) {
        assert.match(m, f);
    }
    return true;
}

describe("provider/core/client", function () {
    this.timeout(30000);

    describe("backoffMs: exponential, jittered, bounded", () => {
        const policy = (r: number) => ({ baseDelayMs: RETRY_BASE_DELAY_MS, maxDelayMs: RETRY_MAX_DELAY_MS, random: () => r });

        it("retry n waits within [c/2, c] for c = base · 2^(n-1)", () => {
            for (let n = 1; n <= 4; n++) {
                const c = RETRY_BASE_DELAY_MS * 2 ** (n - 1);
                assert.strictEqual(backoffMs(n, policy(0)), c / 2, `retry ${n}, no jitter`);
                assert.strictEqual(backoffMs(n, policy(0.999999)), Math.round(c - c / 2 * 0.000001), `retry ${n}, most jitter`);
            }
        });
        it("never waits longer than the cap, however many retries", () => {
            for (const n of [5, 10, 50, 1000]) {
                assert.ok(backoffMs(n, policy(0.999)) <= RETRY_MAX_DELAY_MS, `retry ${n}`);
            }
        });
        it("honours a longer Retry-After, cut to the cap; a shorter one does not shorten the backoff", () => {
            assert.strictEqual(backoffMs(1, policy(0), 3), 3000);
            assert.strictEqual(backoffMs(1, policy(0), 3600), RETRY_MAX_DELAY_MS);
            assert.strictEqual(backoffMs(3, policy(0), 0.1), RETRY_BASE_DELAY_MS * 2);
        });
        it("the default bound is 3 retries", () => assert.strictEqual(DEFAULT_MAX_RETRIES, 3));
    });

    describe("transient errors against a double", () => {
        let d: Double;
        beforeEach(async () => {
            d = await startDouble({ answer: () => elastic({ persistent: {}, transient: {} }) });
        });
        afterEach(async () => d.close());

        for (const status of [429, 503, 502, 504]) {
            it(`HTTP ${status} twice, then OK: retried twice with growing backoff, and the answer comes through`, async () => {
                d.script.push({ times: 2, reply: elastic({ error: { type: "es_rejected_execution_exception", reason: "queue full" }, status }, status) });
                const r = recorder();
                const res = await getSettings(conn(d), r.policy);
                assert.deepStrictEqual(res, { persistent: {}, transient: {} });
                assert.strictEqual(d.count("/_cluster/settings"), 3);
                assert.strictEqual(r.waits.length, 2);
                assert.ok(r.waits[0] >= RETRY_BASE_DELAY_MS / 2 && r.waits[0] <= RETRY_BASE_DELAY_MS, `first wait ${r.waits[0]}`);
                assert.ok(r.waits[1] >= RETRY_BASE_DELAY_MS && r.waits[1] <= 2 * RETRY_BASE_DELAY_MS, `second wait ${r.waits[1]}`);
            });
        }

        it("HTTP 429 for ever: exactly 1 + maxRetries requests, then a clear error naming the cluster and the status", async () => {
            d.script.push({ times: 100, reply: elastic({ error: { type: "circuit_breaking_exception", reason: "[parent] Data too large" }, status: 429 }, 429) });
            const r = recorder();
            await assert.rejects(getSettings(conn(d, { maxRetries: 4 }), r.policy),
                (e) => assertClear(e, d, /answered HTTP 429 \(too many requests\)/, /5 attempts/, /\[parent\] Data too large/, /maxRetries/));
            assert.strictEqual(d.count("/_cluster/settings"), 5);
            assert.strictEqual(r.waits.length, 4);
            for (let i = 1; i < r.waits.length; i++) {
                assert.ok(r.waits[i] >= r.waits[i - 1] / 2, "the ceiling doubles: a wait is never less than half the previous one");
            }
        });

        it("HTTP 503 for ever with the default policy: 1 + 3 requests", async () => {
            d.script.push({ times: 100, reply: elastic({ error: { type: "master_not_discovered_exception", reason: "no master" }, status: 503 }, 503) });
            const r = recorder();
            await assert.rejects(getSettings(conn(d), r.policy), (e) => assertClear(e, d, /answered HTTP 503 \(unavailable\)/, /4 attempts/, /no master/));
            assert.strictEqual(d.count("/_cluster/settings"), 1 + DEFAULT_MAX_RETRIES);
        });

        it("maxRetries 0: one request, no wait", async () => {
            d.script.push({ times: 100, reply: elastic({ error: { type: "es_rejected_execution_exception", reason: "queue full" }, status: 429 }, 429) });
            const r = recorder();
            await assert.rejects(getSettings(conn(d, { maxRetries: 0 }), r.policy), (e) => assertClear(e, d, /HTTP 429/));
            assert.strictEqual(d.count(), 1);
            assert.deepStrictEqual(r.waits, []);
        });

        it("honours Retry-After on 429", async () => {
            d.script.push({ times: 1, reply: elastic({ error: { type: "x", reason: "slow down" }, status: 429 }, 429, { "retry-after": "2" }) });
            const r = recorder();
            await getSettings(conn(d), r.policy);
            assert.deepStrictEqual(r.waits, [2000]);
        });

        it("a dropped connection is retried too", async () => {
            d.script.push({ times: 2, reply: "reset" });
            const r = recorder();
            assert.deepStrictEqual(await getSettings(conn(d), r.policy), { persistent: {}, transient: {} });
            assert.strictEqual(d.count(), 3);
        });

        it("a connection dropped after the request was sent leaves the outcome unknown, and the error says so in its details", async () => {
            d.script.push({ times: 100, reply: "reset" });
            await assert.rejects(getSettings(conn(d, { maxRetries: 1 }), recorder().policy), (e: Error) => {
                assertClear(e, d, /could not be reached/, /2 attempts/);
                assert.strictEqual((e as ClusterUnreachableError).details.outcomeUnknown, true);
                return true;
            });
        });

        it("a refused connection proves the request was never sent: outcome known", async () => {
            const port = d.url.split(":").pop();
            await d.close();
            await assert.rejects(getSettings({ urls: [`https://127.0.0.1:${port}`], maxRetries: 1 }, recorder().policy), (e: Error) => {
                assert.ok(e instanceof ClusterUnreachableError);
                assert.strictEqual(e.details.outcomeUnknown, false);
                return true;
            });
            d = await startDouble();
        });

        it("Elasticsearch's own refusal (400) is not retried and passes through as its ResponseError", async () => {
            d.script.push({ times: 100, reply: elastic({ error: { type: "illegal_argument_exception", reason: "persistent setting [x], not recognized" }, status: 400 }, 400) });
            const r = recorder();
            await assert.rejects(getSettings(conn(d), r.policy), (e) => {
                assert.ok(e instanceof errors.ResponseError);
                assert.strictEqual(e.statusCode, 400);
                return true;
            });
            assert.strictEqual(d.count(), 1);
        });

        it("a cluster that is not there: retried, then a clear error (real waits, the default policy)", async () => {
            const gone = { urls: ["https://127.0.0.1:1"], username: "elastic", password: PASSWORD, maxRetries: 1 };
            await assert.rejects(getSettings(gone), (e: Error) => {
                assert.ok(e instanceof ClusterUnreachableError);
                assert.match(e.message, /local cluster \(https:\/\/127\.0\.0\.1:1\) could not be reached while trying to read the cluster settings .*\(2 attempts over/);
                assert.match(e.message, /check that the cluster is running/);
                return true;
            });
        });
    });

    describe("one pooled client per cluster connection in a process", () => {
        let d: Double;
        beforeEach(async () => {
            await closeClients();
            d = await startDouble({ answer: () => elastic({ persistent: {}, transient: {} }) });
        });
        afterEach(async () => {
            await closeClients();
            await d.close();
        });

        it("hooks that reach the same cluster share one client: handshakes do not grow with the hooks", async () => {
            const c = conn(d);
            for (let i = 0; i < 10; i++) {
                // Each iteration is what one hook does: look the client up, send, never close.
                const client = clientFor({ ...c, urls: [...c.urls] });
                await callCluster("local", c, "read the cluster settings", () => client.cluster.getSettings());
            }
            assert.strictEqual(d.count("/_cluster/settings"), 10);
            assert.strictEqual(pooledClientCount(), 1);
            // undici may open a second socket while the first is being returned to its pool; what
            // matters is that ten hooks do not make ten handshakes (a client per hook did).
            assert.ok(d.handshakes() <= 2, `10 hooks made ${d.handshakes()} TLS handshakes`);
            const before = d.handshakes();
            for (let i = 0; i < 3; i++) await getSettings(c);
            assert.strictEqual(d.handshakes() - before, 3, "a client per call (the old way) makes a handshake per call");
        });

        it("other credentials or another CA setting get their own client; closeClients empties the pool", async () => {
            const a = clientFor(conn(d));
            const b = clientFor(conn(d, { password: "another-password" }));
            const a2 = clientFor(conn(d));
            assert.strictEqual(a, a2);
            assert.notStrictEqual(a, b);
            assert.strictEqual(pooledClientCount(), 2);
            await closeClients();
            assert.strictEqual(pooledClientCount(), 0);
            assert.notStrictEqual(clientFor(conn(d)), a, "a closed client is never handed out again");
        });
    });

    describe("TLS is verified unless insecure", () => {
        let d: Double;
        before(async () => {
            d = await startDouble();
        });
        after(async () => d.close());

        it("a connection without caPem does not trust the double's private CA: refused at once, with the fix", async () => {
            const r = recorder();
            await assert.rejects(getSettings({ urls: [d.url], username: "elastic", password: PASSWORD }, r.policy),
                (e) => assertClear(e, d, /could not be reached/, /HTTP certificate is not trusted: set local\.caPem/));
            assert.strictEqual(d.count(), 0, "no request got through the TLS handshake");
            assert.deepStrictEqual(r.waits, [], "a certificate error is not retried");
        });
        it("caPem of another CA is refused too", async () => {
            const other = await generateCa({ commonName: "some other CA" });
            await assert.rejects(getSettings({ urls: [d.url], caPem: other.certPem }), (e) => assertClear(e, d, /not trusted/));
            assert.strictEqual(d.count(), 0);
        });
        it("with caPem, or with insecure: true, the request goes through", async () => {
            assert.deepStrictEqual(await getSettings(conn(d)), {});
            assert.deepStrictEqual(await getSettings({ urls: [d.url], insecure: true }), {});
        });
    });

    describe("caFingerprint trusts exactly that CA, with full verification", () => {
        const fingerprint = (pem: string) => new crypto.X509Certificate(pem).fingerprint256;

        it("a server that presents its CA in the chain: the CA's fingerprint connects (with or without colons, any case)", async () => {
            const d = await startDouble({ sendChain: true });
            try {
                for (const fp of [fingerprint(d.caPem), fingerprint(d.caPem).replace(/:/g, "").toLowerCase()]) {
                    assert.deepStrictEqual(await getSettings({ urls: [d.url], caFingerprint: fp, maxRetries: 0 }), {});
                }
            } finally {
                await d.close();
            }
        });

        it("another fingerprint, or the server certificate's own, is refused before any request", async () => {
            const d = await startDouble({ sendChain: true });
            try {
                const other = await generateCa({ commonName: "not this one" });
                await assert.rejects(getSettings({ urls: [d.url], caFingerprint: fingerprint(other.certPem), maxRetries: 0 }), (e) => assertClear(e, d, /holds no certificate with the caFingerprint given/));
                const leafPem = `-----BEGIN CERTIFICATE-----\n${(await tlsChain(d.url))[0]}\n-----END CERTIFICATE-----\n`;
                await assert.rejects(getSettings({ urls: [d.url], caFingerprint: fingerprint(leafPem), maxRetries: 0 }), (e) => assertClear(e, d, /is not a CA certificate/));
                assert.strictEqual(d.count(), 0);
            } finally {
                await d.close();
            }
        });

        it("a server that sends only its own certificate cannot be verified by fingerprint: refused, saying to give caPem", async () => {
            const d = await startDouble();
            try {
                await assert.rejects(getSettings({ urls: [d.url], caFingerprint: fingerprint(d.caPem), maxRetries: 0 }), (e) => assertClear(e, d, /Elasticsearch sends its CA only when its HTTP certificate file holds the whole chain: give caPem/));
            } finally {
                await d.close();
            }
        });

        it("an impostor that appends the real CA to its own chain is refused (the fingerprint alone is not trust)", async () => {
            const real = await startDouble({ sendChain: true });
            // Same subject as the real CA, other key: the impostor's certificate names the real CA as issuer.
            const fake = await generateCa({ commonName: "flaky double CA" });
            const leaf = await issueNodeCertificate(fake, { commonName: "flaky-double", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
            const impostor = await startDouble({ serverTls: { certPem: leaf.certPem + real.caPem, keyPem: leaf.keyPem } });
            try {
                await assert.rejects(getSettings({ urls: [impostor.url], caFingerprint: fingerprint(real.caPem), maxRetries: 0 }), (e) => assertClear(e, impostor, /could not be reached/));
                assert.strictEqual(impostor.count(), 0, "the credentials never reached the impostor");
            } finally {
                await impostor.close();
                await real.close();
            }
        });
    });

    describe("answers that are not Elasticsearch's: a clear error naming the cluster, never a crash", () => {
        let d: Double;
        beforeEach(async () => {
            d = await startDouble({ answer: () => elastic({}) });
        });
        afterEach(async () => d.close());

        const html = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>";
        const cases: Array<{ name: string; reply: () => void; expect: RegExp[] }> = [
            {
                name: "200 with an HTML page (wrong content type)",
                reply: () => d.script.push({ times: 9, reply: { status: 200, headers: { "content-type": "text/html", "x-elastic-product": "Elasticsearch" }, body: "<html><body>Welcome to nginx!</body></html>" } }),
                expect: [/not Elasticsearch's JSON/, /"Welcome to nginx!"/, /local\.urls/],
            },
            {
                name: "200 JSON without the X-Elastic-Product header (not Elasticsearch)",
                reply: () => d.script.push({ times: 9, reply: { status: 200, headers: { "content-type": "application/json" }, body: { persistent: {} } } }),
                expect: [/did not answer as Elasticsearch/, /X-Elastic-Product/],
            },
            {
                name: "404 HTML page (a URL of another service)",
                reply: () => d.script.push({ times: 9, reply: { status: 404, headers: { "content-type": "text/html" }, body: "<h1>Not Found</h1>" } }),
                expect: [/answered HTTP 404 with a page that is not from Elasticsearch: "Not Found"/, /local\.urls/],
            },
            {
                name: "502 HTML page from a proxy, every time (retried, then given up)",
                reply: () => d.script.push({ times: 99, reply: { status: 502, headers: { "content-type": "text/html" }, body: html } }),
                expect: [/answered HTTP 502 with a page that is not from Elasticsearch: "502 Bad Gateway 502 Bad Gateway nginx"/, /4 attempts/, /overloaded or restarting/],
            },
            {
                name: "JSON content type with a body that is not JSON",
                reply: () => d.script.push({ times: 9, reply: { status: 200, headers: { "content-type": "application/json", "x-elastic-product": "Elasticsearch" }, body: "{\"persistent\": {" } }),
                expect: [/gave an unexpected answer/],
            },
            {
                name: "an empty 200 without a content type",
                reply: () => d.script.push({ times: 9, reply: { status: 200, headers: { "x-elastic-product": "Elasticsearch" } } }),
                expect: [/not Elasticsearch's JSON .*: an empty body/],
            },
        ];
        for (const c of cases) {
            it(c.name, async () => {
                c.reply();
                await assert.rejects(getSettings(conn(d), recorder().policy), (e) => assertClear(e, d, ...c.expect));
            });
        }

        it("an HTML page is refused with meta: true too (a 404-tolerant read would take it for 'absent')", async () => {
            d.script.push({ times: 9, reply: { status: 200, headers: { "content-type": "text/html", "x-elastic-product": "Elasticsearch" }, body: "<p>login</p>" } });
            const c = conn(d);
            const client = createClient(c, { label: "local" });
            try {
                await assert.rejects(callCluster("local", c, "read role 'r' (GET _security/role)", () =>
                    client.transport.request({ method: "GET", path: "/_security/role/r" }, { ignore: [404], meta: true }), recorder().policy),
                (e) => assertClear(e, d, /not Elasticsearch's JSON/, /"login"/));
            } finally {
                await client.close();
            }
        });
    });

    describe("the RemoteClusterLink hooks facing a double with missing fields and garbage", () => {
        let d: Double;
        /** Per path prefix: what the double answers. Unlisted paths answer like an empty Elasticsearch. */
        let routes: Record<string, () => ReturnType<typeof elastic>>;
        beforeEach(async () => {
            clearProbeMemo();
            routes = {};
            d = await startDouble({
                answer: (r) => {
                    const key = Object.keys(routes).find((p) => `${r.method} ${r.path}`.startsWith(p));
                    return key ? routes[key]() : elastic({});
                },
            });
        });
        afterEach(async () => d.close());

        const inputs = () => ({ local: conn(d, { maxRetries: 0 }), alias: "garbage", seeds: ["127.0.0.1:9300"], waitForConnection: false });

        it("check: _nodes/settings without 'nodes' → a failure on 'local.urls', not a crash", async () => {
            routes["GET /_nodes"] = () => elastic({ cluster_name: "x" });
            const r = await link.check({}, inputs());
            assert.strictEqual(r.failures?.length, 1);
            assert.strictEqual(r.failures![0].property, "local.urls");
            assert.match(r.failures![0].reason, /local cluster answered GET _nodes without a 'nodes' object/);
        });

        it("check: nodes with garbage in place of settings and versions → a failure on 'local.urls' naming the node, never a pass", async () => {
            routes["GET /_nodes"] = () => elastic({ nodes: { a: "not an object", b: { version: 42, settings: [] } } });
            routes["GET /_ssl/certificates"] = () => elastic({ not: "a list" });
            const r = await link.check({}, inputs());
            assert.deepStrictEqual(r.failures?.map((f) => f.property), ["local.urls"]);
            assert.match(r.failures![0].reason, /answered GET _nodes with node 'a' as "not an object": no version to judge/);
            assert.ok(!/TypeError|Cannot read/.test(r.failures![0].reason));
        });

        it("create: _cluster/settings as an HTML page → ClusterUnreachableError naming the cluster; nothing else sent", async () => {
            routes["GET /_cluster/settings"] = () => ({ status: 200, headers: { "content-type": "text/html", "x-elastic-product": "Elasticsearch" }, body: "<p>maintenance</p>" });
            await assert.rejects(link.create(inputs()), (e) => assertClear(e, d, /not Elasticsearch's JSON/, /"maintenance"/));
            assert.strictEqual(d.requests.filter((r) => r.method === "PUT").length, 0, "nothing was written after the garbage answer");
        });

        it("create: _remote/info as garbage → the link is reported not connected, not a crash", async () => {
            routes["GET /_nodes"] = () => elastic({ nodes: { a: { version: "9.1.0" } } });
            routes["GET /_remote/info"] = () => elastic({ garbage: [1, 2, 3] });
            const r = await link.create(inputs());
            assert.strictEqual(r.outs.connected, false);
        });

        const isPut = (r: { method: string; path: string }) => r.method === "PUT" && r.path.startsWith("/_cluster/settings");

        it("create: the write's connection drops (outcome unknown), the cleanup works → what may have been written is removed", async () => {
            d.script.push({ when: isPut, times: 1 + 3, reply: "reset" });
            await assert.rejects(link.create({ ...inputs(), local: conn(d) }), (e: Error) => {
                assert.ok(e instanceof EsRemoteError, `${e.name}: ${e.message}`);
                assert.match(e.message, new RegExp(`the settings of remote cluster 'garbage' were sent to the local cluster \\(${d.url.replace(/[.]/g, "\\.")}\\), then creating it failed: local cluster .* could not be reached`));
                assert.match(e.message, /the settings this link wrote were removed$/);
                assert.strictEqual((e as { id?: string }).id, undefined, "nothing is recorded: the cleanup took it back");
                return true;
            });
            const puts = d.requests.filter(isPut);
            assert.strictEqual(puts.length, 5, "4 attempts of the write, then the cleanup");
            assert.ok(Object.values(JSON.parse(puts[4].body).persistent).every((v) => v === null), "the cleanup nulls the alias's keys");
        });

        it("create: write and cleanup both fail → the error carries id and properties (with the provider), so the engine records the link as unfinished", async () => {
            d.script.push({ when: isPut, times: 99, reply: "reset" });
            await assert.rejects(link.create({ ...inputs(), local: conn(d), __provider: "provider-text" }), (e: any) => {
                assert.strictEqual(e.name, "CreateInterruptedError");
                assert.strictEqual(e.id, "garbage");
                assert.strictEqual(e.properties.__provider, "provider-text");
                assert.strictEqual(e.properties.createInterrupted, true);
                assert.strictEqual(e.properties.connected, false);
                assert.strictEqual(e.properties.alias, "garbage");
                assert.deepStrictEqual(e.reasons, [e.message]);
                assert.match(e.message, /taking back what it wrote failed: write the settings .*run 'pulumi up' again once the local cluster answers/);
                assert.ok(!JSON.stringify(e.properties).includes("undefined"));
                return true;
            });
        });

        it("create: a refused write (nothing sent) is not recorded and not cleaned up", async () => {
            const closed = { ...conn(d), urls: ["https://127.0.0.1:1"], maxRetries: 0 };
            await assert.rejects(link.create({ ...inputs(), local: closed, __provider: "p" }), (e: any) => {
                assert.strictEqual(e.name, "ClusterUnreachableError");
                assert.strictEqual(e.id, undefined);
                return true;
            });
        });

        it("update after an interrupted create writes every key, not only what changed", async () => {
            routes["GET /_nodes"] = () => elastic({ nodes: { a: { version: "9.1.0" } } });
            const state = { ...inputs(), local: conn(d), mode: "sniff", connected: false, createInterrupted: true } as link.LinkOutputs;
            const r = await link.update("garbage", state, { ...inputs(), local: conn(d) });
            const put = d.requests.find(isPut);
            assert.ok(put, "the update wrote");
            assert.deepStrictEqual(JSON.parse(put!.body).persistent["cluster.remote.garbage.seeds"], ["127.0.0.1:9300"]);
            assert.strictEqual((r.outs as any).createInterrupted, undefined, "the flag is gone once finished");
        });

        it("read: _cluster/settings with 'persistent' of the wrong type → a clear error naming the cluster, never 'the link is gone'", async () => {
            routes["GET /_cluster/settings"] = () => elastic({ persistent: "oops" });
            const state = { ...inputs(), mode: "sniff", connected: true, localVersion: "9.1.0" } as link.LinkOutputs;
            await assert.rejects(link.read("garbage", state), (e) => assertClear(e, d, /unexpected answer to GET _cluster\/settings: 'persistent' is "oops"/));
        });
    });
});
