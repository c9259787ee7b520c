/**
 * Issue #3's quality bar on real nodes: SharedCa + NodeCertificate (delivery + verifyOn) make two
 * clusters that start with unrelated bootstrap CAs link as remotes; a node certificate from a CA
 * the other side does not trust is refused by real Elasticsearch (the node's own log line is shown);
 * same-CA rotation and CA rotation happen under running nodes, without restarts, while the link
 * keeps working.
 *
 * The suite starts its OWN two clusters — A: 9.x (the remote, holds the data), B: 8.19.x (the
 * local cluster, searches A as `certs_a:<index>`) — because it replaces their certificates. They
 * are stopped by PID in `after`, whatever happens. The tests build on each other, in order.
 *
 * Why every step also opens a *fresh* link: TLS certificates are checked during the handshake only.
 * An open transport connection survives any certificate or trust change (step 5 shows it), so "the
 * existing link still searches" proves continuity but not trust; a new alias opens new connections
 * and proves that both nodes accept each other's current certificates.
 *
 * Timing: Elasticsearch re-reads certificate files every ~5 s; every wait is bounded polling (the
 * NodeCertificate hook's own verifyOn wait, or the node's "reloaded [...]" log line), never a
 * timing assertion. Figures are printed with a `[certs]` prefix.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { describeCertificate, normalizeSerial } from "../../provider/certs/pem";
import { writeFileAtomic, PUBLIC_FILE_MODE } from "../../provider/certs/delivery";
import * as nodeCertificate from "../../provider/nodeCertificate";
import { NodeCertificateInputs, NodeCertificateOutputs } from "../../provider/nodeCertificate";
import { servedSerials, transportHandshake } from "../../provider/certs/verify";
import { clearProbeMemo } from "../../provider/link/probe";
import * as link from "../../provider/remoteClusterLink";
import * as sharedCa from "../../provider/sharedCa";
import { SharedCaOutputs } from "../../provider/sharedCa";
import { forgetUnreachable } from "../../provider/core/facts";
import { ClusterInfo, ES_VERSIONS, freePort, haltCluster, restartCluster, startCluster, stopCluster } from "../../rig/elasticsearch";
import { connectionTo, remoteKeys, withClient } from "../support/connections";

const ALIAS = "certs_a";
const INDEX = "certs-docs";

const figures: string[] = [];
function figure(line: string): void {
    figures.push(line);
    process.stderr.write(`[certs] ${line}\n`);
}
const secs = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

/** Everything the hooks logged (pulumi.log outside the engine goes to console), for the secrets audit. */
const hookLogs: string[] = [];
async function hook<T>(fn: () => Promise<T>): Promise<T> {
    const [log, warn] = [console.log, console.warn];
    const tee = (orig: (...a: unknown[]) => void) => (...a: unknown[]) => {
        hookLogs.push(a.map(String).join(" "));
        orig(...a);
    };
    console.log = tee(log);
    console.warn = tee(warn);
    try {
        return await fn();
    } finally {
        [console.log, console.warn] = [log, warn];
    }
}

// ---- the node's own log ---------------------------------------------------------------------------

function logFile(c: ClusterInfo): string {
    return path.join(c.dir, "logs", `${c.name}.log`);
}

/** Current size of the node's log: lines written after this offset are what a step caused. */
function logMark(c: ClusterInfo): number {
    try {
        return fs.statSync(logFile(c)).size;
    } catch {
        return 0;
    }
}

function logSince(c: ClusterInfo, mark: number): string[] {
    try {
        const fd = fs.openSync(logFile(c), "r");
        try {
            const size = fs.fstatSync(fd).size;
            const buf = Buffer.alloc(Math.max(0, size - mark));
            fs.readSync(fd, buf, 0, buf.length, mark);
            return buf.toString("utf8").split("\n");
        } finally {
            fs.closeSync(fd);
        }
    } catch {
        return [];
    }
}

