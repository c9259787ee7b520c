import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    DEFAULT_FILES, deliverFiles, deliveredMatches, deliveryPaths, deliveryProblems, readDelivered, removeDelivered, trustFileContent, writeFileAtomic,
} from "../../../../provider/certs/delivery";
import { tempDir } from "../certTestSupport";

const PEMS = { certPem: "CERT A\n", keyPem: "KEY A\n", caPem: "CA\n" };
const NEXT = { certPem: "CERT B\n", keyPem: "KEY B\n", caPem: "CA\n" };

function mode(file: string): number {
    return fs.statSync(file).mode & 0o777;
}
function leftovers(dir: string): string[] {
    return fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"));
}

describe("provider/certs/delivery", () => {
    let dir: string;
    beforeEach(() => {
        dir = tempDir("files-test");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    describe("writeFileAtomic", () => {
        it("sets the mode exactly, whatever the umask", () => {
            const old = process.umask(0o077);
            try {
                writeFileAtomic(path.join(dir, "a.crt"), "x", 0o644);
                writeFileAtomic(path.join(dir, "a.key"), "y", 0o600);
            } finally {
                process.umask(old);
            }
            assert.strictEqual(mode(path.join(dir, "a.crt")), 0o644);
            assert.strictEqual(mode(path.join(dir, "a.key")), 0o600);
            assert.deepStrictEqual(leftovers(dir), []);
        });

        it("replaces by rename: a reader holding the old file still sees the old content", () => {
            const file = path.join(dir, "transport.crt");
            writeFileAtomic(file, "old content\n", 0o644);
            const inodeBefore = fs.statSync(file).ino;
            const fd = fs.openSync(file, "r");
            try {
                writeFileAtomic(file, "new content, longer than before\n", 0o644);
                const buf = Buffer.alloc(100);
                const n = fs.readSync(fd, buf, 0, 100, 0);
                assert.strictEqual(buf.subarray(0, n).toString(), "old content\n");
            } finally {
                fs.closeSync(fd);
            }
            assert.notStrictEqual(fs.statSync(file).ino, inodeBefore, "a new inode, not an in-place rewrite");
            assert.strictEqual(fs.readFileSync(file, "utf8"), "new content, longer than before\n");
            assert.deepStrictEqual(leftovers(dir), []);
        });

        it("tightens the mode of a file that was more open before", () => {
            const file = path.join(dir, "transport.key");
            fs.writeFileSync(file, "old", { mode: 0o666 });
            fs.chmodSync(file, 0o666);
            writeFileAtomic(file, "new", 0o600);
            assert.strictEqual(mode(file), 0o600);
        });

        it("leaves no temporary file behind when the rename fails", () => {
            const target = path.join(dir, "is-a-directory");
            fs.mkdirSync(target);
            fs.writeFileSync(path.join(target, "keep"), "x");
            assert.throws(() => writeFileAtomic(target, "x", 0o644));
            assert.deepStrictEqual(leftovers(dir), []);
        });
    });

    describe("deliverFiles / readDelivered / removeDelivered", () => {
        it("writes the three files under the default names with their modes", () => {
            deliverFiles({ directory: dir }, PEMS);
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), [DEFAULT_FILES.caFile, DEFAULT_FILES.certFile, DEFAULT_FILES.keyFile].sort());
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport.crt"), "utf8"), PEMS.certPem);
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport.key"), "utf8"), PEMS.keyPem);
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport-ca.crt"), "utf8"), PEMS.caPem);
            assert.strictEqual(mode(path.join(dir, "transport.key")), 0o600);
            assert.strictEqual(mode(path.join(dir, "transport.crt")), 0o644);
            assert.strictEqual(mode(path.join(dir, "transport-ca.crt")), 0o644);
            assert.ok(deliveredMatches({ directory: dir }, PEMS));
        });

        it("honours custom names and keyFileMode", () => {
            const t = { directory: dir, certFile: "node.pem", keyFile: "node-key.pem", caFile: "ca.pem", keyFileMode: 0o640 };
            deliverFiles(t, PEMS);
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["ca.pem", "node-key.pem", "node.pem"]);
            assert.strictEqual(mode(path.join(dir, "node-key.pem")), 0o640);
            assert.deepStrictEqual(readDelivered(t), PEMS);
        });

        it("fails naming the directory when it does not exist", () => {
            const missing = path.join(dir, "nope");
            assert.throws(() => deliverFiles({ directory: missing }, PEMS), (e: Error) => e.message.includes(`${missing} does not exist`));
        });

        it("reads missing files as undefined", () => {
            assert.deepStrictEqual(readDelivered({ directory: dir }), { certPem: undefined, keyPem: undefined, caPem: undefined });
            assert.ok(!deliveredMatches({ directory: dir }, PEMS));
        });

        it("removes exactly the files it wrote", () => {
            fs.writeFileSync(path.join(dir, "elasticsearch.yml"), "keep me");
            deliverFiles({ directory: dir }, PEMS);
            const r = removeDelivered({ directory: dir }, PEMS);
            assert.deepStrictEqual(r.removed.map((f) => path.basename(f)).sort(), ["transport-ca.crt", "transport.crt", "transport.key"]);
            assert.deepStrictEqual(r.kept, []);
            assert.deepStrictEqual(fs.readdirSync(dir), ["elasticsearch.yml"]);
        });

        it("does not remove a successor's files (renewal: create the new one, then delete the old one)", () => {
            deliverFiles({ directory: dir }, PEMS);
            deliverFiles({ directory: dir }, NEXT);
            const r = removeDelivered({ directory: dir }, PEMS);
            assert.deepStrictEqual(r.removed, []);
            assert.strictEqual(r.kept.length, 3);
            assert.deepStrictEqual(readDelivered({ directory: dir }), NEXT, "the CA file, identical in both, stays too");
        });

        it("leaves a hand-replaced certificate in place but removes its own key and CA", () => {
            deliverFiles({ directory: dir }, PEMS);
            fs.writeFileSync(path.join(dir, "transport.crt"), "HAND MADE\n");
            const r = removeDelivered({ directory: dir }, PEMS);
            assert.deepStrictEqual(r.kept.map((f) => path.basename(f)), ["transport.crt"]);
            assert.deepStrictEqual(fs.readdirSync(dir), ["transport.crt"]);
        });

        it("maps paths from the target", () => {
            assert.deepStrictEqual(deliveryPaths({ directory: "/etc/es/certs" }), {
                cert: "/etc/es/certs/transport.crt", key: "/etc/es/certs/transport.key", ca: "/etc/es/certs/transport-ca.crt",
            });
        });
    });

    describe("deliveryProblems", () => {
        const cases: Array<[string, unknown, string, string]> = [
            ["not an object", "dir", "", "must be an object"],
            ["no directory", {}, "directory", "absolute path"],
            ["relative directory", { directory: "certs" }, "directory", "is relative"],
            ["a path as file name", { directory: "/x", keyFile: "../transport.key" }, "keyFile", "plain file name"],
            ["an empty file name", { directory: "/x", certFile: "" }, "certFile", "plain file name"],
            ["two files with one name", { directory: "/x", caFile: "transport.crt" }, "caFile", "already used"],
            ["a world-readable key", { directory: "/x", keyFileMode: 0o644 }, "keyFileMode", "every local user"],
            ["a key the owner cannot read", { directory: "/x", keyFileMode: 0o040 }, "keyFileMode", "owner read"],
            ["a mode that is not bits", { directory: "/x", keyFileMode: 1000 }, "keyFileMode", "permission bits"],
        ];
        for (const [label, input, property, fragment] of cases) {
            it(`refuses ${label}`, () => {
                const problems = deliveryProblems(input);
                assert.strictEqual(problems.length, 1, JSON.stringify(problems));
                assert.strictEqual(problems[0].property, property);
                assert.ok(problems[0].reason.includes(fragment), problems[0].reason);
            });
        }
        it("accepts a full target", () => {
            assert.deepStrictEqual(deliveryProblems({ directory: "/x", certFile: "a", keyFile: "b", caFile: "c", keyFileMode: 0o640 }), []);
        });
    });

    describe("ownership and extra trusted CAs", () => {
        it("a new file takes the directory's owner and group (when running as root), so the node's user can read it", function () {
            if (process.getuid?.() !== 0) this.skip();
            fs.chownSync(dir, 65534, 65534);
            writeFileAtomic(path.join(dir, "new.key"), "k", 0o600);
            const st = fs.statSync(path.join(dir, "new.key"));
            assert.deepStrictEqual([st.uid, st.gid, st.mode & 0o777], [65534, 65534, 0o600]);
        });

        it("writes the issuing CA, then the extra CAs, into the CA file; drift and removal compare that content", () => {
            const t = { directory: dir, extraTrustedCaPems: ["NEXT CA"] };
            deliverFiles(t, PEMS);
            assert.strictEqual(fs.readFileSync(deliveryPaths(t).ca, "utf8"), "CA\nNEXT CA\n");
            assert.strictEqual(trustFileContent(t, "CA\n"), "CA\nNEXT CA\n");
            assert.strictEqual(deliveredMatches(t, PEMS), true);
            assert.strictEqual(deliveredMatches({ directory: dir }, PEMS), false, "without the extra CA the file is not what we would write");
            assert.deepStrictEqual(removeDelivered(t, PEMS).kept, []);
            assert.deepStrictEqual(fs.readdirSync(dir), []);
        });

        it("refuses extra CAs that are not PEM certificates, naming the entry", () => {
            assert.deepStrictEqual(deliveryProblems({ directory: "/x", extraTrustedCaPems: "pem" }).map((p) => p.property), ["extraTrustedCaPems"]);
            const good = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
            assert.deepStrictEqual(deliveryProblems({ directory: "/x", extraTrustedCaPems: [good, "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----"] }).map((p) => p.property), ["extraTrustedCaPems[1]"]);
        });
    });
});
