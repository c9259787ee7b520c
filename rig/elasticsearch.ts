/**
 * Real Elasticsearch for tests, the demo and users: Elastic's `integ-test-zip` from Maven Central,
 * cached by version outside the repository, started as an unprivileged user on loopback ports with
 * security on and TLS on both the transport and the HTTP layer.
 */
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Client } from "@elastic/elasticsearch";
import { generateCa, issueNodeCertificate, IssuedCa } from "../provider/certs/pem";
import { fileLimitForBootstrapChecks } from "./nofile";
import { cacheRoot, runRoot } from "./paths";
import { tiedCommand, trackProcess, untrackProcesses, trackResources, untrackResources } from "./lifetime";
import { ensureSecurityIndexShim } from "./securityShim";

/** The versions the rig is tested with: the newest 9.x, 8.19.x and 8.18.x served on Maven Central. */
export const ES_VERSIONS = {
    v9: "9.5.4",
    v819: "8.19.21",
    v818: "8.18.6",
} as const;

/** Name of the unprivileged user Elasticsearch runs as when the rig is started by root. */
export const ES_USER = "esrig";
export const ELASTIC_PASSWORD_DEFAULT = "rig-elastic-pw";

/** What a started cluster looks like; also the shape of each entry in the state file. */
export interface ClusterInfo {
    name: string;
    version: string;
    /** HTTPS URL of the HTTP layer. */
    url: string;
    /** `127.0.0.1:<port>` of the transport layer (a seed for sniff mode). */
    transportAddress: string;
    httpPort: number;
    transportPort: number;
    /** Name of the single node. */
    nodeName: string;
    /** Root of this cluster's own files (config, data, logs, tmp). */
    dir: string;
    /** The node's config directory (ES_PATH_CONF); transport certificates live in `<configDir>/certs`. */
    configDir: string;
    /** PEM file of the CA that signed the HTTP certificate (give it to clients as caPem). */
    httpCaFile: string;
    /** PEM file the node trusts for transport TLS (`certs/transport-ca.crt`). */
    transportCaFile: string;
    username: string;
    password: string;
    /** PID of the Elasticsearch launcher process (the one the rig started). */
    pid: number;
    /** PID of the server JVM (child of the launcher), from the pid file. */
    serverPid?: number;
    /** Every process started for this node (launcher, CLI JVM, server JVM), recorded once healthy. */
    pids?: number[];
    javaHome: string;
}

/** Options for {@link startCluster}. */
export interface StartOptions {
    name: string;
    version: string;
    /** CA whose certificate and key sign this node's transport certificate; a fresh one if absent. */
    transportCa?: IssuedCa;
    /** Extra CA PEMs the node trusts on the transport layer, beside `transportCa`. */
    extraTrustedCaPems?: string[];
    /** CA for the HTTP certificate; a fresh one if absent. */
    httpCa?: IssuedCa;
    password?: string;
    /** Parent folder for the cluster's files. Default: {@link runRoot}. */
    parentDir?: string;
    heapMb?: number;
    startTimeoutSeconds?: number;
    /** Extra elasticsearch.yml lines. */
    extraSettings?: Record<string, string | number | boolean>;
    log?: (msg: string) => void;
    /**
     * Keep the node running after this process exits (the CLI's clusters). By default a node is
     * tied to the life of the process that started it (parent-death signal plus the rig's reaper):
     * a killed test run leaves nothing behind.
     */
    persistent?: boolean;
}

const log0 = (msg: string): void => {
    process.stderr.write(`[rig] ${msg}\n`);
};

/**
 * Downloads (with Maven) and unpacks the integ-test-zip of `version` once, with the test-only
 * plugin that lets it store native roles and users (rig/securityShim.ts); returns ES_HOME.
 */
export function ensureDistribution(version: string, log = log0): string {
    const home = path.join(cacheRoot(), "elasticsearch", version, `elasticsearch-${version}`);
    if (!fs.existsSync(path.join(home, "bin", "elasticsearch"))) {
        downloadAndUnpack(version, home, log);
    }
    ensureSecurityIndexShim(home, version, findJavaHome(version), requiredJavaMajor(version));
    return home;
}

