/**
 * provider/core/steps: write steps with their undo steps. Pure (the steps are closures).
 */
import * as assert from "assert";
import { ClusterUnreachableError, EsRemoteError } from "../../../../provider/core/errors";
import { withUndo } from "../../../../provider/core/steps";

const undone = (err: Error, cleanup: string) => new EsRemoteError(`failed: ${err.message}; ${cleanup}`);
const interrupted = (err: Error, failed: Array<{ what: string }>, cleanup: string) => Object.assign(new EsRemoteError(`interrupted: ${err.message}; ${cleanup}`), { failedSteps: failed.map((f) => f.what) });

describe("provider/core/steps: withUndo", () => {
    it("a failure before any write passes as it is; nothing is undone", async () => {
        const boom = new Error("refused");
        await assert.rejects(withUndo(async () => { throw boom; }, { undone, interrupted }), (e) => e === boom);
    });

    it("a failure after writes undoes them newest first, then says what was taken back", async () => {
        const log: string[] = [];
        await assert.rejects(withUndo(async (w) => {
            await w.step("a", async () => void log.push("do a"), async () => void log.push("undo a"), { undoneText: "a was taken back" });
            await w.step("b", async () => void log.push("do b"), async () => void log.push("undo b"), { undoneText: "b was taken back" });
            throw new Error("wait failed");
        }, { undone, interrupted }), /^EsRemoteError: failed: wait failed; a was taken back, b was taken back$/);
        assert.deepStrictEqual(log, ["do a", "do b", "undo b", "undo a"]);
    });

    it("an undo that fails runs the others and turns the failure into the recorded error, naming the step", async () => {
        const log: string[] = [];
        await assert.rejects(withUndo(async (w) => {
            await w.step("add the credential", async () => undefined, async () => void log.push("undo credential"), { undoneText: "the credential was removed" });
            await w.step("write the settings", async () => undefined, async () => { throw new Error("cluster down"); });
            throw new Error("wait failed");
        }, { undone, interrupted }), (e: any) => {
            assert.deepStrictEqual(e.failedSteps, ["write the settings"]);
            assert.match(e.message, /^interrupted: wait failed; the credential was removed, but taking back what it wrote failed: write the settings \(cluster down\)$/);
            return true;
        });
        assert.deepStrictEqual(log, ["undo credential"]);
    });

    it("a write whose request left (outcome unknown) is undone too; a write refused outright is not", async () => {
        const log: string[] = [];
        const unknown = new ClusterUnreachableError("connection reset after the request was sent", { outcomeUnknown: true });
        await assert.rejects(withUndo(async (w) => {
            await w.step("write", async () => { throw unknown; }, async () => void log.push("undo write"));
        }, { undone, interrupted }), /^EsRemoteError: failed: connection reset/);
        assert.deepStrictEqual(log, ["undo write"]);
        await assert.rejects(withUndo(async (w) => {
            await w.step("write", async () => { throw new ClusterUnreachableError("refused"); }, async () => void log.push("undo refused"));
        }, { undone, interrupted }), /^ClusterUnreachableError: refused$/);
        assert.deepStrictEqual(log, ["undo write"]);
    });

    it("a step that cleans up after itself says so (undoIfFailed), and passThrough errors are thrown untouched", async () => {
        const log: string[] = [];
        const clean = Object.assign(new Error("keystores clean"), { clean: true });
        await assert.rejects(withUndo(async (w) => {
            await w.step("a", async () => undefined, async () => void log.push("undo a"));
            await w.step("b", async () => { throw clean; }, async () => void log.push("undo b"), { undoIfFailed: (e) => !(e as { clean?: boolean }).clean });
        }, { undone, interrupted }), /failed: keystores clean/);
        assert.deepStrictEqual(log, ["undo a"]);
        const recorded = new Error("already recorded");
        await assert.rejects(withUndo(async (w) => {
            await w.step("a", async () => undefined, async () => void log.push("undo a again"));
            throw recorded;
        }, { undone, interrupted, passThrough: (e) => e === recorded }), (e) => e === recorded);
        assert.deepStrictEqual(log, ["undo a"]);
    });
});
