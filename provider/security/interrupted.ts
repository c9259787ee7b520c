/**
 * A create of a role or user whose outcome is unknown (a PUT whose connection broke after it was
 * sent, or an undo that failed): what it wrote may be on the cluster. Thrown with `id` and
 * `properties`, which Pulumi's dynamic provider host turns into "created but failed to initialize":
 * the engine records the resource with these properties, runs `update` on it at the next `up`
 * (which writes everything), `read` at `refresh` (which drops it if nothing is there) and `delete`
 * at `destroy`. Without it the next `up` refused the role or user as already existing: no
 * convergence without a repair by hand. Same mechanism as RemoteClusterLink's.
 */
import { OutcomeUnknownError } from "../core/errors";

/** @internal */
export class CreateInterruptedError extends OutcomeUnknownError {
    /** The resource id the engine records. */
    readonly id: string;
    /** The properties the engine records (never a password: see the user hooks). */
    readonly properties: Record<string, unknown>;
    /** What the host prints as the reasons of the failed initialization. */
    readonly reasons: string[];
    constructor(message: string, id: string, properties: Record<string, unknown>, details: Record<string, unknown>, cause?: unknown) {
        super(message, details, cause === undefined ? undefined : { cause });
        this.name = "CreateInterruptedError";
        this.id = id;
        this.properties = properties;
        this.reasons = [message];
    }
}

/** The text appended to an interrupted create's message: what the user's next command does. */
export function interruptedAdvice(kind: "role" | "user"): string {
    return `so the stack records the ${kind} as not finished: run 'pulumi up' again once the cluster answers (it writes the ${kind} and finishes it), ` +
        `'pulumi refresh' (it drops the ${kind} if nothing is there), or 'pulumi destroy' (it removes it)`;
}
