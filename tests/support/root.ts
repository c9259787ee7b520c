/**
 * Tests that need root (files of other users, namespaces, sshd) skip without it — and say why, so a
 * run as another user does not pass for one that ran them. CI runs as root.
 */
import type { Context } from "mocha";

/** True when this process runs as root. */
export const isRoot = process.getuid?.() === 0;

/** Skips the current test (or, in a `before` hook, the suite) unless root, printing `why` it needs it. */
export function skipUnlessRoot(ctx: Context, why: string): void {
    if (isRoot) return;
    // In a test, ctx.test is the test; in a hook, the hook (its title names the suite).
    const title = ctx.currentTest?.fullTitle() ?? ctx.test?.fullTitle() ?? "";
    console.log(`      skipped (not root: ${why}; CI runs as root): ${title}`);
    ctx.skip();
}
