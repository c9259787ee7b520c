/**
 * provider/core/facts: cluster facts read once per process, forgotten when they may have changed,
 * and a cluster found unreachable found out once, not once per resource.
 *
 * The cluster here is a TEST DOUBLE (tests/support/flakyProxy.ts), an HTTPS server on loopback, not
 * Elasticsearch: a real node cannot be made to hold every answer past the timeout, or to vanish and
 * come back on the same port on demand, and the double counts every request it receives.
 */
import * as assert from "assert";
import { generateCa } from "../../../../provider/certs/pem";
import { callCluster, clientFor, closeClients, ClusterConnection, RetryPolicy } from "../../../../provider/core/client";
import { ClusterUnreachableError } from "../../../../provider/core/errors";
import { cachedFact, clearFacts, factReads, forgetFact, forgetFacts, rememberFact } from "../../../../provider/core/facts";
import { Double, elastic, startDouble } from "../../../support/flakyProxy";

const UUID_PATH = "/_cluster/state/metadata";

function conn(d: Double | string, extra: Partial<ClusterConnection> = {}): ClusterConnection {
    const url = typeof d === "string" ? d : d.url;
    const caPem = typeof d === "string" ? undefined : d.caPem;
    return { urls: [url], username: "elastic", password: "double-pw", caPem, ...extra };
}

/** The cluster UUID the way CrossClusterRole reads it, through the fact cache. */
function uuid(c: ClusterConnection, policy?: Partial<RetryPolicy>): Promise<string | undefined> {
    return cachedFact(c, "clusterUuid", async () => {
        const r = await callCluster("local", c, "read the cluster UUID (GET _cluster/state/metadata)", () =>
            clientFor(c).transport.request<{ metadata?: { cluster_uuid?: string } }>({ method: "GET", path: UUID_PATH, querystring: { filter_path: "metadata.cluster_uuid" } }), policy);
        return r?.metadata?.cluster_uuid;
    });
}

/** One GET through the shared client and callCluster, as every hook sends it. */
function get(c: ClusterConnection, policy?: Partial<RetryPolicy>): Promise<unknown> {
    return callCluster("remote", c, "read the cluster settings (GET _cluster/settings)", () => clientFor(c).cluster.getSettings(), policy);
}

/** Records backoffs instead of sleeping. */
function recorder(): { waits: number[]; policy: Partial<RetryPolicy> } {
    const waits: number[] = [];
    return { waits, policy: { sleep: async (ms: number) => void waits.push(ms) } };
}