function downloadAndUnpack(version: string, home: string, log: (msg: string) => void): void {
    const artifact = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${version}:zip`;
    const m2 = process.env.MAVEN_REPO_LOCAL ?? path.join(os.homedir(), ".m2", "repository");
    const zip = path.join(m2, "org/elasticsearch/distribution/integ-test-zip/elasticsearch", version, `elasticsearch-${version}.zip`);
    if (!fs.existsSync(zip)) {
        log(`downloading ${artifact} from Maven Central`);
        const r = spawnSync("mvn", ["-q", "-B", "dependency:get", "-Dtransitive=false", `-Dartifact=${artifact}`, `-Dmaven.repo.local=${m2}`],
            { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
        if (r.error || r.status !== 0 || !fs.existsSync(zip)) {
            throw new Error(`could not download ${artifact} with Maven (is 'mvn' installed and Maven Central reachable?): ${r.error?.message ?? ""}${r.stdout}${r.stderr}`.slice(0, 4000));
        }
    }
    const parent = path.dirname(home);
    fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
    const tmp = fs.mkdtempSync(path.join(parent, ".unpack-"));
    execFileSync("unzip", ["-q", zip, "-d", tmp]);
    fs.renameSync(path.join(tmp, `elasticsearch-${version}`), home);
    fs.rmSync(tmp, { recursive: true, force: true });
    makeReadableByAll(cacheRoot());
}

function makeReadableByAll(dir: string): void {
    // The cache is written by whoever runs the rig and read by the Elasticsearch user.
    spawnSync("chmod", ["-R", "a+rX", dir]);
}

/** Java major version required by an Elasticsearch version. */
export function requiredJavaMajor(esVersion: string): number {
    return Number(esVersion.split(".")[0]) >= 9 ? 21 : 17;
}

function javaMajor(javaHome: string): number | undefined {
    const bin = path.join(javaHome, "bin", "java");
    if (!fs.existsSync(bin)) {
        return undefined;
    }
    const r = spawnSync(bin, ["-version"], { encoding: "utf8" });
    const m = /version "(\d+)(?:\.(\d+))?/.exec(r.stderr ?? "");
    if (!m) {
        return undefined;
    }
    return m[1] === "1" ? Number(m[2]) : Number(m[1]);
}

/**
 * Picks a JDK for `esVersion`: the lowest major that is new enough, among ES_JAVA_HOME, JAVA_HOME
 * and the JDKs under /usr/lib/jvm. Fails with a message naming the Java that is missing.
 */
export function findJavaHome(esVersion: string): string {
    const need = requiredJavaMajor(esVersion);
    const candidates = new Set<string>();
    for (const v of [process.env.ES_JAVA_HOME, process.env.JAVA_HOME]) {
        if (v) {
            candidates.add(v);
        }
    }
    for (const root of ["/usr/lib/jvm", "/opt/java", "/opt"]) {
        try {
            for (const d of fs.readdirSync(root)) {
                candidates.add(path.join(root, d));
            }
        } catch {
            // not there
        }
    }
    const found: Array<{ home: string; major: number }> = [];
    for (const home of candidates) {
        const major = javaMajor(home);
        if (major !== undefined && !found.some((f) => fs.realpathSync(f.home) === fs.realpathSync(home))) {
            found.push({ home, major });
        }
    }
    const ok = found.filter((f) => f.major >= need).sort((a, b) => a.major - b.major);
    if (ok.length === 0) {
        const seen = found.map((f) => `${f.home} (Java ${f.major})`).join(", ") || "none";
        throw new Error(`Elasticsearch ${esVersion} needs Java ${need} or newer; found: ${seen}. ` +
            `Install a JDK ${need}+ (e.g. apt-get install openjdk-${need}-jdk-headless) or point ES_JAVA_HOME at one.`);
    }
    return ok[0].home;
}

/** Creates the unprivileged user Elasticsearch runs as (when the rig runs as root). @internal */
export function ensureEsUser(): { uid: number; gid: number } | undefined {
    if (!process.getuid || process.getuid() !== 0) {
        return undefined;
    }
    let r = spawnSync("id", ["-u", ES_USER], { encoding: "utf8" });
    if (r.status !== 0) {
        spawnSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER], { encoding: "utf8" });
        r = spawnSync("id", ["-u", ES_USER], { encoding: "utf8" });
        if (r.status !== 0) {
            throw new Error(`could not create the unprivileged user '${ES_USER}' that Elasticsearch runs as (it refuses to run as root)`);
        }
    }
    const gid = Number(spawnSync("id", ["-g", ES_USER], { encoding: "utf8" }).stdout.trim());
    return { uid: Number(r.stdout.trim()), gid };
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

/** @internal */
export function yamlValue(v: string | number | boolean | string[]): string {
    return typeof v === "string" || Array.isArray(v) ? JSON.stringify(v) : String(v);
}

/**
 * Fails before anything is started when the unprivileged Elasticsearch user cannot enter the run
 * folder (or one of its parents), e.g. PULUMI_ES_REMOTE_RUN under a mode-0700 `mktemp -d`: the
 * node would otherwise die at start with an access error deep in its log.
 */
export function checkRunFolder(dir: string, user: { uid: number; gid: number } | undefined = ensureEsUser()): void {
    if (!user) return;
    const target = path.resolve(dir);
    const parts = target.split(path.sep).filter(Boolean);
    for (let i = 0; i <= parts.length; i++) {
        const p = path.sep + parts.slice(0, i).join(path.sep);
        let st: fs.Stats;
        try {
            st = fs.statSync(p);
        } catch {
            return; // created by the rig itself (mode 0755) from here on
        }
        const mode = st.mode & 0o777;
        const ok = st.uid === user.uid ? (mode & 0o100) !== 0 : st.gid === user.gid ? (mode & 0o010) !== 0 : (mode & 0o001) !== 0;
        if (!ok) {
            const fromEnv = process.env.PULUMI_ES_REMOTE_RUN && target.startsWith(path.resolve(process.env.PULUMI_ES_REMOTE_RUN)) ? " (from PULUMI_ES_REMOTE_RUN)" : "";
            throw new Error(`the rig's run folder ${target}${fromEnv} is not reachable by the unprivileged user '${ES_USER}' that Elasticsearch runs as: ` +
                `${p} has mode ${mode.toString(8).padStart(4, "0")} (owner uid ${st.uid}) and '${ES_USER}' may not enter it. ` +
                `Fix: chmod o+x ${p} (or a+rx), or point PULUMI_ES_REMOTE_RUN at a folder every user can enter (e.g. /tmp/pulumi-es-remote-rig). Nothing was started.`);
        }
    }
}

