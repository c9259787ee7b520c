/**
 * Prepares a machine for the tests and the demo: the three Elasticsearch distributions, the Pulumi
 * CLI (each cached by version outside the repository), HAProxy for the rig's proxy, and OpenSSH's
 * server and sudo for isolated hosts (Debian's packages, installed with apt-get when missing and run
 * as root). Prints what it did and how long it took, so cold and warm runs can be compared.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import { ensureDistribution, ES_VERSIONS, findJavaHome } from "./elasticsearch";
import { ensureHaproxy } from "./proxy";
import { pulumiBinDir } from "./pulumi";

function timed<T>(what: string, fn: () => T): T {
    const t0 = Date.now();
    const r = fn();
    console.log(`[setup] ${what}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return r;
}

const POLICY_RC_D = "/usr/sbin/policy-rc.d";

function missingPackages(names: string[]): string[] {
    return names.filter((n) => !/^install ok installed$/.test(spawnSync("dpkg-query", ["-W", "-f=${Status}", n], { encoding: "utf8" }).stdout ?? ""));
}

/**
 * Installs Debian's openssh-server and sudo when missing (isolated hosts run their own sshd and
 * sudo; the rig never uses the host's ssh service). The package's service must not start: apt runs
 * under a policy-rc.d that forbids it (exit 101) — the one already there if there is one, else one
 * made for the install and removed after it.
 */
export function ensureSshServerPackages(log: (m: string) => void = console.log): string {
    const wanted = ["openssh-server", "sudo"];
    const missing = missingPackages(wanted);
    if (!missing.length) return "already installed";
    if (!process.getuid || process.getuid() !== 0) {
        throw new Error(`${missing.join(" and ")} missing and only root can install them: run 'sudo apt-get install ${missing.join(" ")}' (isolated hosts need them)`);
    }
    const made = !fs.existsSync(POLICY_RC_D);
    if (made) fs.writeFileSync(POLICY_RC_D, "#!/bin/sh\n# made by pulumi-es-remote's rig/setup.ts for one apt-get install: no service starts\nexit 101\n", { mode: 0o755 });
    try {
        log(`installing ${missing.join(" ")} with apt-get (no service started: ${made ? "a temporary" : "the existing"} ${POLICY_RC_D})`);
        const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
        const install = () => spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], { encoding: "utf8", env });
        let r = install();
        if (r.status !== 0) {
            spawnSync("apt-get", ["update", "-q"], { encoding: "utf8", env });
            r = install();
        }
        if (r.status !== 0) throw new Error(`could not install ${missing.join(" ")} with apt-get (exit ${r.status}): ${(r.stderr || r.stdout || "").slice(-1500)}`);
    } finally {
        if (made) fs.rmSync(POLICY_RC_D, { force: true });
    }
    const still = missingPackages(wanted);
    if (still.length) throw new Error(`apt-get finished but ${still.join(" ")} is not installed`);
    return `installed ${missing.join(" ")}`;
}

if (require.main === module) {
    for (const v of Object.values(ES_VERSIONS)) {
        timed(`Elasticsearch ${v} (Java at ${findJavaHome(v)})`, () => ensureDistribution(v));
    }
    timed("Pulumi CLI", () => pulumiBinDir());
    try {
        timed("HAProxy", () => ensureHaproxy((m) => console.log(`[setup] ${m}`)));
    } catch (e) {
        // Only the proxy tests need it; they fail with this same message.
        console.log(`[setup] HAProxy: ${(e as Error).message}`);
    }
    try {
        const what = timed("OpenSSH server and sudo", () => ensureSshServerPackages((m) => console.log(`[setup] ${m}`)));
        console.log(`[setup] OpenSSH server and sudo: ${what}`);
    } catch (e) {
        // Only isolated hosts need them; startTopology fails with a message naming them.
        console.log(`[setup] OpenSSH server and sudo: ${(e as Error).message}`);
    }
}
