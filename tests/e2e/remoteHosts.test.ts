/**
 * Node certificates on hosts of their own, through the real Pulumi CLI as a user runs it: a program
 * with a SharedCa (adopting the rig's shared transport CA, which every node trusts), one
 * NodeCertificate per node of the pooled `hosts-local` (SSH direct) and `hosts-remote` (SSH only
 * through its bastion) clusters, each delivered over SSH with a pinned host key and sudo into that
 * node's own live transport files and verified on it, and a certificate RemoteClusterLink
 * local → remote. preview → up → the link connects and every local node searches the remote →
 * state and CLI output hold no private key → a hand edit on one node is reported by refresh and
 * preview --diff and repaired by up → destroy leaves every node's files exactly as they were
 * (content, owner, mode) and a restarted node serves its own certificate again. And a host key
 * pinned to another node's key is refused at preview, naming the host and both fingerprints,
 * with nothing written on any node and nothing in the stack.
 *
 * The clusters are shared with other suites of the same mocha process (stopped by the root hook),
 * so every node is left as it was found; the test asserts it.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { describeCertificate, generateCa } from "../../provider/certs/pem";
import { transportHandshake } from "../../provider/certs/verify";
import { runPulumi, pulumi, RunResult } from "../../rig/pulumi";
import { haltNode, NodeInfo, nodeClient, restartNode, TopologyInfo } from "../../rig/topology";
import { remoteKeys, withClient } from "../support/connections";
import { assertGreen } from "../support/assertions";
import { sharedTransportCa } from "../support/pool";
import { tempProject, TempProject } from "../support/project";
import { CERTS_DIR, editOnNode, hostsPair, onNode, readOnNode, statOnNode } from "../support/remoteHosts";

const ALIAS = "e2e_hosts";
const INDEX = "e2e-remote-hosts";
const FILES = ["transport.crt", "transport.key", "transport-ca.crt"].map((f) => path.posix.join(CERTS_DIR, f));

/**
 * The user's program: everything node-specific comes from the `clusters` config (plain: addresses,
 * pinned host keys, CA certificates), the credentials from the secret `secrets` object (SSH keys,
 * the CA's key, the elastic passwords).
 */
const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { NodeCertificate, RemoteClusterLink, SharedCa } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const { caCertPem, clusters } = cfg.requireObject("clusters");
const secrets = cfg.requireSecretObject("secrets");
const secret = (k) => secrets.apply((s) => s[k]);
const [local, remote] = clusters;
const conn = (c, urls) => ({ urls: urls || c.urls, username: c.username, password: secret(c.passwordKey), caPem: c.httpCaPem });

