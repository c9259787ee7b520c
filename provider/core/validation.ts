/**
 * What every hook's `check` returns when an input is wrong: pure data, no network, so the pure
 * modules (settings, roles, trust) depend on this file and not on the client.
 */

/** @internal A failure of `check`: the engine shows `property` and `reason` to the user. */
export interface CheckFailure {
    property: string;
    reason: string;
}
