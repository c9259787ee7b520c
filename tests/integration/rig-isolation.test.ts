/**
 * The rig's isolated hosts (`isolated`), on real Elasticsearch 9.5 and Debian's OpenSSH and sudo:
 * each node has its own file system view (nothing it writes reaches the host or the other node),
 * Elasticsearch at the packages' paths, its own sshd with a pinned host key, an admin user with
 * passwordless sudo and a user whose sudo asks for a password — users the host does not have —,
 * a root command prefix, and optionally a bastion that alone reaches the nodes' sshd. After
 * stopTopology nothing is left: no process, mount namespace file, backing folder or namespace.
 * Clusters are small (heap 384m), one at a time (2 cores); start times are printed for the report.
 */
import * as assert from "assert";
import { spawn, spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { ES_VERSIONS } from "../../rig/elasticsearch";
import { haltNode, NodeInfo, nodeClient, restartNode, startTopology, stopTopology, TopologyInfo } from "../../rig/topology";
import { alive, eventually, namespaces } from "../support/rigChecks";

const V9 = ES_VERSIONS.v9;
const HEAP = 384;
const isRoot = process.getuid?.() === 0;

/** Runs a shell script as root inside a node through its commandAccess prefix. */
function inNode(n: NodeInfo, script: string): SpawnSyncReturns<string> {
    const ca = n.commandAccess!;
    return spawnSync(ca[0], [...ca.slice(1), "sh", "-c", script], { encoding: "utf8", timeout: 30000 });
}

/** A plain OpenSSH client call with only the given key and known_hosts (no agent, no ~/.ssh). */
function ssh(opts: { keyPem: string; knownHosts: string; user: string; host: string; extra?: string[] }, command: string): SpawnSyncReturns<string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rig-iso-ssh-"));
    try {
        const key = path.join(dir, "id");
        fs.writeFileSync(key, opts.keyPem, { mode: 0o600 });
        const kh = path.join(dir, "known_hosts");
        fs.writeFileSync(kh, opts.knownHosts);
        return spawnSync("ssh", [
            "-F", "/dev/null", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "StrictHostKeyChecking=yes",
            "-o", `UserKnownHostsFile=${kh}`, "-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
            ...(opts.extra ?? []), `${opts.user}@${opts.host}`, command,
        ], { encoding: "utf8", timeout: 60000, env: { ...process.env, SSH_AUTH_SOCK: "" } });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Resolves to the error message when a TCP connect from the host fails within `ms`, or "connected". */
function tcpConnect(host: string, port: number, ms: number): Promise<string> {
    return new Promise((resolve) => {
        const s = net.connect({ host, port });
        const timer = setTimeout(() => {
            s.destroy();
            resolve("timed out");
        }, ms);
        s.once("connect", () => {
            clearTimeout(timer);
            s.destroy();
            resolve("connected");
        });
        s.once("error", (e) => {
            clearTimeout(timer);
            resolve(e.message);
        });
    });
}

async function health(t: TopologyInfo, node = 0): Promise<{ status: string; nodes: number }> {
    const c = nodeClient(t, node);
    try {
        const h = await c.cluster.health({ wait_for_status: "green", wait_for_nodes: String(t.nodes.length), timeout: "60s" });
        return { status: h.status, nodes: h.number_of_nodes };
    } finally {
        await c.close();
    }
}

/** Everything an isolated topology made is gone: processes, mount namespace files, backing folders, namespaces. */
function assertNothingLeft(t: TopologyInfo): void {
    const left = namespaces();
    for (const n of t.nodes) {
        for (const pid of [n.pid, n.serverPid, ...n.pids, n.sshdPid]) assert.ok(!alive(pid), `${n.name}: process ${pid} must be stopped`);
        assert.ok(!fs.existsSync(n.mountNamespace!), `${n.mountNamespace} must be removed`);
        assert.ok(!fs.existsSync(n.hostDir!), `${n.hostDir} must be removed`);
        assert.ok(!left.includes(n.namespace!), `namespace ${n.namespace} must be removed`);
    }
    if (t.bastion) {
        assert.ok(!alive(t.bastion.sshdPid), "the bastion's sshd must be stopped");
        assert.ok(!fs.existsSync(t.bastion.mountNamespace) && !fs.existsSync(t.bastion.hostDir), "the bastion's mount namespace and folder must be removed");
        assert.ok(!left.includes(t.bastion.namespace));
    }
    assert.ok(!fs.existsSync(t.dir), `${t.dir} must be removed`);
}

describe("rig: isolated hosts (own file system, sshd, users)", function () {
    this.timeout(20 * 60 * 1000);

    before(function () {
        if (!isRoot) this.skip(); // namespaces, overlays and sshd need root
    });

    describe("two isolated 9.5 nodes", function () {
        let t: TopologyInfo;

        before(async function () {
            t = await startTopology({ name: "riso", nodes: [{ version: V9 }, { version: V9 }], isolated: true, heapMb: HEAP });
            console.log(`      [figure] 2-node isolated cluster up in ${t.startSeconds}s`);
        });

        after(async function () {
            if (!t) return;
            await stopTopology(t);
            assertNothingLeft(t);
        });

        it("keeps the host's package paths empty and puts each node's files at them, inside the node only", async function () {
            for (const p of ["/etc/elasticsearch", "/usr/share/elasticsearch", "/var/lib/elasticsearch", "/var/log/elasticsearch"]) {
                assert.ok(!fs.existsSync(p), `the host must not have ${p}`);
            }
            for (const [i, n] of t.nodes.entries()) {
                assert.strictEqual(n.configDir, "/etc/elasticsearch");
                assert.strictEqual(n.esHome, "/usr/share/elasticsearch");
                const yml = inNode(n, "cat /etc/elasticsearch/elasticsearch.yml");
                assert.strictEqual(yml.status, 0, yml.stderr);
                assert.match(yml.stdout, new RegExp(`^node\\.name: "riso-node-${i}"$`, "m"));
                const ls = inNode(n, "stat -c '%U:%G %a' /etc/elasticsearch /var/lib/elasticsearch && test -x /usr/share/elasticsearch/bin/elasticsearch && ! touch /usr/share/elasticsearch/x 2>/dev/null");
                assert.strictEqual(ls.status, 0, ls.stderr);
                assert.deepStrictEqual(ls.stdout.trim().split("\n"), ["root:esrig 2750", "esrig:esrig 2750"]);
            }
            // The node itself says where it runs from.
            const c = nodeClient(t, 1);
            try {
                const res = await c.nodes.info({ node_id: "_local", metric: "settings" });
                const settings = Object.values(res.nodes)[0].settings as any;
                assert.strictEqual(settings.path.home, "/usr/share/elasticsearch");
                assert.deepStrictEqual([settings.path.data].flat(), ["/var/lib/elasticsearch"]);
                assert.strictEqual(settings.node.name, "riso-node-1");
            } finally {
                await c.close();
            }
        });

        it("keeps a file made through node 0's commandAccess on node 0: not on the host, not on node 1", function () {
            const probes = ["/etc/elasticsearch/rig-probe", "/etc/rig-probe", "/var/lib/rig-probe", "/usr/share/rig-probe", "/tmp/rig-probe", "/root/rig-probe"];
            const made = inNode(t.nodes[0], probes.map((p) => `echo probe > ${p}`).join(" && ") + " && id -u");
            assert.strictEqual(made.status, 0, made.stderr);
            assert.strictEqual(made.stdout.trim(), "0", "commandAccess runs as root");
            for (const p of probes) {
                assert.ok(!fs.existsSync(p), `${p} must not appear on the host`);
                assert.notStrictEqual(inNode(t.nodes[1], `test -e ${p}`).status, 0, `${p} must not appear on node 1`);
                assert.strictEqual(inNode(t.nodes[0], `cat ${p}`).stdout.trim(), "probe");
            }
        });

        it("logs the admin user in with its key and pinned host key; sudo -n needs no password; the users exist only on the nodes", function () {
            for (const n of t.nodes) {
                const s = n.ssh!;
                assert.strictEqual(s.host, n.ip);
                assert.strictEqual(s.port, 22);
                assert.match(s.hostKeyFingerprint, /^SHA256:/);
                const r = ssh({ keyPem: s.privateKeyPem, knownHosts: `${s.host} ${s.hostKeyLine}\n`, user: s.user, host: s.host }, "sudo -n id -u");
                assert.strictEqual(r.status, 0, r.stderr);
                assert.strictEqual(r.stdout.trim(), "0");
            }
            for (const u of [t.nodes[0].ssh!.user, t.nodes[0].sshPasswordSudoUser!.user]) {
                assert.notStrictEqual(spawnSync("id", [u]).status, 0, `the host must not have user ${u}`);
                assert.ok(!fs.existsSync(`/etc/sudoers.d/${u}`), `the host must not have /etc/sudoers.d/${u}`);
            }
        });

        it("refuses the password-sudo user's sudo -n with 'a password is required'", function () {
            const n = t.nodes[0];
            const u = n.sshPasswordSudoUser!;
            const r = ssh({ keyPem: u.privateKeyPem, knownHosts: `${n.ssh!.host} ${n.ssh!.hostKeyLine}\n`, user: u.user, host: n.ssh!.host }, "id -un && sudo -n true");
            assert.strictEqual(r.stdout.trim(), u.user, `the login itself works: ${r.stderr}`);
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /a password is required/);
        });

        it("refuses a node whose host key is not the pinned one", function () {
            const [n0, n1] = t.nodes;
            // node 1's (genuine) key pinned for node 0's address: the client must refuse node 0.
            const r = ssh({ keyPem: n0.ssh!.privateKeyPem, knownHosts: `${n0.ssh!.host} ${n1.ssh!.hostKeyLine}\n`, user: n0.ssh!.user, host: n0.ssh!.host }, "true");
            assert.strictEqual(r.status, 255);
            assert.match(r.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
            assert.notStrictEqual(n0.ssh!.hostKeyLine, n1.ssh!.hostKeyLine, "each node has its own host key");
        });

        it("is green, and a halted node restarted from its namespace rejoins green", async function () {
            assert.deepStrictEqual(await health(t), { status: "green", nodes: 2 });
            const before = t.nodes[1];
            await haltNode(t, 1);
            assert.ok(!alive(before.serverPid), "node 1's server must be stopped");
            assert.ok(alive(before.sshdPid), "a halted node's host keeps its sshd");
            const t0 = Date.now();
            const n = await restartNode(t, 1);
            console.log(`      [figure] isolated node restarted in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
            assert.notStrictEqual(n.pid, before.pid);
            assert.deepStrictEqual(await health(t, 1), { status: "green", nodes: 2 });
            const yml = inNode(n, "cat /etc/elasticsearch/elasticsearch.yml");
            assert.match(yml.stdout, /node\.name: "riso-node-1"/);
        });
    });

    describe("with a bastion", function () {
        let t: TopologyInfo;

        before(async function () {
            t = await startTopology({ name: "risob", nodes: [{ version: V9 }], isolated: { bastion: true }, heapMb: HEAP });
            console.log(`      [figure] 1-node isolated cluster with a bastion up in ${t.startSeconds}s`);
        });

        after(async function () {
            if (!t) return;
            await stopTopology(t);
            assertNothingLeft(t);
        });

        it("reaches the node's sshd only through the bastion (ssh -J), never straight from the host", async function () {
            const n = t.nodes[0];
            const b = t.bastion!;
            assert.ok(n.adminIp && n.ssh!.host === n.adminIp, "the node's ssh host is its admin address");
            assert.notStrictEqual(await tcpConnect(n.adminIp, 22, 8000), "connected", "the host must not reach the node's admin address");
            assert.notStrictEqual(await tcpConnect(n.ip, 22, 8000), "connected", "the node's sshd listens on its admin address only");
            assert.strictEqual(await tcpConnect(b.host, 22, 8000), "connected", "the bastion answers on the rig network");

            const knownHosts = `${b.host} ${b.hostKeyLine}\n${n.ssh!.host} ${n.ssh!.hostKeyLine}\n`;
            const direct = ssh({ keyPem: n.ssh!.privateKeyPem, knownHosts, user: n.ssh!.user, host: n.ssh!.host, extra: ["-o", "ConnectTimeout=5"] }, "true");
            assert.strictEqual(direct.status, 255, "a direct ssh to the node fails");

            // -J passes -F to the jump connection, not -i/-o: the rig's client config carries both hops.
            const viaJ = spawnSync("ssh", ["-F", t.sshConfigFile!, "-J", `${b.user}@${b.host}`, `${n.ssh!.user}@${n.ssh!.host}`, "sudo -n id -u; hostname -I"], { encoding: "utf8", timeout: 60000 });
            assert.strictEqual(viaJ.status, 0, viaJ.stderr);
            const [uid, addrs] = viaJ.stdout.trim().split("\n");
            assert.strictEqual(uid, "0");
            assert.ok(addrs.split(/\s+/).includes(n.adminIp), `ran on the node (${addrs})`);
            assert.ok(fs.readFileSync(t.knownHostsFile!, "utf8").includes(`${b.host} ${b.hostKeyLine}`));

            // The same without the rig's files: a ProxyCommand with plain options, the bastion's key pinned too.
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rig-iso-j-"));
            try {
                const key = path.join(dir, "id");
                fs.writeFileSync(key, b.privateKeyPem, { mode: 0o600 });
                const kh = path.join(dir, "known_hosts");
                fs.writeFileSync(kh, knownHosts);
                const common = ["-F", "/dev/null", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${kh}`, "-o", "BatchMode=yes"];
                const proxy = ["ssh", ...common, "-W", "%h:%p", `${b.user}@${b.host}`].join(" ");
                const r = spawnSync("ssh", [...common, "-o", `ProxyCommand=${proxy}`, `${n.ssh!.user}@${n.ssh!.host}`, "sudo -n id -u"], { encoding: "utf8", timeout: 60000 });
                assert.strictEqual(r.status, 0, r.stderr);
                assert.strictEqual(r.stdout.trim(), "0");
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
            assert.deepStrictEqual(await health(t), { status: "green", nodes: 1 });
        });
    });

    describe("process lifetime", function () {
        it("kill -9 of the process that started an isolated node and a bastion leaves nothing: not even a process started inside the node", async function () {
            const dist = path.resolve(__dirname, "..", "..", "rig");
            const script = [
                `const { spawn } = require("child_process");`,
                `const { startTopology } = require(${JSON.stringify(path.join(dist, "topology.js"))});`,
                `const { currentReaperPid } = require(${JSON.stringify(path.join(dist, "lifetime.js"))});`,
                "(async () => {",
                `  const t = await startTopology({ name: "risok", nodes: [{ version: ${JSON.stringify(V9)} }], isolated: { bastion: true }, heapMb: ${HEAP} });`,
                // Something the rig never recorded, e.g. what a product step left running on the node.
                "  const ca = t.nodes[0].commandAccess;",
                "  const stray = spawn(ca[0], [...ca.slice(1), 'sleep', '3600'], { detached: true, stdio: 'ignore' });",
                "  stray.unref();",
                "  process.stdout.write(JSON.stringify({ t, stray: stray.pid, reaper: currentReaperPid() }) + '\\n');",
                "  setInterval(() => undefined, 1000);",
                "})().catch((e) => { console.error(e); process.exit(1); });",
            ].join("\n");
            const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "pipe"] });
            let out = "";
            let err = "";
            child.stdout.on("data", (d) => (out += d));
            child.stderr.on("data", (d) => (err += d));
            await eventually("the child reports its topology", () => out.includes("\n") || child.exitCode !== null, 900);
            assert.ok(out.includes("\n"), `child failed: ${err.slice(-3000)}`);
            const { t, stray, reaper } = JSON.parse(out.split("\n")[0]) as { t: TopologyInfo; stray: number; reaper: number };
            const n = t.nodes[0];
            const b = t.bastion!;
            const pids = [...new Set([n.pid, n.serverPid!, ...n.pids, n.sshdPid!, b.sshdPid, stray])];
            await eventually("everything runs before the kill", () => pids.every(alive), 10);
            assert.ok(fs.existsSync(n.mountNamespace!) && fs.existsSync(b.mountNamespace) && fs.existsSync(n.hostDir!) && alive(reaper));

            child.kill("SIGKILL");
            await eventually("every process of the killed run is gone, the stray one inside the node too", () => pids.every((x) => !alive(x)), 60);
            await eventually("its mount namespace files, backing folders, namespaces, folder and reaper are gone", () =>
                [n.mountNamespace!, b.mountNamespace, n.hostDir!, b.hostDir, t.dir].every((f) => !fs.existsSync(f)) &&
                !namespaces().includes(n.namespace!) && !namespaces().includes(b.namespace) && !alive(reaper), 30);
        });
    });
});
