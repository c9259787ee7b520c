/**
 * The `cluster.remote.<alias>.*` settings of one remote cluster: the user's model
 * ({@link RemoteSettings}), its validation, the bodies for `PUT _cluster/settings`
 * (`{ persistent: body }`), and reading them back from `GET _cluster/settings?flat_settings=true`.
 * Pure functions: no network, no Pulumi; nothing here throws.
 *
 * Facts this module relies on (Elasticsearch's remote cluster settings reference and its source):
 * - the alias is the `<alias>` of an affix setting, which Elasticsearch matches with `[-\w]+`:
 *   ASCII letters, digits, `_` and `-` only (anything else is "persistent setting [...] not
 *   recognized");
 * - `mode` is `sniff` (the default) or `proxy`; setting a key of the other mode is rejected, so a
 *   mode switch must null the other mode's keys in the same request;
 * - `seeds`/`proxy_address` are `host:port`, the port after the last `:` (IPv6 as `[::1]:9300`) and > 0;
 * - `node_connections` (default 3) and `proxy_socket_connections` (default 18) are integers ≥ 1;
 * - `server_name` is sent as TLS SNI and must be a valid SNI host name (no IP literal, no port);
 * - `skip_unavailable` is a boolean whose default became `true` in 8.15 (it was `false`);
 * - `transport.compress` is `true`, `indexing_data` or `false`; `transport.compression_scheme`
 *   is `deflate` or `lz4`; both fall back to the node-wide settings when unset;
 * - `transport.ping_schedule` is a time value (`30s`, `5m`; units nanos, micros, ms, s, m, h, d;
 *   no fractions; `-1` disables pings, the node-wide default).
 */
import * as net from "net";
import type { CheckFailure } from "../core/validation";
import { containsUnknown } from "../core/dynamic";

/** How the local cluster connects to the remote one. */
export type RemoteMode = "sniff" | "proxy";

/** Values of `cluster.remote.<alias>.transport.compress`. */
export type TransportCompress = "true" | "false" | "indexing_data";

/** Values of `cluster.remote.<alias>.transport.compression_scheme`. */
export type TransportCompressionScheme = "deflate" | "lz4";

/**
 * The settings of one remote cluster, named like Elastic's `cluster.remote.<alias>.*` settings in
 * camelCase. Plain and unwrapped: what the provider receives after the engine resolved the inputs.
 */
export interface RemoteSettings {
    /** `sniff` (Elasticsearch's default) connects to gateway nodes found through `seeds`; `proxy` opens sockets to one `proxyAddress`. */
    mode: RemoteMode;
    /** Sniff mode: transport addresses (`host:port`, IPv6 as `[::1]:9300`) of remote nodes to discover the cluster from. Excludes `proxyAddress`. */
    seeds?: string[];
    /** Sniff mode: how many gateway nodes to connect to. @default 3 */
    nodeConnections?: number;
    /** Proxy mode: the one `host:port` all connections go to. Excludes `seeds`. */
    proxyAddress?: string;
    /** Proxy mode: how many sockets to open. @default 18 */
    proxySocketConnections?: number;
    /** Proxy mode: the TLS SNI host name sent to the proxy. @default none */
    serverName?: string;
    /** Searches skip this remote when it is unreachable. @default true from Elasticsearch 8.15 on, false before */
    skipUnavailable?: boolean;
    /** Compress requests to this remote. @default the node's `transport.compress` */
    transportCompress?: TransportCompress;
    /** Compression scheme for compressed requests. @default the node's `transport.compression_scheme` */
    transportCompressionScheme?: TransportCompressionScheme;
    /** Interval of application-level pings, e.g. `30s`; `-1` disables them. @default the node's `transport.ping_schedule` (-1) */
    transportPingSchedule?: string;
}

/** A flat `PUT _cluster/settings` body: `{ persistent: body }`. `null` removes a key. */
export type SettingsBody = Record<string, string | number | boolean | string[] | null>;