const ca = new SharedCa("transport-ca", { certPem: caCertPem, keyPem: secret("caKeyPem") });
const certificates = clusters.flatMap((c) => c.nodes.map((n) => {
    const privateKey = secret(c.sshKeyKey);
    return new NodeCertificate(n.name, {
        caCertPem: ca.certPem,
        caKeyPem: ca.keyPem,
        commonName: n.name,
        dnsNames: [n.name],
        ipAddresses: [n.ip],
        delivery: {
            directory: ${JSON.stringify(CERTS_DIR)},
            access: {
                ssh: {
                    host: n.ssh.host, port: n.ssh.port, user: n.ssh.user, privateKey, hostKey: n.ssh.hostKey,
                    ...(c.bastion ? { jumpHost: { ...c.bastion, privateKey } } : {}),
                },
                sudo: true,
            },
        },
        verifyOn: { connection: conn(c, [n.url]), nodeName: n.name, timeoutSeconds: 120 },
    });
}));
const link = new RemoteClusterLink("link", {
    local: conn(local),
    remote: conn(remote),
    alias: ${JSON.stringify(ALIAS)},
    seeds: remote.nodes.map((n) => n.transport),
    skipUnavailable: false,
    connectionTimeoutSeconds: 120,
    waitForCertificates: certificates.map((c) => c.fingerprintSha256),
}, { dependsOn: certificates });
exports.connected = link.connected;
exports.nodesConnected = link.nodesConnected;
exports.nodesTotal = link.nodesTotal;
`;

interface Creds {
    config: { caCertPem: string; clusters: unknown[] };
    secrets: Record<string, string>;
    /** Every secret whose text must never show in plaintext. */
    needles: string[];
}

/** The config of {@link PROGRAM} for the two topologies; `hostKeyOf` may pin another key for a node. */
async function credsFor(local: TopologyInfo, remote: TopologyInfo, hostKeyOf: (t: TopologyInfo, n: NodeInfo) => string = (_t, n) => n.ssh!.hostKeyLine): Promise<Creds> {
    const ca = await sharedTransportCa();
    const sides = [["local", local], ["remote", remote]] as const;
    const config = {
        caCertPem: ca.certPem,
        clusters: sides.map(([side, t]) => ({
            name: t.name,
            urls: t.nodes.map((n) => n.url),
            username: t.username,
            passwordKey: `${side}Password`,
            sshKeyKey: `${side}SshKey`,
            httpCaPem: fs.readFileSync(t.httpCaFile, "utf8"),
            ...(t.bastion ? { bastion: { host: t.bastion.host, port: t.bastion.port, user: t.bastion.user, hostKey: t.bastion.hostKeyLine } } : {}),
            nodes: t.nodes.map((n) => ({
                name: n.name, ip: n.ip, url: n.url, transport: n.transportAddress,
                ssh: { host: n.ssh!.host, port: n.ssh!.port, user: n.ssh!.user, hostKey: hostKeyOf(t, n) },
            })),
        })),
    };
    const secrets = {
        caKeyPem: ca.keyPem,
        localPassword: local.password,
        remotePassword: remote.password,
        localSshKey: local.nodes[0].ssh!.privateKeyPem,
        remoteSshKey: remote.nodes[0].ssh!.privateKeyPem,
    };
    for (const t of [local, remote]) {
        for (const n of t.nodes) assert.strictEqual(n.ssh!.privateKeyPem, t.nodes[0].ssh!.privateKeyPem, `${t.name}: one admin key for every node`);
        if (t.bastion) assert.strictEqual(t.bastion.privateKeyPem, t.nodes[0].ssh!.privateKeyPem, `${t.name}: the bastion takes the nodes' admin key`);
    }
    // Every line of each private key (the BEGIN/END lines hold "PRIVATE KEY", checked on its own).
    const keyLines = [secrets.caKeyPem, secrets.localSshKey, secrets.remoteSshKey].flatMap((k) => k.split("\n").map((l) => l.trim()).filter((l) => l.length >= 16 && !l.startsWith("-----")));
    return { config, secrets, needles: [...keyLines, local.password, remote.password] };
}

async function projectFor(name: string, c: Creds): Promise<TempProject> {
    const p = await tempProject(name, PROGRAM);
    // JSON objects: the CLI would take a bare PEM value ("-----BEGIN …") for a flag.
    await pulumi(p.ws, ["config", "set", "clusters", JSON.stringify(c.config)]);
    await pulumi(p.ws, ["config", "set", "--secret", "secrets", JSON.stringify(c.secrets)]);
    return p;
}

/** Owner, mode and content of a node's three transport files. */
function filesOf(n: NodeInfo): string[] {
    return FILES.map((f) => `${statOnNode(n, f)}\n${readOnNode(n, f)}`);
}

/** Hidden kept-aside records (`.transport.crt.es-remote-…`) in node `n`'s certificate folder. */
function recordsOn(n: NodeInfo): string[] {
    return onNode(n, `ls -a ${CERTS_DIR}`).split("\n").filter((f) => f.includes(".es-remote-"));
}

function snapshot(ts: TopologyInfo[]): Map<string, string[]> {
    return new Map(ts.flatMap((t) => t.nodes.map((n) => [n.name, filesOf(n)] as const)));
}

