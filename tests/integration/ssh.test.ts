/**
 * Node access over SSH against real OpenSSH servers (rig/sshd.ts, Debian's sshd on loopback):
 * a node's sshd and a jump host's (TCP forwarding allowed). Root logs in with generated keys.
 *
 * What is checked is what the server saw: its VERBOSE log (sessions opened, keys accepted, where a
 * connection came from), the processes on the machine while a secret is on a run's stdin, and the
 * errors a user meets when a host key, key, passphrase, port or host is wrong.
 *
 * Runs without Elasticsearch: the root hooks only stop what a suite started.
 */
import * as assert from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { HostKeyError, InputError, NodeAccessError } from "../../provider/core/errors";
import { shellFiles } from "../../provider/access/files";
import { shellFor } from "../../provider/access/shell";
import { closeAll, pooledConnection, sshShell, sshTuning } from "../../provider/access/ssh";
import type { SshAccess } from "../../provider/access/types";
import { accessProblems } from "../../provider/access/validate";
import { descendants } from "../../rig/elasticsearch";
import { generateClientKey, SshdInfo, startSshd } from "../../rig/sshd";

/** A TCP port nothing listens on right now. */
async function freePort(): Promise<number> {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
}

const countIn = (file: string, needle: string) => fs.readFileSync(file, "utf8").split(needle).length - 1;
const logSince = (file: string, offset: number) => fs.readFileSync(file, "utf8").slice(offset);
const logSize = (file: string) => fs.statSync(file).size;

/** PIDs owning a TCP socket whose local port is `port` (from /proc/net/tcp and each process's fds). */
function socketOwners(port: number): number[] {
    const inodes = new Set<string>();
    for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
        let text = "";
        try {
            text = fs.readFileSync(table, "utf8");
        } catch {
            continue;
        }
        for (const line of text.split("\n").slice(1)) {
            const f = line.trim().split(/\s+/);
            if (f.length > 9 && parseInt(f[1].split(":")[1], 16) === port) inodes.add(f[9]);
        }
    }
    const owners: number[] = [];
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
            for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
                const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
                if (m && inodes.has(m[1])) owners.push(Number(pid));
            }
        } catch {
            // gone, or not ours to read
        }
    }
    return owners;
}