/** @internal Every property of {@link RemoteSettings} and the setting it writes, in the order bodies and diffs list them. */
export const SETTING_KEYS: ReadonlyArray<readonly [keyof RemoteSettings, string]> = [
    ["mode", "mode"],
    ["seeds", "seeds"],
    ["nodeConnections", "node_connections"],
    ["proxyAddress", "proxy_address"],
    ["proxySocketConnections", "proxy_socket_connections"],
    ["serverName", "server_name"],
    ["skipUnavailable", "skip_unavailable"],
    ["transportCompress", "transport.compress"],
    ["transportCompressionScheme", "transport.compression_scheme"],
    ["transportPingSchedule", "transport.ping_schedule"],
];

/** @internal Properties only sniff mode accepts. */
export const SNIFF_ONLY: ReadonlyArray<keyof RemoteSettings> = ["seeds", "nodeConnections"];
/** @internal Properties only proxy mode accepts. */
export const PROXY_ONLY: ReadonlyArray<keyof RemoteSettings> = ["proxyAddress", "proxySocketConnections", "serverName"];

/** Elasticsearch's defaults that do not depend on the version or on node-wide settings. */
const FIXED_DEFAULTS: Partial<Record<keyof RemoteSettings, unknown>> = { mode: "sniff", nodeConnections: 3, proxySocketConnections: 18 };

const INT_MAX = 2147483647;

// ------------------------------------------------------------------------------- validation

/**
 * Checks the user's arguments of a remote cluster link before anything is created. Each failure
 * names the property in the user's camelCase (`alias`, `seeds[1]`, `proxyAddress`, …) and says what
 * to do. A value not known yet (preview) is not judged; checks that depend on it are skipped.
 * Other properties in `args` (connections, certificates) are left to their own validators.
 */
