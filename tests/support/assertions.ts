/** Small assertions shared by suites. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { nodeClient, TopologyInfo } from "../../rig/topology";

/** The error `p` rejects with; fails the test if it resolves. */
export async function errorOf(p: Promise<unknown>): Promise<any> {
    try {
        await p;
    } catch (e) {
        return e;
    }
    assert.fail("expected a failure");
}

/** Every file under `dir` whose bytes contain one of `needles` (a credential, or its secret half). */
export function filesContaining(dir: string, needles: string[]): string[] {
    const hits: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.isFile()) {
                const b = fs.readFileSync(p);
                if (needles.some((n) => b.includes(n))) hits.push(p);
            }
        }
    };
    walk(dir);
    return hits;
}

/** Runs `fn` and returns what it logged through pulumi.log.warn (outside the engine: console.warn). */
export async function warningsOf(fn: () => Promise<unknown>): Promise<string[]> {
    const seen: string[] = [];
    const original = console.warn;
    console.warn = (...args: unknown[]) => void seen.push(args.map(String).join(" "));
    try {
        await fn();
    } finally {
        console.warn = original;
    }
    return seen;
}

/** Waits (bounded, 300 s) for green with every node of `t`, and asserts it. */
export async function assertGreen(t: TopologyInfo): Promise<void> {
    const c = nodeClient(t, 0);
    const deadline = Date.now() + 300_000;
    try {
        for (;;) {
            const h = await c.cluster.health({ wait_for_status: "green", wait_for_nodes: String(t.nodes.length), timeout: "20s" });
            if (!h.timed_out || Date.now() > deadline) {
                assert.deepStrictEqual([h.status, h.number_of_nodes], ["green", t.nodes.length], `${t.name} health`);
                return;
            }
        }
    } finally {
        await c.close();
    }
}
