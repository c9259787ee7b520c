/**
 * Node access validation (pure): one table of inputs and the properties refused, the exact text
 * of the reasons a user meets most, values unknown at preview skipped, and the message and pool
 * forms of an access (never a key in them).
 */
import * as assert from "assert";
import { UNKNOWN } from "../../../../provider/core/dynamic";
import { accessProblems, describeAccess, sshConnectionKey } from "../../../../provider/access/validate";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKfd0CNTJwR/au3Lg5P3Ti/mInqiM4Q0FTEu+4OywO4s";
const FP = "SHA256:2f9NLPiMuLkcXLzsSp2Z8yd7icT8zZxxkh/Fzvf483k";
const ssh = (extra: Record<string, unknown> = {}) => ({ ssh: { host: "10.0.0.5", user: "admin", privateKey: KEY, hostKey: HOST_KEY, ...extra } });
const props = (v: unknown) => accessProblems(v, "delivery.access").map((f) => f.property);

describe("node access validation", () => {
    it("accepts the documented forms", () => {
        const good: unknown[] = [
            undefined,
            {},
            ssh(),
            ssh({ port: 2222, timeoutSeconds: 5, hostKey: [HOST_KEY, FP] }),
            ssh({ privateKey: undefined, agent: "/run/user/1000/ssh-agent.sock" }),
            ssh({ passphrase: "pw" }),
            ssh({ hostKey: undefined, acceptAnyHostKey: true }),
            ssh({ jumpHost: { host: "bastion.example", user: "jump", agent: "/tmp/a.sock", hostKey: FP } }),
            { command: ["docker", "exec", "-i", "es01"] },
            { command: ["docker", "exec", "-i", "es01"], sudo: true },
            { ...ssh(), sudo: { user: "elasticsearch" } },
            { sudo: { user: "#1000" } },
            { sudo: {} },
        ];
        for (const v of good) assert.deepStrictEqual(accessProblems(v, "delivery.access"), [], JSON.stringify(v));
    });

    it("refuses each mistake at its property", () => {
        const cases: Array<[unknown, string[]]> = [
            [null, ["delivery.access"]],
            ["ssh://admin@h", ["delivery.access"]],
            [[], ["delivery.access"]],
            [{ ssh: ssh().ssh, command: ["docker"] }, ["delivery.access"]],
            [{ shh: {} }, ["delivery.access.shh"]],
            [{ ssh: "admin@h" }, ["delivery.access.ssh"]],
            [ssh({ host: "" }), ["delivery.access.ssh.host"]],
            [ssh({ host: "admin@10.0.0.5" }), ["delivery.access.ssh.host"]],
            [ssh({ user: undefined }), ["delivery.access.ssh.user"]],
            [ssh({ user: "ad min" }), ["delivery.access.ssh.user"]],
            [ssh({ privateKey: undefined }), ["delivery.access.ssh.privateKey"]],
            [ssh({ privateKey: "hunter2" }), ["delivery.access.ssh.privateKey"]],
            [ssh({ privateKey: HOST_KEY }), ["delivery.access.ssh.privateKey"]],
            [ssh({ privateKey: undefined, agent: "", passphrase: "x" }), ["delivery.access.ssh.passphrase", "delivery.access.ssh.agent"]],
            [ssh({ port: 0 }), ["delivery.access.ssh.port"]],
            [ssh({ port: 65536 }), ["delivery.access.ssh.port"]],
            [ssh({ port: "22" }), ["delivery.access.ssh.port"]],
            [ssh({ timeoutSeconds: 0 }), ["delivery.access.ssh.timeoutSeconds"]],
            [ssh({ timeoutSeconds: -1 }), ["delivery.access.ssh.timeoutSeconds"]],
            [ssh({ hostKey: undefined }), ["delivery.access.ssh.hostKey"]],
            [ssh({ hostKey: "nonsense" }), ["delivery.access.ssh.hostKey"]],
            [ssh({ hostKey: [HOST_KEY, "SHA256:short"] }), ["delivery.access.ssh.hostKey[1]"]],
            [ssh({ hostKey: [] }), ["delivery.access.ssh.hostKey"]],
            [ssh({ hostKey: `@revoked 10.0.0.5 ${HOST_KEY}` }), ["delivery.access.ssh.hostKey"]],
            [ssh({ acceptAnyHostKey: true }), ["delivery.access.ssh.acceptAnyHostKey"]],
            [ssh({ hostKey: undefined, acceptAnyHostKey: "yes" }), ["delivery.access.ssh.acceptAnyHostKey", "delivery.access.ssh.hostKey"]],
            [ssh({ password: "x" }), ["delivery.access.ssh.password"]],
            [ssh({ jumpHost: { host: "b", user: "j", privateKey: KEY } }), ["delivery.access.ssh.jumpHost.hostKey"]],
            [ssh({ jumpHost: { host: "b", user: "j", hostKey: FP, port: 99999 } }), ["delivery.access.ssh.jumpHost.port", "delivery.access.ssh.jumpHost.privateKey"]],
            [ssh({ jumpHost: { host: "b", user: "j", agent: "/a", hostKey: FP, jumpHost: {} } }), ["delivery.access.ssh.jumpHost.jumpHost"]],
            [{ command: [] }, ["delivery.access.command"]],
            [{ command: "docker exec -i es01" }, ["delivery.access.command"]],
            [{ command: ["docker", "", 3] }, ["delivery.access.command[1]", "delivery.access.command[2]"]],
            [{ sudo: "root" }, ["delivery.access.sudo"]],
            [{ sudo: { user: "rm -rf /" } }, ["delivery.access.sudo.user"]],
            [{ sudo: { usr: "x" } }, ["delivery.access.sudo.usr"]],
        ];
        for (const [v, want] of cases) assert.deepStrictEqual(props(v), want, JSON.stringify(v));
    });

    it("says how to fix the common mistakes (exact reasons)", () => {
        const [noPin] = accessProblems(ssh({ hostKey: undefined }), "delivery.access");
        assert.deepStrictEqual(noPin, {
            property: "delivery.access.ssh.hostKey",
            reason: "pin the node's SSH host key: run ssh-keyscan -t ed25519 10.0.0.5 (or read /etc/ssh/ssh_host_ed25519_key.pub on the host), check its fingerprint (ssh-keygen -lf) out of band, and give the line or the fingerprint; or set acceptAnyHostKey: true for a throw-away test host",
        });
        assert.deepStrictEqual(accessProblems({ ssh: ssh().ssh, command: ["docker"] }, "keystoreOn[0].access"), [{
            property: "keystoreOn[0].access",
            reason: "give either ssh (log in to the node) or command (a prefix such as docker exec -i es01), not both",
        }]);
        assert.deepStrictEqual(accessProblems(ssh({ hostKey: [HOST_KEY, "SHA256:short"] }), "delivery.access"), [{
            property: "delivery.access.ssh.hostKey[1]",
            reason: "a SHA256 fingerprint is SHA256: and 43 base64 characters, as ssh-keygen -lf prints it; give a known_hosts line, a public key line (ssh-ed25519 AAAA…) or a fingerprint (SHA256:…) from ssh-keyscan -t ed25519 10.0.0.5",
        }]);
        assert.deepStrictEqual(accessProblems(ssh({ port: 0 }), "delivery.access"), [{
            property: "delivery.access.ssh.port",
            reason: "must be a TCP port 1..65535 (the SSH server's, usually 22), got 0",
        }]);
        assert.deepStrictEqual(accessProblems(ssh({ sudoo: true }), "a"), [{
            property: "a.ssh.sudoo",
            reason: "is not an ssh property; use host, port, user, privateKey, passphrase, agent, hostKey, acceptAnyHostKey, timeoutSeconds, jumpHost",
        }]);
        const [jump] = accessProblems(ssh({ jumpHost: { host: "b.example", user: "j", agent: "/a" } }), "d");
        assert.match(jump.reason, /^pin the jump host's SSH host key: run ssh-keyscan -t ed25519 b\.example/);
    });

    it("skips what is unknown at preview, and still checks the rest", () => {
        assert.deepStrictEqual(accessProblems(UNKNOWN, "d"), []);
        assert.deepStrictEqual(accessProblems({ ssh: UNKNOWN }, "d"), []);
        assert.deepStrictEqual(accessProblems(ssh({ privateKey: UNKNOWN, hostKey: UNKNOWN, host: UNKNOWN }), "d"), []);
        assert.deepStrictEqual(accessProblems(ssh({ hostKey: undefined, acceptAnyHostKey: UNKNOWN }), "d"), []);
        assert.deepStrictEqual(accessProblems({ command: ["docker", UNKNOWN] }, "d"), []);
        assert.deepStrictEqual(props(ssh({ privateKey: UNKNOWN, port: -1 })).map((p) => p.replace(/^delivery\.access\./, "")), ["ssh.port"]);
    });

    it("never throws, whatever it is given", () => {
        const hostile = new Proxy({}, { ownKeys: () => { throw new Error("boom"); } });
        assert.strictEqual(accessProblems(hostile, "d").length, 1);
        assert.strictEqual(accessProblems({ ssh: { get host() { throw new Error("x"); } } }, "d").length, 1);
    });

    it("describes an access for messages without its secrets", () => {
        const a = { ...ssh({ passphrase: "pw-secret", jumpHost: { host: "1.2.3.4", user: "bastion", privateKey: KEY, hostKey: FP } }), sudo: true };
        assert.strictEqual(describeAccess(a), "ssh admin@10.0.0.5:22 via jump bastion@1.2.3.4:22 (sudo)");
        assert.strictEqual(describeAccess(undefined), "this host");
        assert.strictEqual(describeAccess({}), "this host");
        assert.strictEqual(describeAccess({ sudo: { user: "elasticsearch" } }), "this host (sudo as elasticsearch)");
        assert.strictEqual(describeAccess({ command: ["docker", "exec", "-i", "es01"] }), "command docker exec -i es01");
        assert.strictEqual(describeAccess({ command: ["sh", "-c", "x y"] }), "command sh -c 'x y'");
        assert.strictEqual(describeAccess(ssh({ host: "::1", port: 2222 })), "ssh admin@[::1]:2222");
        for (const s of [describeAccess(a), sshConnectionKey(a.ssh)]) {
            assert.ok(!s.includes("PRIVATE KEY") && !s.includes("b3BlbnNzaC1rZXk") && !s.includes("pw-secret"), s);
        }
    });

    it("pools by hops, users, credential and pins; sudo is per shell, not per connection", () => {
        const base = ssh().ssh;
        const k = (o: Record<string, unknown>) => sshConnectionKey({ ...base, ...o } as never);
        assert.strictEqual(k({}), k({ host: "10.0.0.5", port: 22 }));
        assert.strictEqual(k({ host: "NODE.example" }), k({ host: "node.example" }));
        for (const o of [{ port: 2222 }, { user: "other" }, { privateKey: KEY.replace("AAAA", "BBBB") }, { passphrase: "p" }, { agent: "/a" }, { hostKey: FP }, { hostKey: undefined, acceptAnyHostKey: true }, { jumpHost: { host: "b", user: "j", agent: "/a", hostKey: FP } }]) {
            assert.notStrictEqual(k(o), k({}), JSON.stringify(o));
        }
        assert.strictEqual(k({ hostKey: [HOST_KEY, FP] }), k({ hostKey: [FP, HOST_KEY] }));
    });
});
