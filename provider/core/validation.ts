import { InputError } from "./errors";

/**
 * What every hook's `check` returns when an input is wrong: pure data, no network, so the pure
 * modules (settings, roles, trust) depend on this file and not on the client.
 */

/** @internal A failure of `check`: the engine shows `property` and `reason` to the user. */
export interface CheckFailure {
    property: string;
    reason: string;
}

/**
 * Throws the first failure as an {@link InputError}. The engine always runs `check` first; the
 * hooks that write still call this, so they never write on bad input even if check was bypassed.
 * @internal
 */
export function failOnInvalid(failures: CheckFailure[]): void {
    if (failures.length) {
        throw new InputError(failures[0].property, `${failures[0].reason.replace(/[.\s]+$/, "")}. Nothing was written.`);
    }
}

/** The URLs of a connection, for a message (`https://a:9200, https://b:9200`). @internal */
export function urlsOf(c: { urls?: unknown } | undefined): string {
    return (Array.isArray(c?.urls) ? c!.urls : []).map(String).join(", ");
}