/** Writes a file readable by the Elasticsearch user. @internal */
/** Security on, TLS on the transport and HTTP layers with the files {@link writeNodeCertificates} writes. */
export function securitySettings(verificationMode: "certificate" | "full"): Record<string, string | boolean> {
    return {
        "xpack.security.enabled": true,
        "xpack.security.transport.ssl.enabled": true,
        "xpack.security.transport.ssl.verification_mode": verificationMode,
        "xpack.security.transport.ssl.key": "certs/transport.key",
        "xpack.security.transport.ssl.certificate": "certs/transport.crt",
        "xpack.security.transport.ssl.certificate_authorities": "certs/transport-ca.crt",
        "xpack.security.http.ssl.enabled": true,
        "xpack.security.http.ssl.key": "certs/http.key",
        "xpack.security.http.ssl.certificate": "certs/http.crt",
    };
}

/**
 * A node's certificate files in `<configDir>/certs`: its transport and HTTP certificates and keys
 * (keys 0600), the transport CA it trusts (plus `extraTrustedCaPems`) and the HTTP CA.
 */
export function writeNodeCertificates(configDir: string, c: {
    transportCert: { certPem: string; keyPem: string }; httpCert: { certPem: string; keyPem: string };
    transportCa: { certPem: string }; httpCa: { certPem: string }; extraTrustedCaPems?: string[];
}): void {
    const certs = path.join(configDir, "certs");
    writeFile(path.join(certs, "transport.crt"), c.transportCert.certPem);
    writeFile(path.join(certs, "transport.key"), c.transportCert.keyPem, 0o600);
    writeFile(path.join(certs, "transport-ca.crt"), [c.transportCa.certPem, ...(c.extraTrustedCaPems ?? [])].join("\n"));
    writeFile(path.join(certs, "http.crt"), c.httpCert.certPem);
    writeFile(path.join(certs, "http.key"), c.httpCert.keyPem, 0o600);
    writeFile(path.join(certs, "http-ca.crt"), c.httpCa.certPem);
}

