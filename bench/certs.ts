/**
 * Certificates: 100 node certificates (ECDSA P-256 and RSA 2048) issued in-process with
 * provider/certs/pem.ts `issueNodeCertificate`, against the `openssl` CLI doing the same per node (key
 * generation, CSR, signing with the same extensions: CA:false, key usage, serverAuth+clientAuth,
 * DNS + IP SANs, key identifiers). Both one after the other and `nproc` at a time.
 */
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { generateCa, IssuedCa, issueNodeCertificate, KeyAlgorithm } from "../provider/certs/pem";
import { Cleanup, loadavg, median, progress, secs, spread, table } from "./support";

const COUNT = 100;

function run(cmd: string, args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
        execFile(cmd, args, { encoding: "utf8" }, (err, _out, stderr) => (err ? reject(new Error(`${cmd} ${args.join(" ")}: ${stderr || err.message}`)) : resolve()));
    });
}

/** Runs `tasks` with at most `width` at a time. */
async function pool<T>(width: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
    const results: T[] = new Array(tasks.length);
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, async () => {
        while (next < tasks.length) {
            const i = next++;
            results[i] = await tasks[i]();
        }
    }));
    return results;
}

async function inProcess(ca: IssuedCa, alg: KeyAlgorithm, width: number): Promise<number> {
    const t0 = process.hrtime.bigint();
    await pool(width, Array.from({ length: COUNT }, (_, i) => () => issueNodeCertificate(ca, {
        commonName: `node-${i}`, dnsNames: [`node-${i}.bench`, "localhost"], ipAddresses: ["127.0.0.1"], keyAlgorithm: alg,
    })));
    return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Keygen + CSR + signing by the `openssl` CLI for one node, files in `dir`. */
async function opensslNode(dir: string, caCert: string, caKey: string, alg: KeyAlgorithm, i: number): Promise<void> {
    const key = path.join(dir, `node-${i}.key`);
    const csr = path.join(dir, `node-${i}.csr`);
    const crt = path.join(dir, `node-${i}.crt`);
    const ext = path.join(dir, `node-${i}.ext`);
    const rsa = alg.startsWith("rsa");
    fs.writeFileSync(ext, [
        "basicConstraints=critical,CA:FALSE",
        `keyUsage=critical,digitalSignature${rsa ? ",keyEncipherment" : ""}`,
        "extendedKeyUsage=serverAuth,clientAuth",
        `subjectAltName=DNS:node-${i}.bench,DNS:localhost,IP:127.0.0.1`,
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid",
        "",
    ].join("\n"));
    await run("openssl", rsa
        ? ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key]
        : ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
    await run("openssl", ["req", "-new", "-key", key, "-subj", `/CN=node-${i}`, "-out", csr]);
    await run("openssl", ["x509", "-req", "-in", csr, "-CA", caCert, "-CAkey", caKey, "-set_serial", `0x${crypto.randomBytes(16).toString("hex")}`,
        "-days", "365", "-sha256", "-extfile", ext, "-out", crt]);
}

async function withOpenssl(cleanup: Cleanup, ca: IssuedCa, alg: KeyAlgorithm, width: number): Promise<number> {
    const dir = cleanup.tempDir("openssl");
    const caCert = path.join(dir, "ca.crt");
    const caKey = path.join(dir, "ca.key");
    fs.writeFileSync(caCert, ca.certPem);
    fs.writeFileSync(caKey, ca.keyPem, { mode: 0o600 });
    const t0 = process.hrtime.bigint();
    await pool(width, Array.from({ length: COUNT }, (_, i) => () => opensslNode(dir, caCert, caKey, alg, i)));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    // One of them, checked: issued by the CA, SANs as asked.
    const cert = new crypto.X509Certificate(fs.readFileSync(path.join(dir, "node-0.crt")));
    if (!cert.checkIssued(new crypto.X509Certificate(ca.certPem)) || !cert.checkIP("127.0.0.1")) {
        throw new Error("openssl produced a certificate that is not what the benchmark asked for");
    }
    fs.rmSync(dir, { recursive: true, force: true });
    return ms;
}

/** Runs the certificate benchmark `runs` times and returns the markdown section. */
export async function benchCerts(cleanup: Cleanup, runs: number): Promise<string> {
    const width = os.cpus().length;
    const rows: Array<Array<string | number>> = [];
    const loads: string[] = [];
    for (const alg of ["ecdsa-p256", "rsa-2048"] as KeyAlgorithm[]) {
        const ca = await generateCa({ commonName: `bench ${alg} CA`, keyAlgorithm: alg });
        const t: Record<string, number[]> = { seq: [], par: [], osslSeq: [], osslPar: [] };
        for (let r = 0; r < runs; r++) {
            loads.push(loadavg());
            t.seq.push(await inProcess(ca, alg, 1));
            t.par.push(await inProcess(ca, alg, COUNT));
            t.osslSeq.push(await withOpenssl(cleanup, ca, alg, 1));
            t.osslPar.push(await withOpenssl(cleanup, ca, alg, width));
            progress(`certs ${alg} run ${r + 1}: in-process ${secs(t.seq[r])} s / all at once ${secs(t.par[r])} s; openssl ${secs(t.osslSeq[r])} s / ${width} at a time ${secs(t.osslPar[r])} s`);
        }
        rows.push([alg, "in-process, one after another", spread(t.seq), `${(median(t.seq) / COUNT).toFixed(1)}`, "1.00×"]);
        rows.push([alg, "in-process, all 100 at once", spread(t.par), `${(median(t.par) / COUNT).toFixed(1)}`, `${(median(t.par) / median(t.seq)).toFixed(2)}×`]);
        rows.push([alg, "openssl CLI, one after another", spread(t.osslSeq), `${(median(t.osslSeq) / COUNT).toFixed(1)}`, `${(median(t.osslSeq) / median(t.seq)).toFixed(2)}×`]);
        rows.push([alg, `openssl CLI, ${width} at a time`, spread(t.osslPar), `${(median(t.osslPar) / COUNT).toFixed(1)}`, `${(median(t.osslPar) / median(t.seq)).toFixed(2)}×`]);
    }
    return [
        `${COUNT} node certificates per cell, ${runs} runs, median (min–max) in seconds. openssl: genpkey + req + x509 -req per node (3 processes), same extensions. ` +
        `Load average at the start of each run: ${loads.join("; ")}.`,
        "",
        table(["key", "how", "100 certificates, s", "ms per certificate", "vs in-process sequential"], rows),
    ].join("\n");
}