export function validateRemoteArgs(args: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    const a = args !== null && typeof args === "object" ? args : {};
    const has = (k: string): boolean => a[k] !== undefined && a[k] !== null;
    const unknown = (k: string): boolean => containsUnknown(a[k]);
    const judge = (k: string): boolean => has(k) && !unknown(k);

    if (!unknown("alias")) {
        const problem = aliasProblem(a.alias);
        if (problem) {
            f.push({ property: "alias", reason: problem });
        }
    }

    let mode: RemoteMode | undefined = "sniff";
    if (unknown("mode")) {
        mode = undefined;
    } else if (has("mode") && a.mode !== "sniff" && a.mode !== "proxy") {
        f.push({ property: "mode", reason: `must be "sniff" or "proxy", not ${show(a.mode)}` });
        mode = undefined;
    } else if (has("mode")) {
        mode = a.mode as RemoteMode;
    }

    // A list with some unknown entries is still judged entry by entry.
    if (has("seeds") && (Array.isArray(a.seeds) || !unknown("seeds"))) {
        if (!Array.isArray(a.seeds)) {
            f.push({ property: "seeds", reason: `must be a list of host:port transport addresses, e.g. ["10.0.0.1:9300"], not ${show(a.seeds)}` });
        } else {
            a.seeds.forEach((s, i) => {
                const problem = containsUnknown(s) ? undefined : addressProblem(s);
                if (problem) {
                    f.push({ property: `seeds[${i}]`, reason: problem });
                }
            });
            if (mode === "sniff" && a.seeds.length === 0) {
                f.push({ property: "seeds", reason: 'sniff mode needs at least one seed: the host:port of a remote node\'s transport layer, e.g. ["10.0.0.1:9300"]' });
            }
        }
    }
    if (judge("proxyAddress")) {
        const problem = addressProblem(a.proxyAddress);
        if (problem) {
            f.push({ property: "proxyAddress", reason: problem });
        }
    }

    if (mode === "sniff") {
        if (!has("seeds")) {
            f.push({ property: "seeds", reason: 'sniff mode (the default) needs seeds: the host:port of remote transport nodes, e.g. ["10.0.0.1:9300"]; or set mode: "proxy" with proxyAddress' });
        }
        for (const k of PROXY_ONLY) {
            if (judge(k)) {
                f.push({ property: k, reason: `is a proxy-mode setting and this link is in sniff mode${has("mode") ? "" : " (the default)"}: remove ${k}, or set mode: "proxy"` });
            }
        }
    } else if (mode === "proxy") {
        if (!has("proxyAddress")) {
            f.push({ property: "proxyAddress", reason: 'proxy mode needs proxyAddress: the host:port all connections go to, e.g. "proxy.example.com:9400"' });
        }
        for (const k of SNIFF_ONLY) {
            if (judge(k)) {
                f.push({ property: k, reason: `is a sniff-mode setting and this link is in proxy mode: remove ${k}, or set mode: "sniff"` });
            }
        }
    }

    for (const [k, dflt] of [["nodeConnections", 3], ["proxySocketConnections", 18]] as const) {
        if (judge(k)) {
            const v = a[k];
            if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > INT_MAX) {
                f.push({ property: k, reason: `must be a whole number of connections ≥ 1 (Elasticsearch's default is ${dflt}), not ${show(v)}` });
            }
        }
    }
    if (judge("serverName")) {
        const problem = serverNameProblem(a.serverName);
        if (problem) {
            f.push({ property: "serverName", reason: problem });
        }
    }
    if (judge("skipUnavailable") && typeof a.skipUnavailable !== "boolean") {
        f.push({ property: "skipUnavailable", reason: `must be true or false, not ${show(a.skipUnavailable)}` });
    }
    if (judge("transportCompress") && !["true", "false", "indexing_data"].includes(a.transportCompress as string)) {
        const hint = typeof a.transportCompress === "boolean" ? ` (write it as the string "${a.transportCompress}")` : "";
        f.push({ property: "transportCompress", reason: `must be "true", "indexing_data" or "false", not ${show(a.transportCompress)}${hint}` });
    }
    if (judge("transportCompressionScheme") && !["deflate", "lz4"].includes(a.transportCompressionScheme as string)) {
        f.push({ property: "transportCompressionScheme", reason: `must be "deflate" or "lz4", not ${show(a.transportCompressionScheme)}` });
    }
    if (judge("transportPingSchedule")) {
        const problem = pingScheduleProblem(a.transportPingSchedule);
        if (problem) {
            f.push({ property: "transportPingSchedule", reason: problem });
        }
    }
    return f;
}

/**
 * Why `alias` cannot name a remote cluster, or `undefined` if it can. Elasticsearch reads the alias
 * out of `cluster.remote.<alias>.<setting>` with `[-\w]+`; other characters make the key unknown.
 * @internal
 */
export function aliasProblem(alias: unknown): string | undefined {
    if (alias === undefined || alias === null || alias === "") {
        return "is required: the name the local cluster gives the remote cluster, used in searches as <alias>:<index>, e.g. cluster_two";
    }
    if (typeof alias !== "string") {
        return `must be a string, not ${show(alias)}`;
    }
    const bad = [...new Set(alias.replace(/[A-Za-z0-9_-]/g, ""))];
    if (bad.length > 0) {
        const names = bad.map((c) => (/\s/.test(c) ? "whitespace" : JSON.stringify(c))).join(", ");
        const suggestion = alias.replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "") || "cluster_two";
        return `contains ${names}: Elasticsearch only accepts ASCII letters, digits, '_' and '-' in a remote cluster alias (it is part of the setting name cluster.remote.<alias>.*), e.g. ${JSON.stringify(suggestion)}`;
    }
    return undefined;
}

/**
 * Why `s` is not a `host:port` transport address, or `undefined` if it is. IPv6 goes in brackets.
 * @internal
 */
