/**
 * Version verdicts for a local/remote cluster pair: can their nodes talk at all (wire
 * compatibility, symmetric), and is the pair a cross-cluster search configuration Elastic supports
 * (directional: local searches remote). Both answers come from the tables in `compat-tables.ts`;
 * this module only looks them up and words the answer. Only `major.minor` matters; patch levels
 * and pre-release tags (`-SNAPSHOT`, `-beta1`) are ignored. Nothing here throws.
 */
import { CompatibilityTables, DEFAULT_TABLES, WireCompatibilityRow } from "./compat-tables";

/** The answer of {@link checkCompatibility}. */
export interface CompatibilityVerdict {
    /** The nodes of the two clusters can open transport connections to each other. */
    readonly wireCompatible: boolean;
    /** Elastic supports cross-cluster search from the local to the remote version. Never true without `wireCompatible`. */
    readonly ccsSupported: boolean;
    /** One or two sentences for the user: both versions, the verdict, the rule, what to do. */
    readonly reason: string;
    /** The rule the verdict rests on, in words (e.g. the table row, or how it was extrapolated). */
    readonly rule: string;
}

/** @internal A version reduced to what the tables need. */
export interface ParsedVersion {
    major: number;
    minor: number;
    patch: number;
}

/**
 * Parses `8.19.3`, `8.19`, `9.0.0-SNAPSHOT`, `v8.18.1`; anything else gives `undefined`.
 * @internal
 */
export function parseVersion(v: unknown): ParsedVersion | undefined {
    if (typeof v !== "string") {
        return undefined;
    }
    const m = /^\s*v?(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9}))?(?:[-+][0-9A-Za-z.+-]*)?\s*$/.exec(v);
    if (!m) {
        return undefined;
    }
    return { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? 0 : Number(m[3]) };
}

/** Whether `version` is older than `since` by major.minor (a version that cannot be parsed is not older). @internal */
export function olderThan(version: string, since: string): boolean {
    const v = parseVersion(version);
    const s = parseVersion(since)!;
    return v !== undefined && (v.major < s.major || (v.major === s.major && v.minor < s.minor));
}

/** The nodes older than `since` ({@link olderThan}). @internal */
export function nodesOlderThan<N extends { version: string }>(nodes: readonly N[], since: string): N[] {
    return nodes.filter((n) => olderThan(n.version, since));
}

/**
 * The lowest version among the nodes of one cluster (they differ during a rolling upgrade). Compares
 * major, minor and patch numerically and ignores pre-release tags. Returns the entry as the node
 * reported it. A version that cannot be parsed counts as the lowest (it is returned, so the
 * compatibility check reports it instead of silently trusting the other nodes); an empty list
 * gives `""`. Never throws.
 */
export function minimumVersion(versions: string[]): string {
    let best: string | undefined;
    let bestParsed: ParsedVersion | undefined;
    for (const v of Array.isArray(versions) ? versions : []) {
        const p = parseVersion(v);
        if (!p) {
            return typeof v === "string" ? v : String(v);
        }
        if (!bestParsed || compare(p, bestParsed) < 0) {
            best = v;
            bestParsed = p;
        }
    }
    return best ?? "";
}

/**
 * Decides whether a local cluster on `localVersion` can link to a remote cluster on
 * `remoteVersion`. Pass each cluster's {@link minimumVersion}. `tables` defaults to the tables this
 * package ships; tests on real nodes pass an adjusted copy. Never throws: input that is not a
 * version gives `wireCompatible: false` with a reason.
 */
export function checkCompatibility(localVersion: string, remoteVersion: string, tables: CompatibilityTables = DEFAULT_TABLES): CompatibilityVerdict {
    const local = parseVersion(localVersion);
    const remote = parseVersion(remoteVersion);
    if (!local || !remote) {
        const bad = !local ? `local version ${JSON.stringify(localVersion)}` : `remote version ${JSON.stringify(remoteVersion)}`;
        return {
            wireCompatible: false,
            ccsSupported: false,
            reason: `cannot check version compatibility: the ${bad} is not an Elasticsearch version (expected major.minor.patch, e.g. 8.19.3)`,
            rule: "versions are major.minor.patch",
        };
    }
    const l = `local ${String(localVersion).trim()}`;
    const r = `remote ${String(remoteVersion).trim()}`;
    const wire = wireVerdict(local, remote, tables.wire);
    if (!wire.ok) {
        return { wireCompatible: false, ccsSupported: false, reason: `${l} cannot connect to ${r}: ${wire.why}`, rule: wire.rule };
    }
    const ccs = ccsVerdict(local, remote, tables);
    const extrapolated = ccs.extrapolated ? ` (extrapolated: ${ccs.extrapolated})` : "";
    if (!ccs.ok) {
        return {
            wireCompatible: true,
            ccsSupported: false,
            reason: `${l} → ${r} is not a supported cross-cluster search configuration (${ccs.why})${extrapolated}. ` +
                "The nodes can talk, so the link can work, but Elastic does not test or guarantee searches across this pair",
            rule: ccs.rule,
        };
    }
    return {
        wireCompatible: true,
        ccsSupported: true,
        reason: `${l} → ${r} is a supported cross-cluster search configuration (${ccs.why})${extrapolated}`,
        rule: ccs.rule,
    };
}

