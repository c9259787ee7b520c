/**
 * `delivery`: one node certificate (cert, key, CA: three files) put on each of N isolated rig hosts
 * over SSH, three ways side by side, for two N (growth per host):
 *
 * 1. `pulumi up` of a SharedCa + N NodeCertificates with `delivery.access.ssh` (ssh2, one pooled
 *    connection per host per provider process, sudo, files written atomically by an sh script),
 *    then `pulumi destroy` (the provider puts back what was there: nothing, so the files go). As a
 *    reference, the same stack without `delivery` (the engine and certificate cost without SSH).
 * 2. A plain bash loop with the OpenSSH client: per host `scp -O -r` of the host's three files into a
 *    staging folder in the login user's home, then one `ssh … sudo -n install -m … -o root -g esrig`
 *    (pinned known_hosts, BatchMode, no multiplexing); one host after another, and all hosts at
 *    once (`&` + `wait`).
 * 3. ansible-core (from PyPI, in a venv under /var/cache/pulumi-es-remote, never in the repo):
 *    a playbook with one `copy` task (loop over the three files, `become: true`, owner, group,
 *    mode), an inventory of the N hosts with their pinned host keys, default forks (5) and forks=N,
 *    Ansible's default SSH arguments (ControlMaster=auto, ControlPersist=60s) with a control-path
 *    folder per run whose masters are told to exit after it; and forks=N with ControlMaster=no
 *    (every ssh and scp Ansible runs is then a connection of its own).
 *
 * The hosts are bare isolated rig hosts composed from rig/netns.ts and rig/hostfs.ts: a network
 * namespace and a mount namespace each (overlays on /etc, /home, …), their own sshd (rig/sshd.ts,
 * LogLevel VERBOSE) and an admin user with passwordless sudo, and `/etc/elasticsearch/certs`
 * root:esrig 2750 as Debian's package makes it. No Elasticsearch.
 *
 * Before every timed run the hosts' certificate folders are reset (through the rig's nsenter
 * prefix, not SSH); after it, every host's three files are read the same way and compared with
 * what that method was meant to write (SHA-256, mode, owner, group). SSH connections are the
 * "Accepted publickey" lines the run added to the hosts' sshd logs.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { generateCa, issueNodeCertificate, IssuedNodeCert } from "../provider/certs/pem";
import { ensureEsUser, ES_USER } from "../rig/elasticsearch";
import { freeIds, HostFs, mkdirUpper, mountHostFs, prepareHostFs, removeHostFs, requireIsolationSupport, runInHost, startHostSshd } from "../rig/hostfs";
import { addHost, createNetwork, destroyNetwork, removeHost, requireRootForHosts, RigHost } from "../rig/netns";
import { generateClientKey, SshdInfo } from "../rig/sshd";
import { benchProject, BenchProject, cli, Cleanup, CliRun, runTimed, loadavg, median, progress, secs, spread, table } from "./support";

/** The pinned ansible-core (the newest that runs on this machine's Python 3.11). */
export const ANSIBLE_VERSION = "2.19.14";
/** Where its venv is kept between runs (outside the repository). */
export const ANSIBLE_VENV = `/var/cache/pulumi-es-remote/ansible-${ANSIBLE_VERSION}`;

const CERT_DIR = "/etc/elasticsearch/certs";
const ADMIN = "rigadmin";
const FILES = [
    { name: "transport.crt", mode: "644", pem: "certPem" },
    { name: "transport.key", mode: "640", pem: "keyPem" },
    { name: "transport-ca.crt", mode: "644", pem: "caPem" },
] as const;

interface Host {
    name: string;
    ip: string;
    rig: RigHost;
    fs: HostFs;
    sshd: SshdInfo;
}

type Expected = Record<string, string>; // file name → sha256 hex

const sha = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

// ---------------------------------------------------------------------------------- processes

type Run = CliRun;

/** Runs a command (killed by PID on interruption, or after `timeoutMs`, default 10 min), timing it from spawn to exit. */
function run(cleanup: Cleanup, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
    return runTimed(cleanup, cmd, args, { ...opts, timeoutMs: opts.timeoutMs ?? 10 * 60 * 1000, label: path.basename(cmd) });
}

