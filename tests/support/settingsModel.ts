/**
 * The unit tests' model of a cluster's settings store and the generators of remote-cluster settings,
 * shared with the integration test that holds the model against a real node (so the model the
 * property tests trust is itself checked, not assumed).
 */
import * as fc from "fast-check";
import { RemoteSettings, SettingsBody } from "../../provider/link/settings";

/**
 * What Elasticsearch keeps after `PUT _cluster/settings {persistent: body}` and shows with
 * `flat_settings=true`: `null` removes a key, scalars come back as strings, lists as arrays.
 */
export function applyToCluster(flat: Record<string, unknown>, body: SettingsBody): Record<string, unknown> {
    const next: Record<string, unknown> = { ...flat };
    for (const [k, v] of Object.entries(body)) {
        if (v === null) {
            delete next[k];
        } else {
            next[k] = Array.isArray(v) ? v.map(String) : String(v);
        }
    }
    return next;
}

export const aliasArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);
export const hostArb = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((h) => `[${h}]`));
/** Hosts on loopback only: what a real node may be told to dial (nothing leaves the machine). */
export const loopbackHostArb = fc.oneof(
    fc.tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map(([a, b, c]) => `127.${a}.${b}.${c}`),
    fc.constant("[::1]"),
    fc.constant("localhost"),
);
export const portArb = fc.integer({ min: 1, max: 65535 });
/** `host:port` addresses with hosts from `host`. */
export function addressArbOf(host: fc.Arbitrary<string>): fc.Arbitrary<string> {
    return fc.tuple(host, portArb).map(([h, p]) => `${h}:${p}`);
}
export const addressArb = addressArbOf(hostArb);
export const unitArb = fc.constantFrom("nanos", "micros", "ms", "s", "m", "h", "d", "S", "H", "D", "MS", "Nanos");
export const durationArb = fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 1_000_000 }), unitArb).map(([n, u]) => `${n}${u}`),
    fc.constant("-1"),
);

/** Every valid combination of a link's settings, sniff or proxy; `host` picks the addresses' hosts. */
export function remoteSettingsArb(host: fc.Arbitrary<string> = hostArb): fc.Arbitrary<RemoteSettings> {
    const address = addressArbOf(host);
    return fc.oneof(
        fc.record(
            {
                mode: fc.constant("sniff" as const),
                seeds: fc.uniqueArray(address, { minLength: 1, maxLength: 5 }),
                nodeConnections: fc.integer({ min: 1, max: 50 }),
                skipUnavailable: fc.boolean(),
                transportCompress: fc.constantFrom("true" as const, "false" as const, "indexing_data" as const),
                transportCompressionScheme: fc.constantFrom("deflate" as const, "lz4" as const),
                transportPingSchedule: durationArb,
            },
            { requiredKeys: ["mode", "seeds"] },
        ),
        fc.record(
            {
                mode: fc.constant("proxy" as const),
                proxyAddress: address,
                proxySocketConnections: fc.integer({ min: 1, max: 100 }),
                serverName: fc.domain(),
                skipUnavailable: fc.boolean(),
                transportCompress: fc.constantFrom("true" as const, "false" as const, "indexing_data" as const),
                transportCompressionScheme: fc.constantFrom("deflate" as const, "lz4" as const),
                transportPingSchedule: durationArb,
            },
            { requiredKeys: ["mode", "proxyAddress"] },
        ),
    );
}