export function addressProblem(s: unknown): string | undefined {
    if (typeof s !== "string") {
        return `must be a host:port string, e.g. "10.0.0.1:9300", not ${show(s)}`;
    }
    if (s.length === 0) {
        return 'is empty: write the host:port of a transport address, e.g. "10.0.0.1:9300"';
    }
    if (/\s/.test(s)) {
        return `${JSON.stringify(s)} contains whitespace: write host:port without spaces`;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
        return `${JSON.stringify(s)} is a URL: write the transport address as host:port without a scheme, e.g. "${s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/\/.*$/, "")}"`;
    }
    let host: string;
    let port: string;
    const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(s);
    if (v6) {
        if (!net.isIPv6(v6[1])) {
            return `${JSON.stringify(s)}: [${v6[1]}] is not an IPv6 address`;
        }
        if (v6[2] === undefined) {
            return `${JSON.stringify(s)} has no port: write it as [${v6[1]}]:9300 (the transport port, usually 9300)`;
        }
        host = v6[1];
        port = v6[2];
    } else {
        const i = s.lastIndexOf(":");
        if (i < 0) {
            return `${JSON.stringify(s)} has no port: write it as ${s}:9300 (the transport port, usually 9300, not the HTTP port)`;
        }
        host = s.slice(0, i);
        port = s.slice(i + 1);
        if (host.includes(":")) {
            return net.isIPv6(host)
                ? `${JSON.stringify(s)} looks like an IPv6 address: put it in brackets, e.g. [${host}]:${port}`
                : `${JSON.stringify(s)} has more than one ':'; write host:port, and IPv6 addresses in brackets like [::1]:9300`;
        }
        if (host.length === 0) {
            return `${JSON.stringify(s)} has no host before the port`;
        }
        const hostProblem = net.isIPv4(host) ? undefined : hostNameProblem(host, true);
        if (hostProblem) {
            return `${JSON.stringify(s)}: ${hostProblem}`;
        }
    }
    if (!/^\d+$/.test(port)) {
        return `${JSON.stringify(s)}: the port ${JSON.stringify(port)} is not a number; write host:port, e.g. ${host.includes(":") ? `[${host}]` : host}:9300`;
    }
    const n = Number(port);
    if (n < 1 || n > 65535) {
        return `${JSON.stringify(s)}: port ${port} is out of range; a TCP port is 1–65535 (the transport port is usually 9300)`;
    }
    return undefined;
}

/**
 * Why `name` is not a DNS host name, or `undefined`. Labels of letters, digits and `-` (not at
 * either end), at most 63 characters each and 253 in all; `allowUnderscore` accepts `_` too (some
 * internal DNS and container names use it, and Elasticsearch resolves them).
 * @internal
 */
export function hostNameProblem(name: string, allowUnderscore = false): string | undefined {
    if (!/^[\x21-\x7e]+$/.test(name)) {
        return `${JSON.stringify(name)} has non-ASCII characters: write an internationalised name in its xn-- (punycode) form`;
    }
    if (name.length > 253) {
        return `host name is ${name.length} characters long; DNS allows 253`;
    }
    if (/^[\d.]+$/.test(name)) {
        return `${JSON.stringify(name)} is neither an IPv4 address nor a host name`;
    }
    const label = allowUnderscore ? /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/ : /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
    for (const l of name.split(".")) {
        if (l.length === 0) {
            return `${JSON.stringify(name)} has an empty label (two dots in a row, or a dot at either end)`;
        }
        if (l.length > 63) {
            return `the label ${JSON.stringify(l)} is ${l.length} characters long; DNS allows 63`;
        }
        if (!label.test(l)) {
            return `${JSON.stringify(name)} is not a valid host name: labels are letters, digits${allowUnderscore ? ", '_'" : ""} and '-', not starting or ending with '-'`;
        }
    }
    return undefined;
}

/**
 * Why `v` cannot be `server_name`, or `undefined`. TLS SNI (RFC 6066) carries a DNS host name:
 * no IP address, no port, no trailing dot.
 * @internal
 */
