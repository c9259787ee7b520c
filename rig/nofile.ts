/**
 * Elasticsearch enforces its bootstrap checks when it binds a non-loopback address (every node of
 * a multi-node `hosts` cluster): one is "max file descriptors ≥ 65535". The rig raises the limit
 * with `prlimit`; where this process may not (no CAP_SYS_RESOURCE, e.g. in a container whose hard
 * limit is lower), it preloads a test-only shim (rig/shim/nofile.c) that makes getrlimit report
 * 65535 — the node then starts; the real limit is unchanged and far above what a test node uses.
 */
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { cacheRoot, repoRoot } from "./paths";

let decided: { prefix: string[]; env: Record<string, string> } | undefined;

/** The command prefix and environment that give a node the file limit of the bootstrap check. */
export function fileLimitForBootstrapChecks(log: (m: string) => void): { prefix: string[]; env: Record<string, string> } {
    if (decided) return decided;
    const raise = ["prlimit", "--nofile=65536:65536", "--"];
    if (spawnSync(raise[0], [...raise.slice(1), "true"]).status === 0) {
        decided = { prefix: raise, env: {} };
        return decided;
    }
    const src = path.join(repoRoot(), "rig", "shim", "nofile.c");
    const hash = crypto.createHash("sha256").update(fs.readFileSync(src)).digest("hex").slice(0, 12);
    const dir = path.join(cacheRoot(), "nofile-shim", hash);
    const so = path.join(dir, "nofile.so");
    if (!fs.existsSync(so)) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
        const tmp = `${so}.${process.pid}.tmp`;
        try {
            execFileSync("cc", ["-shared", "-fPIC", "-O2", "-o", tmp, src, "-ldl"], { stdio: "pipe" });
        } catch (e) {
            throw new Error(`this process may not raise the open-files limit to 65535 (Elasticsearch's bootstrap check on non-loopback addresses) and the fallback shim did not compile (is a C compiler installed? apt-get install gcc): ${(e as Error).message}`);
        }
        fs.chmodSync(tmp, 0o755);
        fs.renameSync(tmp, so);
        spawnSync("chmod", ["a+rx", path.join(cacheRoot(), "nofile-shim"), dir]);
    }
    log(`prlimit may not raise the open-files limit here (no CAP_SYS_RESOURCE): nodes get a test-only getrlimit shim (${so})`);
    decided = { prefix: [], env: { LD_PRELOAD: so } };
    return decided;
}
