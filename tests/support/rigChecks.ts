/** What the rig's own suites check about the machine: processes, namespaces, a condition within a bound. */
import * as assert from "assert";
import { spawnSync } from "child_process";

/** True while `pid` runs (`undefined`: never started, so not running). */
export function alive(pid: number | undefined): boolean {
    if (!pid) return false;
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 500 ms until it is true; fails naming `what` after `seconds`. */
export async function eventually(what: string, fn: () => boolean | Promise<boolean>, seconds: number): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    while (!(await fn())) {
        if (Date.now() > deadline) assert.fail(`not within ${seconds}s: ${what}`);
        await sleep(500);
    }
}

/** The network namespaces on this machine (`ip netns list`). */
export function namespaces(): string[] {
    return spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
}
