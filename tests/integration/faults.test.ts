/**
 * Faults, bad input and TLS on real Elasticsearch, through the hooks (the e2e suites do the same
 * through the real Pulumi CLI). This suite starts its OWN two 9.x clusters (transport certificates
 * from one CA) because it stops and restarts them; they are stopped by PID in `after`, whatever
 * happens.
 *
 * Where a fault cannot be produced by a real node on demand (HTTP 429/503), a TEST DOUBLE
 * (tests/support/flakyProxy.ts) stands between the hooks and the real cluster and answers the
 * scripted faults itself, passing everything else through. The tests that use it say so.
 *
 * Figures (durations of the faults) are printed with a `[faults]` prefix for the issue's note; no
 * test asserts a tight timing, only bounds that a hang would break.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Worker } from "worker_threads";
import { generateCa, IssuedCa } from "../../provider/certs/pem";
import { ClusterConnection } from "../../provider/core/client";
import { ClusterUnreachableError, EsRemoteError } from "../../provider/core/errors";
import { writeFileAtomic } from "../../provider/certs/delivery";
import * as crossClusterRole from "../../provider/crossClusterRole";
import * as crossClusterUser from "../../provider/crossClusterUser";
import * as nodeCertificate from "../../provider/nodeCertificate";
import { clearProbeMemo } from "../../provider/link/probe";
import * as link from "../../provider/remoteClusterLink";
import { ClusterInfo, ES_VERSIONS, freePort, startCluster } from "../../rig/elasticsearch";
import { connectionTo, remoteKeys, withClient } from "../support/connections";
import { Double, elastic, startDouble } from "../support/flakyProxy";
import { HaltablePair, waitFor } from "../support/haltable";
import { BAD_INPUTS, BadInputContext } from "../unit/fixtures/badInput";

const figures: string[] = [];
function figure(line: string): void {
    figures.push(line);
    process.stderr.write(`[faults] ${line}\n`);
}

/** Runs `fn`, capturing what pulumi.log wrote (outside the engine: console.log / console.warn). */
async function logsOf<T>(fn: () => Promise<T>): Promise<{ result?: T; error?: unknown; logs: string[] }> {
    const logs: string[] = [];
    const [log, warn] = [console.log, console.warn];
    console.log = (...a: unknown[]) => void logs.push(a.map(String).join(" "));
    console.warn = (...a: unknown[]) => void logs.push(a.map(String).join(" "));
    try {
        return { result: await fn(), logs };
    } catch (error) {
        return { error, logs };
    } finally {
        [console.log, console.warn] = [log, warn];
    }
}

/** Everything an input could change on a cluster: persistent and transient settings, roles, users. */
async function clusterSnapshot(c: ClusterInfo): Promise<unknown> {
    return withClient(c, async (client) => {
        const settings = await client.cluster.getSettings({ flat_settings: true });
        const roles = await client.security.getRole();
        const users = await client.security.getUser();
        return { persistent: settings.persistent, transient: settings.transient, roles, users };
    });
}