export function serverNameProblem(v: unknown): string | undefined {
    if (typeof v !== "string" || v.length === 0) {
        return `must be a host name string (sent as TLS SNI), e.g. "es-remote.example.com", not ${show(v)}`;
    }
    if (net.isIP(v.replace(/^\[|\]$/g, "")) !== 0) {
        return `${JSON.stringify(v)} is an IP address; TLS SNI only carries host names: give the name on the proxy's certificate, or leave serverName out`;
    }
    if (/:\d*$/.test(v)) {
        return `${JSON.stringify(v)} has a port; serverName is only the host name, e.g. "${v.replace(/:\d*$/, "")}" (the port goes in proxyAddress)`;
    }
    if (v.endsWith(".")) {
        return `${JSON.stringify(v)} ends with a dot; TLS SNI host names are written without it: "${v.replace(/\.+$/, "")}"`;
    }
    const problem = hostNameProblem(v, false);
    return problem ? `${problem} (serverName is sent as TLS SNI and must be a valid host name)` : undefined;
}

/**
 * An Elasticsearch time value in nanoseconds (`30s`, `500ms`, `5m`, `2h`, `1d`, `-1`, `0`), or
 * `undefined` if Elasticsearch would reject it. Units are case-insensitive except `m` (`M` is
 * months elsewhere in Elasticsearch); fractions are not accepted.
 * @internal
 */
export function parseTimeValue(v: unknown): bigint | undefined {
    if (typeof v !== "string") {
        return undefined;
    }
    const s = v.trim();
    if (/^-0*1$/.test(s)) {
        return -1n;
    }
    if (/^0+$/.test(s)) {
        return 0n;
    }
    const m = /^(\d+)(nanos|micros|ms|s|m|h|d)$/i.exec(s);
    if (!m || (m[2].toLowerCase() === "m" && m[2] === "M")) {
        return undefined;
    }
    const unit: Record<string, bigint> = {
        nanos: 1n, micros: 1000n, ms: 1000000n, s: 1000000000n, m: 60000000000n, h: 3600000000000n, d: 86400000000000n,
    };
    return BigInt(m[1]) * unit[m[2].toLowerCase()];
}

/** @internal Why `v` cannot be `transport.ping_schedule`, or `undefined`. */
export function pingScheduleProblem(v: unknown): string | undefined {
    const units = "units: nanos, micros, ms, s, m, h, d";
    if (typeof v !== "string") {
        return `must be a time value string such as "30s" or "-1" (no pings), not ${show(v)}`;
    }
    const s = v.trim();
    if (/^\d*\.\d+\s*[a-z]*$/i.test(s)) {
        return `${JSON.stringify(v)}: Elasticsearch does not accept fractional time values; use a smaller unit, e.g. "1500ms" for 1.5s`;
    }
    if (/^\d+M$/.test(s)) {
        return `${JSON.stringify(v)}: minutes are a lowercase m ("${s.slice(0, -1)}m"); M means months elsewhere in Elasticsearch`;
    }
    if (/^\d+$/.test(s) && !/^0+$/.test(s)) {
        return `${JSON.stringify(v)} has no unit: write e.g. "${s}s" (${units})`;
    }
    if (/^-/.test(s) && !/^-0*1$/.test(s)) {
        return `${JSON.stringify(v)} is negative: use "-1" to disable pings, or a positive interval such as "30s"`;
    }
    const ns = parseTimeValue(s);
    if (ns === undefined) {
        return `${JSON.stringify(v)} is not an Elasticsearch time value: write a whole number and a unit, e.g. "30s" or "5m" (${units}), or "-1" to disable pings`;
    }
    if (ns === 0n) {
        return `${JSON.stringify(v)} is zero: use "-1" to disable pings, or a positive interval such as "30s"`;
    }
    return undefined;
}

// ------------------------------------------------------------------------ request bodies

/** The setting name of `prop` for `alias`, e.g. `cluster.remote.cluster_two.node_connections`. */
function key(alias: string, setting: string): string {
    return `cluster.remote.${alias}.${setting}`;
}

