/**
 * What an interrupted create of a role or user tells the user (see CreateInterruptedError in
 * provider/core/errors.ts, the mechanism links use too).
 */
export { CreateInterruptedError } from "../core/errors";

/** The text appended to an interrupted create's message: what the user's next command does. */
export function interruptedAdvice(kind: "role" | "user"): string {
    return `so the stack records the ${kind} as not finished: run 'pulumi up' again once the cluster answers (it writes the ${kind} and finishes it), ` +
        `'pulumi refresh' (it drops the ${kind} if nothing is there), or 'pulumi destroy' (it removes it)`;
}
