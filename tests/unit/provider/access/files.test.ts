/**
 * The NodeFiles contract, one table run against every implementation on a real temp dir: this
 * process's fs, the sh scripts through the local shell, and the same scripts through a command
 * prefix (`env --`, standing in for `docker exec -i`). Same disk, same answers: owner and mode of
 * a replaced file kept, mode exact whatever the umask, a planted symlink at the temporary name
 * never followed, errors naming the path and the place.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FilesOptions, localFiles, NodeFiles, shellFiles, tempPathFor } from "../../../../provider/access/files";
import { commandShell, localShell } from "../../../../provider/access/shell";

const isRoot = process.getuid?.() === 0;

const IMPLEMENTATIONS: Array<[string, (o?: FilesOptions) => NodeFiles, string]> = [
    ["localFiles()", (o) => localFiles(o), "this host"],
    ["shellFiles(localShell())", (o) => shellFiles(localShell(), o), "this host"],
    ["shellFiles(commandShell([\"env\", \"--\"]))", (o) => shellFiles(commandShell(["env", "--"]), o), "command env --"],
];

const ODD_CONTENT = [
    "",
    "no trailing newline",
    "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
    "crlf\r\nlines\r\n",
    "nul\u0000inside",
    "quotes ' \" ` $HOME $(id) \\ \\\\",
    "ünïcödé ✓ 日本 🎉\n",
    "\n\n\n",
    "x".repeat(300_000),
];

for (const [name, make, where] of IMPLEMENTATIONS) {
    describe(`NodeFiles contract: ${name}`, function () {
        let dir: string;
        let files: NodeFiles;
        let umask: number;
        beforeEach(function () {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "nodefiles-"));
            files = make();
            // A strict umask in this process and its children: the modes written must not depend on it.
            umask = process.umask(0o277);
        });
        afterEach(function () {
            process.umask(umask);
            fs.rmSync(dir, { recursive: true, force: true });
        });
        const tmpLeft = () => fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"));

        it("names its place", function () {
            assert.strictEqual(files.where, where);
        });

        it("writes content with odd bytes and reads it back exactly", async function () {
            for (const [i, content] of ODD_CONTENT.entries()) {
                const f = path.join(dir, `f${i}.pem`);
                await files.writeAtomic(f, content, 0o644);
                assert.strictEqual(fs.readFileSync(f, "utf8"), content, JSON.stringify(content.slice(0, 40)));
                assert.strictEqual(await files.readFile(f), content);
            }
            assert.deepStrictEqual(tmpLeft(), []);
        });

        it("sets the mode exactly, whatever the umask, on a new and a replaced file", async function () {
            const f = path.join(dir, "transport.key");
            for (const mode of [0o600, 0o640, 0o644, 0o755, 0o400]) {
                await files.writeAtomic(f, `mode ${mode}`, mode);
                assert.strictEqual(fs.statSync(f).mode & 0o7777, mode, mode.toString(8));
            }
            const f2 = path.join(dir, "new.crt");
            await files.writeAtomic(f2, "x", 0o644);
            assert.strictEqual(fs.statSync(f2).mode & 0o7777, 0o644);
        });

        it("keeps the owner and group of the file it replaces (root)", async function () {
            if (!isRoot) this.skip();
            const f = path.join(dir, "transport.crt");
            fs.writeFileSync(f, "old");
            fs.chownSync(f, 1234, 2345);
            await files.writeAtomic(f, "new", 0o640);
            const st = fs.statSync(f);
            assert.deepStrictEqual([st.uid, st.gid, st.mode & 0o777, fs.readFileSync(f, "utf8")], [1234, 2345, 0o640, "new"]);
        });

        it("a new file takes the directory's owner, or the owner given (root)", async function () {
            if (!isRoot) this.skip();
            fs.chownSync(dir, 1111, 2222);
            const f = path.join(dir, "a.crt");
            await files.writeAtomic(f, "a", 0o644);
            assert.deepStrictEqual([fs.statSync(f).uid, fs.statSync(f).gid], [1111, 2222]);
            fs.chownSync(f, 5, 5);
            await files.writeAtomic(f, "b", 0o644, { uid: 4321, gid: 4322 });
            assert.deepStrictEqual([fs.statSync(f).uid, fs.statSync(f).gid], [4321, 4322]);
        });

        it("never follows a symlink planted at the temporary file's name", async function () {
            const fixed = make({ tempSuffix: () => "planted" });
            const f = path.join(dir, "transport.key");
            fs.writeFileSync(f, "current");
            const victim = path.join(dir, "victim");
            fs.writeFileSync(victim, "victim's");
            fs.symlinkSync(victim, tempPathFor(f, "planted"));
            await assert.rejects(fixed.writeAtomic(f, "SECRET KEY", 0o600), (e: Error) => {
                assert.ok(e.message.includes(f) && e.message.includes(where), e.message);
                assert.match(e.message, /taken/);
                return true;
            });
            assert.strictEqual(fs.readFileSync(victim, "utf8"), "victim's");
            assert.strictEqual(fs.readFileSync(f, "utf8"), "current");
            // A dangling link: its target must not be created either.
            fs.rmSync(tempPathFor(f, "planted"));
            const absent = path.join(dir, "absent-target");
            fs.symlinkSync(absent, tempPathFor(f, "planted"));
            await assert.rejects(fixed.writeAtomic(f, "SECRET KEY", 0o600));
            assert.strictEqual(fs.existsSync(absent), false);
            assert.strictEqual(fs.readFileSync(f, "utf8"), "current");
        });

        it("a missing directory fails naming the path and the place", async function () {
            const f = path.join(dir, "missing", "transport.crt");
            await assert.rejects(files.writeAtomic(f, "x", 0o644), (e: Error) => {
                assert.ok(e.message.includes(f), e.message);
                assert.ok(e.message.includes(where), e.message);
                return true;
            });
        });

        it("a failed write leaves no temporary file (the target is a directory)", async function () {
            const sub = path.join(dir, "sub");
            fs.mkdirSync(sub);
            await assert.rejects(files.writeAtomic(sub, "x", 0o644), (e: Error) => e.message.includes(sub) && e.message.includes(where));
            assert.deepStrictEqual(tmpLeft(), []);
            assert.ok(fs.statSync(sub).isDirectory());
        });

        it("stat: missing, file, empty file, directory, through a link, through a file", async function () {
            const f = path.join(dir, "f");
            fs.writeFileSync(f, "data");
            fs.chmodSync(f, 0o640);
            const empty = path.join(dir, "empty");
            fs.writeFileSync(empty, "");
            fs.symlinkSync(f, path.join(dir, "link"));
            assert.strictEqual(await files.stat(path.join(dir, "nope")), undefined);
            assert.strictEqual(await files.stat(path.join(f, "below-a-file")), undefined);
            const uid = process.getuid!();
            const gid = fs.statSync(f).gid;
            assert.deepStrictEqual(await files.stat(f), { isFile: true, isDirectory: false, mode: 0o640, uid, gid });
            assert.deepStrictEqual(await files.stat(path.join(dir, "link")), { isFile: true, isDirectory: false, mode: 0o640, uid, gid });
            assert.strictEqual((await files.stat(empty))!.isFile, true);
            const d = await files.stat(dir);
            assert.deepStrictEqual([d!.isFile, d!.isDirectory, d!.mode], [false, true, fs.statSync(dir).mode & 0o777]);
        });

        it("readFile: undefined for a missing file and for a directory", async function () {
            assert.strictEqual(await files.readFile(path.join(dir, "nope")), undefined);
            assert.strictEqual(await files.readFile(dir), undefined);
        });

        it("readDir: every name (dot files, spaces, newlines, a literal *), undefined when missing or not a directory", async function () {
            assert.deepStrictEqual(await files.readDir(dir), []);
            const names = ["a", ".hidden", "..dots", "with space", "new\nline", "*", "ü"];
            for (const n of names) fs.writeFileSync(path.join(dir, n), "");
            fs.mkdirSync(path.join(dir, "sub"));
            assert.deepStrictEqual((await files.readDir(dir))!.sort(), [...names, "sub"].sort());
            assert.strictEqual(await files.readDir(path.join(dir, "nope")), undefined);
            assert.strictEqual(await files.readDir(path.join(dir, "a")), undefined);
        });

        it("remove: removes, and is quiet about a file already gone", async function () {
            const f = path.join(dir, "f");
            fs.writeFileSync(f, "x");
            await files.remove(f);
            assert.strictEqual(fs.existsSync(f), false);
            await files.remove(f);
            await files.syncDir(dir);
        });

        it("writable: undefined for a missing directory, else who owns it and whether this access may write", async function () {
            assert.strictEqual(await files.writable(path.join(dir, "nope")), undefined);
            const st = fs.statSync(dir);
            assert.deepStrictEqual(await files.writable(dir), { byAccess: true, owner: { uid: st.uid, gid: st.gid } });
        });
    });
}

describe("NodeFiles through sudo", function () {
    it("as nobody: a root-owned directory is not writable by the access, and a write there fails naming it", async function () {
        if (!isRoot) this.skip();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nodefiles-"));
        try {
            fs.chmodSync(dir, 0o755);
            const files = shellFiles(localShell({ user: "nobody" }));
            assert.strictEqual(files.where, "this host (sudo as nobody)");
            assert.deepStrictEqual(await files.writable(dir), { byAccess: false, owner: { uid: 0, gid: 0 } });
            const f = path.join(dir, "x.crt");
            await assert.rejects(files.writeAtomic(f, "x", 0o644), (e: Error) => e.message.includes(f) && e.message.includes("this host (sudo as nobody)"));
            assert.deepStrictEqual(fs.readdirSync(dir), []);
            // Where nobody may write, the file is nobody's: chown to the directory's owner (root) is not permitted, and skipped.
            fs.chmodSync(dir, 0o777);
            await files.writeAtomic(f, "y", 0o640);
            const st = fs.statSync(f);
            assert.deepStrictEqual([st.uid, st.mode & 0o777, fs.readFileSync(f, "utf8")], [65534, 0o640, "y"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