async function must(cleanup: Cleanup, what: string, cmd: string, args: string[], opts: Parameters<typeof run>[3] = {}): Promise<Run> {
    const r = await run(cleanup, cmd, args, opts);
    if (r.code !== 0) throw new Error(`${what} exited with ${r.code}:\n${r.output.slice(-3000)}`);
    return r;
}

// ---------------------------------------------------------------------------------- the hosts

/** N bare isolated hosts: namespaces, overlays, /etc/elasticsearch (root:esrig 2750), sshd, the admin user with passwordless sudo. */
async function startHosts(cleanup: Cleanup, n: number, keyLine: string): Promise<Host[]> {
    requireRootForHosts();
    requireIsolationSupport();
    const es = ensureEsUser()!;
    const net = createNetwork();
    cleanup.add(`remove rig network ${net.bridge}`, () => destroyNetwork(net));
    const [adminId] = freeIds(1);
    const hosts: Host[] = [];
    for (let i = 0; i < n; i++) {
        const rig = addHost(net, `dlv-${i}`);
        cleanup.add(`remove namespace ${rig.namespace}`, () => removeHost(net, rig));
        const h = prepareHostFs(rig.namespace, [{ name: ADMIN, id: adminId, sudo: "nopasswd" }], { persistent: false });
        cleanup.add(`remove host file system ${h.hostDir}`, () => removeHostFs(h));
        // As Debian's package: /etc/elasticsearch root:elasticsearch 2750 (the certs folder is made by reset()).
        mkdirUpper(h, "/etc/elasticsearch", 0o2750, { uid: 0, gid: es.gid });
        mountHostFs(h, { persistent: false });
        hosts.push({ name: `node-${i}`, ip: rig.ip, rig, fs: h, sshd: undefined as unknown as SshdInfo });
    }
    await Promise.all(hosts.map(async (h) => {
        h.sshd = await startHostSshd(h.fs, { address: h.ip, authorizedKeys: { [ADMIN]: [keyLine] }, persistent: false });
        cleanup.add(`stop sshd of ${h.name} (pid ${h.sshd.pid})`, () => h.sshd.stop());
    }));
    return hosts;
}

/** Empties every host's certificate folder (through nsenter, not SSH): the same start for every method. */
async function reset(hosts: Host[]): Promise<void> {
    await Promise.all(hosts.map((h) => runInHost(h.fs, ["sh", "-ec",
        `rm -rf ${CERT_DIR} /home/${ADMIN}/.ansible /home/${ADMIN}/.dlv-stage-*; install -d -m 2750 -o root -g ${ES_USER} ${CERT_DIR}`])));
}

/** "Accepted publickey" lines in a host's sshd log so far. */
function accepted(h: Host): number {
    try {
        return (fs.readFileSync(h.sshd.logFile, "utf8").match(/Accepted publickey/g) ?? []).length;
    } catch {
        return 0;
    }
}
const acceptedAll = (hosts: Host[]) => hosts.reduce((s, h) => s + accepted(h), 0);

/**
 * Reads every host's certificate folder through the rig's root prefix and compares it with what
 * should be there; returns the number of hosts that are right and the first problem.
 */
async function verify(hosts: Host[], expected: (h: Host) => Expected | undefined): Promise<{ ok: number; problem?: string }> {
    let ok = 0;
    let problem: string | undefined;
    await Promise.all(hosts.map(async (h) => {
        const out = await runInHost(h.fs, ["sh", "-c", `cd ${CERT_DIR} && for f in * .[!.]*; do [ -e "$f" ] || continue; printf '%s %s ' "$f" "$(stat -c '%a %U %G' "$f")"; sha256sum < "$f" | cut -d' ' -f1; done`]);
        const seen = new Map(out.trim().split("\n").filter(Boolean).map((l) => {
            const [name, mode, user, group, hash] = l.trim().split(/\s+/);
            return [name, { mode, user, group, hash }] as const;
        }));
        const want = expected(h);
        const issues: string[] = [];
        if (!want) {
            // After destroy: nothing the delivery wrote may be left.
            if (seen.size) issues.push(`left: ${[...seen.keys()].join(", ")}`);
        } else {
            for (const f of FILES) {
                const s = seen.get(f.name);
                if (!s) issues.push(`${f.name} missing`);
                else if (s.hash !== want[f.name]) issues.push(`${f.name} has other content`);
                else if (s.mode !== f.mode || s.user !== "root" || s.group !== ES_USER) issues.push(`${f.name} is ${s.mode} ${s.user}:${s.group}, not ${f.mode} root:${ES_USER}`);
            }
        }
        if (issues.length) problem ??= `${h.name}: ${issues.join("; ")}`;
        else ok++;
    }));
    return { ok, problem };
}

