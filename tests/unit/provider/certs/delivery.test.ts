import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    configNaming, DEFAULT_FILES, deliverFiles, halfSwitched, switchRecordPath, deliveredMatches, deliverTrustFile, deliveryPaths, deliveryProblems, findOriginal, keepOriginals, readDelivered, releaseDelivered,
    releaseTrustFile, trustFileContent, trustFilePath, writeFileAtomic,
} from "../../../../provider/certs/delivery";
import { CERTIFICATE_FACTS, cachedFact, clearFacts } from "../../../../provider/core/facts";
import { tempDir } from "../certTestSupport";
import { generateCa, issueNodeCertificate } from "../../../../provider/certs/pem";
import { skipUnlessRoot } from "../../../support/root";

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
        it("sets the mode exactly, whatever the umask", async () => {
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

        it("replaces by rename: a reader holding the old file still sees the old content", async () => {
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

        it("tightens the mode of a file that was more open before", async () => {
            const file = path.join(dir, "transport.key");
            fs.writeFileSync(file, "old", { mode: 0o666 });
            fs.chmodSync(file, 0o666);
            writeFileAtomic(file, "new", 0o600);
            assert.strictEqual(mode(file), 0o600);
        });

        it("leaves no temporary file behind when the rename fails", async () => {
            const target = path.join(dir, "is-a-directory");
            fs.mkdirSync(target);
            fs.writeFileSync(path.join(target, "keep"), "x");
            assert.throws(() => writeFileAtomic(target, "x", 0o644));
            assert.deepStrictEqual(leftovers(dir), []);
        });
    });

    describe("deliverFiles / readDelivered / keepOriginals / releaseDelivered", () => {
        it("writes the three files under the default names with their modes", async () => {
            await deliverFiles({ directory: dir }, PEMS);
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), [DEFAULT_FILES.caFile, DEFAULT_FILES.certFile, DEFAULT_FILES.keyFile].sort());
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport.crt"), "utf8"), PEMS.certPem);
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport.key"), "utf8"), PEMS.keyPem);
            assert.strictEqual(fs.readFileSync(path.join(dir, "transport-ca.crt"), "utf8"), PEMS.caPem);
            assert.strictEqual(mode(path.join(dir, "transport.key")), 0o600);
            assert.strictEqual(mode(path.join(dir, "transport.crt")), 0o644);
            assert.strictEqual(mode(path.join(dir, "transport-ca.crt")), 0o644);
            assert.ok(await deliveredMatches({ directory: dir }, PEMS));
        });

        it("honours custom names and keyFileMode", async () => {
            const t = { directory: dir, certFile: "node.pem", keyFile: "node-key.pem", caFile: "ca.pem", keyFileMode: 0o640 };
            await deliverFiles(t, PEMS);
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["ca.pem", "node-key.pem", "node.pem"]);
            assert.strictEqual(mode(path.join(dir, "node-key.pem")), 0o640);
            assert.deepStrictEqual(await readDelivered(t), PEMS);
        });

        it("fails naming the directory when it does not exist", async () => {
            const missing = path.join(dir, "nope");
            await assert.rejects(deliverFiles({ directory: missing }, PEMS), (e: Error) => e.message.includes(`${missing} does not exist`));
        });

        it("reads missing files as undefined", async () => {
            assert.deepStrictEqual(await readDelivered({ directory: dir }), { certPem: undefined, keyPem: undefined, caPem: undefined });
            assert.ok(!await deliveredMatches({ directory: dir }, PEMS));
        });

        /** Delivers like the hook does: originals kept aside first. */
        async function deliver(t: { directory: string; extraTrustedCaPems?: string[] }, pems: typeof PEMS): Promise<string[]> {
            const records = await keepOriginals(t);
            await deliverFiles(t, pems);
            return records;
        }
        const names = (files: Array<string | { file: string }>) => files.map((f) => path.basename(typeof f === "string" ? f : f.file)).sort();

        it("restore: puts back what the files held before the first delivery, with their modes, and removes the records", async () => {
            const t = { directory: dir };
            const p = deliveryPaths(t);
            fs.writeFileSync(p.cert, "ORIGINAL CERT\n", { mode: 0o644 });
            fs.writeFileSync(p.key, "ORIGINAL KEY\n", { mode: 0o640 });
            fs.chmodSync(p.key, 0o640);
            fs.writeFileSync(p.ca, "ORIGINAL CA\n");
            const records = await deliver(t, PEMS);
            assert.deepStrictEqual(records.map((r) => path.basename(r)).sort(),
                [".transport-ca.crt.es-remote-orig-0644", ".transport.crt.es-remote-orig-0644", ".transport.key.es-remote-orig-0640"]);
            assert.strictEqual(mode(path.join(dir, ".transport.key.es-remote-orig-0640")), 0o600, "a key kept aside is 0600");
            assert.deepStrictEqual(await readDelivered(t), PEMS);
            const r = await releaseDelivered(t, PEMS, "restore");
            assert.deepStrictEqual(names(r.restored), ["transport-ca.crt", "transport.crt", "transport.key"]);
            assert.deepStrictEqual(await readDelivered(t), { certPem: "ORIGINAL CERT\n", keyPem: "ORIGINAL KEY\n", caPem: "ORIGINAL CA\n" });
            assert.strictEqual(mode(p.key), 0o640, "the key gets its original mode back");
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["transport-ca.crt", "transport.crt", "transport.key"], "no record left");
        });

        it("restore: a file that did not exist before is removed, unless the node's elasticsearch.yml names it", async () => {
            const certs = path.join(dir, "certs");
            fs.mkdirSync(certs);
            const t = { directory: certs };
            await deliver(t, PEMS);
            assert.deepStrictEqual(fs.readdirSync(certs).filter((f) => f.startsWith(".")).sort(),
                [".transport-ca.crt.es-remote-absent", ".transport.crt.es-remote-absent", ".transport.key.es-remote-absent"]);
            fs.writeFileSync(path.join(dir, "elasticsearch.yml"), "xpack.security.transport.ssl.certificate: certs/transport.crt\n");
            const r = await releaseDelivered(t, PEMS, "restore");
            assert.deepStrictEqual(names(r.removed), ["transport-ca.crt", "transport.key"]);
            assert.deepStrictEqual(names(r.kept), ["transport.crt"]);
            assert.match(r.kept[0].why, /elasticsearch\.yml names it/);
            assert.deepStrictEqual(fs.readdirSync(certs), ["transport.crt"]);
        });

        it("restore: a file the yml does not name — the same name in another folder — is removed (its bare name is not enough)", async () => {
            const sub = path.join(dir, "certs", "scratch");
            fs.mkdirSync(sub, { recursive: true });
            fs.writeFileSync(path.join(dir, "elasticsearch.yml"), "xpack.security.transport.ssl.certificate: certs/transport.crt\nxpack.security.transport.ssl.key: \"/abs/other/transport.key\"\n");
            const t = { directory: sub };
            await deliver(t, PEMS);
            const r = await releaseDelivered(t, PEMS, "restore");
            assert.deepStrictEqual([names(r.removed), r.kept], [["transport-ca.crt", "transport.crt", "transport.key"], []]);
            assert.deepStrictEqual(fs.readdirSync(sub), [], "no file and no record left");
            assert.strictEqual(await configNaming(path.join(dir, "certs", "transport.crt")), path.join(dir, "elasticsearch.yml"), "the file the yml names is still named");
            assert.strictEqual(await configNaming(path.join(dir, "certs", "transport.key")), undefined, "certs/transport.key is not /abs/other/transport.key");
        });

        it("keep: leaves the delivered files and removes only the records", async () => {
            const t = { directory: dir };
            fs.writeFileSync(deliveryPaths(t).key, "ORIGINAL KEY\n");
            await deliver(t, PEMS);
            const r = await releaseDelivered(t, PEMS, "keep");
            assert.deepStrictEqual([r.restored, r.removed], [[], []]);
            assert.deepStrictEqual(await readDelivered(t), PEMS);
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["transport-ca.crt", "transport.crt", "transport.key"]);
        });

        it("legacy (delivered by a release that kept nothing aside): leaves every file in place", async () => {
            const t = { directory: dir };
            await deliverFiles(t, PEMS);
            const r = await releaseDelivered(t, PEMS, "legacy");
            assert.deepStrictEqual(names(r.kept), ["transport-ca.crt", "transport.crt", "transport.key"]);
            assert.match(r.kept[0].why, /earlier release/);
            assert.deepStrictEqual(await readDelivered(t), PEMS);
        });

        it("renewal: the successor keeps the first record; the old resource's delete touches nothing; the successor's restores the original", async () => {
            const t = { directory: dir };
            fs.writeFileSync(deliveryPaths(t).cert, "ORIGINAL CERT\n");
            fs.writeFileSync(deliveryPaths(t).key, "ORIGINAL KEY\n");
            await deliver(t, PEMS);
            await deliver(t, NEXT); // the replacement is created first
            assert.strictEqual(fs.readFileSync((await findOriginal(deliveryPaths(t).cert))!.path, "utf8"), "ORIGINAL CERT\n", "the record is of the state before the FIRST delivery");
            const old = await releaseDelivered(t, PEMS, "restore"); // then the old one is deleted
            assert.deepStrictEqual([old.restored, old.removed], [[], []]);
            assert.strictEqual(old.kept.length, 3);
            assert.deepStrictEqual(await readDelivered(t), NEXT, "the successor's files, CA included, stay");
            const last = await releaseDelivered(t, NEXT, "restore");
            assert.deepStrictEqual(names(last.restored), ["transport.crt", "transport.key"]);
            assert.deepStrictEqual(names(last.removed), ["transport-ca.crt"]);
            assert.deepStrictEqual(await readDelivered(t), { certPem: "ORIGINAL CERT\n", keyPem: "ORIGINAL KEY\n", caPem: undefined });
        });

        it("never splits a pair: a hand-replaced certificate leaves the key, the CA and the records untouched", async () => {
            const t = { directory: dir };
            await deliver(t, PEMS);
            fs.writeFileSync(path.join(dir, "transport.crt"), "HAND MADE\n");
            const r = await releaseDelivered(t, PEMS, "restore");
            assert.deepStrictEqual([r.restored, r.removed], [[], []]);
            assert.deepStrictEqual(names(r.kept), ["transport-ca.crt", "transport.crt", "transport.key"]);
            assert.deepStrictEqual(await readDelivered(t), { ...PEMS, certPem: "HAND MADE\n" });
        });

        it("a file whose record was removed by hand is never removed", async () => {
            const t = { directory: dir };
            await deliver(t, PEMS);
            fs.rmSync((await findOriginal(deliveryPaths(t).key))!.path);
            const r = await releaseDelivered(t, PEMS, "restore");
            assert.deepStrictEqual(names(r.kept), ["transport.key"]);
            assert.match(r.kept[0].why, /nothing was kept aside/);
            assert.ok(fs.existsSync(deliveryPaths(t).key));
        });

        it("keeps the original's owner on the record and on the restored file (as root)", async function () {
            skipUnlessRoot(this, "needs root to give files other owners");
            const t = { directory: dir };
            const key = deliveryPaths(t).key;
            fs.writeFileSync(key, "ORIGINAL KEY\n", { mode: 0o600 });
            fs.chownSync(key, 65534, 65534);
            await deliver(t, PEMS);
            const rec = (await findOriginal(key))!;
            assert.deepStrictEqual([fs.statSync(rec.path).uid, fs.statSync(rec.path).gid], [65534, 65534]);
            await releaseDelivered(t, PEMS, "restore");
            const st = fs.statSync(key);
            assert.deepStrictEqual([st.uid, st.gid, st.mode & 0o777], [65534, 65534, 0o600]);
        });

        it("maps paths from the target", async () => {
            assert.deepStrictEqual(deliveryPaths({ directory: "/etc/es/certs" }), {
                cert: "/etc/es/certs/transport.crt", key: "/etc/es/certs/transport.key", ca: "/etc/es/certs/transport-ca.crt",
            });
        });
    });

    describe("what this process knows of the nodes", () => {
        // A probe read before a delivery describes what a node served and trusted then: every
        // write or give-back of certificate or trust files forgets such facts (all clusters: a
        // path does not say which cluster reads it); other facts (a cluster's UUID) stay.
        const conn = { urls: ["https://facts.example:9200"] };
        it("deliverFiles, releaseDelivered, deliverTrustFile and releaseTrustFile each forget the certificate facts, and only those", async () => {
            clearFacts();
            let reads = 0;
            const probe = () => cachedFact(conn, "probe", async () => ++reads, { tags: [CERTIFICATE_FACTS] });
            const steps: Array<[string, () => Promise<unknown>]> = [
                ["deliverFiles", () => deliverFiles({ directory: dir }, PEMS)],
                ["releaseDelivered", () => releaseDelivered({ directory: dir }, PEMS, "restore")],
                ["deliverTrustFile", () => deliverTrustFile({ directory: dir, caFile: "t.crt" }, ["CA\n"])],
                ["releaseTrustFile", () => releaseTrustFile({ directory: dir, caFile: "t.crt" }, ["CA\n"])],
            ];
            assert.strictEqual(await probe(), 1);
            let uuidReads = 0;
            await cachedFact(conn, "uuid", async () => { uuidReads++; return "u"; });
            for (const [i, [name, step]] of steps.entries()) {
                assert.strictEqual(await probe(), i + 1, `before ${name}: kept`);
                await step();
                assert.strictEqual(await probe(), i + 2, `after ${name}: read again`);
            }
            await cachedFact(conn, "uuid", async () => { uuidReads++; return "u"; });
            assert.strictEqual(uuidReads, 1, "the UUID was never forgotten");
            clearFacts();
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
            ["an unknown onDelete", { directory: "/x", onDelete: "remove" }, "onDelete", "\"restore\""],
        ];
        for (const [label, input, property, fragment] of cases) {
            it(`refuses ${label}`, async () => {
                const problems = deliveryProblems(input);
                assert.strictEqual(problems.length, 1, JSON.stringify(problems));
                assert.strictEqual(problems[0].property, property);
                assert.ok(problems[0].reason.includes(fragment), problems[0].reason);
            });
        }
        it("accepts a full target", async () => {
            assert.deepStrictEqual(deliveryProblems({ directory: "/x", certFile: "a", keyFile: "b", caFile: "c", keyFileMode: 0o640, onDelete: "keep" }), []);
        });
    });

    describe("a switch of the three files that stops between two renames", () => {
        it("leaves a record that says so until the last file is in place; writing again completes it and removes the record", async () => {
            const t = { directory: dir };
            const p = deliveryPaths(t);
            await deliverFiles(t, PEMS);
            assert.strictEqual(await halfSwitched(t, await readDelivered(t)), undefined);
            // A real failure at the third rename: the certificate's name is taken by a directory.
            fs.rmSync(p.cert);
            fs.mkdirSync(p.cert);
            await assert.rejects(deliverFiles(t, NEXT), /could not write the certificate files/);
            assert.strictEqual(fs.readFileSync(p.key, "utf8"), NEXT.keyPem, "the key was switched, the certificate not");
            assert.ok(fs.existsSync(switchRecordPath(t)));
            assert.match((await halfSwitched(t, await readDelivered(t)))!, /an earlier write of the three files did not finish \(\.transport\.crt\.es-remote-switch is still there\)/);
            assert.ok(!fs.readFileSync(switchRecordPath(t), "utf8").includes(NEXT.keyPem.trim()), "the record holds hashes, not the key");
            fs.rmdirSync(p.cert);
            await deliverFiles(t, NEXT);
            assert.ok(!fs.existsSync(switchRecordPath(t)));
            assert.strictEqual(await halfSwitched(t, await readDelivered(t)), undefined);
        });

        it("a certificate beside a key that is not its own is found, whatever made it", async () => {
            const ca = await generateCa({ commonName: "pair CA" });
            const a = await issueNodeCertificate(ca, { commonName: "a", dnsNames: ["a"] });
            const b = await issueNodeCertificate(ca, { commonName: "b", dnsNames: ["b"] });
            const t = { directory: dir };
            assert.strictEqual(await halfSwitched(t, { certPem: a.certPem, keyPem: a.keyPem }), undefined);
            assert.strictEqual(await halfSwitched(t, { certPem: a.certPem, keyPem: b.keyPem }), "transport.key is not the key of the certificate in transport.crt");
        });
    });

    describe("ownership and extra trusted CAs", () => {
        it("a new file takes the directory's owner and group (when running as root), so the node's user can read it", async function () {
            skipUnlessRoot(this, "needs root to give files other owners");
            fs.chownSync(dir, 65534, 65534);
            writeFileAtomic(path.join(dir, "new.key"), "k", 0o600);
            const st = fs.statSync(path.join(dir, "new.key"));
            assert.deepStrictEqual([st.uid, st.gid, st.mode & 0o777], [65534, 65534, 0o600]);
        });

        it("the packages' layout (root:elasticsearch): the key defaults to 0640 so Elasticsearch reads it through its group; an own key stays 0600; keyFileMode wins", async function () {
            skipUnlessRoot(this, "needs root to give files other owners");
            fs.chownSync(dir, 0, 65534);
            await deliverFiles({ directory: dir }, PEMS);
            let st = fs.statSync(deliveryPaths({ directory: dir }).key);
            assert.deepStrictEqual([st.uid, st.gid, st.mode & 0o777], [0, 65534, 0o640]);
            await deliverFiles({ directory: dir, keyFileMode: 0o600 }, PEMS);
            st = fs.statSync(deliveryPaths({ directory: dir }).key);
            assert.strictEqual(st.mode & 0o777, 0o600, "keyFileMode given: exactly that");
            fs.rmSync(deliveryPaths({ directory: dir }).key);
            fs.chownSync(dir, 65534, 65534);
            await deliverFiles({ directory: dir }, PEMS);
            st = fs.statSync(deliveryPaths({ directory: dir }).key);
            assert.deepStrictEqual([st.uid, st.gid, st.mode & 0o777], [65534, 65534, 0o600], "owned by the node's user: 0600");
        });

        // A real writer that may not chown: the delivery runs through a command access that drops to
        // another user (setpriv), as an SSH login without sudo would. Needs root to set that up.
        const asUser = (uid: number, gid: number) => ({ command: ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--"] });

        it("refuses, before writing anything, a key that would lose its owner: the node's 0600 key written by a user who may not chown", async function () {
            skipUnlessRoot(this, "needs root to make files of other users");
            fs.chmodSync(dir, 0o777);
            const p = deliveryPaths({ directory: dir });
            for (const [f, c] of [[p.cert, "OLD CERT\n"], [p.key, "OLD KEY\n"], [p.ca, "OLD CA\n"]]) {
                fs.writeFileSync(f, c, { mode: f === p.key ? 0o600 : 0o644 });
                fs.chownSync(f, 1234, 2345); // the node's user
            }
            const before = fs.readdirSync(dir).sort();
            const t = { directory: dir, access: asUser(65534, 65534) };
            for (const step of [() => keepOriginals(t), () => deliverFiles(t, PEMS)]) {
                await assert.rejects(step(), (e: Error) => {
                    assert.strictEqual(e.name, "NodeAccessError", String(e));
                    assert.match(e.message, new RegExp(`${p.key.replace(/[.]/g, "\\.")} on command setpriv .* would be written as 65534:65534 mode 0600 instead of 1234:2345 \\(the owner of the file it replaces\\)`));
                    assert.match(e.message, /Nothing was written\. Deliver as root/);
                    return true;
                });
            }
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), before, "no record, probe or temporary file left");
            assert.strictEqual(fs.readFileSync(p.key, "utf8"), "OLD KEY\n");
            assert.strictEqual(fs.statSync(p.key).uid, 1234);
        });

        it("a writer running as the node's user over the packages' root:elasticsearch 0640 key: the group is kept, so the delivery goes ahead", async function () {
            skipUnlessRoot(this, "needs root to make files of other users");
            fs.chmodSync(dir, 0o777);
            const p = deliveryPaths({ directory: dir });
            fs.writeFileSync(p.key, "OLD KEY\n", { mode: 0o640 });
            fs.chownSync(p.key, 0, 2345);
            fs.chmodSync(p.key, 0o644); // readable by the writer, so it can be kept aside
            const t = { directory: dir, access: asUser(1234, 2345) };
            await deliverFiles(t, PEMS);
            const st = fs.statSync(p.key);
            assert.deepStrictEqual([st.uid, st.gid, fs.readFileSync(p.key, "utf8")], [1234, 2345, PEMS.keyPem]);
        });

        it("writes the issuing CA, then the extra CAs, into the CA file; drift and removal compare that content", async () => {
            const t = { directory: dir, extraTrustedCaPems: ["NEXT CA"] };
            await keepOriginals(t); // records: none of the files existed, so the delete below removes them
            await deliverFiles(t, PEMS);
            assert.strictEqual(fs.readFileSync(deliveryPaths(t).ca, "utf8"), "CA\nNEXT CA\n");
            assert.strictEqual(trustFileContent(t, "CA\n"), "CA\nNEXT CA\n");
            assert.strictEqual(await deliveredMatches(t, PEMS), true);
            assert.strictEqual(await deliveredMatches({ directory: dir }, PEMS), false, "without the extra CA the file is not what we would write");
            assert.deepStrictEqual((await releaseDelivered(t, PEMS, "restore")).kept, []);
            assert.deepStrictEqual(fs.readdirSync(dir), []);
        });

        it("refuses extra CAs that are not PEM certificates, naming the entry", async () => {
            assert.deepStrictEqual(deliveryProblems({ directory: "/x", extraTrustedCaPems: "pem" }).map((p) => p.property), ["extraTrustedCaPems"]);
            const good = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
            assert.deepStrictEqual(deliveryProblems({ directory: "/x", extraTrustedCaPems: [good, "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----"] }).map((p) => p.property), ["extraTrustedCaPems[1]"]);
        });
    });

    describe("a trust file alone (deliverTrustFile / releaseTrustFile)", () => {
        it("writes the CA certificates under remote-cluster-client-ca.crt, and delete restores the node's own file", async () => {
            const t = { directory: dir };
            const file = trustFilePath(t);
            assert.strictEqual(path.basename(file), "remote-cluster-client-ca.crt");
            fs.writeFileSync(file, "OWN CA\n", { mode: 0o640 });
            fs.chmodSync(file, 0o640);
            const record = await deliverTrustFile(t, ["SERVER CA", "NEXT CA\n"]);
            assert.strictEqual(path.basename(record), ".remote-cluster-client-ca.crt.es-remote-orig-0640");
            assert.strictEqual(fs.readFileSync(file, "utf8"), "SERVER CA\nNEXT CA\n");
            assert.strictEqual(mode(file), 0o644);
            const r = await releaseTrustFile(t, ["SERVER CA", "NEXT CA\n"]);
            assert.deepStrictEqual(r.restored, [file]);
            assert.strictEqual(fs.readFileSync(file, "utf8"), "OWN CA\n");
            assert.strictEqual(mode(file), 0o640);
            assert.deepStrictEqual(fs.readdirSync(dir), ["remote-cluster-client-ca.crt"]);
        });

        it("a file that did not exist is removed unless elasticsearch.yml names it; a changed file is left; keep leaves it", async () => {
            const t = { directory: dir, caFile: "rcc-ca.crt" };
            await deliverTrustFile(t, ["CA"]);
            fs.writeFileSync(path.join(dir, "elasticsearch.yml"), "xpack.security.remote_cluster_client.ssl.certificate_authorities: [ rcc-ca.crt ]\n");
            assert.match((await releaseTrustFile(t, ["CA"])).kept[0].why, /names it/);
            assert.ok(fs.existsSync(trustFilePath(t)));
            fs.rmSync(path.join(dir, "elasticsearch.yml"));
            fs.rmSync(trustFilePath(t));

            await deliverTrustFile(t, ["CA"]);
            assert.deepStrictEqual((await releaseTrustFile(t, ["OTHER CA"])).kept.map((k) => k.file), [trustFilePath(t)], "not ours: left");
            assert.deepStrictEqual((await releaseTrustFile(t, ["CA"])).removed, [trustFilePath(t)]);
            assert.deepStrictEqual(fs.readdirSync(dir), []);

            await deliverTrustFile({ ...t, onDelete: "keep" }, ["CA"]);
            await releaseTrustFile({ ...t, onDelete: "keep" }, ["CA"]);
            assert.deepStrictEqual(fs.readdirSync(dir), ["rcc-ca.crt"]);
        });
    });
});