function assertUnchanged(ts: TopologyInfo[], before: Map<string, string[]>, what: string): void {
    for (const t of ts) {
        for (const n of t.nodes) {
            assert.deepStrictEqual(filesOf(n), before.get(n.name), `${n.name}: ${what} (content, owner, mode of its three files)`);
            assert.deepStrictEqual(recordsOn(n), [], `${n.name}: no kept-aside record in ${CERTS_DIR}`);
        }
    }
}

/** The resource names whose block in `output` mentions `needle` (blocks start at `[urn=…::name]`). */
function resourcesMentioning(output: string, needle: string): string[] {
    return output.split(/\[urn=/).slice(1).filter((b) => b.includes(needle)).map((b) => /^[^\]]*::([^\]:]+)\]/.exec(b)?.[1] ?? "?");
}


const secs = (t0: number) => ((Date.now() - t0) / 1000).toFixed(1);
const figure = (what: string, t0: number) => console.log(`      [remote-hosts] ${what}: ${secs(t0)} s`);

describe("e2e: node certificates over SSH on hosts of their own (the real Pulumi CLI)", function () {
    this.timeout(2_400_000);
    let local: TopologyInfo;
    let remote: TopologyInfo;
    const projects: TempProject[] = [];
    before(async function () {
        const t0 = Date.now();
        [local, remote] = await hostsPair();
        figure(`clusters ready (${local.name} ${local.startSeconds}s, ${remote.name} ${remote.startSeconds}s as started)`, t0);
    });
    after(() => projects.forEach((p) => p.remove()));

    it("preview → up (6 certificates over SSH + sudo, the remote's through its bastion; link connected, every local node searches the remote) → no key in state or output → hand edit found by refresh, shown by preview --diff, repaired by up → destroy leaves every node's files as found → a restarted node serves its own certificate", async function () {
        const sides = [local, remote];
        const before = snapshot(sides);
        const creds = await credsFor(local, remote);
        const p = await projectFor("e2e-remote-hosts", creds);
        projects.push(p);
        const printed: string[] = [];
        const run = async (args: string[]): Promise<RunResult> => {
            const r = await runPulumi(p.ws, args);
            printed.push(r.output);
            assert.strictEqual(r.code, 0, `pulumi ${args.join(" ")} exited with ${r.code}:\n${r.output.slice(-8000)}`);
            return r;
        };
        let upDone = false;
        try {
            let t0 = Date.now();
            const preview = await run(["preview"]);
            assert.match(preview.output, /\+ 9 to create/, preview.output);
            figure("preview", t0);

            t0 = Date.now();
            upDone = true;
            const up = await run(["up", "--yes", "--skip-preview"]);
            assert.match(up.output, /\+ 9 created/, up.output); // stack + CA + 6 certificates + link
            figure("up (CA, 6 certificates delivered over SSH and verified, link)", t0);

            const outs = JSON.parse((await pulumi(p.ws, ["stack", "output", "--json"])).stdout);
            assert.deepStrictEqual([outs.connected, outs.nodesConnected, outs.nodesTotal], [true, 3, 3], JSON.stringify(outs));

            // What every node holds now: this stack's certificate (not the rig's), through its own files.
            const state = JSON.parse((await pulumi(p.ws, ["stack", "export"])).stdout);
            const certState = (name: string) => state.deployment.resources.find((r: any) => r.urn.endsWith(`::${name}`));
            const delivered = snapshot(sides);
            for (const t of sides) {
                for (const n of t.nodes) {
                    const s = certState(n.name);
                    assert.ok(s, `${n.name}: a NodeCertificate in the state`);
                    const onDisk = describeCertificate(readOnNode(n, FILES[0])!);
                    assert.strictEqual(onDisk.fingerprintSha256, s.outputs.fingerprintSha256, `${n.name}: its transport.crt holds the delivered certificate`);
                    assert.notStrictEqual(readOnNode(n, FILES[0]), before.get(n.name)![0].split("\n").slice(1).join("\n"), `${n.name}: the file changed`);
                    assert.strictEqual((await transportHandshake(n.transportAddress)).fingerprintSha256, s.outputs.fingerprintSha256, `${n.name} serves the delivered certificate`);
                    // The owner of the files it replaced is kept (root:esrig); the modes are the
                    // package's: certificates 0644, the key 0640 (its default where a root-owned key
                    // has another group, so the node reads it through the group). The rig's own were
                    // 0660 each; destroy must put those back (asserted below).
                    const owner = before.get(n.name)!.map((x) => x.split("\n")[0].split(" ")[0]);
                    assert.deepStrictEqual(FILES.map((f) => statOnNode(n, f)), [`${owner[0]} 644`, `${owner[1]} 640`, `${owner[2]} 644`], `${n.name}: owner kept, modes 0644/0640/0644`);
                }
            }

            // A search across, through every local node.
            await withClient(remote, (c) => c.index({ index: INDEX, id: "1", document: { from: remote.name }, refresh: true }));
            for (const [i, n] of local.nodes.entries()) {
                const c = nodeClient(local, i);
                try {
                    const r = await c.search({ index: `${ALIAS}:${INDEX}` });
                    assert.deepStrictEqual(r.hits.hits.map((h) => h._source), [{ from: remote.name }], `search through ${n.name}`);
                } finally {
                    await c.close();
                }
            }

            // ---- a hand edit on one node: an extra CA appended to its trust file ----
            const edited = local.nodes[1];
            const extra = await generateCa({ commonName: "hand-added CA (e2e remote hosts)" });
            editOnNode(edited, FILES[2], `${readOnNode(edited, FILES[2])}${extra.certPem}`);
            t0 = Date.now();
            await run(["refresh", "--yes", "--skip-preview"]);
            figure("refresh (6 certificates read over SSH)", t0);
            const drift = await run(["preview", "--diff"]);
            const lines = drift.output.split("\n").filter((l) => /observedDrift|holds other/.test(l));
            console.log(`      [remote-hosts] preview --diff after refresh:\n${lines.map((l) => `        ${l}`).join("\n")}`);
            assert.deepStrictEqual(resourcesMentioning(drift.output, "observedDrift"), [edited.name], drift.output);
            assert.ok(drift.output.includes(`"delivery: transport-ca.crt holds other CA certificates"`), drift.output);
            t0 = Date.now();
            const repair = await run(["up", "--yes", "--skip-preview"]);
            assert.match(repair.output, /~ 1 updated/, repair.output);
            figure("up (repair of one node's file)", t0);
            assert.deepStrictEqual(filesOf(edited), delivered.get(edited.name), `${edited.name}: the delivered files are back`);
            for (const t of sides) for (const n of t.nodes) assert.deepStrictEqual(filesOf(n), delivered.get(n.name), `${n.name}: delivered files`);
            const noChange = await runPulumi(p.ws, ["preview", "--expect-no-changes"]);
            printed.push(noChange.output);
            assert.strictEqual(noChange.code, 0, noChange.output);

            // ---- no private key, no line of the SSH keys, no password in the state or anything printed ----
            const exported = (await pulumi(p.ws, ["stack", "export"])).stdout;
            for (const [what, text] of [["stack export", exported], ...printed.map((t, i) => [`CLI output #${i}`, t])] as const) {
                assert.ok(!text.includes("PRIVATE KEY"), `${what}: a private key in plaintext`);
                const seen = creds.needles.filter((n) => text.includes(n));
                assert.deepStrictEqual(seen.map((s) => `${s.slice(0, 8)}…`), [], `${what}: a secret (a key line or password) in plaintext`);
            }

            // ---- destroy: every node's own files back ----
            t0 = Date.now();
            await run(["destroy", "--yes", "--skip-preview"]);
            upDone = false;
            figure("destroy (link, 6 certificates restored over SSH)", t0);
            assert.deepStrictEqual(await remoteKeys(local, ALIAS), {});
            assertUnchanged(sides, before, "destroy put back what it held before the first up");
            const left = JSON.parse((await pulumi(p.ws, ["stack", "export"])).stdout).deployment.resources ?? [];
            assert.deepStrictEqual(left.filter((r: any) => r.type !== "pulumi:pulumi:Stack"), []);
            for (const [what, text] of [["destroy output", printed[printed.length - 1]]] as const) {
                assert.ok(!text.includes("PRIVATE KEY"), `${what}: a private key in plaintext`);
                assert.deepStrictEqual(creds.needles.filter((n) => text.includes(n)), [], `${what}: a secret in plaintext`);
            }

            // ---- a restart reads what destroy left: the node's own certificate ----
            t0 = Date.now();
            const idx = local.nodes.indexOf(edited);
            await haltNode(local, idx);
            await restartNode(local, idx, 600);
            await assertGreen(local);
            const n = local.nodes[idx];
            const own = describeCertificate(readOnNode(n, FILES[0])!);
            assert.strictEqual((await transportHandshake(n.transportAddress)).fingerprintSha256, own.fingerprintSha256, `${n.name} serves its own certificate after the restart`);
            figure(`${n.name} halted and restarted on its own files, cluster green`, t0);
        } finally {
            await withClient(remote, (c) => c.indices.delete({ index: INDEX }, { ignore: [404] })).catch(() => undefined);
            if (upDone) await runPulumi(p.ws, ["destroy", "--yes", "--skip-preview"]);
        }
    });

    it("a host key pinned to another node's key: preview fails naming the host and both fingerprints (SHA256:…), nothing is written on any node and nothing is in the stack; up refuses too", async function () {
        const sides = [local, remote];
        const before = snapshot(sides);
        // The remote's node 1 (reached through the bastion) pinned to node 0's key.
        const victim = remote.nodes[1];
        const other = remote.nodes[0];
        const creds = await credsFor(local, remote, (_t, n) => (n === victim ? other.ssh!.hostKeyLine : n.ssh!.hostKeyLine));
        const p = await projectFor("e2e-remote-hosts-pin", creds);
        projects.push(p);
        try {
            const t0 = Date.now();
            const preview = await runPulumi(p.ws, ["preview"]);
            figure("refused preview", t0);
            assert.notStrictEqual(preview.code, 0, preview.output);
            const line = preview.output.split("\n").find((l) => l.includes(other.ssh!.hostKeyFingerprint) && l.includes(victim.ssh!.hostKeyFingerprint));
            assert.ok(line, `one message names both fingerprints:\n${preview.output}`);
            console.log(`      [remote-hosts] refusal: ${line!.trim().slice(0, 400)}…`);
            assert.ok(line!.includes(`${victim.ssh!.host}:${victim.ssh!.port}`), `the message names the host ${victim.ssh!.host}:\n${line}`);
            assert.match(line!, new RegExp(`presented the SSH host key ssh-ed25519 ${escape(victim.ssh!.hostKeyFingerprint)}, not the pinned ssh-ed25519 ${escape(other.ssh!.hostKeyFingerprint)}`));
            assert.ok(line!.includes(remote.bastion!.host), "the message says it went through the jump host");

            const up = await runPulumi(p.ws, ["up", "--yes"]);
            assert.notStrictEqual(up.code, 0, up.output);
            assert.ok(up.output.includes(victim.ssh!.hostKeyFingerprint), up.output);

            for (const text of [preview.output, up.output]) {
                assert.ok(!text.includes("PRIVATE KEY"));
                assert.deepStrictEqual(creds.needles.filter((n) => text.includes(n)), []);
            }
            assertUnchanged(sides, before, "nothing written");
            assert.deepStrictEqual(await remoteKeys(local, ALIAS), {});
            const deployment = JSON.parse((await pulumi(p.ws, ["stack", "export"])).stdout).deployment ?? {};
            assert.deepStrictEqual((deployment.resources ?? []).filter((r: any) => r.type !== "pulumi:pulumi:Stack").map((r: any) => r.urn), [], "nothing in the stack");
        } finally {
            await runPulumi(p.ws, ["destroy", "--yes", "--skip-preview"]);
        }
    });
});

function escape(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
