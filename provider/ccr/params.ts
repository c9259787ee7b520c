/**
 * The follow tuning parameters Elasticsearch accepts (Elastic's ccr.follow / ccr.put_auto_follow_pattern
 * request bodies), in the inputs' camelCase and Elasticsearch's snake_case, with their kinds for
 * validation. Pure: no network.
 */
import type { CheckFailure } from "../core/validation";

type Kind = "count" | "size" | "time";

/** camelCase input name → [Elasticsearch name, kind, Elasticsearch's default]. */
export const TUNING: Readonly<Record<string, readonly [string, Kind, string]>> = {
    maxReadRequestOperationCount: ["max_read_request_operation_count", "count", "5120"],
    maxOutstandingReadRequests: ["max_outstanding_read_requests", "count", "12"],
    maxReadRequestSize: ["max_read_request_size", "size", "32mb"],
    maxWriteRequestOperationCount: ["max_write_request_operation_count", "count", "5120"],
    maxWriteRequestSize: ["max_write_request_size", "size", "9223372036854775807b"],
    maxOutstandingWriteRequests: ["max_outstanding_write_requests", "count", "9"],
    maxWriteBufferCount: ["max_write_buffer_count", "count", "2147483647"],
    maxWriteBufferSize: ["max_write_buffer_size", "size", "512mb"],
    maxRetryDelay: ["max_retry_delay", "time", "500ms"],
    readPollTimeout: ["read_poll_timeout", "time", "1m"],
};

/** The tuning keys, for loops and `inputs`. */
export const TUNING_KEYS = Object.keys(TUNING);

const SIZE = /^\d+(\.\d+)?(b|kb|mb|gb|tb|pb)$/i;
const TIME = /^\d+(nanos|micros|ms|s|m|h|d)$/;

/** Failures for the tuning inputs of `n` (each naming its property). */
export function validateTuning(n: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    for (const [k, [, kind]] of Object.entries(TUNING)) {
        const v = n[k];
        if (v === undefined || v === null) continue;
        if (kind === "count" && (typeof v !== "number" || !Number.isInteger(v) || v < 1)) {
            f.push({ property: k, reason: `must be a whole number of 1 or more, not ${JSON.stringify(v)}` });
        } else if (kind === "size" && !(typeof v === "string" && SIZE.test(v))) {
            f.push({ property: k, reason: `must be a byte size such as "32mb" or "1gb" (units b, kb, mb, gb, tb, pb), not ${JSON.stringify(v)}` });
        } else if (kind === "time" && !(typeof v === "string" && TIME.test(v))) {
            f.push({ property: k, reason: `must be a time value such as "500ms", "30s" or "1m" (units nanos, micros, ms, s, m, h, d), not ${JSON.stringify(v)}` });
        }
    }
    if (n.settings !== undefined && n.settings !== null && (typeof n.settings !== "object" || Array.isArray(n.settings))) {
        f.push({ property: "settings", reason: "must be an object of index settings, e.g. { \"index.number_of_replicas\": 0 }" });
    }
    return f;
}

/** The tuning inputs set in `n`, in Elasticsearch's names (what a follow or resume body carries). */
export function tuningBody(n: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, [es]] of Object.entries(TUNING)) if (n[k] !== undefined && n[k] !== null) out[es] = n[k];
    return out;
}

/** True if `a` and `b` set the same tuning (and settings). */
export function sameTuning(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
    return JSON.stringify(tuningBody(a)) === JSON.stringify(tuningBody(b)) && JSON.stringify(a.settings ?? {}) === JSON.stringify(b.settings ?? {});
}