// ---------------------------------------------------------------------------------- the methods

const pulumiProgram = (hosts: Host[], keyFile: string, deliver: boolean) => `
const pulumi = require("@pulumi/pulumi");
const crypto = require("crypto");
const fs = require("fs");
const { SharedCa, NodeCertificate } = require("pulumi-es-remote");
const hosts = ${JSON.stringify(hosts.map((h) => ({ name: h.name, ip: h.ip, hostKey: h.sshd.hostKeyLine })))};
const privateKey = pulumi.secret(fs.readFileSync(${JSON.stringify(keyFile)}, "utf8"));
const sha = (s) => crypto.createHash("sha256").update(s).digest("hex");
const ca = new SharedCa("ca", { commonName: "bench delivery CA" });
exports.files = {};
for (const h of hosts) {
    const c = new NodeCertificate(h.name, {
        caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: h.name, dnsNames: [h.name], ipAddresses: [h.ip],
        ${deliver ? `delivery: { directory: ${JSON.stringify(CERT_DIR)}, access: { ssh: { host: h.ip, user: ${JSON.stringify(ADMIN)}, privateKey, hostKey: h.hostKey }, sudo: true } },` : ""}
    });
    exports.files[h.name] = pulumi.all([c.certPem, c.keyPem, c.caPem]).apply(([cert, key, caPem]) =>
        ({ "transport.crt": sha(cert), "transport.key": sha(key), "transport-ca.crt": sha(caPem) }));
}
`;

/** OpenSSH client config: the admin key only, pinned host keys, no prompts, no multiplexing. */
function writeSshConfig(dir: string, hosts: Host[], keyFile: string): { config: string; knownHosts: string } {
    const knownHosts = path.join(dir, "known_hosts");
    fs.writeFileSync(knownHosts, hosts.map((h) => `${h.ip} ${h.sshd.hostKeyLine}\n`).join(""), { mode: 0o600 });
    const config = path.join(dir, "ssh_config");
    fs.writeFileSync(config, [
        "Host *",
        `    User ${ADMIN}`,
        `    IdentityFile ${keyFile}`,
        "    IdentitiesOnly yes",
        `    UserKnownHostsFile ${knownHosts}`,
        "    GlobalKnownHostsFile /dev/null",
        "    StrictHostKeyChecking yes",
        "    BatchMode yes",
        "    ConnectTimeout 10",
        "    ControlMaster no",
        "    ControlPath none",
        "    LogLevel ERROR",
        "",
    ].join("\n"), { mode: 0o600 });
    return { config, knownHosts };
}

/** The bash loop: per host `scp -r` of its folder to a staging folder, then one ssh with two `sudo -n install`. */
function shellScript(hosts: Host[], filesDir: string, sshConfig: string, parallel: boolean): string {
    const stage = `.dlv-stage-${process.pid}`;
    const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const remote = [
        `sudo -n install -m 0644 -o root -g ${ES_USER} ${stage}/transport.crt ${stage}/transport-ca.crt ${CERT_DIR}/`,
        `sudo -n install -m 0640 -o root -g ${ES_USER} ${stage}/transport.key ${CERT_DIR}/`,
        `rm -rf ${stage}`,
    ].join(" && ");
    return [
        "set -eu",
        `one() {`,
        `    scp -O -q -F ${q(sshConfig)} -r ${q(filesDir)}/"$1" ${ADMIN}@"$2":${stage}`,
        `    ssh -F ${q(sshConfig)} ${ADMIN}@"$2" ${q(remote)}`,
        `}`,
        ...(parallel
            ? [
                "pids=''",
                ...hosts.map((h) => `one ${h.name} ${h.ip} & pids="$pids $!"`),
                "rc=0",
                "for p in $pids; do wait $p || rc=1; done",
                "exit $rc",
            ]
            : hosts.map((h) => `one ${h.name} ${h.ip}`)),
        "",
    ].join("\n");
}

