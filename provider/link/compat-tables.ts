/**
 * Elasticsearch version compatibility, as data. `checkCompatibility` in `compat.ts` reads
 * these tables; nothing here is computed from a formula, so a row Elastic changes is a one-line
 * edit (and a test on real nodes can pass an adjusted copy, see {@link CompatibilityTables}).
 *
 * Versions are `major.minor` strings; patch levels never matter for either question.
 */

/**
 * One row of the wire (transport) compatibility table: from version `from` of a major on, nodes
 * accept connections from nodes of the previous major only if those are on `oldestPreviousMajor`
 * or later. Same-major nodes always talk; majors more than one apart never do. The rule is
 * symmetric: if a 9.1 node accepts an 8.19 node, the 8.19 node can talk to the 9.1 node.
 */
export interface WireCompatibilityRow {
    /** First `major.minor` this row applies to; it holds until the next row of the same major. */
    readonly from: string;
    /** Oldest `major.minor` of the previous major that these nodes talk to. */
    readonly oldestPreviousMajor: string;
    /** Where the row comes from, for readers of this file and of error messages. */
    readonly source: string;
    /** True while the row rests on Elastic's docs and code only and has not been seen on real nodes. */
    readonly unconfirmed?: boolean;
}

/**
 * Wire compatibility across majors, keyed by the newer node's version. This is how Elasticsearch
 * itself encodes it (`TransportVersions.MINIMUM_COMPATIBLE`: "the transport version used by the
 * highest minor version of the previous major").
 */
export const WIRE_COMPATIBILITY: readonly WireCompatibilityRow[] = [
    { from: "6.0", oldestPreviousMajor: "5.6", source: "Elastic's remote cluster compatibility matrix (5.6 row)" },
    // The seed: "6.7 can only communicate with 7.0", "6.8 can communicate with any 7.x node".
    { from: "7.0", oldestPreviousMajor: "6.7", source: "Elastic's remote cluster compatibility matrix (7.0 column)" },
    { from: "7.1", oldestPreviousMajor: "6.8", source: "Elastic's remote cluster compatibility matrix (7.1+ columns)" },
    { from: "8.0", oldestPreviousMajor: "7.17", source: "Elastic's remote cluster docs: only 7.17 talks to 8.x" },
    // 8.18 shipped together with 9.0, so 9.0 accepts 8.18 (elastic/elasticsearch#120936 set 9.0's
    // minimum to the 8.18 transport version). To be confirmed on real 8.18 and 9.0 nodes.
    {
        from: "9.0",
        oldestPreviousMajor: "8.18",
        source: "elastic/elasticsearch#120936: 9.0's minimum compatible transport version is 8.18's",
        unconfirmed: true,
    },
    // "Versions 9.1.0 onwards will not be wire-compatible with versions before 8.19.0"
    // (elastic/elasticsearch#123254, and the 8.19 deprecation notice of #123627). Confirmed on real
    // nodes (tests/integration/remoteClusterLink.test.ts): 9.5.4 rejects 8.18.6 in both directions
    // ("Rejecting unreadable transport handshake ... incompatible wire format"), and talks to 8.19.21.
    {
        from: "9.1",
        oldestPreviousMajor: "8.19",
        source: "elastic/elasticsearch#123254: 9.1 and later reject nodes before 8.19; seen on real 8.18.6/8.19.21/9.5.4 nodes",
    },
];

/**
 * The remote versions Elastic's table of supported cross-cluster search configurations marks ✅,
 * in the order the table's columns run. Column headers of that table.
 */
export const CCS_TABLE_VERSIONS: readonly string[] = [
    "7.17",
    "8.0", "8.1", "8.2", "8.3", "8.4", "8.5", "8.6", "8.7", "8.8", "8.9",
    "8.10", "8.11", "8.12", "8.13", "8.14", "8.15", "8.16", "8.17", "8.18", "8.19",
    "9.0", "9.1", "9.2", "9.3",
];

/**
 * Elastic's "Supported cross-cluster search configurations" table (docs-content
 * `deploy-manage/remote-clusters/_snippets/ccs-compatibility-table.md`, up to 9.3), one entry per
 * row: local version → the remote versions marked ✅. Directional: 9.0 → 8.18 is supported, 9.0 →
 * 8.19 is not, while 8.19 → 9.0 is. A range `a–b` covers every column from `a` to `b` inclusive.
 *
 * The published 8.18 row has one cell fewer than the header (9.3 is missing); it is read as ❌,
 * like 9.1 and 9.2 in the same row ("only 8.19 supports searching 9.1 and later").
 *
 * Versions newer than the table (`compat.ts` derives these, and says "extrapolated" in the reason):
 * - local 9.N with N beyond the table: remote 9.(N-1) … latest supported, 8.x not — the last row
 *   (9.3 → 9.2, 9.3) shifted to N, as Elastic's rule reads "previous minor, same, newer minor";
 * - remote 9.N beyond the table: supported if the local row supports the newest 9.x column (9.3),
 *   since "a newer minor version in the same major version" is supported (8.19 → any 9.x; 8.18 → 9.0 only);
 * - a major beyond the table (10.x): same-major remotes only, derived the same way; across majors
 *   nothing is assumed.
 */
export const CCS_SUPPORTED: Readonly<Record<string, readonly string[]>> = {
    "7.17": ["7.17–8.19"],
    "8.0": ["7.17–8.19"],
    "8.1": ["8.0–8.19"],
    "8.2": ["8.1–8.19"],
    "8.3": ["8.2–8.19"],
    "8.4": ["8.3–8.19"],
    "8.5": ["8.4–8.19"],
    "8.6": ["8.5–8.19"],
    "8.7": ["8.6–8.19"],
    "8.8": ["8.7–8.19"],
    "8.9": ["8.8–8.19"],
    "8.10": ["8.9–8.19"],
    "8.11": ["8.10–8.19"],
    "8.12": ["8.11–8.19"],
    "8.13": ["8.12–8.19"],
    "8.14": ["8.13–8.19"],
    "8.15": ["8.14–8.19"],
    "8.16": ["8.15–8.19"],
    "8.17": ["8.16–8.19"],
    "8.18": ["8.17–8.19", "9.0"],
    "8.19": ["8.18–8.19", "9.0–9.3"],
    "9.0": ["8.18", "9.0–9.3"],
    "9.1": ["9.0–9.3"],
    "9.2": ["9.1–9.3"],
    "9.3": ["9.2–9.3"],
};

/** Everything `checkCompatibility` decides from; pass an adjusted copy to override one entry. */
export interface CompatibilityTables {
    /** See {@link WIRE_COMPATIBILITY}. */
    readonly wire: readonly WireCompatibilityRow[];
    /** See {@link CCS_TABLE_VERSIONS}. */
    readonly ccsVersions: readonly string[];
    /** See {@link CCS_SUPPORTED}. */
    readonly ccsSupported: Readonly<Record<string, readonly string[]>>;
}

/** The tables this package ships. */
export const DEFAULT_TABLES: CompatibilityTables = {
    wire: WIRE_COMPATIBILITY,
    ccsVersions: CCS_TABLE_VERSIONS,
    ccsSupported: CCS_SUPPORTED,
};
