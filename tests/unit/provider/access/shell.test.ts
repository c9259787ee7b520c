/**
 * The local and command-prefix shells, and the quoting every shell relies on: adversarial strings
 * survive a real `sh` byte for byte (as one word, and as the `sh -c` command line SSH carries),
 * stdin carries any bytes, `sudo -n` runs as the user asked, and a refused sudo or a missing
 * command reads as what it is.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import { NodeAccessError } from "../../../../provider/core/errors";
import { commandShell, localShell, safeStderr, shArgv, shCommand, shellFor, shQuote, STDERR_CAP, sudoRefusal } from "../../../../provider/access/shell";

const ADVERSARIAL = [
    "",
    "plain",
    "with space",
    "'",
    "''",
    "it's",
    "'\\''",
    "\"double\"",
    "$HOME",
    "${HOME}",
    "$(id)",
    "`id`",
    "a\\b",
    "\\",
    "\\\\'\\",
    "trailing\\",
    "line1\nline2",
    "\n",
    "\r\n",
    "tab\there",
    "*",
    "?",
    "[a-z]",
    "~",
    "-n",
    "--",
    "; rm -rf /tmp/never",
    "a && b || c | d > e < f",
    "!",
    "#comment",
    "ünïcödé ✓ 日本",
    "\u0001\u0002\u007f",
    "%s%d%%",
];

describe("shell quoting and local shells", function () {
    it("shQuote: every adversarial string is one word that sh reads back exactly", function () {
        for (const s of ADVERSARIAL) {
            const r = spawnSync("sh", ["-c", `printf '%s' ${shQuote(s)}`], { encoding: "utf8" });
            assert.strictEqual(r.status, 0, JSON.stringify(s));
            assert.strictEqual(r.stdout, s, JSON.stringify(s));
        }
        const all = ADVERSARIAL.map(shQuote).join(" ");
        const r = spawnSync("sh", ["-c", `for a in ${all}; do printf '%s\\0' "$a"; done`], { encoding: "utf8" });
        assert.deepStrictEqual(r.stdout.split("\0").slice(0, -1), ADVERSARIAL);
        assert.throws(() => shQuote("a\0b"), /NUL/);
    });

    it("shCommand: the command line an SSH server hands its login shell runs the script with the args intact", function () {
        const script = "printf '%s\\0' \"$0\" \"$@\"; printf 'script ran: %s\\n' 'it'\\''s' >&2";
        for (const sudo of [undefined, "root", "nobody"]) {
            const line = shCommand(script, ADVERSARIAL, sudo);
            if (sudo === undefined) {
                const r = spawnSync("sh", ["-c", line], { encoding: "utf8" });
                assert.deepStrictEqual(r.stdout.split("\0").slice(0, -1), ["sh", ...ADVERSARIAL]);
                assert.strictEqual(r.stderr, "script ran: it's\n");
            }
            // What the login shell would exec: its words equal shArgv's.
            const words = spawnSync("sh", ["-c", `set -- ${line}; printf '%s\\0' "$@"`], { encoding: "utf8" }).stdout.split("\0").slice(0, -1);
            assert.deepStrictEqual(words, shArgv(script, ADVERSARIAL, sudo), String(sudo));
        }
        assert.strictEqual(shCommand("true", [], "elasticsearch"), "sudo -n -u 'elasticsearch' -- sh -c 'true' sh");
        assert.strictEqual(shCommand("true", ["/a b"], "root"), "sudo -n -- sh -c 'true' sh '/a b'");
    });

    it("localShell: exit code, stdout bytes, stderr, args and stdin bytes", async function () {
        const sh = localShell();
        assert.strictEqual(sh.where, "this host");
        const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const r = await sh.run("cat; printf 'err:%s' \"$2\" >&2; exit 7", { args: ["a", "b c"], stdin: bytes });
        assert.strictEqual(r.code, 7);
        assert.ok(r.stdout.equals(bytes));
        assert.strictEqual(r.stderr, "err:b c");
        const big = await sh.run("head -c 100000 /dev/zero | tr '\\0' x >&2");
        assert.strictEqual(big.stderr.length, STDERR_CAP);
        const noStdin = await sh.run("exit 0", { stdin: Buffer.alloc(1 << 20) });
        assert.strictEqual(noStdin.code, 0, "a script that does not read stdin is no failure");
    });

    it("localShell with sudo: sudo -n -u nobody runs as nobody, sudo as root as root", async function () {
        if (process.getuid?.() !== 0) this.skip();
        assert.strictEqual((await localShell({ user: "nobody" }).run("id -un")).stdout.toString().trim(), "nobody");
        assert.strictEqual((await localShell(true).run("id -u")).stdout.toString().trim(), "0");
        assert.strictEqual(localShell({ user: "nobody" }).where, "this host (sudo as nobody)");
        await assert.rejects(localShell({ user: "no-such-user-xyz" }).run("true"), (e: Error) => {
            assert.ok(e instanceof NodeAccessError);
            assert.match(e.message, /^sudo -n as no-such-user-xyz on this host: there is no user no-such-user-xyz there; fix sudo\.user$/);
            return true;
        });
    });

    it("a sudo that asks for a password is refused with the fix, and the script never runs", async function () {
        if (process.getuid?.() !== 0) this.skip();
        // nobody has no sudo rule: sudo -n answers "a password is required" (exit 1).
        const sh = commandShell(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--"], true);
        await assert.rejects(sh.run("echo ran; exit 1"), (e: Error) => {
            assert.ok(e instanceof NodeAccessError);
            assert.match(e.message, /^sudo -n as root asks for a password on command setpriv .* allow NOPASSWD for the login user/);
            assert.ok(!e.message.includes("ran"));
            return true;
        });
    });

    it("sudoRefusal tells sudo's own refusals from a script's failures", function () {
        const c = { host: "h", where: "ssh a@h:22 (sudo)", sudoUser: "root", loginUser: "a" };
        const r = (code: number, stderr: string) => ({ code, stdout: Buffer.alloc(0), stderr });
        assert.match(sudoRefusal(r(1, "sudo: a password is required\n"), c)!.message, /^sudo -n as root asks for a password on h \(ssh a@h:22 \(sudo\)\): allow NOPASSWD for a \(a line "a ALL=\(root\) NOPASSWD: ALL" in \/etc\/sudoers\.d\/\)/);
        assert.match(sudoRefusal(r(1, "sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\n"), c)!.message, /asks for a password/);
        assert.match(sudoRefusal(r(1, "a is not in the sudoers file.  This incident will be reported.\n"), c)!.message, /is not allowed for a on h/);
        assert.match(sudoRefusal(r(127, "sh: 1: sudo: not found\n"), c)!.message, /^sudo is not installed on h/);
        assert.strictEqual(sudoRefusal(r(1, "cp: cannot stat 'x'\n"), c), undefined);
        assert.strictEqual(sudoRefusal(r(2, "sudo: a password is required\n"), c), undefined, "only sudo's own exit 1");
    });

    it("commandShell: the prefix's argv gets sh -c appended; a missing command is named", async function () {
        const sh = commandShell(["env", "--"]);
        assert.strictEqual(sh.where, "command env --");
        const r = await sh.run("printf '%s|' \"$@\"; cat", { args: ["x y", "'"], stdin: "in" });
        assert.strictEqual(r.stdout.toString(), "x y|'|in");
        await assert.rejects(commandShell(["no-such-binary-xyz", "exec"]).run("true"), (e: Error) => {
            assert.ok(e instanceof NodeAccessError);
            assert.match(e.message, /no-such-binary-xyz was not found on this host/);
            return true;
        });
    });

    it("a run that does not finish in time is stopped and named", async function () {
        const sh = localShell();
        await assert.rejects(sh.run("echo $$ >&2; exec sleep 30", { timeoutMs: 1000 }), (e: Error) => {
            assert.ok(e instanceof NodeAccessError);
            assert.strictEqual(e.message, "a step on this host did not finish within 1 s and was stopped: is the node overloaded, or the step waiting for something?");
            return true;
        });
    });

    it("safeStderr: one line, 300 characters at most", function () {
        assert.strictEqual(safeStderr({ stderr: " a\n  b\n" }), "a b");
        assert.strictEqual(safeStderr({ stderr: "x".repeat(1000) }).length, 298);
    });

    it("shellFor picks the access kind and refuses an invalid access", async function () {
        assert.strictEqual((await shellFor(undefined)).where, "this host");
        assert.strictEqual((await shellFor({ command: ["env", "--"], sudo: { user: "nobody" } })).where, "command env -- (sudo as nobody)");
        assert.strictEqual((await shellFor({ ssh: { host: "h", user: "u", agent: "/a", acceptAnyHostKey: true } })).where, "ssh u@h:22");
        await assert.rejects(shellFor({ ssh: { host: "h", user: "u", agent: "/a" } }), /access\.ssh\.hostKey: pin the node's SSH host key/);
    });
});
