/**
 * Pinned host keys against what OpenSSH's own tools print: fingerprints equal `ssh-keygen -lf`
 * (SHA256 and MD5), and every form a user may paste (a .pub line, a known_hosts line, hashed with
 * `ssh-keygen -H`, with a marker, a fingerprint with or without padding, ssh-keyscan's output)
 * matches the key and only the key.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { hostKeyAlgorithms, matchHostKey, md5Fingerprint, parseHostKey, pinsNothing, sha256Fingerprint } from "../../../../provider/access/hostkey";

function sh(cmd: string, args: string[]): string {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    assert.strictEqual(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
}

interface Key {
    type: string;
    pubLine: string;
    blob: Buffer;
    sha256: string;
    md5: string;
}

describe("host key pinning", function () {
    let dir: string;
    const keys: Record<string, Key> = {};

    before(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostkey-"));
        for (const [name, args] of [["ed25519", ["-t", "ed25519"]], ["rsa", ["-t", "rsa", "-b", "2048"]], ["ecdsa", ["-t", "ecdsa", "-b", "256"]], ["ed25519b", ["-t", "ed25519"]]] as const) {
            const f = path.join(dir, name);
            sh("ssh-keygen", ["-q", ...args, "-N", "", "-C", `host-${name}`, "-f", f]);
            const pubLine = fs.readFileSync(`${f}.pub`, "utf8").trim();
            keys[name] = {
                type: pubLine.split(" ")[0],
                pubLine,
                blob: Buffer.from(pubLine.split(" ")[1], "base64"),
                sha256: sh("ssh-keygen", ["-lf", `${f}.pub`]).split(/\s+/)[1],
                md5: sh("ssh-keygen", ["-E", "md5", "-lf", `${f}.pub`]).split(/\s+/)[1],
            };
        }
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("fingerprints equal ssh-keygen -lf (SHA256 without padding, MD5 hex pairs)", function () {
        for (const k of Object.values(keys)) {
            assert.strictEqual(sha256Fingerprint(k.blob), k.sha256, k.type);
            assert.ok(!k.sha256.endsWith("="));
            assert.strictEqual(md5Fingerprint(k.blob), k.md5, k.type);
        }
    });

    it("every pasted form of the key matches it and not another key", function () {
        const k = keys.ed25519;
        const other = keys.ed25519b.blob;
        const known = path.join(dir, "known_hosts");
        fs.writeFileSync(known, `node1.example,10.0.0.5 ${k.pubLine}\n`);
        sh("ssh-keygen", ["-q", "-H", "-f", known]);
        const hashed = fs.readFileSync(known, "utf8").trim();
        assert.match(hashed, /^\|1\|[^|]+\|[^ ]+ ssh-ed25519 /);
        const forms = [
            k.pubLine,
            k.pubLine.split(" ").slice(0, 2).join(" "),
            `10.0.0.5 ${k.pubLine}`,
            `[10.0.0.5]:2222,node1 ${k.pubLine.split(" ").slice(0, 2).join(" ")}`,
            hashed,
            k.sha256,
            `${k.sha256}=`,
            k.md5,
            k.md5.replace(/^MD5:/, ""),
            `  ${k.pubLine}  \n`,
            `# 10.0.0.5:22 SSH-2.0-OpenSSH_9.2\n10.0.0.5 ${keys.rsa.pubLine}\n# 10.0.0.5:22 SSH-2.0-OpenSSH_9.2\n10.0.0.5 ${k.pubLine}\n`,
        ];
        for (const f of forms) {
            assert.deepStrictEqual(parseHostKey(f).ok, true, f);
            assert.deepStrictEqual(matchHostKey([f], k.blob), { ok: true }, f);
            const miss = matchHostKey([f], other);
            assert.strictEqual(miss.ok, false, f);
        }
    });

    it("a mismatch names the pinned keys and the presented one as ssh-keygen prints them", function () {
        const m = matchHostKey([keys.ed25519.pubLine, keys.rsa.sha256], keys.ecdsa.blob);
        assert.deepStrictEqual(m, {
            ok: false,
            expected: [`ssh-ed25519 ${keys.ed25519.sha256}`, keys.rsa.sha256],
            presented: `ecdsa-sha2-nistp256 ${keys.ecdsa.sha256}`,
        });
    });

    it("any of several entries matches; a @revoked key is refused even when pinned too", function () {
        assert.deepStrictEqual(matchHostKey([keys.rsa.pubLine, keys.ed25519.pubLine], keys.ed25519.blob), { ok: true });
        const revoked = `@revoked * ${keys.ed25519.pubLine}`;
        assert.strictEqual(parseHostKey(`${revoked}\nhost ${keys.rsa.pubLine}`).ok, true);
        assert.strictEqual(pinsNothing([revoked]), "holds only @revoked keys; pin the key the host should present");
        assert.strictEqual(pinsNothing([revoked, keys.rsa.sha256]), undefined);
        assert.strictEqual(matchHostKey([revoked], keys.rsa.blob).ok, false);
        assert.strictEqual(matchHostKey([revoked, keys.ed25519.pubLine], keys.ed25519.blob).ok, false);
        assert.deepStrictEqual(matchHostKey([revoked, keys.rsa.pubLine], keys.rsa.blob), { ok: true });
    });

    it("unusable entries say why, and never match", function () {
        const b64 = keys.ed25519.pubLine.split(" ")[1];
        const cases: Array<[string, RegExp]> = [
            ["", /is empty/],
            ["# only a comment", /is empty/],
            ["hello world", /not a known_hosts line, a public key line/],
            [`ssh-ed25519 ${b64.slice(0, 20)}`, /^the ssh-ed25519 key data is truncated or garbled/],
            [`ssh-rsa ${b64}`, /does not hold a ssh-rsa key \(it holds ssh-ed25519\)/],
            [`ssh-foo ${b64}`, /unknown key type ssh-foo/],
            ["SHA256:tooShort", /43 base64 characters/],
            ["MD5:zz:11", /16 colon-separated hex pairs/],
            [`@cert-authority *.example ${keys.ed25519.pubLine}`, /not supported/],
            [`ssh-ed25519 ${b64.slice(0, -8)}`, /truncated or garbled/],
            [`|1|bad|hash ${keys.ed25519.pubLine}`, /hashed host field/],
            [`${keys.ed25519.pubLine}\nnonsense`, /^line 2: /],
        ];
        for (const [entry, reason] of cases) {
            const p = parseHostKey(entry);
            assert.strictEqual(p.ok, false, entry);
            if (!p.ok) assert.match(p.reason, reason, entry);
            assert.strictEqual(matchHostKey([entry], keys.ed25519.blob).ok, false, entry);
        }
        assert.deepStrictEqual(matchHostKey([], keys.ed25519.blob), { ok: false, expected: [], presented: `ssh-ed25519 ${keys.ed25519.sha256}` });
    });

    it("offers the pinned key types' algorithms, or the default order when a fingerprint is pinned", function () {
        assert.deepStrictEqual(hostKeyAlgorithms([keys.rsa.pubLine]), ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
        assert.deepStrictEqual(hostKeyAlgorithms([keys.ed25519.pubLine, `h ${keys.ecdsa.pubLine}`]), ["ssh-ed25519", "ecdsa-sha2-nistp256"]);
        assert.strictEqual(hostKeyAlgorithms([keys.ed25519.pubLine, keys.rsa.sha256]), undefined);
    });
});