/** What `s` wants for `prop`: its value, or `null` when unset or belonging to the other mode. */
function desiredValue(s: RemoteSettings, prop: keyof RemoteSettings): string | number | boolean | string[] | null {
    const mode = s.mode ?? "sniff";
    if ((mode === "sniff" && PROXY_ONLY.includes(prop)) || (mode === "proxy" && SNIFF_ONLY.includes(prop))) {
        return null;
    }
    if (prop === "mode") {
        return mode;
    }
    const v = s[prop];
    return v === undefined || v === null ? null : Array.isArray(v) ? [...v] : v;
}

/**
 * The flat body for `PUT _cluster/settings` (`{ persistent: body }`) that gives `alias` the
 * settings `s`. Without `previous` it names every key this package writes (unset ones as `null`),
 * so leftovers of an earlier configuration go. With `previous` (the settings last written) it only
 * carries what changed: keys the user removed become `null`, and on a switch between sniff and
 * proxy the other mode's keys are `null` in the same body, since Elasticsearch rejects keys of the
 * mode not in use. Unchanged keys stay out: changing `transport.*` reopens the connections.
 */
export function settingsBody(alias: string, s: RemoteSettings, previous?: RemoteSettings): SettingsBody {
    const body: SettingsBody = {};
    const modeChanged = previous !== undefined && (previous.mode ?? "sniff") !== (s.mode ?? "sniff");
    for (const [prop, setting] of SETTING_KEYS) {
        const value = desiredValue(s, prop);
        const modeKey = prop === "mode" || SNIFF_ONLY.includes(prop) || PROXY_ONLY.includes(prop);
        if (previous === undefined || (modeChanged && modeKey) || !sameSetting(prop, value, desiredValue(previous, prop))) {
            body[key(alias, setting)] = value;
        }
    }
    return body;
}

/** The body that removes every key this package can write for `alias` (and touches no other alias). */
export function clearBody(alias: string): Record<string, null> {
    const body: Record<string, null> = {};
    for (const [, setting] of SETTING_KEYS) {
        body[key(alias, setting)] = null;
    }
    return body;
}

// ------------------------------------------------------------------------------ reading back

/**
 * The settings of `alias` from the `persistent` section of `GET _cluster/settings?flat_settings=true`,
 * normalised: `"true"` → `true`, `"3"` → `3`, seeds as an array even when they come as a comma
 * string or as `seeds.0`, `seeds.1` keys. A missing `mode` reads as `sniff` (the default). Keys that
 * are absent stay absent. `undefined` if the alias has no keys at all.
 */
export function readRemoteSettings(alias: string, flatPersistent: Record<string, unknown>): RemoteSettings | undefined {
    const prefix = `cluster.remote.${alias}.`;
    const raw = new Map<string, unknown>();
    const listItems: Array<[number, unknown]> = [];
    for (const [k, v] of Object.entries(flatPersistent ?? {})) {
        if (!k.startsWith(prefix) || v === null || v === undefined) {
            continue;
        }
        const rest = k.slice(prefix.length);
        const item = /^seeds\.(\d+)$/.exec(rest);
        if (item) {
            listItems.push([Number(item[1]), v]);
        } else {
            raw.set(rest, v);
        }
    }
    if (raw.size === 0 && listItems.length === 0) {
        return undefined;
    }
    const out: RemoteSettings = { mode: str(raw.get("mode"))?.toLowerCase() === "proxy" ? "proxy" : "sniff" };
    const seeds = listItems.length > 0 ? listItems.sort((x, y) => x[0] - y[0]).map(([, v]) => String(v).trim()) : toList(raw.get("seeds"));
    if (seeds !== undefined) {
        out.seeds = seeds;
    }
    setIfDefined(out, "nodeConnections", toInt(raw.get("node_connections")));
    setIfDefined(out, "proxyAddress", nonEmpty(str(raw.get("proxy_address"))));
    setIfDefined(out, "proxySocketConnections", toInt(raw.get("proxy_socket_connections")));
    setIfDefined(out, "serverName", nonEmpty(str(raw.get("server_name"))));
    setIfDefined(out, "skipUnavailable", toBool(raw.get("skip_unavailable")));
    setIfDefined(out, "transportCompress", nonEmpty(str(raw.get("transport.compress"))?.toLowerCase()) as TransportCompress | undefined);
    setIfDefined(out, "transportCompressionScheme", nonEmpty(str(raw.get("transport.compression_scheme"))?.toLowerCase()) as TransportCompressionScheme | undefined);
    setIfDefined(out, "transportPingSchedule", nonEmpty(str(raw.get("transport.ping_schedule"))));
    return out;
}