describe("provider/core/facts", function () {
    this.timeout(60_000);
    let d: Double;

    beforeEach(async () => {
        clearFacts();
        d = await startDouble({
            answer: (r) => r.path.startsWith(UUID_PATH) ? elastic({ metadata: { cluster_uuid: "uuid-of-the-double" } }) : elastic({ persistent: {} }),
        });
    });
    afterEach(async () => {
        await closeClients();
        await d.close();
        clearFacts();
    });

    describe("cachedFact", () => {
        it("reads a cluster's UUID once for 20 concurrent and 5 later callers", async () => {
            const c = conn(d);
            const first = await Promise.all(Array.from({ length: 20 }, () => uuid(c)));
            for (let i = 0; i < 5; i++) first.push(await uuid(c));
            assert.deepStrictEqual(new Set(first), new Set(["uuid-of-the-double"]));
            assert.strictEqual(d.count(UUID_PATH), 1);
            assert.strictEqual(factReads(), 1);
        });

        it("keeps facts apart per connection: other credentials read again", async () => {
            await uuid(conn(d));
            await uuid(conn(d, { username: "someone-else" }));
            await uuid(conn(d, { apiKey: "a2V5", username: undefined, password: undefined }));
            assert.strictEqual(d.count(UUID_PATH), 3);
        });

        it("reads again after forgetFact, after forgetFacts of its tag or connection, and when older than maxAgeMs", async () => {
            const c = conn(d);
            const other = conn(d, { username: "other" });
            const settings = (x: ClusterConnection, maxAgeMs?: number) =>
                cachedFact(x, "settings", () => get(x), { maxAgeMs, tags: ["certificates"] });
            await uuid(c);
            await settings(c);
            await settings(other);
            forgetFact(c, "clusterUuid");
            await uuid(c);
            assert.strictEqual(d.count(UUID_PATH), 2);
            // Only the tagged facts go; the UUID stays.
            forgetFacts({ tag: "certificates" });
            await settings(c);
            await settings(other);
            await uuid(c);
            assert.strictEqual(d.count("/_cluster/settings"), 4);
            assert.strictEqual(d.count(UUID_PATH), 2);
            // Only this connection's facts go.
            forgetFacts({ conn: other });
            await settings(c);
            await settings(other);
            assert.strictEqual(d.count("/_cluster/settings"), 5);
            // Older than maxAgeMs: read again; younger: not.
            await settings(c, 60_000);
            assert.strictEqual(d.count("/_cluster/settings"), 5);
            await new Promise((r) => setTimeout(r, 60));
            await settings(c, 20);
            assert.strictEqual(d.count("/_cluster/settings"), 6);
        });

        it("scope cluster: one read for every user of the same URLs; a fact remembered on the way is not read again", async () => {
            const read = (c: ClusterConnection) => cachedFact(c, "clusterUuid", () => uuid(c), { scope: "cluster" });
            await read(conn(d));
            await read(conn(d, { username: "someone-else" }));
            assert.strictEqual(d.count(UUID_PATH), 1);
            const other = await startDouble({ answer: () => elastic({ metadata: { cluster_uuid: "uuid-of-the-other" } }) });
            try {
                rememberFact(conn(other), "clusterUuid", "learnt-by-a-probe", { scope: "cluster" });
                assert.strictEqual(await cachedFact(conn(other, { apiKey: "a2V5", username: undefined, password: undefined }), "clusterUuid", () => uuid(conn(other)), { scope: "cluster" }), "learnt-by-a-probe");
                assert.strictEqual(other.count(UUID_PATH), 0);
                forgetFacts({ conn: conn(other) });
                assert.strictEqual(await cachedFact(conn(other), "clusterUuid", () => uuid(conn(other)), { scope: "cluster" }), "uuid-of-the-other");
                assert.strictEqual(other.count(UUID_PATH), 1);
            } finally {
                await other.close();
            }
        });

        it("keepIf: a value it refuses (no UUID yet) is read again next time", async () => {
            const c = conn(d);
            const answers = ["_na_", "uuid-now"];
            const read = () => cachedFact(c, "clusterUuid", async () => { await get(c); return answers.shift(); }, { scope: "cluster", keepIf: (u) => u !== "_na_" });
            assert.strictEqual(await read(), "_na_");
            assert.strictEqual(await read(), "uuid-now");
            assert.strictEqual(await read(), "uuid-now");
            assert.strictEqual(d.count("/_cluster/settings"), 2);
        });

        it("never keeps a failed read", async () => {
            const c = conn(d);
            d.script.push({ when: (r) => r.path.startsWith(UUID_PATH), times: 1, reply: elastic({ error: { type: "illegal_argument_exception", reason: "scripted" }, status: 400 }, 400) });
            await assert.rejects(uuid(c), /scripted|illegal_argument/);
            assert.strictEqual(await uuid(c), "uuid-of-the-double");
            assert.strictEqual(await uuid(c), "uuid-of-the-double");
            assert.strictEqual(d.count(UUID_PATH), 2);
        });
    });

    describe("a cluster found unreachable", () => {
        it("refused: the next requests fail at once, name the first failure and are not sent", async () => {
            const closed = d.url;
            await d.close();
            d = await startDouble();
            const c = conn(closed, { maxRetries: 1 });
            const r = recorder();
            await assert.rejects(get(c, r.policy), (e: unknown) => e instanceof ClusterUnreachableError && /ECONNREFUSED/.test(e.message) && e.details.knownDown === undefined);
            assert.strictEqual(r.waits.length, 1);
            const t0 = Date.now();
            const later = await Promise.allSettled(Array.from({ length: 15 }, () => get(c, r.policy)));
            const ms = Date.now() - t0;
            assert.strictEqual(r.waits.length, 1, "no request retried");
            for (const x of later) {
                assert.strictEqual(x.status, "rejected");
                const e = (x as PromiseRejectedResult).reason;
                assert.ok(e instanceof ClusterUnreachableError, String(e));
                // knownDown: thrown before the request was handed to the client.
                assert.strictEqual(e.details.knownDown, true);
                assert.strictEqual(e.details.outcomeUnknown, false);
                assert.ok(e.cause instanceof ClusterUnreachableError, "the first failure is the cause");
                assert.match(e.message, /found unreachable .* s ago in this run, so nothing was sent this time \(first failure: remote cluster \(https:\/\/127\.0\.0\.1:\d+\) could not be reached/);
            }
            // A caller that opts out (a poller waiting for a restart) still tries.
            await assert.rejects(get(c, { ...r.policy, failFastWhenDown: false, maxRetries: 0 }), (e: unknown) => e instanceof ClusterUnreachableError && e.details.knownDown === undefined && /ECONNREFUSED/.test(e.message));
            // Figures, not a bound.
            console.log(`      15 requests to a cluster known down: ${ms} ms`);
        });

        it("a refused connection: one request retries, the others wait for its outcome instead of retrying too", async () => {
            const closed = d.url;
            await d.close();
            d = await startDouble();
            const c = conn(closed, { maxRetries: 3 });
            const owner = recorder();
            const others = recorder();
            // The first request's first backoff starts the 9 others, so they find its retries under way.
            let started: Promise<PromiseSettledResult<unknown>[]> | undefined;
            const first = get(c, {
                sleep: async (ms) => {
                    owner.waits.push(ms);
                    started ??= Promise.allSettled(Array.from({ length: 9 }, () => get(c, others.policy)));
                },
            });
            await assert.rejects(first, (e: unknown) => e instanceof ClusterUnreachableError && /4 attempts/.test(e.message) && /ECONNREFUSED/.test(e.message));
            const rest = await started!;
            assert.strictEqual(owner.waits.length, 3, "the first request retried maxRetries times");
            assert.deepStrictEqual(others.waits, [], "no other request retried");
            for (const r of rest) {
                assert.strictEqual(r.status, "rejected");
                assert.ok((r as PromiseRejectedResult).reason instanceof ClusterUnreachableError);
                assert.strictEqual((r as PromiseRejectedResult).reason.details.knownDown, true);
            }
            // A request after it: at once, no backoff.
            await assert.rejects(get(c, others.policy), (e: unknown) => e instanceof ClusterUnreachableError && e.details.knownDown === true);
            assert.deepStrictEqual(others.waits, []);
        });

        it("a request timing out on an open connection is a busy cluster, not a down one: the next request is sent", async () => {
            const c = conn(d, { requestTimeoutSeconds: 0.5, maxRetries: 0 });
            d.script.push({ times: 1, reply: { delayMs: 3000 } });
            await assert.rejects(get(c), (e: unknown) => e instanceof ClusterUnreachableError && /timed out|timeout/i.test(e.message));
            const before = d.count("/_cluster/settings");
            await get(c);
            assert.strictEqual(d.count("/_cluster/settings"), before + 1);
        });

        it("is not what an answering cluster does: HTTP 503 after the retries, a reset, a certificate refused", async () => {
            const c = conn(d, { maxRetries: 1 });
            const r = recorder();
            d.script.push({ times: 2, reply: elastic({ error: "unavailable", status: 503 }, 503) });
            await assert.rejects(get(c, r.policy), (e: unknown) => e instanceof ClusterUnreachableError && (e as ClusterUnreachableError).details.status === 503);
            d.script.push({ times: 2, reply: "reset" });
            await assert.rejects(get(c, r.policy), (e: unknown) => e instanceof ClusterUnreachableError && e.details.knownDown === undefined);
            const before = d.count("/_cluster/settings");
            await get(c, r.policy);
            assert.strictEqual(d.count("/_cluster/settings"), before + 1, "still asked after a 503 and a reset");
            // A CA that did not sign the double's certificate: refused every time, never "down".
            const wrongCa = conn(d, { caPem: (await generateCa({ commonName: "not the double's CA" })).certPem });
            for (let i = 0; i < 2; i++) {
                await assert.rejects(get(wrongCa, r.policy), (e: unknown) => e instanceof ClusterUnreachableError && e.details.knownDown === undefined && /caPem/.test(e.message));
            }
        });
    });
});
