/**
 * What a user meets when the nodes are other hosts (tests/support/remoteHosts.ts: 3 + 3 isolated
 * 9.x nodes, each with its own filesystem, users and sshd; the remote's sshd reachable only through
 * its bastion), driving the hooks directly as the engine would:
 *
 * - the API-key link's keystore steps over SSH (sudo to root, the tool run as the keystore's owner),
 *   with the credential absent from every process list and sshd log while and after it travels;
 * - a keystore changed by hand found by refresh and repaired by up; a certificate link migrated to
 *   an API key over SSH; the same steps through a `command` access;
 * - trust files written through a jump host only; a NodeCertificate into a scratch folder;
 * - refusals that write nothing anywhere: a man in the middle, a wrong key, a sudo that asks for a
 *   password, a host that does not answer, and a host whose sshd dies between preview and create
 *   (what was written on the other hosts is rolled back; the next create converges).
 *
 * Every "nothing written" and "back as before" is read on the node itself (`onNode`: root inside
 * the node's namespaces, behind the product's back).
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as key from "../../provider/crossClusterApiKey";
import * as link from "../../provider/remoteClusterLink";
import * as nodeCertificate from "../../provider/nodeCertificate";
import * as sharedCa from "../../provider/sharedCa";
import { NodeCertificateInputs, NodeCertificateOutputs } from "../../provider/nodeCertificate";
import { credentialSetting, KeystoreTarget } from "../../provider/link/keystoreTool";
import { clearProbeMemo } from "../../provider/link/probe";
import { shellOn } from "../../provider/access/node";
import { closeAll } from "../../provider/access/ssh";
import type { NodeAccess } from "../../provider/access/types";
import { generateCa, IssuedCa } from "../../provider/certs/pem";
import { NODE_PATHS } from "../../rig/hostfs";
import { generateClientKey } from "../../rig/sshd";
import { NodeInfo, nodeClient, TopologyInfo } from "../../rig/topology";
import { connectionTo, remoteKeys, withClient } from "../support/connections";
import { errorOf, warningsOf } from "../support/assertions";
import {
    CERTS_DIR, commandAccessTo, editOnNode, hostsPair, logFileOnHost, onNode, readOnNode, restartSshd, sshAccess, sshdLogOnHost, statOnNode, stopSshd,
} from "../support/remoteHosts";

const rand = () => crypto.randomBytes(3).toString("hex");
const KEYSTORE = path.posix.join(NODE_PATHS.configDir, "elasticsearch.keystore");
const INDEX = "rh-logs";
const secs = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Like onNode, without blocking the event loop (the hooks run meanwhile). */
function onNodeAsync(n: NodeInfo, script: string, input?: string): Promise<string> {
    const [cmd, ...rest] = n.commandAccess!;
    return new Promise((resolve, reject) => {
        const c = spawn(cmd, [...rest, "sh", "-c", script], { stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        let err = "";
        c.stdout.on("data", (d: Buffer) => out.push(d));
        c.stderr.on("data", (d: Buffer) => (err += d));
        c.on("error", reject);
        c.on("close", (code) => (code === 0 ? resolve(Buffer.concat(out).toString("utf8")) : reject(new Error(`${n.name}: exit ${code}: ${err.trim().slice(0, 500)}`))));
        c.stdin.on("error", () => undefined);
        c.stdin.end(input ?? "");
    });
}

/** The setting names in node `n`'s keystore, read by the node's own tool as root (behind the product's back). */
async function keystoreNames(n: NodeInfo): Promise<string[]> {
    const out = await onNodeAsync(n, `ES_PATH_CONF=${NODE_PATHS.configDir} ES_JAVA_HOME='${n.javaHome}' ${NODE_PATHS.esHome}/bin/elasticsearch-keystore list`);
    return out.split("\n").map((s) => s.trim()).filter(Boolean);
}

/** Which of `t`'s nodes hold `setting` in their keystore (names). */
async function holding(t: TopologyInfo, setting: string): Promise<string[]> {
    const all = await Promise.all(t.nodes.map(keystoreNames));
    return t.nodes.filter((_, k) => all[k].includes(setting)).map((n) => n.name);
}

/** `ls -a` of a folder inside node `n`. */
function lsOnNode(n: NodeInfo, dir: string): string[] {
    return onNode(n, `ls -a ${JSON.stringify(dir)}`).split("\n").filter(Boolean).sort();
}

/** Cross-cluster search through every node of `t`: the hits of `alias:INDEX` each finds. */
async function searchEvery(t: TopologyInfo, alias: string): Promise<number[]> {
    return Promise.all(t.nodes.map(async (_, i) => {
        const c = nodeClient(t, i);
        try {
            const r = await c.search({ index: `${alias}:${INDEX}`, size: 0, track_total_hits: true });
            return typeof r.hits.total === "number" ? r.hits.total : r.hits.total?.value ?? 0;
        } finally {
            await c.close();
        }
    }));
}

/** Every local node's keystore, reached with `accessOf`. */
function keystoresOn(t: TopologyInfo, accessOf: (n: NodeInfo, k: number) => NodeAccess): KeystoreTarget[] {
    return t.nodes.map((n, k) => ({ esHome: n.esHome!, configDir: n.configDir, javaHome: n.javaHome, access: accessOf(n, k) }));
}

function apiKeyLinkInputs(local: TopologyInfo, remote: TopologyInfo, alias: string, credential: string, keystoreOn: KeystoreTarget[], extra: Record<string, unknown> = {}): any {
    return {
        local: connectionTo(local), remote: connectionTo(remote), alias, mode: "sniff", seeds: remote.nodes.map((n) => n.remoteClusterServerAddress!),
        skipUnavailable: false, security: "apiKey", credential, keystoreOn, connectionTimeoutSeconds: 120, ...extra,
    };
}

/** The secrets a credential is made of: the encoded form, `id:api_key`, and the api_key half. */
function needlesOf(encoded: string): string[] {
    const decoded = Buffer.from(encoded, "base64").toString("utf8");
    return [encoded, decoded, decoded.split(":")[1]];
}

/**
 * Samples every node's process list (each process's argv and environment, as root inside the node)
 * about every 100 ms until stopped; keeps only whether a needle was seen (and where) and whether
 * `marker` (the setting name in the keystore tool's argv) was, so a sample is known to have caught
 * the tool running.
 */
function sampleProcesses(nodes: NodeInfo[], needles: string[], marker: string) {
    let running = true;
    const leaks: string[] = [];
    let samples = 0;
    let sawMarker = 0;
    const loop = (async () => {
        while (running) {
            await Promise.all(nodes.map(async (n) => {
                const text = await onNodeAsync(n, "cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'; true").catch(() => "");
                samples++;
                if (text.includes(marker)) sawMarker++;
                needles.forEach((x, k) => {
                    if (text.includes(x)) leaks.push(`${n.name}: needle ${k}`);
                });
            }));
            await sleep(100);
        }
    })();
    return {
        async stop() {
            running = false;
            await loop;
            return { leaks, samples, sawMarker };
        },
    };
}

/** The causes of `e`, outermost first. */
function causes(e: any): any[] {
    const out: any[] = [];
    for (let c = e; c && out.length < 10; c = c.cause) out.push(c);
    return out;
}

async function makeKey(remote: TopologyInfo, patterns: string[]): Promise<{ id: string; outs: key.ApiKeyOutputs }> {
    const inputs: key.ApiKeyInputs = { remote: connectionTo(remote), name: `rh-${rand()}`, access: { search: [{ names: patterns }] } };
    const chk = await key.check({}, inputs);
    assert.deepStrictEqual(chk.failures, []);
    const r = await key.create(chk.inputs!);
    return { id: r.id, outs: r.outs! };
}

/** A TCP connect from this host: "connected" or the error code (or "timeout"). */
function tcpFromHere(host: string, port: number, ms: number): Promise<string> {
    return new Promise((resolve) => {
        const s = net.connect({ host, port });
        const t = setTimeout(() => {
            s.destroy();
            resolve("timeout");
        }, ms);
        s.once("connect", () => {
            clearTimeout(t);
            s.destroy();
            resolve("connected");
        });
        s.once("error", (e: NodeJS.ErrnoException) => {
            clearTimeout(t);
            resolve(e.code ?? e.message);
        });
    });
}

function certInputs(ca: IssuedCa, n: NodeInfo, delivery: NodeCertificateInputs["delivery"]): NodeCertificateInputs {
    return { caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: n.name, dnsNames: [n.name], ipAddresses: [n.ip], delivery } as NodeCertificateInputs;
}

describe("nodes on other hosts: keystores, trust files and certificates over SSH, a jump host and a command (real nodes)", function () {
    this.timeout(900_000);
    let local: TopologyInfo;
    let remote: TopologyInfo;
    let credential: string;
    let keyHeld: { id: string; outs: key.ApiKeyOutputs };
    const suite0 = Date.now();

    before(async function () {
        if (process.getuid?.() !== 0) this.skip();
        const t0 = Date.now();
        [local, remote] = await hostsPair();
        console.log(`      [remote-hosts] clusters: ${local.name} (${local.startSeconds}s), ${remote.name} (${remote.startSeconds}s); ready after ${secs(t0)}`);
        await withClient(remote, (c) => c.index({ index: INDEX, id: "1", document: { msg: "hello from the remote hosts" }, refresh: true }));
        keyHeld = await makeKey(remote, ["rh-*"]);
        credential = keyHeld.outs.encoded;
    });
    after(async function () {
        if (keyHeld) await key.delete(keyHeld.id, keyHeld.outs).catch(() => undefined);
        await closeAll();
        console.log(`      [remote-hosts] suite: ${secs(suite0)} including the cluster starts`);
    });
    beforeEach(() => clearProbeMemo());

    it("an API-key link over SSH: every local keystore gets the credential (owner and mode kept), all 3 nodes connect and search the remote; the credential is in no process list or sshd log; delete takes it out again", async () => {
        const t0 = Date.now();
        const alias = `rhssh${rand()}`;
        const setting = credentialSetting(alias);
        const needles = needlesOf(credential);
        const before = local.nodes.map((n) => statOnNode(n, KEYSTORE));
        const inputs = apiKeyLinkInputs(local, remote, alias, credential, keystoresOn(local, (n) => sshAccess(local, n)));
        const chk = await link.check({}, inputs);
        assert.deepStrictEqual(chk.failures, []);

        const sampler = sampleProcesses(local.nodes, needles, setting);
        let created: Awaited<ReturnType<typeof link.create>>;
        let seen: Awaited<ReturnType<typeof sampler.stop>>;
        try {
            created = await link.create(chk.inputs);
        } finally {
            seen = await sampler.stop();
        }
        try {
            assert.strictEqual(created.outs.connected, true);
            assert.deepStrictEqual([created.outs.nodesConnected, created.outs.nodesTotal], [3, 3], "connected on all 3 local nodes");
            assert.strictEqual(created.outs.credentialsInUse, true);
            assert.deepStrictEqual(await searchEvery(local, alias), [1, 1, 1], "a cross-cluster search through every local node finds the remote's doc");
            assert.deepStrictEqual(local.nodes.map((n) => statOnNode(n, KEYSTORE)), before, "every keystore keeps its owner and mode");
            assert.deepStrictEqual(await holding(local, setting), local.nodes.map((n) => n.name));
            assert.deepStrictEqual(seen.leaks, [], "the credential was in no process's argv or environment during the create");
            assert.ok(seen.sawMarker > 0, `a sample caught the keystore tool running (${seen.samples} samples)`);
            for (const n of local.nodes) {
                const log = fs.readFileSync(sshdLogOnHost(n), "utf8");
                assert.ok(/Accepted publickey for rigadmin/.test(log), `${n.name}: sshd logged the product's login`);
                assert.ok(!needles.some((x) => log.includes(x)), `${n.name}: the sshd log holds no part of the credential`);
                const es = fs.readFileSync(logFileOnHost(local, n), "utf8");
                assert.ok(!needles.some((x) => es.includes(x)), `${n.name}: the Elasticsearch log holds no part of the credential`);
            }
            console.log(`      [remote-hosts] keystores of ${before.join(", ")}; ${seen.samples} process samples, ${seen.sawMarker} caught the tool`);
        } finally {
            await link.delete(alias, created.outs);
        }
        assert.deepStrictEqual(await holding(local, setting), [], "delete removed the credential from every keystore");
        assert.deepStrictEqual(await remoteKeys(local, alias), {}, "delete removed the alias's settings");
        assert.deepStrictEqual(local.nodes.map((n) => statOnNode(n, KEYSTORE)), before, "after delete too");
        console.log(`      [remote-hosts] 1 API-key link over SSH (3 keystores): ${secs(t0)}`);
    });

    it("refresh finds a keystore changed by hand on one node (warning naming its host); up with the same inputs puts the credential back everywhere", async () => {
        const t0 = Date.now();
        const alias = `rhdrift${rand()}`;
        const setting = credentialSetting(alias);
        const inputs = apiKeyLinkInputs(local, remote, alias, credential, keystoresOn(local, (n) => sshAccess(local, n)));
        const created = await link.create((await link.check({}, inputs)).inputs);
        let outs = created.outs;
        try {
            const n = local.nodes[1];
            const other = Buffer.from(`handmade${rand()}:${rand()}${rand()}`).toString("base64");
            // As an operator would: the node's own tool, as the keystore's owner, the value on stdin.
            onNode(n, `owner=$(stat -c %U ${KEYSTORE}); runuser -u "$owner" -- env ES_PATH_CONF=${NODE_PATHS.configDir} ES_JAVA_HOME='${n.javaHome}' ${NODE_PATHS.esHome}/bin/elasticsearch-keystore add --stdin --force ${setting}`, other);
            let read!: Awaited<ReturnType<typeof link.read>>;
            const warnings = await warningsOf(async () => {
                read = await link.read(alias, outs);
            });
            assert.strictEqual(read.props!.keystoresInSync, false);
            const about = warnings.filter((w) => w.includes(setting));
            assert.strictEqual(about.length, 1, warnings.join("\n"));
            assert.ok(about[0].includes(`${n.ssh!.host}:22`) && /holds another value for/.test(about[0]), about[0]);
            assert.ok(!needlesOf(credential).concat(needlesOf(other)).some((x) => warnings.join("\n").includes(x)), "no warning holds a credential");
            const d = await link.diff(alias, read.props as any, inputs);
            assert.strictEqual(d.changes, true, "the next up has something to do");
            const up = await link.update(alias, read.props as any, (await link.check(read.props, inputs)).inputs);
            outs = up.outs;
            assert.strictEqual(up.outs.keystoresInSync, true);
            assert.deepStrictEqual([up.outs.connected, up.outs.nodesConnected, up.outs.nodesTotal], [true, 3, 3]);
            const again = await link.read(alias, up.outs);
            assert.strictEqual(again.props!.keystoresInSync, true, "all keystores hold the declared credential again");
            assert.deepStrictEqual(await searchEvery(local, alias), [1, 1, 1]);
        } finally {
            await link.delete(alias, outs);
        }
        assert.deepStrictEqual(await holding(local, setting), []);
        console.log(`      [remote-hosts] 2 keystore drift found by refresh, repaired by up: ${secs(t0)}`);
    });

    it("migration over SSH: a certificate link to the remote's transport addresses becomes an API-key link with the same alias; searches work before and after", async () => {
        const t0 = Date.now();
        const alias = `rhmig${rand()}`;
        const cert = {
            local: connectionTo(local), remote: connectionTo(remote), alias, mode: "sniff", seeds: remote.nodes.map((n) => n.transportAddress),
            skipUnavailable: false, connectionTimeoutSeconds: 120,
        };
        const c1 = await link.check({}, cert);
        assert.deepStrictEqual(c1.failures, []);
        const created = await link.create(c1.inputs);
        let outs: any = created.outs;
        try {
            assert.deepStrictEqual(await searchEvery(local, alias), [1, 1, 1], "the certificate link searches the remote");
            const news = apiKeyLinkInputs(local, remote, alias, credential, keystoresOn(local, (n) => sshAccess(local, n)));
            const chk = await link.check(created.outs, news);
            assert.deepStrictEqual(chk.failures, []);
            assert.deepStrictEqual((await link.diff(alias, created.outs, chk.inputs)).replaces, [], "same alias: an update");
            const migrated = await link.update(alias, created.outs, chk.inputs);
            outs = migrated.outs;
            assert.deepStrictEqual([migrated.outs.connected, migrated.outs.credentialsInUse, migrated.outs.nodesConnected, migrated.outs.nodesTotal], [true, true, 3, 3]);
            assert.deepStrictEqual((await remoteKeys(local, alias))[`cluster.remote.${alias}.seeds`], remote.nodes.map((n) => n.remoteClusterServerAddress));
            assert.deepStrictEqual(await searchEvery(local, alias), [1, 1, 1], "the API-key link searches the remote");
            assert.deepStrictEqual(await holding(local, credentialSetting(alias)), local.nodes.map((n) => n.name));
        } finally {
            await link.delete(alias, outs);
        }
        assert.deepStrictEqual(await remoteKeys(local, alias), {});
        assert.deepStrictEqual(await holding(local, credentialSetting(alias)), []);
        console.log(`      [remote-hosts] 3 certificate link migrated to an API key over SSH: ${secs(t0)}`);
    });

    it("the keystore steps through a command access (nsenter into each node): create connects all 3 nodes, delete removes the credential", async () => {
        const t0 = Date.now();
        const alias = `rhcmd${rand()}`;
        const setting = credentialSetting(alias);
        const inputs = apiKeyLinkInputs(local, remote, alias, credential, keystoresOn(local, (n) => commandAccessTo(n)));
        const chk = await link.check({}, inputs);
        assert.deepStrictEqual(chk.failures, []);
        const created = await link.create(chk.inputs);
        try {
            assert.deepStrictEqual([created.outs.connected, created.outs.nodesConnected, created.outs.nodesTotal], [true, 3, 3]);
            assert.deepStrictEqual(await holding(local, setting), local.nodes.map((n) => n.name));
            assert.strictEqual((await link.read(alias, created.outs)).props!.keystoresInSync, true);
        } finally {
            await link.delete(alias, created.outs);
        }
        assert.deepStrictEqual(await holding(local, setting), []);
        assert.deepStrictEqual(await remoteKeys(local, alias), {});
        console.log(`      [remote-hosts] 4 keystores through a command access: ${secs(t0)}`);
    });

    it("trust files through a jump host only: the nodes' sshd cannot be reached from here; SharedCa writes, reads, finds a hand edit, repairs and removes its files on all 3 remote nodes", async () => {
        const t0 = Date.now();
        // The remote's nodes answer SSH only on the admin segment behind the bastion.
        for (const n of remote.nodes) {
            assert.notStrictEqual(await tcpFromHere(n.ssh!.host, 22, 3000), "connected", `${n.name}: ${n.ssh!.host}:22 must not be reachable from this host`);
        }
        const direct = sshAccess(remote, remote.nodes[0]);
        const noJump: NodeAccess = { ...direct, ssh: { ...direct.ssh!, jumpHost: undefined, timeoutSeconds: 3 } };
        const e = await errorOf((await shellOn(noJump)).run("true"));
        assert.strictEqual(e.name, "NodeAccessError");
        assert.match(e.message, new RegExp(`no SSH server answered at ${remote.nodes[0].ssh!.host.replace(/\./g, "\\.")}:22 within 3 s`));

        const caFile = `extra-trust-${rand()}.crt`;
        const file = path.posix.join(CERTS_DIR, caFile);
        const listing = remote.nodes.map((n) => lsOnNode(n, CERTS_DIR));
        assert.ok(remote.nodes.every((n) => readOnNode(n, file) === undefined));
        const inputs: any = { commonName: `rh-trust-${rand()}`, trustDeliveries: remote.nodes.map((n) => ({ directory: CERTS_DIR, caFile, access: sshAccess(remote, n) })) };
        const chk = await sharedCa.check({}, inputs);
        assert.strictEqual(chk.failures, undefined, JSON.stringify(chk.failures));
        const created = await sharedCa.create(chk.inputs!);
        let outs = created.outs as sharedCa.SharedCaOutputs;
        try {
            assert.strictEqual(outs.trustInSync, true);
            for (const n of remote.nodes) {
                assert.strictEqual(readOnNode(n, file), outs.certPem.endsWith("\n") ? outs.certPem : `${outs.certPem}\n`, `${n.name}: the CA is in ${file}`);
                assert.strictEqual(statOnNode(n, file), "root:esrig 644", `${n.name}: the folder's owner and group, mode 0644`);
            }
            const inSync = await sharedCa.read(created.id, outs);
            assert.strictEqual(inSync.props!.trustInSync, true);
            assert.strictEqual(inSync.inputs, undefined);

            editOnNode(remote.nodes[1], file, "edited by hand\n");
            const drift = await sharedCa.read(created.id, outs);
            assert.strictEqual(drift.props!.trustInSync, false);
            const found = (drift.inputs as any).observedDrift as string[];
            assert.deepStrictEqual(found, [`trustDeliveries[1]: ${file} on ssh://${remote.nodes[1].ssh!.host}:22 holds other CA certificates`]);
            assert.strictEqual((await sharedCa.diff(created.id, drift.props as any, chk.inputs!)).changes, true);
            outs = (await sharedCa.update(created.id, drift.props as any, chk.inputs!)).outs as sharedCa.SharedCaOutputs;
            assert.strictEqual(outs.trustInSync, true);
            assert.strictEqual(readOnNode(remote.nodes[1], file), readOnNode(remote.nodes[0], file), "up wrote node 1's file again");
        } finally {
            await sharedCa.delete(created.id, outs);
        }
        remote.nodes.forEach((n, k) => {
            assert.strictEqual(readOnNode(n, file), undefined, `${n.name}: delete removed ${file} (it did not exist before)`);
            assert.deepStrictEqual(lsOnNode(n, CERTS_DIR), listing[k], `${n.name}: ${CERTS_DIR} as before, no hidden record left`);
        });
        console.log(`      [remote-hosts] 5 SharedCa trust files on 3 nodes through the bastion: ${secs(t0)}`);
    });

    it("refusals write nothing anywhere: a man in the middle (both fingerprints named), a wrong key, a sudo that asks for a password, a host that does not answer", async () => {
        const t0 = Date.now();
        const alias = `rhref${rand()}`;
        const setting = credentialSetting(alias);
        const ca = await generateCa({ commonName: `rh-refusals-${rand()}` });
        const listing = local.nodes.map((n) => lsOnNode(n, CERTS_DIR));
        const [n0, n1, n2] = local.nodes;
        const ok = (n: NodeInfo) => sshAccess(local, n);
        const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
        const linkCheck = async (k: number, access: NodeAccess) =>
            (await link.check({}, apiKeyLinkInputs(local, remote, alias, credential, keystoresOn(local, (n, j) => (j === k ? access : ok(n)))))).failures as Array<{ property: string; reason: string }>;
        const certCheck = async (n: NodeInfo, access: NodeAccess) =>
            (await nodeCertificate.check({}, certInputs(ca, n, { directory: CERTS_DIR, access }))).failures ?? [];

        // (a) node 0's access pinned with node 1's host key: whoever answers at node 0 is not who we pinned.
        const mitm: NodeAccess = { ...ok(n0), ssh: { ...ok(n0).ssh!, hostKey: n1.ssh!.hostKeyLine } };
        const mark = fs.statSync(sshdLogOnHost(n0)).size;
        const both = new RegExp(`${re(n0.ssh!.host)}:22.*presented the SSH host key ssh-ed25519 ${re(n0.ssh!.hostKeyFingerprint)}, not the pinned ssh-ed25519 ${re(n1.ssh!.hostKeyFingerprint)}`);
        const cf = await certCheck(n0, mitm);
        assert.deepStrictEqual(cf.map((f) => f.property), ["delivery.access"]);
        assert.match(cf[0].reason, both);
        const lf = await linkCheck(0, mitm);
        assert.deepStrictEqual(lf.map((f) => f.property), ["keystoreOn[0].access"], JSON.stringify(lf));
        assert.match(lf[0].reason, both);
        assert.match(lf[0].reason, /nothing was written/);
        // Past the preview (the key changed after it): create refuses before anything is sent.
        const ce = await errorOf(nodeCertificate.create(certInputs(ca, n0, { directory: CERTS_DIR, access: mitm })));
        assert.strictEqual(ce.name, "HostKeyError", ce.stack);
        assert.match(ce.message, both);
        const le = await errorOf(link.create(apiKeyLinkInputs(local, remote, alias, credential, keystoresOn(local, (n, j) => (j === 0 ? mitm : ok(n))))));
        console.log(`      [remote-hosts] 6a link create with a changed host key on node 0: ${le.name}: ${le.message}`);
        assert.match(le.message, both);
        assert.ok(causes(le).some((c) => c.name === "HostKeyError"), `the HostKeyError is in the error's causes (got ${causes(le).map((c) => c.name).join(" <- ")})`);
        const since = fs.readFileSync(sshdLogOnHost(n0), "utf8").slice(mark);
        assert.ok(/Connection from /.test(since), "node 0's sshd saw the connections");
        assert.ok(!/Accepted publickey/.test(since), `nothing logged in to node 0 with the wrong pin:\n${since}`);

        // (b) a private key the node does not know.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rh-key-"));
        try {
            const wrong = generateClientKey(dir, { comment: "not-authorized" });
            const bad = sshAccess(local, n1, { login: { user: "rigadmin", privateKeyPem: wrong.privateKeyPem } });
            const login = new RegExp(`login as rigadmin to ${re(n1.ssh!.host)}:22 refused: the key is not in ~rigadmin/\\.ssh/authorized_keys`);
            const b1 = await certCheck(n1, bad);
            assert.deepStrictEqual(b1.map((f) => f.property), ["delivery.access"]);
            assert.match(b1[0].reason, login);
            const b2 = await linkCheck(1, bad);
            assert.deepStrictEqual(b2.map((f) => f.property), ["keystoreOn[1].access"], JSON.stringify(b2));
            assert.match(b2[0].reason, login);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }

        // (c) a login whose sudo asks for a password: refused, never answered.
        const pw = n2.sshPasswordSudoUser!;
        const asks = sshAccess(local, n2, { login: { user: pw.user, privateKeyPem: pw.privateKeyPem } });
        const sudo = new RegExp(`sudo -n as root asks for a password on ${re(n2.ssh!.host)}.*allow NOPASSWD for ${pw.user}.*a password prompt is never answered`);
        const c1 = await certCheck(n2, asks);
        assert.deepStrictEqual(c1.map((f) => f.property), ["delivery.access"]);
        assert.match(c1[0].reason, sudo);
        const c2 = await linkCheck(2, asks);
        assert.deepStrictEqual(c2.map((f) => f.property), ["keystoreOn[2].access"], JSON.stringify(c2));
        assert.match(c2[0].reason, sudo);

        // (d) nothing listens on the port; an address of the rig's segment that nobody holds.
        const refused: NodeAccess = { ...ok(n0), ssh: { ...ok(n0).ssh!, port: 2, timeoutSeconds: 5 } };
        const d1 = await certCheck(n0, refused);
        assert.match(d1[0]?.reason ?? "", new RegExp(`no SSH server answered at ${re(n0.ip)}:2 within 5 s \\(connection refused\\)`), JSON.stringify(d1));
        const nobody = n0.ip.replace(/\.\d+$/, ".250");
        const gone: NodeAccess = { ...ok(n1), ssh: { ...ok(n1).ssh!, host: nobody, timeoutSeconds: 5 } };
        const tGone = Date.now();
        const d2 = await linkCheck(1, gone);
        assert.deepStrictEqual(d2.map((f) => f.property), ["keystoreOn[1].access"], JSON.stringify(d2));
        assert.match(d2[0].reason, new RegExp(`no SSH server answered at ${re(nobody)}:22 within 5 s \\((host unreachable|TCP connect timed out|no SSH handshake)\\)`));
        console.log(`      [remote-hosts] 6d unheld address: ${d2[0].reason.slice(0, 200)} (after ${secs(tGone)})`);

        // Nothing anywhere: no file, no keystore entry, no setting.
        local.nodes.forEach((n, k) => assert.deepStrictEqual(lsOnNode(n, CERTS_DIR), listing[k], `${n.name}: ${CERTS_DIR} untouched`));
        assert.deepStrictEqual(await holding(local, setting), [], "no keystore holds the alias's credential");
        assert.deepStrictEqual(await remoteKeys(local, alias), {}, "no setting for the alias");
        console.log(`      [remote-hosts] 6a-d refusals: ${secs(t0)}`);
        // Last, so everything above is checked first: the rollback worked, so the message must not
        // also say that removing failed and ask for a removal by hand.
        assert.doesNotMatch(le.message, /removing what it wrote failed too|by hand/, "the create's message contradicts its own rollback");
    });

    it("a host whose sshd dies between preview and create: the link's and the SharedCa's creates reject naming it, roll back what they wrote on the other hosts, and converge once it is back", async () => {
        const t0 = Date.now();
        const alias = `rhdown${rand()}`;
        const setting = credentialSetting(alias);
        const n2 = local.nodes[2];
        const inputs = apiKeyLinkInputs(local, remote, alias, credential, keystoresOn(local, (n) => sshAccess(local, n)));
        const chk = await link.check({}, inputs);
        assert.deepStrictEqual(chk.failures, [], "the preview passed");
        // The trust file exists on node 0 (its content is put back), not on nodes 1 and 2 (removed).
        const caFile = `rollback-${rand()}.crt`;
        const file = path.posix.join(CERTS_DIR, caFile);
        const own = "-----BEGIN CERTIFICATE-----\nnode 0's own file\n-----END CERTIFICATE-----\n";
        onNode(local.nodes[0], `cat > ${file} && chown root:esrig ${file} && chmod 0640 ${file}`, own);
        const listing = local.nodes.map((n) => lsOnNode(n, CERTS_DIR));
        const caInputs: any = { commonName: `rh-down-${rand()}`, trustDeliveries: local.nodes.map((n) => ({ directory: CERTS_DIR, caFile, access: sshAccess(local, n) })) };
        const caChk = await sharedCa.check({}, caInputs);
        assert.strictEqual(caChk.failures, undefined, JSON.stringify(caChk.failures));

        await stopSshd(n2);
        assert.strictEqual(await tcpFromHere(n2.ssh!.host, 22, 3000), "ECONNREFUSED", "node 2 is up but its sshd is gone");
        let linkOuts: any;
        let linkError = "";
        let caHeld: { id: string; outs: sharedCa.SharedCaOutputs } | undefined;
        try {
            const le = await errorOf(link.create(chk.inputs));
            linkError = le.message;
            console.log(`      [remote-hosts] 6e link create, node 2's sshd down: ${le.name}: ${le.message}`);
            assert.ok(le.message.includes(`${n2.ssh!.host}:22`), "the error names the host that is down");
            assert.match(le.message, /connection refused/);
            assert.deepStrictEqual(await holding(local, setting), [], "nodes 0 and 1 lost the credential again (rolled back); node 2 never had it");
            assert.deepStrictEqual(await remoteKeys(local, alias), {}, "no setting for the alias");

            const se = await errorOf(sharedCa.create(caChk.inputs!));
            console.log(`      [remote-hosts] 6e SharedCa create, node 2's sshd down: ${se.message}`);
            assert.ok(se.message.includes(`${file} on ssh://${n2.ssh!.host}:22`), se.message);
            assert.match(se.message, /the 2 file\(s\) written by this step got back what they held before/);
            assert.strictEqual(readOnNode(local.nodes[0], file), own, "node 0's own file is back");
            assert.strictEqual(statOnNode(local.nodes[0], file), "root:esrig 640", "with its owner and mode");
            assert.strictEqual(readOnNode(local.nodes[1], file), undefined, "node 1's new file is removed");
            local.nodes.slice(0, 2).forEach((n, k) => assert.deepStrictEqual(lsOnNode(n, CERTS_DIR), listing[k], `${n.name}: no hidden record left`));
        } finally {
            await restartSshd(local, 2);
        }
        try {
            // The host is back: the same creates converge.
            const created = await link.create(chk.inputs);
            linkOuts = created.outs;
            assert.deepStrictEqual([created.outs.connected, created.outs.nodesConnected, created.outs.nodesTotal], [true, 3, 3]);
            assert.deepStrictEqual(await holding(local, setting), local.nodes.map((n) => n.name));
            const c = await sharedCa.create(caChk.inputs!);
            caHeld = { id: c.id, outs: c.outs as sharedCa.SharedCaOutputs };
            assert.strictEqual(caHeld.outs.trustInSync, true);
            assert.ok(local.nodes.every((n) => readOnNode(n, file)?.includes("BEGIN CERTIFICATE") && readOnNode(n, file) !== own));
        } finally {
            if (linkOuts) await link.delete(alias, linkOuts);
            if (caHeld) await sharedCa.delete(caHeld.id, caHeld.outs);
        }
        assert.deepStrictEqual(await holding(local, setting), []);
        assert.strictEqual(readOnNode(local.nodes[0], file), own, "delete put node 0's own file back");
        local.nodes.forEach((n, k) => assert.deepStrictEqual(lsOnNode(n, CERTS_DIR), listing[k], `${n.name}: ${CERTS_DIR} as before`));
        onNode(local.nodes[0], `rm -f ${file}`);
        console.log(`      [remote-hosts] 6e host down mid-create, rollback, converge: ${secs(t0)}`);
        assert.doesNotMatch(linkError, /removing what it wrote failed too|by hand/, "the create's message contradicts its own rollback");
    });

    it("a NodeCertificate over SSH into a scratch folder: three files (key 0640 root:esrig), in sync, a hand edit of the certificate is drift, up repairs it, delete leaves the folder as it was", async () => {
        const t0 = Date.now();
        const n = local.nodes[1];
        const dir = path.posix.join(CERTS_DIR, `scratch-${rand()}`);
        onNode(n, `mkdir ${dir} && chown root:esrig ${dir} && chmod 2750 ${dir}`);
        try {
            const empty = lsOnNode(n, dir);
            const ca = await generateCa({ commonName: `rh-scratch-${rand()}` });
            const inputs = certInputs(ca, n, { directory: dir, access: sshAccess(local, n) });
            const chk = await nodeCertificate.check({}, inputs);
            assert.strictEqual(chk.failures, undefined, JSON.stringify(chk.failures));
            const created = await nodeCertificate.create(chk.inputs as NodeCertificateInputs);
            let outs = created.outs as NodeCertificateOutputs;
            try {
                assert.strictEqual(outs.deliveryInSync, true);
                assert.strictEqual(readOnNode(n, `${dir}/transport.crt`), outs.certPem);
                assert.strictEqual(readOnNode(n, `${dir}/transport.key`), outs.keyPem);
                assert.strictEqual(readOnNode(n, `${dir}/transport-ca.crt`), outs.caPem.endsWith("\n") ? outs.caPem : `${outs.caPem}\n`);
                assert.strictEqual(statOnNode(n, `${dir}/transport.key`), "root:esrig 640", "the key readable by the node's group, as the folder is root:esrig");
                assert.strictEqual(statOnNode(n, `${dir}/transport.crt`), "root:esrig 644");
                const r1 = await nodeCertificate.read(created.id, outs);
                assert.strictEqual(r1.props!.deliveryInSync, true);
                assert.strictEqual(r1.inputs, undefined, "no drift");

                editOnNode(n, `${dir}/transport.crt`, ca.certPem);
                const r2 = await nodeCertificate.read(created.id, outs);
                assert.strictEqual(r2.props!.deliveryInSync, false);
                const drift = (r2.inputs as any).observedDrift as string[];
                // The certificate replaced by another one also leaves the key beside a certificate
                // that is not its own: both are reported (a mismatched pair would not load on restart).
                assert.strictEqual(drift.length, 2, JSON.stringify(drift));
                assert.match(drift[0], new RegExp(`^delivery: transport\\.crt holds serial ${ca.serialNumber}, not ${outs.serialNumber}$`));
                assert.strictEqual(drift[1], "delivery: transport.key is not the key of the certificate in transport.crt");
                assert.strictEqual((await nodeCertificate.diff(created.id, r2.props!, inputs)).changes, true);
                outs = (await nodeCertificate.update(created.id, r2.props!, inputs)).outs as NodeCertificateOutputs;
                assert.strictEqual(outs.deliveryInSync, true);
                assert.strictEqual(readOnNode(n, `${dir}/transport.crt`), outs.certPem, "up wrote the certificate again");
                assert.strictEqual((await nodeCertificate.read(created.id, outs)).props!.deliveryInSync, true);
            } finally {
                await nodeCertificate.delete(created.id, outs);
            }
            assert.deepStrictEqual(lsOnNode(n, dir), empty, "delete left the folder as it was (no files, no hidden records)");
            assert.strictEqual(statOnNode(n, dir), "root:esrig 2750");
        } finally {
            onNode(n, `rm -rf ${dir}`);
        }
        console.log(`      [remote-hosts] 7 NodeCertificate over SSH into a scratch folder: ${secs(t0)}`);
    });
});