/** Where the settings of an alias were found, lowest precedence first. */
export type SettingsLayer = "elasticsearch.yml" | "persistent" | "transient";

/** What one alias has on a cluster, by layer, and what the nodes apply (transient over persistent over elasticsearch.yml, key by key). */
export interface ObservedSettings {
    /** The settings the nodes use: each key from the highest layer that sets it. */
    effective: RemoteSettings;
    /** The layers that set at least one key of the alias. */
    layers: SettingsLayer[];
    /** The alias's settings in each layer that has any. */
    byLayer: Partial<Record<SettingsLayer, RemoteSettings>>;
}

/**
 * The settings of `alias` as the nodes apply them: keys in `elasticsearch.yml` (`GET _nodes/settings`,
 * flat), overridden by persistent cluster settings, overridden by transient ones (which Elasticsearch
 * gives the highest precedence). Merged key by key: a transient `skip_unavailable` overrides only that
 * key. Seeds given as `seeds.0`, `seeds.1` count as one key. `undefined` if no layer has the alias. Pure.
 */
export function observeRemoteSettings(alias: string, flat: Partial<Record<SettingsLayer, Record<string, unknown>>>): ObservedSettings | undefined {
    const order: SettingsLayer[] = ["elasticsearch.yml", "persistent", "transient"];
    const prefix = `cluster.remote.${alias}.`;
    const merged: Record<string, unknown> = {};
    const layers: SettingsLayer[] = [];
    const byLayer: Partial<Record<SettingsLayer, RemoteSettings>> = {};
    for (const layer of order) {
        const source = flat[layer] ?? {};
        const own = readRemoteSettings(alias, source);
        if (!own) {
            continue;
        }
        layers.push(layer);
        byLayer[layer] = own;
        const hasSeedItems = Object.keys(source).some((k) => k.startsWith(`${prefix}seeds.`) && source[k] !== null);
        for (const [k, v] of Object.entries(source)) {
            if (!k.startsWith(prefix) || v === null || v === undefined) {
                continue;
            }
            if (k === `${prefix}seeds` || k.startsWith(`${prefix}seeds.`)) {
                continue;
            }
            merged[k] = v;
        }
        if (source[`${prefix}seeds`] !== undefined && source[`${prefix}seeds`] !== null || hasSeedItems) {
            merged[`${prefix}seeds`] = own.seeds ?? [];
        }
    }
    if (!layers.length) {
        return undefined;
    }
    return { effective: readRemoteSettings(alias, merged)!, layers, byLayer };
}

function setIfDefined<K extends keyof RemoteSettings>(o: RemoteSettings, k: K, v: RemoteSettings[K] | undefined): void {
    if (v !== undefined) {
        o[k] = v;
    }
}

function str(v: unknown): string | undefined {
    return typeof v === "string" ? v.trim() : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
}

function nonEmpty(v: string | undefined): string | undefined {
    return v === undefined || v.length === 0 ? undefined : v;
}

function toInt(v: unknown): number | undefined {
    const s = str(v);
    return s !== undefined && /^-?\d+$/.test(s) ? Number(s) : undefined;
}

function toBool(v: unknown): boolean | undefined {
    const s = str(v)?.toLowerCase();
    return s === "true" ? true : s === "false" ? false : undefined;
}