/** Polls the node's log (from `mark`) until a line matches `re`; returns that line. */
async function waitForLogLine(c: ClusterInfo, mark: number, re: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const lines = logSince(c, mark);
        const hit = lines.find((l) => re.test(l));
        if (hit) {
            return hit;
        }
        if (Date.now() >= deadline) {
            throw new Error(`${c.name}: no log line matching ${re} within ${timeoutMs / 1000} s; new lines:\n${lines.slice(-30).join("\n")}`);
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}

// ---- what the nodes report ------------------------------------------------------------------------

/** Serials of the CA certificates node `c` reads from `certs/transport-ca.crt` (GET _ssl/certificates). */
async function trustedCaSerials(c: ClusterInfo): Promise<string[]> {
    const certs = await withClient(c, (client) => client.ssl.certificates());
    return certs
        .filter((e) => e.path.endsWith("transport-ca.crt") && !e.has_private_key)
        .map((e) => normalizeSerial(e.serial_number))
        .sort();
}

/** The serial the node's transport port presents in a TLS handshake right now. */
async function presentedSerial(c: ClusterInfo): Promise<string | undefined> {
    return (await transportHandshake(c.transportAddress)).serialNumber;
}

// ---- the suite ------------------------------------------------------------------------------------

interface Held {
    id: string;
    inputs: NodeCertificateInputs;
    outs: NodeCertificateOutputs;
}

describe("certificates on real nodes (own 9.x and 8.19.x clusters): trust, rejection, rotation", function () {
    this.timeout(10 * 60 * 1000);
    /** A: 9.x, the remote (holds the data). B: 8.19.x, the local cluster that searches A. */
    let a: ClusterInfo;
    let b: ClusterInfo;
    const started: ClusterInfo[] = [];
    /** The NodeCertificate each node serves now (hook state as the engine would keep it). */
    const held = new Map<ClusterInfo, Held>();
    let ca1: SharedCaOutputs;
    let linkState: { id: string; outs: any } | undefined;

    before(async function () {
        const t0 = Date.now();
        const results = await Promise.allSettled([
            startCluster({ name: "certs-a9", version: ES_VERSIONS.v9, heapMb: 512 }),
            startCluster({ name: "certs-b819", version: ES_VERSIONS.v819, heapMb: 512 }),
        ]);
        for (const r of results) {
            if (r.status === "fulfilled") started.push(r.value);
        }
        const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failed) throw failed.reason;
        [a, b] = started;
        figure(`clusters ${a.version} and ${b.version} (each with its own bootstrap transport CA) started in ${secs(t0)}`);
    });

    after(async function () {
        this.timeout(180000);
        if (linkState) {
            await link.delete(linkState.id, linkState.outs).catch(() => undefined);
        }
        await Promise.allSettled(started.map((c) => stopCluster(c)));
        process.stderr.write(`[certs] summary:\n${figures.map((f) => `  - ${f}`).join("\n")}\n`);
    });

    beforeEach(() => clearProbeMemo());

    /**
     * RemoteClusterLink.check, with the provider's per-process probe memo cleared first: the memo
     * keeps each cluster's `_ssl/certificates` for 60 s, and this suite changes certificates between
     * two checks a few seconds apart (without the clear, the check after the certificates were
     * delivered still saw the bootstrap CAs and refused).
     */
    async function linkCheck(inputs: any): Promise<any> {
        clearProbeMemo();
        return hook(() => link.check({}, inputs));
    }

    const certsDir = (c: ClusterInfo) => path.join(c.configDir, "certs");
    const verifyOn = (c: ClusterInfo) => ({ connection: connectionTo(c), nodeName: c.nodeName, timeoutSeconds: 60 });
    function certInputs(c: ClusterInfo, ca: SharedCaOutputs, extra: Partial<NodeCertificateInputs> = {}): NodeCertificateInputs {
        return {
            caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: c.nodeName, dnsNames: ["localhost", c.nodeName], ipAddresses: ["127.0.0.1"],
            delivery: { directory: certsDir(c) }, verifyOn: verifyOn(c), ...extra,
        };
    }
    const linkInputs = (alias: string, extra: Record<string, unknown> = {}): any => ({
        local: connectionTo(b), remote: connectionTo(a), alias, mode: "sniff", seeds: [a.transportAddress],
        skipUnavailable: false, connectionTimeoutSeconds: 30, ...extra,
    });

    async function newCa(commonName: string): Promise<SharedCaOutputs> {
        const checked = await sharedCa.check({}, { commonName });
        assert.strictEqual(checked.failures, undefined);
        return (await sharedCa.create(checked.inputs!)).outs as SharedCaOutputs;
    }

    /** Creates a NodeCertificate through check + create; create returns once the node serves it (verifyOn). */
    async function issue(c: ClusterInfo, inputs: NodeCertificateInputs): Promise<Held> {
        const t0 = Date.now();
        const checked = await hook(() => nodeCertificate.check({} as NodeCertificateInputs, inputs));
        assert.strictEqual(checked.failures, undefined, JSON.stringify(checked.failures));
        const created = await hook(() => nodeCertificate.create(checked.inputs as NodeCertificateInputs));
        const outs = created.outs as NodeCertificateOutputs;
        assert.strictEqual(outs.servedByNode, true);
        assert.strictEqual(outs.deliveryInSync, true);
        figure(`${c.name}: certificate ${outs.serialNumber} (issuer ${describeCertificate(outs.certPem).issuer}) written and served in ${secs(t0)}`);
        return { id: created.id, inputs, outs };
    }

    /**
     * What `pulumi up` does when a NodeCertificate must be replaced: diff says replace, the new one is
     * created (same files: the node reloads them, verifyOn waits), then the old one is deleted and,
     * its files now holding the successor's PEMs, leaves them alone.
     */
    async function replace(c: ClusterInfo, news: NodeCertificateInputs, because: string): Promise<Held> {
        const old = held.get(c)!;
        const d = await nodeCertificate.diff(old.id, old.outs, news);
        assert.ok(d.replaces!.includes(because), `${c.name}: expected a replacement because of ${because}, got ${JSON.stringify(d)}`);
        const next = await issue(c, news);
        assert.notStrictEqual(next.outs.serialNumber, old.outs.serialNumber);
        await hook(() => nodeCertificate.delete(old.id, old.outs));
        const onDisk = fs.readFileSync(path.join(certsDir(c), "transport.crt"), "utf8");
        assert.strictEqual(onDisk, next.outs.certPem, `${c.name}: deleting the replaced certificate must leave its successor's files`);
        held.set(c, next);
        return next;
    }

    async function remoteInfo(alias: string): Promise<Record<string, any> | undefined> {
        return withClient(b, async (client) => (await client.cluster.remoteInfo() as Record<string, any>)[alias]);
    }

    /** B searches A through the long-lived link. */
    async function searchThroughLink(): Promise<unknown[]> {
        const res = await withClient(b, (client) => client.search({ index: `${ALIAS}:${INDEX}` }));
        return res.hits.hits.map((h) => h._source);
    }

    /** The long-lived link is connected and searches; a new alias connects too (fresh handshakes both ways). */
    async function linkWorks(step: string): Promise<void> {
        const info = await remoteInfo(ALIAS);
        assert.strictEqual(info?.connected, true, `${step}: ${ALIAS} not connected: ${JSON.stringify(info)}`);
        assert.deepStrictEqual(await searchThroughLink(), [{ msg: "held by A" }], step);
        const fresh = `certs_fresh_${Math.random().toString(36).slice(2, 8)}`;
        const checked = await linkCheck(linkInputs(fresh));
        assert.deepStrictEqual(checked.failures, [], `${step}: ${JSON.stringify(checked.failures)}`);
        const t0 = Date.now();
        const created = await hook(() => link.create(checked.inputs));
        try {
            assert.strictEqual(created.outs.connected, true, step);
        } finally {
            await link.delete(created.id, created.outs);
        }
        figure(`${step}: ${ALIAS} connected and searching; a new alias connected in ${secs(t0)}`);
    }

    /**
     * A new alias B → A must NOT connect: create (check bypassed, as the engine never would) times
     * out, reports `_remote/info` not connected and removes its settings. Returns B's log line
     * with the TLS failure.
     */
    async function freshLinkRefused(step: string, issuerCn: string): Promise<string> {
        const alias = `certs_refused_${Math.random().toString(36).slice(2, 8)}`;
        const markB = logMark(b);
        const markA = logMark(a);
        let remoteInfoSeen = "";
        await assert.rejects(hook(() => link.create(linkInputs(alias, { connectionTimeoutSeconds: 15 }))), (e: Error) => {
            assert.strictEqual(e.name, "RemoteNotConnectedError", e.message);
            assert.match(e.message, /did not connect within 15s; the settings this link wrote were removed/);
            remoteInfoSeen = /_remote\/info: (\{.*?\})\. Likely/.exec(e.message)?.[1] ?? "";
            assert.match(remoteInfoSeen, /"connected":false/);
            return true;
        });
        assert.deepStrictEqual(await remoteKeys(b, alias), {});
        figure(`${step}: _remote/info for the new alias while it waited: ${remoteInfoSeen}`);
        // The local node (B, the TLS client) says why, naming the issuer it does not trust (the
        // wording of 8.19's DiagnosticTrustManager, B's version in this suite).
        const issuedBy = `the certificate is issued by [CN=${issuerCn}]`;
        const line = await waitForLogLine(b, markB, new RegExp(`failed to establish trust with server.*${issuedBy.replace(/[[\]]/g, "\\$&")}`), 20000);
        assert.match(line, /\[WARN \]\[o\.e\.c\.s\.DiagnosticTrustManager\]/);
        assert.match(line, /is not configured to trust that issuer/);
        figure(`${step}: real Elasticsearch refused the handshake; ${b.name}.log: ${line.slice(0, 1500)}`);
        const aLines = logSince(a, markA).filter((l) => /^\[[^\]]*\]\[(WARN|ERROR)/.test(l));
        if (aLines.length) {
            figure(`${step}: ${a.name}.log (the server side): ${aLines[0].slice(0, 600)}`);
        }
        return line;
    }

    it("1. clusters with their own bootstrap CAs are refused by the link's trust check; after a SharedCa and a NodeCertificate per node (delivery + verifyOn) they link and search", async function () {
        const refused = await linkCheck(linkInputs(ALIAS));
        assert.deepStrictEqual(refused.failures!.map((f: { property: string }) => f.property).sort(), ["local.urls", "remote.urls"]);
        for (const f of refused.failures!) {
            assert.match(f.reason, /does not trust the CA that issued the (remote|local) cluster's transport certificate \(issuer "CN=certs-(a9|b819) transport CA"/);
        }
        figure(`before the certificates, check refused: ${refused.failures![0].reason.slice(0, 200)}…`);

        ca1 = await newCa("certs-test CA 1");
        const t0 = Date.now();
        const [ha, hb] = await Promise.all([issue(a, certInputs(a, ca1)), issue(b, certInputs(b, ca1))]);
        held.set(a, ha);
        held.set(b, hb);
        figure(`both nodes serve their CA 1 certificates ${secs(t0)} after the creates started (no restart)`);
        for (const [c, h] of [[a, ha], [b, hb]] as const) {
            assert.strictEqual(await presentedSerial(c), h.outs.serialNumber);
            assert.deepStrictEqual(await trustedCaSerials(c), [ca1.serialNumber]);
            // refresh: files and node agree with the state, so the next preview is empty.
            const r = await hook(() => nodeCertificate.read(h.id, h.outs));
            assert.strictEqual((r.props as NodeCertificateOutputs).deliveryInSync, true);
            assert.strictEqual((r.props as NodeCertificateOutputs).servedByNode, true);
            assert.strictEqual((await nodeCertificate.diff(h.id, r.props as NodeCertificateOutputs, h.inputs)).changes, false);
        }

        await withClient(a, (client) => client.index({ index: INDEX, id: "1", document: { msg: "held by A" }, refresh: true }));
        const checked = await linkCheck(linkInputs(ALIAS));
        assert.deepStrictEqual(checked.failures, []);
        const created = await hook(() => link.create(checked.inputs));
        linkState = { id: created.id, outs: created.outs };
        assert.strictEqual(created.outs.connected, true);
        assert.deepStrictEqual([created.outs.localVersion, created.outs.remoteVersion], [b.version, a.version]);
        assert.deepStrictEqual(await searchThroughLink(), [{ msg: "held by A" }]);
        figure(`${b.name} (${b.version}) → ${a.name} (${a.version}) linked as '${ALIAS}', cross-cluster search ${ALIAS}:${INDEX} returns A's document`);
    });

    it("2. a node whose certificate comes from another CA is refused by real Elasticsearch: not connected, and the node's log says why", async function () {
        const rogueCa = await newCa("certs-test rogue CA");
        // A presents a certificate from the rogue CA but keeps trusting CA 1 (the rogue CA file goes
        // elsewhere): the only fault is that B does not trust A's new issuer.
        const rogue = await issue(a, certInputs(a, rogueCa, { delivery: { directory: certsDir(a), caFile: "rogue-ca.crt" } }));
        assert.deepStrictEqual(await trustedCaSerials(a), [ca1.serialNumber]);

        const checked = await linkCheck(linkInputs("certs_rogue"));
        assert.deepStrictEqual(checked.failures!.map((f: { property: string }) => f.property), ["local.urls"]);
        assert.match(checked.failures![0].reason, /the local cluster .* does not trust the CA that issued the remote cluster's transport certificate \(issuer "CN=certs-test rogue CA"/);

        const line = await freshLinkRefused("rogue certificate on A", "certs-test rogue CA");
        assert.match(line, /it only trusts the issuer \[CN=certs-test CA 1\]/);

        // Put A's CA 1 certificate back: an update of its NodeCertificate rewrites the files and waits.
        const h = held.get(a)!;
        const t0 = Date.now();
        const updated = await hook(() => nodeCertificate.update(h.id, h.outs, h.inputs));
        assert.strictEqual((updated.outs as NodeCertificateOutputs).servedByNode, true);
        held.set(a, { ...h, outs: updated.outs as NodeCertificateOutputs });
        figure(`A's CA 1 certificate restored by an update in ${secs(t0)}`);
        // The rogue resource's delete leaves files that no longer hold its certificate.
        await hook(() => nodeCertificate.delete(rogue.id, rogue.outs));
        assert.strictEqual(fs.readFileSync(path.join(certsDir(a), "transport.crt"), "utf8"), h.outs.certPem);
        fs.rmSync(path.join(certsDir(a), "rogue-ca.crt"), { force: true });
        await linkWorks("after the rogue certificate was replaced");
    });

    it("3. same-CA rotation: replacement NodeCertificates over the same files are served without a restart (handshake and _ssl/certificates show the new serials) and the existing link keeps searching", async function () {
        const before = new Map([a, b].map((c) => [c, held.get(c)!.outs.serialNumber]));
        const t0 = Date.now();
        await Promise.all([a, b].map((c) => replace(c, certInputs(c, ca1, { dnsNames: ["localhost", c.nodeName, `${c.nodeName}-rotated`] }), "dnsNames")));
        figure(`same-CA rotation of both nodes done in ${secs(t0)}`);
        for (const c of [a, b]) {
            const now = held.get(c)!.outs.serialNumber;
            assert.strictEqual(await presentedSerial(c), now);
            const listed = await servedSerials(verifyOn(c));
            assert.ok(listed.includes(now) && !listed.includes(before.get(c)!), `${c.name}: _ssl/certificates lists ${listed}, expected ${now} instead of ${before.get(c)}`);
            figure(`${c.name}: ${before.get(c)} → ${now} (TLS handshake and GET _ssl/certificates)`);
        }
        await linkWorks("after same-CA rotation");
    });

    it("4. CA rotation in the safe order — (a) trust both CAs, (b) rotate every node, (c) drop the old CA — stays connected after every step", async function () {
        // The safe order, because a TLS peer is accepted only if its issuer is in the trust file:
        // (a) every node trusts old + new CA, so whatever each node presents next is accepted;
        // (b) every node's certificate moves to the new CA, one by one (mixed is fine thanks to (a));
        // (c) only once no node presents an old-CA certificate may the old CA leave the trust files.
        // NodeCertificate's delivery.caFile holds only the issuing CA, so it cannot express (a): the
        // combined trust file is written here with writeFileAtomic, and the new NodeCertificates
        // deliver their CA under another name so they do not overwrite it.
        const ca2 = await newCa("certs-test CA 2");
        const trustFile = (c: ClusterInfo) => path.join(certsDir(c), "transport-ca.crt");
        async function writeTrust(pems: string[], step: string): Promise<void> {
            const t0 = Date.now();
            await Promise.all([a, b].map(async (c) => {
                const mark = logMark(c);
                writeFileAtomic(trustFile(c), pems.join(""), PUBLIC_FILE_MODE);
                // 8.19 and 9.x word it differently ("reloaded [file] and updated ssl contexts using
                // this file", "updated 1 ssl contexts in … using file [file]"): both name the file.
                const line = await waitForLogLine(c, mark, /SSLConfigurationReloader.*(reloaded|updated \d+ ssl contexts).*transport-ca\.crt/, 30000);
                figure(`${step}: ${c.name} reloaded its trust file (${secs(t0)}): ${line.trim().slice(0, 300)}`);
            }));
        }

        // (a)
        await writeTrust([ca1.certPem, ca2.certPem], "(a) trust both");
        for (const c of [a, b]) {
            assert.deepStrictEqual(await trustedCaSerials(c), [ca1.serialNumber, ca2.serialNumber].sort());
        }
        // The product gap, as a refresh sees it: the NodeCertificate owns transport-ca.crt, so it
        // reports the combined file as drift and the next update would write CA 1 alone back.
        {
            const h = held.get(a)!;
            const r = await hook(() => nodeCertificate.read(h.id, h.outs));
            assert.strictEqual((r.props as NodeCertificateOutputs).deliveryInSync, false);
            assert.strictEqual((await nodeCertificate.diff(h.id, r.props as NodeCertificateOutputs, h.inputs)).changes, true);
        }
        await linkWorks("(a) both CAs trusted");

        // (b) A first (B, still on CA 1, must accept A's CA 2 certificate), then B.
        for (const c of [a, b]) {
            await replace(c, certInputs(c, ca2, { delivery: { directory: certsDir(c), caFile: "issuing-ca.crt" } }), "caCertPem");
            assert.deepStrictEqual(await trustedCaSerials(c), [ca1.serialNumber, ca2.serialNumber].sort(), `${c.name}: the trust file must still hold both CAs`);
            await linkWorks(`(b) ${c.name} rotated to CA 2`);
        }

        // (c)
        await writeTrust([ca2.certPem], "(c) drop CA 1");
        for (const c of [a, b]) {
            assert.deepStrictEqual(await trustedCaSerials(c), [ca2.serialNumber]);
            const h = held.get(c)!;
            const r = await hook(() => nodeCertificate.read(h.id, h.outs));
            assert.strictEqual((r.props as NodeCertificateOutputs).servedByNode, true);
            assert.strictEqual((await nodeCertificate.diff(h.id, r.props as NodeCertificateOutputs, h.inputs)).changes, false);
        }
        await linkWorks("(c) only CA 2 trusted");
    });

    it("5. skipping (a): a node moved to a new CA in one step (NodeCertificate's default delivery writes only the new CA) breaks new connections — real error — while open ones hide it", async function () {
        const ca3 = await newCa("certs-test CA 3");
        await replace(a, certInputs(a, ca3), "caCertPem");
        assert.deepStrictEqual(await trustedCaSerials(a), [ca3.serialNumber]);
        // The long-lived connection was opened before the change and TLS checks certificates only in
        // the handshake: it keeps searching, so the broken trust stays hidden until it reconnects
        // (a node restart, a network blip) — which is why the safe order matters.
        assert.strictEqual((await remoteInfo(ALIAS))?.connected, true);
        assert.deepStrictEqual(await searchThroughLink(), [{ msg: "held by A" }]);
        figure(`skipping (a): the open '${ALIAS}' connection still searches after A moved to CA 3`);
        const line = await freshLinkRefused("skipping (a)", "certs-test CA 3");
        assert.match(line, /it only trusts the issuer \[CN=certs-test CA 2\]/);
    });

    // The secrets audit runs after every test over what that test's hooks logged, so it holds for
    // each test run alone (--grep) as well as for the whole suite.
    afterEach(function () {
        const lines = hookLogs.splice(0);
        for (const l of lines) {
            assert.ok(!l.includes("PRIVATE KEY"), `a hook logged a private key: ${l.slice(0, 200)}`);
        }
    });
});

/**
 * Issue #11's top bug, on a real node: a NodeCertificate delivered over a node's own transport files
 * and then destroyed must leave the node able to restart. And issue #13's remote cluster server
 * certificate: delivered to a node whose remote cluster server is enabled, served there without a
 * restart, given back on destroy.
 *
 * One 9.x node of its own (its certificate files change), with the remote cluster server enabled
 * (a static setting: the `before` stops the node, gives it its own server certificate files, adds
 * the settings and starts it again). The tests run in order and each leaves the node green.
 */
describe("certificates on a real node: destroy leaves it restartable; the remote cluster server's certificate", function () {
    this.timeout(15 * 60 * 1000);
    let c: ClusterInfo | undefined;
    let node: ClusterInfo;
    let rcsAddress: string;
    const certs = () => path.join(node.configDir, "certs");
    const verifyOn = () => ({ connection: connectionTo(node), nodeName: node.nodeName, timeoutSeconds: 120 });

    /** Copies a file keeping its owner and mode (the node's user must read it). */
    function copyAs(from: string, to: string): void {
        const st = fs.statSync(from);
        fs.copyFileSync(from, to);
        fs.chownSync(to, st.uid, st.gid);
        fs.chmodSync(to, st.mode & 0o777);
    }

    before(async function () {
        const t0 = Date.now();
        c = await startCluster({ name: "certs-restore", version: ES_VERSIONS.v9, heapMb: 512 });
        node = c;
        await haltCluster(node);
        // The node's own remote cluster server certificate: a copy of its bootstrap transport pair.
        copyAs(path.join(certs(), "transport.crt"), path.join(certs(), "remote-cluster-server.crt"));
        copyAs(path.join(certs(), "transport.key"), path.join(certs(), "remote-cluster-server.key"));
        // And its own trust for remote cluster servers (the client side of API-key links).
        copyAs(path.join(certs(), "transport-ca.crt"), path.join(certs(), "remote-cluster-client-ca.crt"));
        const yml = path.join(node.configDir, "elasticsearch.yml");
        fs.appendFileSync(yml, [
            "remote_cluster_server.enabled: true",
            "remote_cluster.host: 127.0.0.1",
            `remote_cluster.port: ${await freePort()}`,
            "xpack.security.remote_cluster_server.ssl.key: certs/remote-cluster-server.key",
            "xpack.security.remote_cluster_server.ssl.certificate: certs/remote-cluster-server.crt",
            "xpack.security.remote_cluster_client.ssl.certificate_authorities: certs/remote-cluster-client-ca.crt",
            "",
        ].join("\n"));
        node = c = await restartCluster(node);
        forgetUnreachable();
        const info = await withClient(node, (client) => client.transport.request<{ nodes: Record<string, { remote_cluster_server?: { publish_address?: string } }> }>(
            { method: "GET", path: "/_nodes/_local/remote_cluster_server" }));
        rcsAddress = Object.values(info.nodes)[0].remote_cluster_server!.publish_address!;
        figure(`${node.name} (${node.version}) up with its remote cluster server on ${rcsAddress} in ${secs(t0)}`);
    });

    after(async function () {
        this.timeout(180000);
        if (c) {
            await stopCluster(c);
        }
    });

    /** Polls a TLS handshake with `address` until it presents `serial` (Elasticsearch reloads files about every 5 s). */
    async function waitForSerial(address: string, serial: string, what: string): Promise<number> {
        const t0 = Date.now();
        let last = "";
        while (Date.now() - t0 < 120000) {
            const h = await transportHandshake(address);
            if (h.serialNumber === serial) {
                return Date.now() - t0;
            }
            last = JSON.stringify(h);
            await new Promise((r) => setTimeout(r, 1000));
        }
        throw new Error(`${what}: ${address} did not present ${serial} within 120 s (last: ${last})`);
    }

    async function restartAndCheck(step: string, expectTransport: string, expectRcs?: string): Promise<void> {
        const t0 = Date.now();
        await haltCluster(node);
        node = c = await restartCluster(node);
        forgetUnreachable();
        const health = await withClient(node, (client) => client.cluster.health());
        assert.notStrictEqual(health.status, "red", `${step}: health after restart`);
        assert.strictEqual((await transportHandshake(node.transportAddress)).serialNumber, expectTransport, `${step}: transport certificate after restart`);
        if (expectRcs) {
            assert.strictEqual((await transportHandshake(rcsAddress)).serialNumber, expectRcs, `${step}: remote cluster server certificate after restart`);
        }
        figure(`${step}: node restarted (${health.status}) in ${secs(t0)}; transport presents ${expectTransport}`);
    }

    it("destroy puts back the node's own transport files: after delete and a restart the node is up and serves its original certificate", async function () {
        const original = (await transportHandshake(node.transportAddress)).serialNumber!;
        const keyPath = path.join(certs(), "transport.key");
        const keyBefore = fs.statSync(keyPath);
        const ca = (await sharedCa.create({ commonName: "certs-restore CA" })).outs as SharedCaOutputs;
        const inputs: NodeCertificateInputs = {
            caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: node.nodeName, dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"],
            delivery: { directory: certs() }, verifyOn: verifyOn(),
        };
        const t0 = Date.now();
        const created = (await nodeCertificate.create((await nodeCertificate.check({}, inputs)).inputs!)).outs!;
        assert.strictEqual(created.servedByNode, true);
        assert.strictEqual(created.keptAsidePaths!.length, 3);
        figure(`delivered ${created.serialNumber} over the node's own files and served in ${secs(t0)}; kept aside: ${created.keptAsidePaths!.map((f) => path.basename(f)).join(", ")}`);
        const kept = fs.statSync(created.keptAsidePaths!.find((f) => f.includes(".transport.key."))!);
        assert.deepStrictEqual([kept.uid, kept.gid, kept.mode & 0o777], [keyBefore.uid, keyBefore.gid, 0o600], "the key kept aside: owner kept, 0600");

        await nodeCertificate.delete(created.serialNumber, created);
        const reload = await waitForSerial(node.transportAddress, original, "after delete");
        figure(`after delete the running node serves its original ${original} again (${(reload / 1000).toFixed(1)} s)`);
        const keyAfter = fs.statSync(keyPath);
        assert.deepStrictEqual([keyAfter.uid, keyAfter.gid, keyAfter.mode & 0o777], [keyBefore.uid, keyBefore.gid, keyBefore.mode & 0o777]);
        assert.deepStrictEqual(fs.readdirSync(certs()).filter((f) => f.includes("es-remote")), [], "no record left");
        await restartAndCheck("after destroy", original);
    });

    it("a node whose files were delivered by the previous release (nothing kept aside) stays restartable after delete: the files stay", async function () {
        const ca = (await sharedCa.create({ commonName: "certs-legacy CA" })).outs as SharedCaOutputs;
        const inputs: NodeCertificateInputs = {
            caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: node.nodeName, dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"],
            delivery: { directory: certs() }, verifyOn: verifyOn(),
        };
        const created = (await nodeCertificate.create((await nodeCertificate.check({}, inputs)).inputs!)).outs!;
        // What the previous release left: the files, no record of the node's own, no keptAsidePaths in the state.
        for (const f of created.keptAsidePaths!) {
            fs.rmSync(f);
        }
        const legacyState: NodeCertificateOutputs = { ...created };
        delete legacyState.keptAsidePaths;
        await nodeCertificate.delete(created.serialNumber, legacyState);
        assert.strictEqual(fs.readFileSync(path.join(certs(), "transport.crt"), "utf8"), created.certPem, "left in place");
        assert.strictEqual(fs.readFileSync(path.join(certs(), "transport.key"), "utf8"), created.keyPem, "left in place");
        await restartAndCheck("previous release's files after delete", created.serialNumber);
    });

    it("remoteClusterServer: delivered, served on the remote cluster server port without a restart, listed by _ssl/certificates; delete gives the node's own back; restart", async function () {
        const original = (await transportHandshake(rcsAddress)).serialNumber!;
        const transportNow = (await transportHandshake(node.transportAddress)).serialNumber!;
        const ca = (await sharedCa.create({ commonName: "certs-rcs CA" })).outs as SharedCaOutputs;
        const inputs: NodeCertificateInputs = {
            caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: node.nodeName, dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"],
            purpose: "remoteClusterServer", delivery: { directory: certs() }, verifyOn: verifyOn(),
        };
        const t0 = Date.now();
        const created = (await nodeCertificate.create((await nodeCertificate.check({}, inputs)).inputs!)).outs!;
        assert.strictEqual(created.servedByNode, true);
        figure(`remote cluster server: ${created.serialNumber} delivered and presented on ${rcsAddress} without a restart in ${secs(t0)}`);
        assert.strictEqual((await transportHandshake(rcsAddress)).serialNumber, created.serialNumber);
        assert.strictEqual((await transportHandshake(node.transportAddress)).serialNumber, transportNow, "the transport layer is untouched");
        const listed = await withClient(node, (client) => client.ssl.certificates());
        const entry = listed.find((e) => e.path.endsWith("remote-cluster-server.crt") && normalizeSerial(e.serial_number) === created.serialNumber);
        assert.ok(entry, `_ssl/certificates lists the delivered file: ${JSON.stringify(listed)}`);
        figure(`_ssl/certificates entry: ${JSON.stringify(entry)}`);
        assert.strictEqual((await nodeCertificate.read(created.serialNumber, created)).props!.servedByNode, true);

        await nodeCertificate.delete(created.serialNumber, created);
        await waitForSerial(rcsAddress, original, "remote cluster server after delete");
        assert.ok(!fs.existsSync(path.join(certs(), "remote-cluster-server-ca.crt")), "the CA file did not exist before and no setting names it: removed");
        await restartAndCheck("after the remote cluster server certificate's destroy", transportNow, original);
    });

    it("SharedCa trustDeliveries: the node reloads the delivered remote cluster client CA without a restart; delete puts its own back", async function () {
        const clientCa = async () => (await withClient(node, (client) => client.ssl.certificates()))
            .filter((e) => e.path.endsWith("remote-cluster-client-ca.crt")).map((e) => normalizeSerial(e.serial_number));
        const own = await clientCa();
        assert.strictEqual(own.length, 1, "the node reads its own trust file");
        const mark = logMark(node);
        const t0 = Date.now();
        const inputs = { commonName: "certs-rcs-client CA", trustDeliveries: [{ directory: certs() }] };
        const ca = (await sharedCa.create((await sharedCa.check({}, inputs)).inputs!)).outs!;
        assert.deepStrictEqual(await clientCa(), [ca.serialNumber]);
        const line = await waitForLogLine(node, mark, /SSLConfigurationReloader.*remote-cluster-client-ca\.crt/, 60000);
        figure(`remote cluster client CA ${ca.serialNumber} written; reloaded without a restart in ${secs(t0)}: ${line.slice(0, 300)}`);
        assert.strictEqual((await sharedCa.read(ca.serialNumber, ca)).props!.trustInSync, true);

        await sharedCa.delete(ca.serialNumber, ca);
        assert.deepStrictEqual(await clientCa(), own, "its own CA is back");
        assert.deepStrictEqual(fs.readdirSync(certs()).filter((f) => f.includes("es-remote")), []);
    });
});