/** ansible-core in its cached venv (installed from PyPI on first use). */
async function ensureAnsible(cleanup: Cleanup): Promise<string> {
    const bin = path.join(ANSIBLE_VENV, "bin", "ansible-playbook");
    if (fs.existsSync(path.join(ANSIBLE_VENV, ".installed"))) return bin;
    progress(`installing ansible-core ${ANSIBLE_VERSION} into ${ANSIBLE_VENV}`);
    fs.rmSync(ANSIBLE_VENV, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(ANSIBLE_VENV), { recursive: true });
    // A venv cannot be moved (its scripts name their interpreter by path): built in place, marked when complete.
    await must(cleanup, "python3 -m venv", "python3", ["-m", "venv", ANSIBLE_VENV]);
    await must(cleanup, "pip install ansible-core", path.join(ANSIBLE_VENV, "bin", "pip"), ["install", "-q", "--disable-pip-version-check", `ansible-core==${ANSIBLE_VERSION}`]);
    fs.writeFileSync(path.join(ANSIBLE_VENV, ".installed"), `${ANSIBLE_VERSION}\n`);
    return bin;
}

interface AnsibleSetup {
    bin: string;
    dir: string;
    env: NodeJS.ProcessEnv;
    playbook: string;
    inventory: (n: number) => string;
}

function ansibleSetup(bin: string, dir: string, hosts: Host[], keyFile: string, knownHosts: string, filesDir: string): AnsibleSetup {
    const cfg = path.join(dir, "ansible.cfg");
    fs.writeFileSync(cfg, [
        "[defaults]",
        "host_key_checking = True",
        "retry_files_enabled = False",
        `local_tmp = ${path.join(dir, "local-tmp")}`,
        "[ssh_connection]",
        // The rig's sshd has no sftp subsystem: the legacy scp protocol, as the bash loop uses
        // (Ansible's default "smart" would try sftp first and fall back on every file).
        "transfer_method = scp",
        "scp_extra_args = -O",
        "",
    ].join("\n"));
    const playbook = path.join(dir, "deliver.yml");
    fs.writeFileSync(playbook, [
        "- hosts: nodes",
        "  gather_facts: false",
        "  become: true",
        "  tasks:",
        "    - name: node certificate files",
        "      ansible.builtin.copy:",
        `        src: "${filesDir}/{{ inventory_hostname }}/{{ item.name }}"`,
        `        dest: "${CERT_DIR}/{{ item.name }}"`,
        "        owner: root",
        `        group: ${ES_USER}`,
        '        mode: "{{ item.mode }}"',
        "      loop:",
        ...FILES.map((f) => `        - { name: ${f.name}, mode: "0${f.mode}" }`),
        "",
    ].join("\n"));
    const inventory = (n: number) => {
        const file = path.join(dir, `inventory-${n}.ini`);
        fs.writeFileSync(file, [
            "[nodes]",
            ...hosts.slice(0, n).map((h) => `${h.name} ansible_host=${h.ip}`),
            "[nodes:vars]",
            `ansible_user=${ADMIN}`,
            `ansible_ssh_private_key_file=${keyFile}`,
            `ansible_ssh_common_args='-o UserKnownHostsFile=${knownHosts} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'`,
            "",
        ].join("\n"));
        return file;
    };
    const env = { ...process.env, ANSIBLE_CONFIG: cfg, ANSIBLE_HOME: path.join(dir, "home"), ANSIBLE_NOCOLOR: "1", ANSIBLE_FORCE_COLOR: "0" };
    return { bin, dir, env, playbook, inventory };
}