interface PartVerdict {
    ok: boolean;
    /** Why, in words, without the versions' prefix. */
    why: string;
    rule: string;
    /** Set when the answer goes beyond the table: how it was derived. */
    extrapolated?: string;
}

function mm(v: ParsedVersion): string {
    return `${v.major}.${v.minor}`;
}

function compare(a: ParsedVersion, b: ParsedVersion): number {
    return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

function mmOf(s: string): ParsedVersion {
    // Table entries are written by hand in compat-tables.ts; a typo there must not throw at run time.
    return parseVersion(s) ?? { major: -1, minor: -1, patch: 0 };
}

// ---------------------------------------------------------------- wire compatibility (symmetric)

function wireVerdict(local: ParsedVersion, remote: ParsedVersion, rows: readonly WireCompatibilityRow[]): PartVerdict {
    if (local.major === remote.major) {
        return { ok: true, why: "", rule: `same major version: ${local.major}.x nodes always talk to each other` };
    }
    const localIsOlder = local.major < remote.major;
    const older = localIsOlder ? local : remote;
    const newer = localIsOlder ? remote : local;
    const olderSide = localIsOlder ? "local" : "remote";
    const row = wireRowFor(newer, rows);
    if (newer.major - older.major > 1) {
        const via = row ? ` Upgrade the ${olderSide} cluster to ${row.oldestPreviousMajor} or later first` : "";
        return {
            ok: false,
            why: `Elasticsearch nodes only talk across one major version, and ${older.major}.x and ${newer.major}.x are ${newer.major - older.major} apart.${via}`,
            rule: "majors more than one apart never talk",
        };
    }
    if (!row) {
        const majors = rows.map((x) => mmOf(x.from).major);
        const beyond = newer.major > Math.max(...majors);
        return {
            ok: false,
            why: beyond
                ? `${newer.major}.x is newer than this package's wire compatibility table, which ends at ${Math.max(...majors)}.x; ` +
                  `Elastic only lets the last minor of a major talk to the next major, and which ${older.major}.x minor that is is not known here. Upgrade pulumi-es-remote`
                : `${newer.major}.x is older than this package's wire compatibility table, which starts at ${Math.min(...majors)}.x`,
            rule: beyond ? "major newer than the wire compatibility table: treated as incompatible" : "major older than the wire compatibility table",
        };
    }
    const label = wireRowLabel(row, rows);
    const rule = `${label} nodes only talk to ${older.major}.x nodes on ${row.oldestPreviousMajor} or later` +
        (row.unconfirmed ? " (from Elastic's docs and code, not yet confirmed on real nodes)" : "");
    const oldest = mmOf(row.oldestPreviousMajor);
    if (older.minor >= oldest.minor) {
        return { ok: true, why: "", rule };
    }
    return {
        ok: false,
        why: `${label} nodes only talk to ${older.major}.x nodes on ${row.oldestPreviousMajor} or later, and the ${olderSide} cluster is on ${mm(older)}. ` +
            `Upgrade the ${olderSide} cluster to ${row.oldestPreviousMajor} or later first` +
            (row.unconfirmed ? " (this rule comes from Elastic's docs and code and is not yet confirmed on real nodes)" : ""),
        rule,
    };
}

/** The row that applies to `newer`: the last row of its major whose `from` is not after it. */
function wireRowFor(newer: ParsedVersion, rows: readonly WireCompatibilityRow[]): WireCompatibilityRow | undefined {
    let found: WireCompatibilityRow | undefined;
    for (const row of rows) {
        const from = mmOf(row.from);
        if (from.major === newer.major && from.minor <= newer.minor && (!found || mmOf(found.from).minor < from.minor)) {
            found = row;
        }
    }
    return found;
}

/** "9.0", "7.1 and later 7.x", "9.1 and later 9.x": the versions a row covers. */
function wireRowLabel(row: WireCompatibilityRow, rows: readonly WireCompatibilityRow[]): string {
    const from = mmOf(row.from);
    const next = rows
        .map((x) => mmOf(x.from))
        .filter((x) => x.major === from.major && x.minor > from.minor)
        .sort((a, b) => a.minor - b.minor)[0];
    if (!next) {
        return `${row.from} and later ${from.major}.x`;
    }
    return next.minor - from.minor === 1 ? row.from : `${row.from}–${from.major}.${next.minor - 1}`;
}

// ------------------------------------------------- supported cross-cluster search (directional)

/** One row of the supported-configurations table, published or derived. */
interface CcsRow {
    /** The local `major.minor` the row is for. */
    label: string;
    /** Remote `major.minor` versions marked ✅. */
    supports: Set<string>;
    /** Per major: every remote minor from this one on is supported (minors beyond the table's columns). */
    openFrom: Map<number, number>;
    /** The supported remotes in words: `8.17, 8.18, 8.19, 9.0` or `9.4 and later 9.x`. */
    description: string;
    rule: string;
    /** Set for a derived row: how it was derived. */
    extrapolated?: string;
}

function ccsVerdict(local: ParsedVersion, remote: ParsedVersion, tables: CompatibilityTables): PartVerdict {
    const cols = tables.ccsVersions.map(mmOf);
    if (cols.length === 0) {
        return { ok: false, why: "no table of supported configurations is loaded", rule: "empty table" };
    }
    const tableRange = `${tables.ccsVersions[0]} … ${tables.ccsVersions[tables.ccsVersions.length - 1]}`;
    const row = ccsRowFor(local, tables);
    if (!row) {
        return {
            ok: false,
            why: `local ${mm(local)} is older than Elastic's current table of supported configurations, which covers ${tableRange}`,
            rule: "local version older than the supported cross-cluster search table",
        };
    }
    const supported = row.supports.has(mm(remote)) || (row.openFrom.has(remote.major) && remote.minor >= (row.openFrom.get(remote.major) as number));
    const notes = [row.extrapolated];
    let rule = row.rule;
    let outside = "";
    const inTable = cols.some((c) => c.major === remote.major && c.minor === remote.minor);
    if (!inTable) {
        const newest = newestMinor(tables, remote.major);
        if (newest !== undefined && remote.minor > newest) {
            // Elastic: "a newer minor version in the same major version" is supported, so a row that
            // supports the newest column of a major also supports the later minors of that major.
            notes.push(`remote ${mm(remote)} is newer than Elastic's table, which ends at ${remote.major}.${newest}`);
            rule = `${row.rule}; remote newer than the table: supported if the row supports the newest ${remote.major}.x column (${remote.major}.${newest})`;
        } else if (remote.major > cols[cols.length - 1].major) {
            notes.push(`remote ${remote.major}.x is newer than Elastic's table (${tableRange})`);
            rule = `${row.rule}; remote major newer than the table: supported only within the local major`;
        } else {
            outside = `; remote ${mm(remote)} is older than Elastic's current table, which starts at ${tables.ccsVersions[0]}`;
            rule = `${row.rule}; remote version older than the table: not supported`;
        }
    }
    const extrapolated = notes.filter(Boolean).join("; ");
    return {
        ok: supported,
        why: `Elastic supports ${row.label} → ${row.description}${outside}`,
        rule,
        extrapolated: extrapolated || undefined,
    };
}

function newestMinor(tables: CompatibilityTables, major: number): number | undefined {
    const minors = tables.ccsVersions.map(mmOf).filter((c) => c.major === major).map((c) => c.minor);
    return minors.length ? Math.max(...minors) : undefined;
}

/** Majors whose newest column is supported: every later minor of them is supported too. */
function openEnded(supports: Set<string>, tables: CompatibilityTables): Map<number, number> {
    const out = new Map<number, number>();
    for (const v of supports) {
        const p = mmOf(v);
        if (newestMinor(tables, p.major) === p.minor) {
            out.set(p.major, p.minor + 1);
        }
    }
    return out;
}

/**
 * The published row for `local`, or one derived from the table's last row when `local` is newer
 * than the table: local M.N (N beyond the table) keeps the last row's distance to its oldest
 * same-major remote (9.3 → 9.2: the previous minor) and its entries for other majors (none for
 * 9.3: "8.x not"), and supports every later M.x. A major beyond the table gets the same-major part
 * only. `undefined` when `local` is older than the table.
 */
function ccsRowFor(local: ParsedVersion, tables: CompatibilityTables): CcsRow | undefined {
    const published = tables.ccsSupported[mm(local)];
    if (published) {
        const supports = expand(published, tables.ccsVersions);
        const openFrom = openEnded(supports, tables);
        return {
            label: mm(local),
            supports,
            openFrom,
            description: describe(supports, openFrom, tables.ccsVersions),
            rule: `Elastic's supported cross-cluster search table, row ${mm(local)}`,
        };
    }
    const cols = tables.ccsVersions.map(mmOf);
    const lastMajor = cols[cols.length - 1].major;
    const newestLocal = newestMinor(tables, local.major);
    const beyondInMajor = newestLocal !== undefined && local.minor > newestLocal && tables.ccsSupported[`${local.major}.${newestLocal}`] !== undefined;
    if (!beyondInMajor && local.major <= lastMajor) {
        return undefined;
    }
    const baseMajor = beyondInMajor ? local.major : lastMajor;
    const base = `${baseMajor}.${newestMinor(tables, baseMajor)}`;
    const baseMinor = mmOf(base).minor;
    const baseSupports = expand(tables.ccsSupported[base] ?? [], tables.ccsVersions);
    const sameMajor = [...baseSupports].map(mmOf).filter((v) => v.major === baseMajor).map((v) => v.minor);
    const offset = sameMajor.length ? Math.min(...sameMajor) - baseMinor : 0;
    const fromMinor = Math.max(0, local.minor + offset);
    const others = new Set(beyondInMajor ? [...baseSupports].filter((v) => mmOf(v).major !== baseMajor) : []);
    const openFrom = openEnded(others, tables);
    openFrom.set(local.major, fromMinor);
    const otherText = others.size ? describe(others, openEnded(others, tables), tables.ccsVersions) : "";
    const shifted = offset === 0 ? "N" : `N${offset > 0 ? "+" : "-"}${Math.abs(offset)}`;
    const notOthers = others.size ? `, plus ${otherText} as in row ${base}` : `, ${beyondInMajor ? `${local.major - 1}.x` : "older majors"} not`;
    return {
        label: mm(local),
        supports: others,
        openFrom,
        description: `${local.major}.${fromMinor} and later ${local.major}.x${otherText ? `, ${otherText}` : ""}`,
        rule: `local ${local.major}.N with N beyond the table: remote ${local.major}.(${shifted}) … latest supported${notOthers} (derived from the table's last row, ${base})`,
        extrapolated: `local ${mm(local)} is newer than Elastic's table, which ends at ${base}; its row is derived from the ${base} row`,
    };
}

/** Expands `["8.17–8.19", "9.0"]` over the table's columns into a set of `major.minor`. */
function expand(entries: readonly string[], columns: readonly string[]): Set<string> {
    const out = new Set<string>();
    for (const e of entries) {
        const [a, b] = e.split(/\s*[–-]\s*/);
        if (b === undefined) {
            out.add(a.trim());
            continue;
        }
        const i = columns.indexOf(a);
        const j = columns.indexOf(b);
        for (let k = Math.min(i, j); i >= 0 && j >= 0 && k <= Math.max(i, j); k++) {
            out.add(columns[k]);
        }
    }
    return out;
}

/** `8.17, 8.18, 8.19, 9.0`; runs of more than four columns as `8.0 … 8.19`; "and later 9.x" where the newest major is open-ended. */
function describe(supports: Set<string>, openFrom: Map<number, number>, columns: readonly string[]): string {
    const parts: string[] = [];
    let run: string[] = [];
    const flush = (): void => {
        if (run.length === 0) {
            return;
        }
        const last = mmOf(run[run.length - 1]);
        const text = run.length > 4 ? `${run[0]} … ${run[run.length - 1]}` : run.join(", ");
        // Only the newest major can still grow; 8.19 is the final 8.x.
        const growing = last.major === mmOf(columns[columns.length - 1]).major && openFrom.get(last.major) === last.minor + 1;
        parts.push(growing ? `${text} and later ${last.major}.x` : text);
        run = [];
    };
    for (const c of columns) {
        if (!supports.has(c) || (run.length > 0 && mmOf(run[run.length - 1]).major !== mmOf(c).major)) {
            flush();
        }
        if (supports.has(c)) {
            run.push(c);
        }
    }
    flush();
    return [...parts, ...[...supports].filter((s) => !columns.includes(s))].join(", ");
}