describe("faults on real clusters (own clusters, stopped and restarted here)", function () {
    this.timeout(15 * 60 * 1000);
    let ca: IssuedCa;
    let pair: HaltablePair;
    const halt = (which: "local" | "remote") => pair.halt(which);
    const restart = (which: "local" | "remote") => pair.restart(which);

    before(async function () {
        ca = await generateCa({ commonName: "faults suite transport CA" });
        const t0 = Date.now();
        const [local, remote] = await Promise.all([
            startCluster({ name: "f-local", version: ES_VERSIONS.v9, transportCa: ca, heapMb: 512 }),
            startCluster({ name: "f-remote", version: ES_VERSIONS.v9, transportCa: ca, heapMb: 512 }),
        ]);
        pair = new HaltablePair({ local, remote });
        figure(`two clusters (${ES_VERSIONS.v9}) started in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    });
    after(async function () {
        this.timeout(180000);
        // The latest ClusterInfo of each (a restart changes the PIDs): stop by PID, remove the files.
        await pair?.stopAll();
        process.stderr.write(`[faults] summary:\n${figures.map((f) => `  - ${f}`).join("\n")}\n`);
    });
    beforeEach(() => clearProbeMemo());

    const linkInputs = (extra: Record<string, unknown> = {}): any => ({
        local: connectionTo(pair.local), remote: connectionTo(pair.remote), alias: "faults", mode: "sniff", seeds: [pair.remote.transportAddress], ...extra,
    });

    describe("bad input against a real cluster: refused by check, and the cluster is unchanged", () => {
        it("the fixture's link, role and user cases, pointed at the real clusters, are each refused and nothing changes", async () => {
            const ctx: BadInputContext = {
                ca, otherCa: await generateCa({ commonName: "other" }),
                leaf: { certPem: "", keyPem: "" } as any, encryptedCaKey: "", url: pair.local.url, remoteUrl: pair.remote.url, httpCaPem: fs.readFileSync(pair.local.httpCaFile, "utf8"), dir: "/nonexistent",
            };
            const hooks = { RemoteClusterLink: link, CrossClusterRole: crossClusterRole, CrossClusterUser: crossClusterUser } as const;
            const before = [await clusterSnapshot(pair.local), await clusterSnapshot(pair.remote)];
            const cases = BAD_INPUTS.filter((c) => c.resource in hooks);
            for (const c of cases) {
                const hook = hooks[c.resource as keyof typeof hooks];
                const r = await hook.check({}, c.news(ctx));
                assert.deepStrictEqual(r.failures?.map((f: { property: string }) => f.property), [c.property], c.why);
                // What the hooks do if check was bypassed: create refuses too (roles and users) or,
                // for a link, is never reached by the engine; either way nothing may change.
                if (c.resource !== "RemoteClusterLink") {
                    await assert.rejects(hook.create(c.news(ctx)), (e: Error) => e.name === "InputError");
                }
            }
            assert.deepStrictEqual([await clusterSnapshot(pair.local), await clusterSnapshot(pair.remote)], before);
            figure(`${cases.length} malformed link/role/user inputs checked against real clusters: all refused, settings/roles/users unchanged on both`);
        });

        it("inputs only the cluster can judge are refused at check by name, nothing written; a wrong seed is removed after the timeout", async () => {
            const before = await clusterSnapshot(pair.local);
            const refused: Array<[string, any, string, RegExp]> = [
                ["a wrong password", linkInputs({ local: { ...connectionTo(pair.local), password: "wrong-pw" } }), "local.urls", /refused the credentials .*HTTP 401/],
                ["no CA for the HTTP certificate (TLS verified by default)", linkInputs({ local: { ...connectionTo(pair.local), caPem: undefined } }), "local.urls", /HTTP certificate is not trusted: set local\.caPem/],
                ["another cluster's HTTP CA", linkInputs({ remote: { ...connectionTo(pair.remote), caPem: fs.readFileSync(pair.local.httpCaFile, "utf8") } }), "remote.urls", /not trusted/],
                ["a remote that does not answer", linkInputs({ remote: { ...connectionTo(pair.remote), urls: [`https://127.0.0.1:${await freePort()}`], maxRetries: 0 } }), "remote.urls", /remote cluster .* could not be reached/],
            ];
            for (const [why, news, property, reason] of refused) {
                clearProbeMemo();
                const r = await link.check({}, news);
                assert.strictEqual(r.failures?.[0]?.property, property, `${why}: ${JSON.stringify(r.failures)}`);
                assert.match(r.failures![0].reason, reason, why);
                assert.ok(!JSON.stringify(r.failures).includes(pair.local.password), why);
            }
            assert.deepStrictEqual(await clusterSnapshot(pair.local), before);

            // The HTTP port as a seed passes check (nothing can tell before trying); create waits,
            // then removes what it wrote.
            const news = linkInputs({ alias: "http_port_seed", seeds: [`127.0.0.1:${pair.remote.httpPort}`], connectionTimeoutSeconds: 10 });
            assert.deepStrictEqual((await link.check({}, news)).failures, []);
            const t0 = Date.now();
            await assert.rejects(link.create(news), /did not connect within 10s; the settings this link wrote were removed/);
            figure(`HTTP port given as a seed: create failed after ${((Date.now() - t0) / 1000).toFixed(1)} s (timeout 10 s), keys removed`);
            assert.deepStrictEqual(await clusterSnapshot(pair.local), before);
        });
    });

    describe("TLS on the HTTP layer of a real cluster", () => {
        it("verified by default: without caPem refused; with insecure: true it works and warns on every check", async () => {
            const insecure = { ...connectionTo(pair.local), caPem: undefined, insecure: true };
            for (let run = 1; run <= 2; run++) {
                clearProbeMemo();
                const r = await logsOf(() => link.check({}, linkInputs({ alias: "insecure_run", local: insecure })));
                assert.deepStrictEqual((r.result as any)?.failures, [], String(r.error));
                assert.ok(r.logs.some((l) => /local\.insecure is set: the cluster's HTTP certificate is NOT verified/.test(l)), `run ${run}: ${r.logs.join(" | ")}`);
            }
        });
    });

    describe("caFingerprint against a real node", () => {
        it("refused while the node sends only its own certificate; connects once its HTTP certificate file holds the chain; a wrong fingerprint is refused", async () => {
            const httpCa = fs.readFileSync(pair.local.httpCaFile, "utf8");
            const fp = new crypto.X509Certificate(httpCa).fingerprint256;
            const byFingerprint = (f: string) => linkInputs({ alias: "by_fingerprint", remote: undefined, local: { ...connectionTo(pair.local), caPem: undefined, caFingerprint: f, maxRetries: 0 } });
            const r1 = await link.check({}, byFingerprint(fp));
            assert.strictEqual(r1.failures?.[0]?.property, "local.urls");
            assert.match(r1.failures![0].reason, /holds no certificate with the caFingerprint given; .*give caPem/);

            // Elasticsearch re-reads its HTTP certificate file about every 5 s: append the CA.
            const crt = path.join(pair.local.configDir, "certs", "http.crt");
            const leafOnly = fs.readFileSync(crt, "utf8");
            writeFileAtomic(crt, leafOnly + httpCa, 0o644);
            try {
                await waitFor("the node to present its CA", 60000, async () => {
                    clearProbeMemo();
                    return ((await link.check({}, byFingerprint(fp))).failures ?? ["x"]).length === 0;
                });
                const other = new crypto.X509Certificate((await generateCa({ commonName: "other" })).certPem).fingerprint256;
                clearProbeMemo();
                const r2 = await link.check({}, byFingerprint(other));
                assert.strictEqual(r2.failures?.[0]?.property, "local.urls");
                figure("caFingerprint on a real node: refused with the leaf alone (says to give caPem), accepted once the HTTP chain holds the CA, refused with another fingerprint");
            } finally {
                writeFileAtomic(crt, leafOnly, 0o644);
            }
        });
    });

    describe("transient HTTP errors between the hooks and a real cluster", () => {
        // A TEST DOUBLE in front of the real local cluster answers the scripted 429/503 itself (real
        // nodes cannot be made to answer them on demand) and passes every other request through.
        let proxy: Double;
        before(async () => {
            proxy = await startDouble({ upstream: { url: pair.local.url, caPem: fs.readFileSync(pair.local.httpCaFile, "utf8") } });
        });
        after(async () => proxy.close());
        const viaProxy = (extra: Partial<ClusterConnection> = {}): ClusterConnection => ({ ...connectionTo(pair.local), urls: [proxy.url], caPem: proxy.caPem, ...extra });
        const isPut = (r: { method: string; path: string }) => r.method === "PUT" && r.path.startsWith("/_cluster/settings");

        it("429 then 503 on the write: retried with backoff, the link is created once with the right values", async () => {
            proxy.script.push({ when: isPut, times: 1, reply: elastic({ error: { type: "es_rejected_execution_exception", reason: "rejected execution (queue capacity 1000)" }, status: 429 }, 429) });
            proxy.script.push({ when: isPut, times: 1, reply: elastic({ error: { type: "cluster_block_exception", reason: "blocked by: [SERVICE_UNAVAILABLE/2/no master]" }, status: 503 }, 503) });
            const news = { local: viaProxy(), alias: "flaky_write", seeds: [pair.remote.transportAddress], connectionTimeoutSeconds: 60 };
            const t0 = Date.now();
            const created = await link.create(news);
            const puts = proxy.requests.filter(isPut);
            figure(`429 + 503 on PUT _cluster/settings: created after ${puts.length} attempts in ${((Date.now() - t0) / 1000).toFixed(1)} s (backoff waits at ${puts.map((p) => p.at - puts[0].at).join(", ")} ms)`);
            assert.strictEqual(created.outs.connected, true);
            assert.strictEqual(puts.length, 3);
            assert.deepStrictEqual(puts.map((p) => p.answeredBy), ["script", "script", "upstream"]);
            assert.ok(puts[1].at - puts[0].at >= 200 && puts[2].at - puts[1].at >= 400, "a pause between attempts (backoff), not an immediate retry");
            assert.deepStrictEqual(await remoteKeys(pair.local, "flaky_write"), {
                "cluster.remote.flaky_write.mode": "sniff",
                "cluster.remote.flaky_write.seeds": [pair.remote.transportAddress],
            });

            // 503 for ever on delete: bounded (1 + maxRetries attempts), a clear error, and the settings
            // stay (the state keeps the resource, so a second destroy finishes the job).
            const before = proxy.requests.filter(isPut).length;
            proxy.script.push({ when: isPut, times: 99, reply: { status: 503, headers: { "content-type": "text/html" }, body: "<h1>503 Service Temporarily Unavailable</h1>" } });
            await assert.rejects(link.delete("flaky_write", { ...created.outs, local: viaProxy({ maxRetries: 2 }) }), (e: Error) => {
                assert.ok(e instanceof ClusterUnreachableError, e.message);
                assert.match(e.message, /local cluster \(https:\/\/127\.0\.0\.1:\d+\) answered HTTP 503 .*"503 Service Temporarily Unavailable".*3 attempts/);
                return true;
            });
            assert.strictEqual(proxy.requests.filter(isPut).length - before, 3);
            assert.strictEqual(Object.keys(await remoteKeys(pair.local, "flaky_write")).length, 2, "nothing lost: the settings are still there");
            proxy.script.length = 0;
            await link.delete("flaky_write", { ...created.outs, local: viaProxy() });
            assert.deepStrictEqual(await remoteKeys(pair.local, "flaky_write"), {});
        });
    });

    describe("the remote cluster is down at create", () => {
        before(async () => figure(`remote cluster halted in ${(await halt("remote")).toFixed(1)} s`));
        after(async () => figure(`remote cluster restarted in ${(await restart("remote")).toFixed(1)} s`));

        it("with remote given, check refuses at preview naming the remote cluster; nothing is written", async () => {
            const before = await remoteKeys(pair.local);
            const r = await link.check({}, linkInputs({ alias: "remote_down_check", remote: { ...connectionTo(pair.remote), maxRetries: 0 } }));
            assert.strictEqual(r.failures?.[0]?.property, "remote.urls");
            assert.match(r.failures![0].reason, new RegExp(`remote cluster \\(${pair.remote.url.replace(/[.]/g, "\\.")}\\) could not be reached`));
            assert.deepStrictEqual(await remoteKeys(pair.local), before);
        });

        it("waitForConnection: fails within the timeout (+ a few seconds), and what was written is removed", async () => {
            const timeout = 15;
            const news = linkInputs({ alias: "remote_down_wait", remote: undefined, connectionTimeoutSeconds: timeout });
            assert.deepStrictEqual((await link.check({}, news)).failures, []);
            const t0 = Date.now();
            await assert.rejects(link.create(news), (e: Error) => {
                assert.strictEqual(e.name, "RemoteNotConnectedError");
                assert.match(e.message, new RegExp(`did not connect within ${timeout}s; the settings this link wrote were removed`));
                return true;
            });
            const took = (Date.now() - t0) / 1000;
            figure(`remote down, waitForConnection, timeout ${timeout} s: failed after ${took.toFixed(1)} s, keys removed`);
            assert.deepStrictEqual(await remoteKeys(pair.local, "remote_down_wait"), {});
        });

        it("skipUnavailable + waitForConnection: false: created, says the remote is not connected yet, connects once the remote is back", async () => {
            const news = linkInputs({ alias: "remote_down_skip", remote: undefined, skipUnavailable: true, waitForConnection: false });
            const r = await logsOf(() => link.create(news));
            assert.ok(r.result, String(r.error));
            const created = r.result as Awaited<ReturnType<typeof link.create>>;
            assert.strictEqual(created.outs.connected, false);
            assert.ok(r.logs.some((l) => /remote cluster 'remote_down_skip' is registered but not connected yet/.test(l)), r.logs.join(" | "));
            assert.deepStrictEqual(await remoteKeys(pair.local, "remote_down_skip"), {
                "cluster.remote.remote_down_skip.mode": "sniff",
                "cluster.remote.remote_down_skip.seeds": [pair.remote.transportAddress],
                "cluster.remote.remote_down_skip.skip_unavailable": "true",
            });
            // A search over the unavailable remote is skipped, not failed (skip_unavailable at work).
            const res = await withClient(pair.local, (c) => c.search({ index: "remote_down_skip:*", query: { match_all: {} } }));
            assert.strictEqual((res as any)._clusters?.skipped, 1, JSON.stringify((res as any)._clusters));

            await restart("remote");
            const t0 = Date.now();
            // Elasticsearch does not redial a sniff remote by itself: the first cross-cluster request
            // after the remote is back makes it reconnect (seen on 9.5: _remote/info alone stays
            // disconnected for minutes). A search stands for the user's first query.
            const polls = { n: 0 };
            await waitFor("the link to connect after the remote came back", 120000, async () => {
                polls.n++;
                await withClient(pair.local, (c) => c.search({ index: "remote_down_skip:*", query: { match_all: {} } })).catch(() => undefined);
                return (await link.read("remote_down_skip", created.outs)).props?.connected === true;
            });
            figure(`skipUnavailable link: connected ${((Date.now() - t0) / 1000).toFixed(1)} s after the remote was back (${polls.n} search+read polls)`);
            await link.delete("remote_down_skip", created.outs);
            assert.deepStrictEqual(await remoteKeys(pair.local, "remote_down_skip"), {});
        });
    });

    describe("the local cluster stops in the middle of a create", () => {
        it("a clear error naming the local cluster; after the restart the link converges without manual repair", async () => {
            // A seed nobody listens on: the link is written, then create waits for a connection that
            // never comes, and the local cluster is stopped during that wait.
            const dead = `127.0.0.1:${await freePort()}`;
            const news = linkInputs({ alias: "local_dies", remote: undefined, seeds: [dead], connectionTimeoutSeconds: 120 });
            const creating = link.create({ ...news, __provider: "serialized-provider-text" });
            creating.catch(() => undefined);
            await waitFor("the link's settings to be written", 60000, async () => Object.keys(await remoteKeys(pair.local, "local_dies")).length > 0);
            const t0 = Date.now();
            await halt("local");
            const err: any = await creating.then(() => undefined, (e: unknown) => e);
            figure(`local cluster halted during create: create failed ${((Date.now() - t0) / 1000).toFixed(1)} s after the halt began`);
            assert.ok(err, "create must fail");
            assert.ok((err as unknown) instanceof EsRemoteError, `${err?.name}: ${err?.message}`);
            assert.match(err.message, new RegExp(`local cluster \\(${pair.local.url.replace(/[.]/g, "\\.")}\\)`));
            assert.ok(!err.message.includes(pair.local.password));
            figure(`the error: ${err.message.replace(/\s+/g, " ").slice(0, 400)}`);

            figure(`local cluster restarted in ${(await restart("local")).toFixed(1)} s`);
            const onCluster = await remoteKeys(pair.local, "local_dies");
            figure(`after the restart the cluster holds ${Object.keys(onCluster).length} key(s) of the interrupted link; error carries ${err.id ? "a partial state (id + properties)" : "no partial state"}`);

            // The local cluster is halted, so removing what was written cannot succeed: the create must
            // hand the engine a partial state (id + properties), which it records and runs update on
            // at the next `up` — no manual repair.
            assert.strictEqual(err.name, "CreateInterruptedError", `${err.name}: ${err.message}`);
            assert.strictEqual(err.id, "local_dies");
            assert.strictEqual(err.properties.__provider, "serialized-provider-text", "the partial state keeps the provider, or later hooks could not run");
            assert.ok(Object.keys(onCluster).length > 0, "the state claims only what is on the cluster");
            const fixed = { ...news, seeds: [pair.remote.transportAddress] };
            clearProbeMemo();
            const updated = await link.update(err.id, err.properties, fixed);
            assert.strictEqual(updated.outs!.connected, true);
            await link.delete(err.id, updated.outs!);
            assert.deepStrictEqual(await remoteKeys(pair.local, "local_dies"), {});
        });
    });

    describe("files written for a node: 0600 keys, atomic writes", () => {
        it("a NodeCertificate delivered into a running node's config: key 0600, owner kept, a concurrent reader never sees a partial file, the node serves it", async () => {
            const dir = path.join(pair.local.configDir, "certs");
            const keyFile = path.join(dir, "transport.key");
            const ownerBefore = fs.statSync(keyFile);
            // A reader thread reads the key and certificate files as fast as it can while they are
            // replaced; every read must be a whole PEM (old or new), never a torn one.
            const reader = new Worker(`
                const { parentPort, workerData } = require("worker_threads");
                const fs = require("fs");
                let reads = 0, torn = [];
                const stop = Date.now() + workerData.ms;
                while (Date.now() < stop) {
                    for (const f of workerData.files) {
                        let s;
                        try { s = fs.readFileSync(f, "utf8"); } catch (e) { torn.push(f + ": " + e.code); continue; }
                        reads++;
                        if (!/^-----BEGIN [A-Z ]+-----\\n[\\s\\S]+\\n-----END [A-Z ]+-----\\n$/.test(s)) torn.push(f + ": " + s.length + " bytes");
                    }
                }
                parentPort.postMessage({ reads, torn });
            `, { eval: true, workerData: { ms: 8000, files: [keyFile, path.join(dir, "transport.crt")] } });
            const done = new Promise<{ reads: number; torn: string[] }>((resolve, reject) => {
                reader.once("message", resolve);
                reader.once("error", reject);
            });
            const inputs: any = {
                caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: pair.local.nodeName, dnsNames: ["localhost", pair.local.nodeName], ipAddresses: ["127.0.0.1"],
                delivery: { directory: dir },
                verifyOn: { connection: connectionTo(pair.local), nodeName: pair.local.nodeName, timeoutSeconds: 90 },
            };
            let writes = 0;
            let last: any;
            for (let i = 0; i < 5; i++) {
                last = await nodeCertificate.create({ ...inputs, verifyOn: undefined });
                writes++;
            }
            const { reads, torn } = await done;
            figure(`key/cert files replaced ${writes} times while a thread read them ${reads} times: ${torn.length} torn reads`);
            assert.ok(reads > 100, `the reader really ran (${reads} reads)`);
            assert.deepStrictEqual(torn, []);
            const st = fs.statSync(keyFile);
            assert.strictEqual(st.mode & 0o777, 0o600);
            assert.strictEqual(st.uid, ownerBefore.uid, "the key file keeps its owner, so Elasticsearch can still read it");
            assert.strictEqual(fs.readFileSync(keyFile, "utf8"), last.outs.keyPem);
            assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), [], "no temporary file left behind");

            const served = await nodeCertificate.create(inputs);
            assert.strictEqual(served.outs.servedByNode, true);
        });
    });
});