export function writeFile(file: string, content: string, mode = 0o644): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
}

/** @internal */
export function runAs(user: { uid: number; gid: number } | undefined, cmd: string, args: string[]): [string, string[]] {
    return user
        ? ["setpriv", ["--reuid", String(user.uid), "--regid", String(user.gid), "--clear-groups", "--", cmd, ...args]]
        : [cmd, args];
}

/** The environment of a node's processes: its JDK, config and temp folders. @internal */
export function nodeEnv(javaHome: string, configDir: string, dir: string): NodeJS.ProcessEnv {
    const tmp = path.join(dir, "tmp");
    return {
        ...process.env,
        ES_JAVA_HOME: javaHome,
        JAVA_HOME: javaHome,
        ES_PATH_CONF: configDir,
        ES_TMPDIR: tmp,
        ES_JAVA_OPTS: "",
        // The launcher JVM probes JVM flags in java.io.tmpdir (final-flags* folders): keep them here, not in /tmp.
        CLI_JAVA_OPTS: `-Djava.io.tmpdir=${tmp}`,
    };
}

/**
 * Starts `bin/elasticsearch` (as the unprivileged user) in a process group of its own, output to
 * console.log; returns its PID. Unless `persistent`, it gets SIGKILL when this process dies (the
 * server JVM follows: it exits when its launcher's stdin pipe closes) and the reaper knows its group.
 * With `namespace`, it runs inside that network namespace (`ip netns exec`, which execs in place,
 * so the parent is still this process) with the file-descriptor limit of Elasticsearch's bootstrap check.
 * @internal
 */