/** `["a:1","b:2"]`, `"a:1,b:2"`, `"[a:1, b:2]"` and `'["a:1"]'` all read as `["a:1","b:2"]`-like arrays. */
function toList(v: unknown): string[] | undefined {
    if (v === undefined || v === null) {
        return undefined;
    }
    if (Array.isArray(v)) {
        return v.map((x) => String(x).trim()).filter((x) => x.length > 0);
    }
    const s = str(v);
    if (s === undefined) {
        return undefined;
    }
    return s
        .replace(/^\[|\]$/g, "")
        .split(",")
        .map((x) => x.trim().replace(/^"|"$/g, "").trim())
        .filter((x) => x.length > 0);
}

// ------------------------------------------------------------------------------- comparing

/** Options of {@link diffSettings}. */
export interface DiffOptions {
    /**
     * The local cluster's (minimum node) version. With it, an unset `skipUnavailable` compares as
     * Elasticsearch's default for that version (`true` from 8.15, `false` before); without it, an
     * unset `skipUnavailable` only equals an unset one.
     */
    localVersion?: string;
}

/**
 * The properties of `desired` and `actual` that differ, in a fixed order. Before comparing, an
 * unset key takes Elasticsearch's default where that default is fixed: `mode` sniff,
 * `nodeConnections` 3, `proxySocketConnections` 18, and `skipUnavailable` when
 * `options.localVersion` says which default applies. Keys whose default is the node-wide setting
 * (`transport.*`) or absent (`serverName`) compare unset = unset, so removing one from the program
 * is a change (the update writes `null`). Seeds compare as a set; time values by duration (`60s` =
 * `1m`); strings case-sensitively except enum values.
 */
export function diffSettings(desired: RemoteSettings, actual: RemoteSettings, options: DiffOptions = {}): string[] {
    const defaults = { ...FIXED_DEFAULTS, ...skipUnavailableDefault(options.localVersion) };
    const changed: string[] = [];
    for (const [prop] of SETTING_KEYS) {
        const d = desired?.[prop] ?? defaults[prop];
        const a = actual?.[prop] ?? defaults[prop];
        if (!sameSetting(prop, d, a)) {
            changed.push(prop);
        }
    }
    return changed;
}

function skipUnavailableDefault(version: string | undefined): Partial<Record<keyof RemoteSettings, unknown>> {
    const m = typeof version === "string" ? /^\s*v?(\d+)\.(\d+)/.exec(version) : null;
    if (!m) {
        return {};
    }
    const [major, minor] = [Number(m[1]), Number(m[2])];
    return { skipUnavailable: major > 8 || (major === 8 && minor >= 15) };
}

/** Equality after normalising: seeds as sets, time values as durations, enums lowercase. */
function sameSetting(prop: keyof RemoteSettings, x: unknown, y: unknown): boolean {
    const absent = (v: unknown): boolean => v === undefined || v === null;
    if (absent(x) || absent(y)) {
        return absent(x) && absent(y);
    }
    switch (prop) {
        case "seeds": {
            const sx = [...new Set((x as string[]).map((s) => String(s).trim()))].sort();
            const sy = [...new Set((y as string[]).map((s) => String(s).trim()))].sort();
            return sx.length === sy.length && sx.every((s, i) => s === sy[i]);
        }
        case "transportPingSchedule": {
            const [nx, ny] = [parseTimeValue(x), parseTimeValue(y)];
            return nx !== undefined && ny !== undefined ? nx === ny : String(x).trim() === String(y).trim();
        }
        case "mode":
        case "transportCompress":
        case "transportCompressionScheme":
        case "skipUnavailable":
            return String(x).trim().toLowerCase() === String(y).trim().toLowerCase();
        case "nodeConnections":
        case "proxySocketConnections":
            return Number(x) === Number(y);
        default:
            return String(x).trim() === String(y).trim();
    }
}

function show(v: unknown): string {
    if (typeof v === "string") {
        return JSON.stringify(v);
    }
    if (v === undefined) {
        return "undefined";
    }
    try {
        return JSON.stringify(v) ?? String(v);
    } catch {
        return String(v);
    }
}
