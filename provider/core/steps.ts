/**
 * Write steps paired with their undo steps, for hooks that change a cluster in several writes (a
 * keystore entry, then settings, then a wait): every write that succeeded — or whose request left
 * and whose outcome is unknown — is taken back in reverse order when anything after it fails, and a
 * failure of that undo is turned into a recorded, resumable state instead of an orphan the state
 * does not know (Pulumi's native providers return partial state with an init error; ours is
 * {@link CreateInterruptedError}, whose `id` and `properties` the engine records).
 *
 * ```ts
 * return withUndo(async (w) => {
 *     await w.step("add the credential", () => add(), () => remove());
 *     await w.step("write the settings", () => put(body), () => put(clear));
 *     await verify(); // a throw here undoes both steps
 *     return outs;
 * }, { undone: (err, cleanup) => new EsRemoteError(`… failed: ${err.message}; ${cleanup}`), interrupted: (err, failed) => new CreateInterruptedError(…) });
 * ```
 */

/** Whether the error says the request left and the cluster may have applied it. */
export function outcomeUnknown(e: unknown): boolean {
    return (e as { details?: { outcomeUnknown?: unknown } } | undefined)?.details?.outcomeUnknown === true;
}

/** An undo step that failed, and why. */
export interface FailedUndo {
    what: string;
    error: Error;
}

/** What {@link withUndo} does when the body fails after a write. */
export interface UndoHandlers {
    /**
     * Every write was taken back: the error to throw. `cleanup` is a sentence part saying so
     * (the `undoneText` of the steps, joined), for messages such as "…; <cleanup>".
     */
    undone: (err: Error, cleanup: string) => Error;
    /** An undo step failed: the error to throw (a recorded state, e.g. CreateInterruptedError). */
    interrupted: (err: Error, failed: FailedUndo[], cleanup: string) => Error;
    /** Errors thrown as they are, never undone (e.g. a state already recorded by a nested step). Default: none. */
    passThrough?: (err: unknown) => boolean;
}

/** Options of one {@link Writes.step}. */
export interface StepOptions {
    /** What the message says once this step is undone, e.g. "the settings it wrote were removed". */
    undoneText?: string;
    /**
     * Whether a failed write still needs its undo. Default: only when its outcome is unknown
     * ({@link outcomeUnknown}); a write that cleans up after itself says false.
     */
    undoIfFailed?: (err: unknown) => boolean;
}

interface Done {
    what: string;
    undo: () => Promise<void>;
    undoneText?: string;
}

/** The writes made so far in one {@link withUndo} body. */
export class Writes {
    private readonly done: Done[] = [];

    /** True once a write succeeded (or may have). */
    get any(): boolean {
        return this.done.length > 0;
    }

    /** What has been written so far, in order. */
    get steps(): string[] {
        return this.done.map((d) => d.what);
    }

    /** Runs `write`; from then on a failure of the body runs `undo` (newest first). */
    async step<T>(what: string, write: () => Promise<T>, undo: () => Promise<void>, opts: StepOptions = {}): Promise<T> {
        try {
            const r = await write();
            this.done.push({ what, undo, undoneText: opts.undoneText });
            return r;
        } catch (e) {
            if ((opts.undoIfFailed ?? outcomeUnknown)(e)) this.done.push({ what, undo, undoneText: opts.undoneText });
            throw e;
        }
    }

    /** Forgets every undo step (the writes are final, e.g. once they are verified). */
    commit(): void {
        this.done.length = 0;
    }

    /** Runs every undo step, newest first, each even if an earlier one failed. */
    async undoAll(): Promise<{ undone: string[]; failed: FailedUndo[] }> {
        const undone: string[] = [];
        const failed: FailedUndo[] = [];
        for (const d of [...this.done].reverse()) {
            try {
                await d.undo();
                undone.push(d.undoneText ?? `${d.what}: undone`);
            } catch (e) {
                failed.push({ what: d.what, error: e instanceof Error ? e : new Error(String(e)) });
            }
        }
        this.done.length = 0;
        return { undone: undone.reverse(), failed };
    }
}

/**
 * Runs `body` with a {@link Writes} log. If it throws before any write, the error passes as it is.
 * After a write: every undo runs, then `handlers.undone` (all undone) or `handlers.interrupted`
 * (an undo failed) makes the error that is thrown.
 */
export async function withUndo<T>(body: (w: Writes) => Promise<T>, handlers: UndoHandlers): Promise<T> {
    const w = new Writes();
    try {
        return await body(w);
    } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        if (!w.any || handlers.passThrough?.(e)) throw e;
        const { undone, failed } = await w.undoAll();
        const cleanup = failed.length
            ? `${undone.length ? `${undone.join(", ")}, but ` : ""}taking back what it wrote failed: ${failed.map((f) => `${f.what} (${f.error.message.split("\n")[0]})`).join("; ")}`
            : undone.join(", ");
        throw failed.length ? handlers.interrupted(err, failed, cleanup) : handlers.undone(err, cleanup);
    }
}