export function launch(user: { uid: number; gid: number } | undefined, esHome: string, env: NodeJS.ProcessEnv, dir: string,
    opts: { persistent?: boolean; namespace?: string } = {}): number {
    const out = fs.openSync(path.join(dir, "console.log"), "a");
    let [cmd, args] = tiedCommand(user, !opts.persistent, path.join(esHome, "bin", "elasticsearch"), ["-p", path.join(dir, "tmp", "es.pid")]);
    if (opts.namespace) {
        const limit = fileLimitForBootstrapChecks(log0);
        [cmd, args] = ["ip", ["netns", "exec", opts.namespace, ...limit.prefix, cmd, ...args]];
        env = { ...env, ...limit.env };
    }
    const child = spawn(cmd, args, { env, cwd: dir, detached: true, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    child.unref();
    if (!child.pid) {
        throw new Error("could not start Elasticsearch");
    }
    if (!opts.persistent) {
        trackProcess(child.pid, { group: true });
    }
    return child.pid;
}

/**
 * Starts a single-node cluster and waits until it is healthy. On any failure nothing is left
 * running and its folder is removed.
 *
 * The ports come from {@link freePort}, which binds and releases them; the node binds them seconds
 * later (the keystore JVM runs in between), and with the two test legs starting nodes at once
 * another process can take a port in that gap (seen: the HTTP bind failing in
 * Netty4HttpServerTransport.bind). Such a start is tried again with fresh ports, twice at most.
 */
export async function startCluster(opts: StartOptions): Promise<ClusterInfo> {
    for (let attempt = 1; ; attempt++) {
        try {
            return await startClusterOnce(opts);
        } catch (err) {
            const msg = (err as Error).message;
            if (attempt >= 3 || !/BindException|Address already in use|HttpServerTransport\.bind|TcpTransport\.bindToPort/.test(msg)) throw err;
            (opts.log ?? log0)(`${opts.name}: a port was taken between choosing it and the node binding it; starting again with other ports (attempt ${attempt + 1} of 3)`);
        }
    }
}

async function startClusterOnce(opts: StartOptions): Promise<ClusterInfo> {
    const log = opts.log ?? log0;
    const version = opts.version;
    const user = ensureEsUser();
    const parent = opts.parentDir ?? runRoot();
    checkRunFolder(parent, user);
    const esHome = ensureDistribution(version, log);
    const javaHome = findJavaHome(version);
    fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
    fs.chmodSync(parent, 0o755);
    const dir = fs.mkdtempSync(path.join(parent, `${opts.name}-`));
    fs.chmodSync(dir, 0o755);
    if (!opts.persistent) trackResources({ dirs: [dir] });
    const configDir = path.join(dir, "config");
    const nodeName = `${opts.name}-node-0`;
    const password = opts.password ?? ELASTIC_PASSWORD_DEFAULT;
    let pid: number | undefined;
    try {
        fs.cpSync(path.join(esHome, "config"), configDir, { recursive: true });
        for (const d of ["data", "logs", "tmp"]) {
            fs.mkdirSync(path.join(dir, d), { recursive: true });
        }
        const transportCa = opts.transportCa ?? (await generateCa({ commonName: `${opts.name} transport CA` }));
        const httpCa = opts.httpCa ?? (await generateCa({ commonName: `${opts.name} HTTP CA` }));
        const san = { dnsNames: ["localhost", nodeName], ipAddresses: ["127.0.0.1"] };
        const transportCert = await issueNodeCertificate(transportCa, { commonName: nodeName, ...san });
        const httpCert = await issueNodeCertificate(httpCa, { commonName: nodeName, ...san });
        writeNodeCertificates(configDir, { transportCert, httpCert, transportCa, httpCa, extraTrustedCaPems: opts.extraTrustedCaPems });
        const httpPort = await freePort();
        const transportPort = await freePort();
        const settings: Record<string, string | number | boolean> = {
            "cluster.name": opts.name,
            "node.name": nodeName,
            "path.data": path.join(dir, "data"),
            "path.logs": path.join(dir, "logs"),
            "network.host": "127.0.0.1",
            "http.port": httpPort,
            "transport.port": transportPort,
            "discovery.type": "single-node",
            "cluster.routing.allocation.disk.threshold_enabled": false,
            "action.destructive_requires_name": false,
            ...securitySettings("certificate"),
            ...opts.extraSettings,
        };
        fs.writeFileSync(path.join(configDir, "elasticsearch.yml"),
            Object.entries(settings).map(([k, v]) => `${k}: ${yamlValue(v)}`).join("\n") + "\n");
        // jvm.options points GC logs, error files and heap dumps at paths relative to the working
        // directory the launcher gives the server JVM (ES_HOME in 8.18, the shared read-only cache):
        // make them absolute, inside this cluster's own folder.
        const jvmOptions = path.join(configDir, "jvm.options");
        fs.writeFileSync(jvmOptions, fs.readFileSync(jvmOptions, "utf8")
            .replace(/=logs\//g, `=${path.join(dir, "logs")}/`)
            .replace(/file=logs\//g, `file=${path.join(dir, "logs")}/`)
            .replace(/HeapDumpPath=data\b/g, `HeapDumpPath=${path.join(dir, "data")}`));
        const heap = opts.heapMb ?? 512;
        fs.writeFileSync(path.join(configDir, "jvm.options.d", "rig.options"), `-Xms${heap}m\n-Xmx${heap}m\n`, { flag: "w" });
        if (user) {
            spawnSync("chown", ["-R", `${user.uid}:${user.gid}`, dir]);
        }
        const env = nodeEnv(javaHome, configDir, dir);
        const keystore = path.join(esHome, "bin", "elasticsearch-keystore");
        for (const [args, input] of [[["create"], ""], [["add", "-x", "bootstrap.password"], password]] as const) {
            const [cmd, a] = runAs(user, keystore, [...args]);
            const r = spawnSync(cmd, a, { env, input, encoding: "utf8" });
            if (r.status !== 0) {
                throw new Error(`elasticsearch-keystore ${args.join(" ")} failed: ${r.stderr || r.stdout}`);
            }
        }
        const pidFile = path.join(dir, "tmp", "es.pid");
        log(`starting ${opts.name} (Elasticsearch ${version}, Java ${javaMajor(javaHome)}) on https://127.0.0.1:${httpPort}, transport ${transportPort}`);
        pid = launch(user, esHome, env, dir, { persistent: opts.persistent });
        const info: ClusterInfo = {
            name: opts.name,
            version,
            url: `https://127.0.0.1:${httpPort}`,
            transportAddress: `127.0.0.1:${transportPort}`,
            httpPort,
            transportPort,
            nodeName,
            dir,
            configDir,
            httpCaFile: path.join(configDir, "certs", "http-ca.crt"),
            transportCaFile: path.join(configDir, "certs", "transport-ca.crt"),
            username: "elastic",
            password,
            pid,
            javaHome,
        };
        await waitHealthy(info, opts.startTimeoutSeconds ?? 240);
        await warmUpSecurityIndex(info, opts.startTimeoutSeconds ?? 240);
        info.serverPid = readPid(pidFile);
        info.pids = [pid, ...descendants(pid)];
        if (!opts.persistent) info.pids.forEach((p) => trackProcess(p));
        log(`${opts.name} is up (pid ${pid})`);
        return info;
    } catch (err) {
        if (pid) {
            await killTree(pid, [readPid(path.join(dir, "tmp", "es.pid"))]);
        }
        const tail = readTail(path.join(dir, "console.log"));
        fs.rmSync(dir, { recursive: true, force: true });
        untrackResources({ dirs: [dir] });
        throw new Error(`${opts.name} (Elasticsearch ${version}) did not start: ${(err as Error).message}${tail ? `\n--- last log lines ---\n${tail}` : ""}`);
    }
}

/** @internal */
export function readPid(file: string): number | undefined {
    try {
        const n = Number(fs.readFileSync(file, "utf8").trim());
        return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
        return undefined;
    }
}

/** @internal */
export function readTail(file: string, lines = 30): string {
    try {
        return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
        return "";
    }
}

/** @internal */
export function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** @internal */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isElasticsearchProcess(pid: number): boolean {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("elasticsearch");
    } catch {
        return false;
    }
}

/** PIDs of all living descendants of `pid` (from /proc), children first-found order. */
export function descendants(pid: number): number[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
        } catch {
            // exited meanwhile
        }
    }
    const out: number[] = [];
    const walk = (p: number) => {
        for (const c of children.get(p) ?? []) {
            out.push(c);
            walk(c);
        }
    };
    walk(pid);
    return out;
}

/**
 * Stops exactly the processes the rig started for one node: the spawned launcher `pid`, its
 * descendants (the Elasticsearch CLI launcher and server JVMs) and the server PID from the pid
 * file. SIGTERM first, SIGKILL after a grace period.
 */
/** @internal */
export async function killTree(pid: number, known: Array<number | undefined> = [], graceMs = 30000): Promise<void> {
    // A PID from an old state file may have been reused: only signal Elasticsearch processes.
    const pids = [...new Set([...(alive(pid) ? descendants(pid) : []), pid, ...known.filter((p): p is number => p !== undefined)])]
        .filter(isElasticsearchProcess);
    for (const p of pids) {
        try {
            process.kill(p, "SIGTERM");
        } catch {
            // already gone
        }
    }
    const deadline = Date.now() + graceMs;
    while (pids.some(alive) && Date.now() < deadline) {
        await sleep(200);
    }
    for (const p of pids.filter(alive)) {
        try {
            process.kill(p, "SIGKILL");
        } catch {
            // gone
        }
    }
    untrackProcesses([pid, ...pids]);
}

/** A client for a rig cluster as the `elastic` superuser, trusting its HTTP CA. */
export function rigClient(c: ClusterInfo): Client {
    return new Client({
        node: c.url,
        auth: { username: c.username, password: c.password },
        tls: { ca: fs.readFileSync(c.httpCaFile, "utf8"), rejectUnauthorized: true },
        requestTimeout: 30000,
    });
}

/** @internal */
export async function waitHealthy(c: ClusterInfo, timeoutSeconds: number): Promise<void> {
    const client = rigClient(c);
    const deadline = Date.now() + timeoutSeconds * 1000;
    let last = "";
    try {
        while (Date.now() < deadline) {
            if (!alive(c.pid)) {
                throw new Error(`the process exited (${last || "no answer yet"})`);
            }
            try {
                const h = await client.cluster.health({ wait_for_status: "yellow", timeout: "5s" });
                if (h.status === "yellow" || h.status === "green") {
                    return;
                }
                last = `health ${h.status}`;
            } catch (e) {
                last = (e as Error).message;
            }
            await sleep(1000);
        }
        throw new Error(`not healthy after ${timeoutSeconds}s (last: ${last})`);
    } finally {
        await client.close();
    }
}

/**
 * Creates the `.security` index (a role written and removed again) and waits until its shard is
 * active. Elasticsearch creates it on the first security write; reads racing that creation fail
 * with 503 "unavailable_shards_exception … [.security-7]", which real tests saw right after start.
 */
/** @internal */
export async function warmUpSecurityIndex(c: ClusterInfo, timeoutSeconds: number): Promise<void> {
    const client = rigClient(c);
    const deadline = Date.now() + timeoutSeconds * 1000;
    try {
        for (;;) {
            try {
                await client.security.putRole({ name: "rig_warmup", cluster: [] });
                await client.cluster.health({ wait_for_status: "green", wait_for_no_initializing_shards: true, timeout: "30s" });
                await client.security.deleteRole({ name: "rig_warmup" });
                return;
            } catch (e) {
                if (Date.now() > deadline) {
                    throw new Error(`the .security index did not become ready: ${(e as Error).message}`);
                }
                await sleep(1000);
            }
        }
    } finally {
        await client.close();
    }
}

/** Stops a cluster started by {@link startCluster} (by its PIDs) and removes its folder. */
export async function stopCluster(c: ClusterInfo, opts: { keepFiles?: boolean } = {}): Promise<void> {
    if (isTopology(c)) {
        return (await import("./topology")).stopTopology(c, opts);
    }
    await killTree(c.pid, [c.serverPid, ...(c.pids ?? []), readPid(path.join(c.dir, "tmp", "es.pid"))]);
    if (!opts.keepFiles) {
        fs.rmSync(c.dir, { recursive: true, force: true });
        untrackResources({ dirs: [c.dir] });
    }
}

function isTopology(c: ClusterInfo): c is import("./topology").TopologyInfo {
    return Array.isArray((c as { nodes?: unknown }).nodes);
}

/**
 * Restarts a stopped cluster's node with its existing files (same ports, data and certificates),
 * for fault tests that stop a cluster in the middle of an operation.
 */
export async function restartCluster(c: ClusterInfo, timeoutSeconds = 240): Promise<ClusterInfo> {
    if (isTopology(c)) {
        return (await import("./topology")).restartTopology(c, timeoutSeconds);
    }
    const user = ensureEsUser();
    const esHome = ensureDistribution(c.version);
    const pidFile = path.join(c.dir, "tmp", "es.pid");
    const info: ClusterInfo = { ...c, pid: launch(user, esHome, nodeEnv(c.javaHome, c.configDir, c.dir), c.dir), serverPid: undefined, pids: undefined };
    await waitHealthy(info, timeoutSeconds);
    info.serverPid = readPid(pidFile);
    info.pids = [info.pid, ...descendants(info.pid)];
    info.pids.forEach((p) => trackProcess(p));
    return info;
}

/** Stops the node's processes but keeps its files, so {@link restartCluster} can bring it back. */
export async function haltCluster(c: ClusterInfo): Promise<void> {
    if (isTopology(c)) {
        return (await import("./topology")).haltTopology(c);
    }
    await killTree(c.pid, [c.serverPid, ...(c.pids ?? []), readPid(path.join(c.dir, "tmp", "es.pid"))]);
}