describe("node access over SSH (real sshd)", function () {
    this.timeout(120_000);
    let base: string;
    let node: SshdInfo;
    let jump: SshdInfo;
    let key: ReturnType<typeof generateClientKey>;
    let otherKey: ReturnType<typeof generateClientKey>;
    let encKey: ReturnType<typeof generateClientKey>;
    const PASSPHRASE = "correct horse battery staple";
    let access: SshAccess;

    before(async function () {
        if (process.getuid?.() !== 0) this.skip();
        // Not under /tmp: StrictModes refuses authorized keys below a world-writable folder.
        fs.mkdirSync("/run/pulumi-es-remote-tests", { recursive: true, mode: 0o755 });
        base = fs.mkdtempSync("/run/pulumi-es-remote-tests/ssh-");
        fs.chmodSync(base, 0o755);
        key = generateClientKey(path.join(base, "keys"));
        otherKey = generateClientKey(path.join(base, "keys"));
        encKey = generateClientKey(path.join(base, "keys"), { passphrase: PASSPHRASE });
        [node, jump] = await Promise.all([
            startSshd({ dir: path.join(base, "node"), address: "127.0.0.1", port: await freePort(), authorizedKeys: { root: [key.publicKeyLine, encKey.publicKeyLine] }, permitRootLogin: true }),
            startSshd({ dir: path.join(base, "jump"), address: "127.0.0.1", port: await freePort(), authorizedKeys: { root: [key.publicKeyLine] }, permitRootLogin: true, allowTcpForwarding: true }),
        ]);
        access = { host: "127.0.0.1", port: node.port, user: "root", privateKey: key.privateKeyPem, hostKey: node.hostKeyLine, timeoutSeconds: 10 };
    });
    afterEach(async () => {
        await closeAll();
    });
    after(async function () {
        await closeAll();
        await Promise.all([node?.stop(), jump?.stop()]);
        if (base) fs.rmSync(base, { recursive: true, force: true });
    });

    it("runs a script: exit code, stdout, stderr, args", async function () {
        const sh = sshShell(access);
        assert.strictEqual(sh.where, `ssh root@127.0.0.1:${node.port}`);
        const r = await sh.run("printf 'out:%s|%s' \"$1\" \"$2\"; printf 'err' >&2; exit 3", { args: ["a b", "it's $HOME"] });
        assert.deepStrictEqual([r.code, r.stdout.toString(), r.stderr], [3, "out:a b|it's $HOME", "err"]);
    });

    it("stdin carries any bytes, a megabyte too", async function () {
        const sh = sshShell(access);
        const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        assert.ok((await sh.run("cat", { stdin: bytes })).stdout.equals(bytes));
        const big = Buffer.alloc(1 << 20, 0xa5);
        const r = await sh.run("wc -c");
        assert.strictEqual(r.stdout.toString().trim(), "0");
        assert.strictEqual((await sh.run("wc -c", { stdin: big })).stdout.toString().trim(), String(1 << 20));
    });

    it("a host key other than the pinned one is refused, naming both fingerprints, and nothing runs", async function () {
        const before = logSize(node.logFile);
        const sh = sshShell({ ...access, hostKey: jump.hostKeyLine });
        await assert.rejects(sh.run("touch /run/pulumi-es-remote-tests/should-not-exist"), (e: Error) => {
            assert.ok(e instanceof HostKeyError, String(e));
            assert.ok(e.message.includes(`presented the SSH host key ssh-ed25519 ${node.hostKeyFingerprint}, not the pinned ssh-ed25519 ${jump.hostKeyFingerprint} (ssh.hostKey)`), e.message);
            assert.match(e.message, /Nothing was sent to it\. If the host's key changed on purpose .* update ssh\.hostKey/);
            assert.deepStrictEqual(e.details, { host: "127.0.0.1", expected: [`ssh-ed25519 ${jump.hostKeyFingerprint}`], presented: `ssh-ed25519 ${node.hostKeyFingerprint}` });
            return true;
        });
        await new Promise((r) => setTimeout(r, 300));
        const seen = logSince(node.logFile, before);
        assert.match(seen, /Connection from 127\.0\.0\.1/);
        assert.doesNotMatch(seen, /Accepted|Starting session|Postponed/);
        assert.strictEqual(fs.existsSync("/run/pulumi-es-remote-tests/should-not-exist"), false);
    });

    it("a pinned fingerprint works as well as the key line", async function () {
        const r = await sshShell({ ...access, hostKey: [jump.hostKeyFingerprint, node.hostKeyFingerprint] }).run("echo ok");
        assert.strictEqual(r.stdout.toString(), "ok\n");
    });

    it("no hostKey and no acceptAnyHostKey is refused before connecting", async function () {
        const a = { ssh: { ...access, hostKey: undefined } };
        assert.deepStrictEqual(accessProblems(a, "delivery.access").map((f) => f.property), ["delivery.access.ssh.hostKey"]);
        const before = logSize(node.logFile);
        await assert.rejects(shellFor(a), (e: Error) => e instanceof InputError && /^access\.ssh\.hostKey: pin the node's SSH host key: run ssh-keyscan -t ed25519 127\.0\.0\.1/.test(e.message));
        assert.doesNotMatch(logSince(node.logFile, before), /Connection from /, "nothing reached the server");
    });

    it("acceptAnyHostKey runs, and warns at every connect with the key presented", async function () {
        const warnings: string[] = [];
        const sh = await shellFor({ ssh: { ...access, hostKey: undefined, acceptAnyHostKey: true } }, { warn: (m) => warnings.push(m) });
        assert.strictEqual((await sh.run("echo ok")).stdout.toString(), "ok\n");
        await sh.run("true");
        assert.strictEqual(warnings.length, 1, "one connection, one warning");
        assert.ok(warnings[0].includes(`presented ssh-ed25519 ${node.hostKeyFingerprint}`), warnings[0]);
        assert.match(warnings[0], /was not checked \(acceptAnyHostKey\)/);
        await closeAll();
        await sh.run("true");
        assert.strictEqual(warnings.length, 2, "a new connection warns again");
    });

    it("a key the host does not know is refused with the login message", async function () {
        await assert.rejects(sshShell({ ...access, privateKey: otherKey.privateKeyPem }).run("true"), (e: Error) => {
            assert.ok(e instanceof NodeAccessError && !(e instanceof HostKeyError));
            assert.strictEqual(e.message, `login as root to 127.0.0.1:${node.port} refused: the key is not in ~root/.ssh/authorized_keys on the host, or the passphrase is wrong; add the public key there (or fix ssh.user)`);
            return true;
        });
    });

    it("an encrypted key works with its passphrase; a wrong or missing passphrase fails before connecting", async function () {
        const r = await sshShell({ ...access, privateKey: encKey.privateKeyPem, passphrase: PASSPHRASE }).run("echo ok");
        assert.strictEqual(r.stdout.toString(), "ok\n");
        const before = logSize(node.logFile);
        await assert.rejects(sshShell({ ...access, privateKey: encKey.privateKeyPem, passphrase: "wrong" }).run("true"),
            (e: Error) => e instanceof NodeAccessError && e.message === `the private key for root@127.0.0.1:${node.port} could not be decrypted: ssh.passphrase is wrong`);
        await assert.rejects(sshShell({ ...access, privateKey: encKey.privateKeyPem }).run("true"),
            (e: Error) => e instanceof NodeAccessError && e.message === `the private key for root@127.0.0.1:${node.port} is encrypted: give its passphrase in ssh.passphrase`);
        // sshd may still log the end of the first (successful) session after `before` was taken
        // (seen under load): only a new connection would mean the key went to the server.
        assert.doesNotMatch(logSince(node.logFile, before), /Connection from /, "nothing reached the server");
    });

    it("an SSH agent's key works (ssh-agent -a, ssh-add)", async function () {
        const sock = path.join(base, "agent.sock");
        const agent: ChildProcess = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
        try {
            for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
            const add = spawnSync("ssh-add", [key.file], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: "utf8" });
            assert.strictEqual(add.status, 0, add.stderr);
            const r = await sshShell({ ...access, privateKey: undefined, agent: sock }).run("echo agent");
            assert.strictEqual(r.stdout.toString(), "agent\n");
            await assert.rejects(sshShell({ ...access, privateKey: undefined, agent: path.join(base, "no-agent.sock") }).run("true"),
                /the SSH agent socket .*no-agent\.sock \(ssh\.agent\) does not exist on this host/);
        } finally {
            agent.kill("SIGTERM");
        }
    });

    it("through a jump host: the node's sshd sees the connection come from the jump host's forward", async function () {
        const before = logSize(node.logFile);
        const sh = sshShell({ ...access, jumpHost: { host: "127.0.0.1", port: jump.port, user: "root", privateKey: key.privateKeyPem, hostKey: jump.hostKeyLine } });
        assert.strictEqual(sh.where, `ssh root@127.0.0.1:${node.port} via jump root@127.0.0.1:${jump.port}`);
        const r = await sh.run("echo \"$SSH_CONNECTION\"");
        const [, clientPort] = r.stdout.toString().trim().split(" ");
        // The node's client is the jump host's sshd (its per-connection process), not this process.
        const owners = socketOwners(Number(clientPort));
        const jumpTree = [jump.pid, ...descendants(jump.pid)];
        assert.ok(owners.length > 0 && owners.every((p) => jumpTree.includes(p)), `port ${clientPort} owned by ${owners}, jump tree ${jumpTree}`);
        assert.ok(!owners.includes(process.pid));
        assert.ok(logSince(node.logFile, before).includes(`Connection from 127.0.0.1 port ${clientPort} on 127.0.0.1 port ${node.port}`));
        assert.match(logSince(jump.logFile, 0), /Accepted publickey for root/);
    });

    it("a jump host that forbids forwarding, or whose key is wrong, is named as the jump host", async function () {
        // The node's sshd has AllowTcpForwarding no: as a jump host it refuses the tunnel.
        const viaNode = sshShell({ ...access, jumpHost: { host: "127.0.0.1", port: node.port, user: "root", privateKey: key.privateKeyPem, hostKey: node.hostKeyLine } });
        await assert.rejects(viaNode.run("true"), (e: Error) => e instanceof NodeAccessError
            && e.message.startsWith(`the jump host 127.0.0.1:${node.port} refused a tunnel to 127.0.0.1:${node.port} (`) && e.message.includes("AllowTcpForwarding"));
        const badPin = sshShell({ ...access, jumpHost: { host: "127.0.0.1", port: jump.port, user: "root", privateKey: key.privateKeyPem, hostKey: node.hostKeyLine } });
        await assert.rejects(badPin.run("true"), (e: Error) => e instanceof HostKeyError && e.message.startsWith(`the jump host 127.0.0.1:${jump.port} presented`) && e.message.includes("ssh.jumpHost.hostKey"));
        const badNodePin = sshShell({ ...access, hostKey: jump.hostKeyLine, jumpHost: { host: "127.0.0.1", port: jump.port, user: "root", privateKey: key.privateKeyPem, hostKey: jump.hostKeyLine } });
        await assert.rejects(badNodePin.run("true"), (e: Error) => e instanceof HostKeyError && e.message.startsWith(`the node 127.0.0.1:${node.port} (through the jump host 127.0.0.1:${jump.port}) presented`));
    });

    it("a closed port and a silent listener fail naming the host and the seconds", async function () {
        const closed = await freePort();
        await assert.rejects(sshShell({ ...access, port: closed, timeoutSeconds: 2 }).run("true"), (e: Error) => e instanceof NodeAccessError
            && e.message === `no SSH server answered at 127.0.0.1:${closed} within 2 s (connection refused): is the host up, the port right (ssh.port), a firewall in between?`);
        const silent = net.createServer(() => undefined);
        const held: net.Socket[] = [];
        silent.on("connection", (s) => held.push(s));
        await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
        const port = (silent.address() as net.AddressInfo).port;
        try {
            await assert.rejects(sshShell({ ...access, port, timeoutSeconds: 1 }).run("true"), (e: Error) => e instanceof NodeAccessError
                && e.message === `no SSH server answered at 127.0.0.1:${port} within 1 s (no SSH handshake): is the host up, the port right (ssh.port), a firewall in between?`);
        } finally {
            held.forEach((s) => s.destroy());
            silent.close();
        }
    });

    it("a run that does not finish in time is stopped, naming the host and the seconds", async function () {
        await assert.rejects(sshShell(access).run("sleep 30", { timeoutMs: 1000 }),
            (e: Error) => e instanceof NodeAccessError && e.message === `a step on ssh root@127.0.0.1:${node.port} did not finish within 1 s and was stopped: is the node overloaded, or the step waiting for something?`);
        assert.strictEqual((await sshShell(access).run("echo still")).stdout.toString(), "still\n", "the connection outlives the channel");
    });

    it("one connection carries 20 sequential and 10 parallel runs of several shells (sudo or not)", async function () {
        const before = countIn(node.logFile, "Accepted publickey for root");
        const a = sshShell(access);
        const b = sshShell(access, { sudo: { user: "nobody" } });
        for (let i = 0; i < 20; i++) assert.strictEqual((await a.run(`echo ${i}`)).stdout.toString(), `${i}\n`);
        const par = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).run(`echo ${i}; id -un`)));
        par.forEach((r, i) => assert.strictEqual(r.stdout.toString(), `${i}\n${i % 2 ? "root" : "nobody"}\n`));
        // More parallel runs than sshd's MaxSessions (10): the pool queues them.
        const many = await Promise.all(Array.from({ length: 25 }, (_, i) => a.run(`echo ${i}`)));
        assert.deepStrictEqual(many.map((r) => r.stdout.toString()), Array.from({ length: 25 }, (_, i) => `${i}\n`));
        await new Promise((r) => setTimeout(r, 200));
        assert.strictEqual(countIn(node.logFile, "Accepted publickey for root") - before, 1);
    });

    it("a dropped connection is opened again once; keepalives are answered", async function () {
        const keepalive = sshTuning.keepaliveMs;
        sshTuning.keepaliveMs = 200;
        try {
            const sh = sshShell(access);
            await sh.run("true");
            await new Promise((r) => setTimeout(r, 1000));
            const c = await pooledConnection(access);
            assert.ok(c && c.keepaliveReplies >= 2, `keepalive replies: ${c?.keepaliveReplies}`);
            const before = countIn(node.logFile, "Accepted publickey for root");
            // Kill the server side of the pooled connection (sshd's per-connection processes).
            for (const p of descendants(node.pid)) process.kill(p, "SIGKILL");
            for (let i = 0; i < 50 && !c!.closed; i++) await new Promise((r) => setTimeout(r, 50));
            assert.strictEqual(c!.closed, true);
            assert.strictEqual((await sh.run("echo again")).stdout.toString(), "again\n");
            await new Promise((r) => setTimeout(r, 200));
            assert.strictEqual(countIn(node.logFile, "Accepted publickey for root") - before, 1);
        } finally {
            sshTuning.keepaliveMs = keepalive;
        }
    });

    it("sudo over SSH, and the NodeFiles scripts over SSH", async function () {
        const sh = sshShell(access, { sudo: { user: "nobody" } });
        assert.strictEqual(sh.where, `ssh root@127.0.0.1:${node.port} (sudo as nobody)`);
        assert.strictEqual((await sh.run("id -un")).stdout.toString(), "nobody\n");
        await assert.rejects(sshShell(access, { sudo: { user: "no-such-user-xyz" } }).run("echo ran"),
            (e: Error) => e instanceof NodeAccessError && e.message === "sudo -n as no-such-user-xyz on 127.0.0.1: there is no user no-such-user-xyz there; fix sudo.user");
        const dir = path.join(base, "files");
        fs.mkdirSync(dir, { mode: 0o755 });
        fs.chownSync(dir, 1234, 2345);
        const files = shellFiles(sshShell(access));
        const f = path.join(dir, "transport.key");
        await files.writeAtomic(f, "KEY\n", 0o640);
        const st = fs.statSync(f);
        assert.deepStrictEqual([st.uid, st.gid, st.mode & 0o777, fs.readFileSync(f, "utf8")], [1234, 2345, 0o640, "KEY\n"]);
        assert.deepStrictEqual(await files.stat(f), { isFile: true, isDirectory: false, mode: 0o640, uid: 1234, gid: 2345 });
        assert.deepStrictEqual(await files.readDir(dir), ["transport.key"]);
        await assert.rejects(files.writeAtomic(path.join(dir, "nope", "x"), "x", 0o644), new RegExp(`could not write ${dir}/nope/x on ssh root@127\\.0\\.0\\.1:${node.port}: the directory ${dir}/nope does not exist`));
    });

    it("a secret on stdin is in no process's command line or environment while the step runs, nor in sshd's log", async function () {
        const secret = `es-remote-secret-${Math.random().toString(36).slice(2)}-do-not-leak`;
        const marker = path.join(base, "reading-done");
        const step = sshShell(access, { sudo: true }).run("cat >/dev/null; : > \"$1\"; sleep 3", { args: [marker], stdin: `${secret}\n` });
        for (let i = 0; i < 100 && !fs.existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50));
        assert.ok(fs.existsSync(marker), "the step read its stdin");
        let sampled = 0;
        const leaks: string[] = [];
        for (let round = 0; round < 3; round++) {
            for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
                for (const what of ["cmdline", "environ"]) {
                    try {
                        if (fs.readFileSync(`/proc/${pid}/${what}`).includes(secret)) leaks.push(`${pid}/${what}`);
                        sampled++;
                    } catch {
                        // exited meanwhile
                    }
                }
            }
            await new Promise((r) => setTimeout(r, 300));
        }
        assert.ok(sampled > 20, `sampled ${sampled}`);
        assert.deepStrictEqual(leaks, []);
        assert.strictEqual((await step).code, 0);
        assert.ok(!fs.readFileSync(node.logFile, "utf8").includes(secret));
    });

    it("an idle pooled connection does not keep a process alive", async function () {
        const accessFile = path.join(base, "access.json");
        fs.writeFileSync(accessFile, JSON.stringify(access), { mode: 0o600 });
        const script = `
const { sshShell } = require(${JSON.stringify(path.resolve(__dirname, "../../provider/access/ssh.js"))});
const access = JSON.parse(require("fs").readFileSync(${JSON.stringify(accessFile)}, "utf8"));
sshShell(access).run("echo hi").then((r) => { process.stdout.write(r.stdout); });
`;
        const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 30_000 });
        assert.strictEqual(r.error, undefined, "the process exited by itself");
        assert.deepStrictEqual([r.status, r.stdout], [0, "hi\n"], r.stderr);
    });
});