/**
 * Ends the SSH masters Ansible left (ControlPersist=60s keeps them for a minute, and the next run
 * would reuse them): `ssh -O exit` per socket of the run's control-path folder, then any process
 * still naming that folder (ours: the folder is this run's own), by PID.
 */
async function stopControlMasters(cleanup: Cleanup, cpDir: string): Promise<void> {
    if (!fs.existsSync(cpDir)) return;
    for (const s of fs.readdirSync(cpDir)) {
        await run(cleanup, "ssh", ["-O", "exit", "-o", `ControlPath=${path.join(cpDir, s)}`, "x"], { timeoutMs: 10000 });
    }
    for (const e of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(e)) continue;
        try {
            if (fs.readFileSync(`/proc/${e}/cmdline`, "utf8").includes(cpDir)) process.kill(Number(e), "SIGTERM");
        } catch {
            // gone
        }
    }
    fs.rmSync(cpDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------- the bench

interface Row {
    ms: number[];
    conns: number[];
    ok: number[];
    problems: string[];
    loads: string[];
}
const newRow = (): Row => ({ ms: [], conns: [], ok: [], problems: [], loads: [] });

const METHODS = [
    "pulumi up",
    "pulumi destroy",
    "pulumi up, no delivery (reference)",
    "pulumi destroy, no delivery (reference)",
    "bash loop, one host after another",
    "bash loop, all hosts at once",
    "ansible copy, forks 5",
    "ansible copy, forks N",
    "ansible copy, forks N, ControlMaster=no",
] as const;
type Method = (typeof METHODS)[number];

/** Runs the delivery benchmark for each host count and returns the markdown section. */
export async function benchDelivery(cleanup: Cleanup, counts: number[], runs: number): Promise<string> {
    const max = Math.max(...counts);
    const dir = cleanup.tempDir("delivery");
    fs.chmodSync(dir, 0o700);
    const key = generateClientKey(path.join(dir, "keys"), { comment: "pulumi-es-remote-bench" });
    const ansibleBin = await ensureAnsible(cleanup);
    const ansibleVersion = (await must(cleanup, "ansible-playbook --version", ansibleBin, ["--version"])).output.split("\n")[0].trim();
    const sshVersion = (await run(cleanup, "ssh", ["-V"])).output.trim();

    progress(`delivery: starting ${max} isolated hosts (sshd, no Elasticsearch)`);
    const t0 = Date.now();
    const hosts = await startHosts(cleanup, max, key.publicKeyLine);
    progress(`delivery: ${max} hosts up in ${secs(Date.now() - t0)} s (load ${loadavg()})`);

    // One certificate per host for the shell loop and Ansible (the stack issues its own).
    const ca = await generateCa({ commonName: "bench delivery CA (files)" });
    const filesDir = path.join(dir, "files");
    const expectedFiles = new Map<string, Expected>();
    for (const h of hosts) {
        const c: IssuedNodeCert = await issueNodeCertificate(ca, { commonName: h.name, dnsNames: [h.name], ipAddresses: [h.ip] });
        const d = path.join(filesDir, h.name);
        fs.mkdirSync(d, { recursive: true, mode: 0o700 });
        const exp: Expected = {};
        for (const f of FILES) {
            fs.writeFileSync(path.join(d, f.name), c[f.pem], { mode: f.name.endsWith(".key") ? 0o600 : 0o644 });
            exp[f.name] = sha(c[f.pem]);
        }
        expectedFiles.set(h.name, exp);
    }
    const { config: sshConfig, knownHosts } = writeSshConfig(dir, hosts, key.file);
    fs.mkdirSync(path.join(dir, "ansible"), { recursive: true, mode: 0o700 });
    const ansible = ansibleSetup(ansibleBin, path.join(dir, "ansible"), hosts, key.file, knownHosts, filesDir);

    const figs = new Map<number, Map<Method, Row>>();
    let cpNo = 0;
    for (const n of counts) {
        const sub = hosts.slice(0, n);
        const rows = new Map<Method, Row>(METHODS.map((m) => [m, newRow()]));
        figs.set(n, rows);
        const deliver = await benchProject(cleanup, `delivery-${n}`, pulumiProgram(sub, key.file, true));
        const plain = await benchProject(cleanup, `nodelivery-${n}`, pulumiProgram(sub, key.file, false));
        const inventory = ansible.inventory(n);
        const script = (parallel: boolean) => {
            const f = path.join(dir, `deliver-${n}-${parallel ? "parallel" : "serial"}.sh`);
            fs.writeFileSync(f, shellScript(sub, filesDir, sshConfig, parallel));
            return f;
        };
        const serial = script(false);
        const parallel = script(true);

        /** One timed step: the connections it opened (sshd logs), its wall time, then the check of every host. */
        const step = async (m: Method, body: () => Promise<number>, expected: ((h: Host) => Expected | undefined) | "none") => {
            const row = rows.get(m)!;
            row.loads.push(loadavg());
            const before = acceptedAll(sub);
            const ms = await body();
            row.ms.push(ms);
            row.conns.push(acceptedAll(sub) - before);
            if (expected !== "none") {
                const v = await verify(sub, expected);
                row.ok.push(v.ok);
                if (v.problem) row.problems.push(v.problem);
            }
        };
        const pulumiFiles = async (p: BenchProject) => {
            const out = await cli(cleanup, p.ws, ["stack", "output", "--json", "--show-secrets", "files"]);
            return JSON.parse(out.output.slice(out.output.indexOf("{"))) as Record<string, Expected>;
        };
        const ansibleRun = async (forks: number, multiplex = true) => {
            const cpDir = path.join(ansible.dir, `cp-${cpNo++}`);
            fs.mkdirSync(cpDir, { recursive: true, mode: 0o700 });
            // Without ControlPersist every ssh/scp Ansible runs is a connection of its own (as with paramiko or an ssh_args override).
            const noMux = multiplex ? {} : { ANSIBLE_SSH_ARGS: "-C -o ControlMaster=no" };
            try {
                const r = await must(cleanup, `ansible-playbook (forks ${forks})`, ansible.bin, ["-i", inventory, "-f", String(forks), ansible.playbook],
                    { env: { ...ansible.env, ANSIBLE_SSH_CONTROL_PATH_DIR: cpDir, ...noMux }, cwd: ansible.dir });
                return r.ms;
            } finally {
                await stopControlMasters(cleanup, cpDir);
            }
        };

        const methods: Array<() => Promise<void>> = [
            async () => {
                await reset(sub);
                let files: Record<string, Expected> = {};
                await step("pulumi up", async () => {
                    const r = await cli(cleanup, deliver.ws, ["up", "--yes"]);
                    files = await pulumiFiles(deliver);
                    return r.ms;
                }, (h) => files[h.name]);
                await step("pulumi destroy", async () => (await cli(cleanup, deliver.ws, ["destroy", "--yes", "--skip-preview"])).ms, () => undefined);
            },
            async () => {
                await reset(sub);
                await step("pulumi up, no delivery (reference)", async () => (await cli(cleanup, plain.ws, ["up", "--yes"])).ms, "none");
                await step("pulumi destroy, no delivery (reference)", async () => (await cli(cleanup, plain.ws, ["destroy", "--yes", "--skip-preview"])).ms, "none");
            },
            async () => {
                await reset(sub);
                await step("bash loop, one host after another", async () => (await must(cleanup, "bash loop", "bash", [serial])).ms, (h) => expectedFiles.get(h.name));
            },
            async () => {
                await reset(sub);
                await step("bash loop, all hosts at once", async () => (await must(cleanup, "bash loop (parallel)", "bash", [parallel])).ms, (h) => expectedFiles.get(h.name));
            },
            async () => {
                await reset(sub);
                await step("ansible copy, forks 5", () => ansibleRun(5), (h) => expectedFiles.get(h.name));
            },
            async () => {
                await reset(sub);
                await step("ansible copy, forks N", () => ansibleRun(n), (h) => expectedFiles.get(h.name));
            },
            async () => {
                await reset(sub);
                await step("ansible copy, forks N, ControlMaster=no", () => ansibleRun(n, false), (h) => expectedFiles.get(h.name));
            },
        ];

        // Untimed warm-up: page cache, Python's bytecode, the CLI's plugins.
        progress(`delivery ${n} hosts: warm-up`);
        await reset(sub);
        await cli(cleanup, deliver.ws, ["up", "--yes"]);
        await cli(cleanup, deliver.ws, ["destroy", "--yes", "--skip-preview"]);
        await reset(sub);
        await ansibleRun(n);

        for (let r = 0; r < runs; r++) {
            // Rotate the order each run: the load drifts and no method should always go first.
            for (let k = 0; k < methods.length; k++) await methods[(k + r) % methods.length]();
            const last = (m: Method) => secs(rows.get(m)!.ms[r]);
            progress(`delivery ${n} hosts run ${r + 1}: pulumi up ${last("pulumi up")} s, destroy ${last("pulumi destroy")} s, bash ${last("bash loop, one host after another")} / ${last("bash loop, all hosts at once")} s, ansible ${last("ansible copy, forks 5")} / ${last("ansible copy, forks N")} / ${last("ansible copy, forks N, ControlMaster=no")} s (load ${loadavg()})`);
        }
        await reset(sub);
    }

    // ------------------------------------------------------------------------------ the tables
    const out: string[] = [];
    out.push(`Three files (node certificate, key, CA) onto each of N isolated rig hosts (own network and mount namespace, own sshd, \`${CERT_DIR}\` root:${ES_USER} 2750, an admin login with passwordless sudo; no Elasticsearch), ${runs} run(s) per figure, median (min–max) seconds of wall time. ` +
        `Clients: the provider's ssh2 pool; ${sshVersion}; ${ansibleVersion}. Every host's folder is emptied before each method; "hosts verified" counts, over all runs, the hosts whose three files had the expected SHA-256, mode (cert and CA 0644, key 0640) and owner root:${ES_USER} afterwards (after destroy: an empty folder). ` +
        "\"SSH connections\": `Accepted publickey` lines the run added to all hosts' sshd logs (median over runs).");
    out.push("");
    const body: Array<Array<string | number>> = [];
    for (const [n, rows] of figs) {
        for (const m of METHODS) {
            const r = rows.get(m)!;
            const verified = r.ok.length ? `${r.ok.reduce((a, b) => a + b, 0)} / ${n * r.ok.length}` : "–";
            body.push([n, m, spread(r.ms), `${(median(r.ms) / n).toFixed(0)}`, median(r.conns), (median(r.conns) / n).toFixed(1), verified, r.loads.join("; ")]);
        }
    }
    out.push(table(["N hosts", "method", "wall s", "ms per host", "SSH connections", "per host", "hosts verified", "load average before"], body));
    const problems = [...figs.entries()].flatMap(([n, rows]) => METHODS.flatMap((m) => rows.get(m)!.problems.map((p) => `- ${n} hosts, ${m}: ${p}`)));
    if (problems.length) {
        out.push("");
        out.push("Hosts that were not right afterwards:");
        out.push("");
        out.push(...[...new Set(problems)].slice(0, 20));
    }
    if (counts.length >= 2) {
        const [a, b] = [Math.min(...counts), Math.max(...counts)];
        const per = (m: Method, f: (r: Row) => number[]) => (median(f(figs.get(b)!.get(m)!)) - median(f(figs.get(a)!.get(m)!))) / (b - a);
        out.push("");
        out.push(`Growth per extra host, from ${a} to ${b} hosts (medians):`);
        out.push("");
        out.push(table(["method", "ms per extra host", "SSH connections per extra host"], METHODS.map((m) => [m, per(m, (r) => r.ms).toFixed(0), per(m, (r) => r.conns).toFixed(2)])));
    }
    return out.join("\n");
}

/** The most isolated hosts `--hosts` accepts (each is an sshd and six overlays: a few MB). */
export const MAX_HOSTS = 40;
