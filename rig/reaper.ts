/**
 * The rig's reaper (see rig/lifetime.ts): `node reaper.js <parentPid> <parentStart> <recordFile>`.
 * Detached from the test run; polls until the parent is gone (or the record file is removed), then
 * kills every recorded process group and process and removes the recorded mount namespaces (with
 * whatever still runs inside them), network namespaces, links and folders. It never touches
 * anything that is not in the record.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import { processStart, Registry, releaseMountNamespace } from "./lifetime";

function reap(file: string): void {
    let r: Registry;
    try {
        r = JSON.parse(fs.readFileSync(file, "utf8")) as Registry;
    } catch {
        return;
    }
    for (const p of r.processes) {
        // A group may outlive its leader (the server JVM after its launcher): signal the group
        // whenever the leader is recorded, the PID only when it is still the same process.
        if (p.group) {
            try {
                process.kill(-p.pid, "SIGKILL");
            } catch {
                // group gone
            }
        }
        if (processStart(p.pid) === p.start) {
            try {
                process.kill(p.pid, "SIGKILL");
            } catch {
                // gone
            }
        }
    }
    // Before the network namespaces and folders: a node's mount namespace holds its overlays (whose
    // layers are in a recorded folder) and the processes inside may hold its network namespace.
    for (const file of r.mounts ?? []) {
        releaseMountNamespace(file);
    }
    for (const ns of r.namespaces) {
        spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    }
    for (const link of r.links) {
        spawnSync("ip", ["link", "del", link], { stdio: "ignore" });
    }
    for (const d of r.dirs) {
        fs.rmSync(d, { recursive: true, force: true });
    }
}

function main(): void {
    const [ppidArg, start, file] = process.argv.slice(2);
    const ppid = Number(ppidArg);
    const timer = setInterval(() => {
        if (!fs.existsSync(file)) {
            clearInterval(timer);
            return;
        }
        if (processStart(ppid) !== start) {
            clearInterval(timer);
            // Give the kernel's parent-death signals a moment, then remove whatever is left.
            setTimeout(() => {
                reap(file);
                fs.rmSync(file, { force: true });
            }, 200);
        }
    }, 300);
}

if (require.main === module) {
    main();
}
