/**
 * Per-node verdicts for a link (pure; the facts come from `probe.ts`). A cluster's nodes differ:
 * during a rolling upgrade their versions do, a node may lack the `remote_cluster_client` role
 * (it never connects to remotes), a dedicated master is never a sniff gateway, and each node serves
 * its own certificates. Verdicts taken from one node (or from the minimum version) are only right
 * for one-node clusters, so every verdict here is a pair of nodes or one node at a time.
 */
import type { CheckFailure } from "../core/validation";
import { checkCompatibility, CompatibilityVerdict } from "./compat";
import { CompatibilityTables, DEFAULT_TABLES } from "./compat-tables";

/** One node as `GET _nodes` describes it, plus what could be read from the node itself. */
export interface NodeFacts {
    id: string;
    name: string;
    version: string;
    roles: string[];
    /** `host:port` of the node's HTTP layer as it publishes it (`_nodes/http`). */
    httpAddress?: string;
    /** `host:port` of the node's transport layer as it publishes it (sniff gateways are dialled there). */
    transportAddress?: string;
    /** `xpack.security.transport.ssl.verification_mode` of the node (`full` when unset). */
    verificationMode?: string;
    /** The node's transport TLS, from its own `GET _ssl/certificates`; absent when it could not be read. */
    tls?: NodeTls;
    /** Why {@link tls} is absent (the node's HTTP address did not answer, …). */
    tlsUnchecked?: string;
}

/** What one node presents and trusts on its transport layer. */
export interface NodeTls {
    transportCertIssuers: string[];
    trustedCaSubjects: string[];
    /** False where the certificate or CA files could not be matched (keystores, PKCS#11). */
    known: boolean;
}

/** `name (version)` for messages. */
export function nodeLabel(n: NodeFacts): string {
    return `${n.name} (${n.version})`;
}

/** Nodes with the `remote_cluster_client` role: the only ones that open connections to a remote. */
export function remoteClientNodes(nodes: NodeFacts[]): NodeFacts[] {
    return nodes.filter((n) => n.roles.includes("remote_cluster_client"));
}

/**
 * Remote nodes a local node may connect to: Elasticsearch's sniff strategy never picks a dedicated
 * master (master-eligible without data or ingest roles); in proxy mode the proxy may route to any
 * node, so every node counts.
 */
export function gatewayNodes(nodes: NodeFacts[], mode: "sniff" | "proxy" = "sniff"): NodeFacts[] {
    if (mode === "proxy") {
        return nodes;
    }
    const eligible = nodes.filter((n) => !n.roles.includes("master") || n.roles.some((r) => r.startsWith("data") || r === "ingest"));
    return eligible.length ? eligible : nodes;
}

/** One (local node, remote node) pair and its version verdict. */
export interface PairVerdict {
    local: NodeFacts;
    remote: NodeFacts;
    verdict: CompatibilityVerdict;
}

/** The outcome of {@link versionVerdict}. */
export interface VersionOutcome {
    /** Every pair checked. */
    pairs: PairVerdict[];
    /** Failures for the preview (each names the nodes and versions). */
    failures: CheckFailure[];
    /** Not fatal, but the user should know (e.g. sniff skips some incompatible gateways). */
    warnings: string[];
    /** The cross-cluster search verdict over the same pairs: unsupported if any usable pair is. */
    ccs: { supported: boolean; reason: string };
}

function sentence(s: string): string {
    return `${s.replace(/[.\s]+$/, "")}.`;
}

/**
 * Version verdict per (local `remote_cluster_client` node) × (remote gateway node). A local node
 * that can talk to none of the gateways never connects: failure. In sniff mode Elasticsearch skips
 * gateways of a version the local node cannot talk to, so a local node that reaches some of them
 * is a warning; in proxy mode the proxy picks the node, so any incompatible pair is a failure. A
 * local cluster without a `remote_cluster_client` node cannot link at all.
 */
export function versionVerdict(localNodes: NodeFacts[], remoteNodes: NodeFacts[], mode: "sniff" | "proxy" = "sniff", tables: CompatibilityTables = DEFAULT_TABLES): VersionOutcome {
    const clients = remoteClientNodes(localNodes);
    const gateways = gatewayNodes(remoteNodes, mode);
    const out: VersionOutcome = { pairs: [], failures: [], warnings: [], ccs: { supported: true, reason: "" } };
    if (!clients.length) {
        out.failures.push({
            property: "local.urls",
            reason: `no node of the local cluster has the remote_cluster_client role (nodes: ${localNodes.map((n) => `${n.name} [${n.roles.join(", ") || "no roles"}]`).join("; ")}), so none would ever connect to a remote cluster. ` +
                "Add remote_cluster_client to node.roles on the nodes that run cross-cluster searches. Nothing was written.",
        });
        return out;
    }
    const cannot: string[] = [];
    const partial: string[] = [];
    let firstBad: CompatibilityVerdict | undefined;
    for (const l of clients) {
        const bad: PairVerdict[] = [];
        for (const r of gateways) {
            const p = { local: l, remote: r, verdict: checkCompatibility(l.version, r.version, tables) };
            out.pairs.push(p);
            if (!p.verdict.wireCompatible) bad.push(p);
        }
        if (!bad.length) continue;
        firstBad = firstBad ?? bad[0].verdict;
        const list = bad.map((p) => nodeLabel(p.remote)).join(", ");
        if (bad.length === gateways.length || mode === "proxy") {
            cannot.push(`local node ${nodeLabel(l)} cannot talk to remote node${bad.length > 1 ? "s" : ""} ${list}`);
        } else {
            partial.push(`local node ${nodeLabel(l)} cannot talk to remote node${bad.length > 1 ? "s" : ""} ${list} and connects to the others only`);
        }
    }
    if (cannot.length) {
        out.failures.push({
            property: "remote.urls",
            reason: `${cannot.join("; ")}: ${sentence(firstBad!.reason)} ` +
                "During a rolling upgrade every local node's version (the one it upgrades from and the one it upgrades to) must be able to talk to the remote's gateway nodes. Nothing was written.",
        });
    }
    partial.forEach((p) => out.warnings.push(`${p} (sniff mode skips gateway nodes of a version it cannot talk to)`));
    const usable = out.pairs.filter((p) => p.verdict.wireCompatible);
    const unsupported = usable.find((p) => !p.verdict.ccsSupported);
    if (unsupported) {
        const distinct = [...new Set(usable.filter((p) => !p.verdict.ccsSupported).map((p) => `${nodeLabel(p.local)} → ${nodeLabel(p.remote)}`))];
        out.ccs = { supported: false, reason: `${unsupported.verdict.reason} (node pairs: ${distinct.join(", ")})` };
    } else if (usable.length) {
        out.ccs = { supported: true, reason: usable[0].verdict.reason };
    }
    return out;
}

/**
 * The one comparison key of a DN for every trust check (certificate links and API-key links): ES
 * prints `CN=a, O=b` or `CN=a,O=b`, most-specific first, while Node's TLS peer certificate lists
 * the attributes the other way round (`C=…, O=…, CN=…`), so the attributes are compared as a set,
 * case- and space-insensitively. A comma inside a value (`O=Acme\, Inc`) is not a separator.
 */
export function normalDn(s: string): string {
    return s.split(/,(?=\s*[A-Za-z.0-9]+\s*=)/).map((p) => p.trim().replace(/\s*=\s*/, "=").toLowerCase()).filter(Boolean).sort().join(",");
}

/** The outcome of {@link nodeTrustVerdict}. */
export interface NodeTrustOutcome {
    failures: CheckFailure[];
    /** Nodes that could not be checked, and why (never a silent pass: the caller warns with these). */
    unchecked: string[];
}

/**
 * Trust per node: each presenting node's transport certificate issuer against the CAs each node of
 * the other side trusts. `local` are the local nodes that connect (remote_cluster_client), `remote`
 * the remote gateway nodes; both directions are checked (transport TLS authenticates both ends).
 */
export function nodeTrustVerdict(local: NodeFacts[], remote: NodeFacts[], where: { local: string; remote: string }): NodeTrustOutcome {
    const out: NodeTrustOutcome = { failures: [], unchecked: [] };
    const sides = { local, remote };
    for (const side of ["local", "remote"] as const) {
        for (const n of sides[side]) {
            if (!n.tls) out.unchecked.push(`${side} node ${n.name}: ${n.tlsUnchecked ?? "its certificates could not be read"}`);
            else if (!n.tls.known) out.unchecked.push(`${side} node ${n.name}: its transport certificate or CA files could not be matched in GET _ssl/certificates (keystores or PKCS#11?)`);
        }
    }
    const directions = [
        { truster: "local", trusters: local, presenter: "remote", presenters: remote, url: where.local },
        { truster: "remote", trusters: remote, presenter: "local", presenters: local, url: where.remote },
    ] as const;
    for (const d of directions) {
        const trusters = d.trusters.filter((n) => n.tls?.known);
        const trusted = [...new Set(trusters.flatMap((t) => t.tls!.trustedCaSubjects))];
        const issuers = new Map<string, { issuer: string; presenters: NodeFacts[]; refusing: Set<string> }>();
        for (const p of d.presenters) {
            if (!p.tls?.known) continue;
            for (const issuer of p.tls.transportCertIssuers) {
                const refusing = trusters.filter((t) => !t.tls!.trustedCaSubjects.map(normalDn).includes(normalDn(issuer)));
                if (!refusing.length) continue;
                const e = issuers.get(normalDn(issuer)) ?? { issuer, presenters: [], refusing: new Set<string>() };
                e.presenters.push(p);
                refusing.forEach((t) => e.refusing.add(t.name));
                issuers.set(normalDn(issuer), e);
            }
        }
        for (const e of issuers.values()) {
            const several = d.presenters.length > 1 || d.trusters.length > 1;
            const nodes = several
                ? `, presented by ${d.presenter} node${e.presenters.length > 1 ? "s" : ""} ${e.presenters.map((n) => n.name).join(", ")}` +
                  `; not trusted by ${e.refusing.size === trusters.length ? `any ${d.truster} node` : `${d.truster} node${e.refusing.size > 1 ? "s" : ""} ${[...e.refusing].join(", ")}`}`
                : "";
            out.failures.push({
                // `<side>.urls`, not the connection: the engine prints the property's value (credentials).
                property: `${d.truster}.urls`,
                reason: `the ${d.truster} cluster (${d.url}) does not trust the CA that issued the ${d.presenter} cluster's transport certificate ` +
                    `(issuer "${e.issuer}"${nodes}; ${d.truster} trusts ${trusted.map((s) => `"${s}"`).join(", ") || "no CA"}). ` +
                    `Add that CA to xpack.security.transport.ssl.certificate_authorities on every ${d.truster} node, ` +
                    `or issue every node's transport certificate from one SharedCa (NodeCertificate with delivery).`,
            });
        }
    }
    return out;
}

// ----------------------------------------------------------------------------- connection

/** What one local node's `GET _remote/info` said about the alias (or why it could not be asked). */
export interface NodeConnection {
    node: NodeFacts;
    /** The node answered. */
    asked: boolean;
    connected: boolean;
    numNodesConnected?: number;
    numProxySocketsConnected?: number;
    /** Seeds or proxy address the node reports for the alias. */
    targets?: string[];
    /** The node's `_remote/info` entry for the alias, as it answered. */
    raw?: Record<string, unknown>;
    error?: string;
    /** Where the node was asked when not at its own HTTP publish address (a URL of the connection). */
    via?: string;
}

/** The link's connection over every local `remote_cluster_client` node. */
export interface ConnectionSummary {
    /** Every local node that connects to remotes and answered reports the alias connected (and at least one answered). */
    connected: boolean;
    nodesConnected: number;
    nodesTotal: number;
    /** Nodes that could not be asked (their HTTP address did not answer), with the reason. */
    unasked: string[];
    /** Nodes that answered "not connected". */
    notConnected: NodeFacts[];
}

/** Pure: sums up the per-node answers. */
export function summarizeConnections(per: NodeConnection[]): ConnectionSummary {
    const asked = per.filter((p) => p.asked);
    const notConnected = asked.filter((p) => !p.connected).map((p) => p.node);
    return {
        connected: asked.length > 0 && notConnected.length === 0,
        nodesConnected: asked.filter((p) => p.connected).length,
        nodesTotal: per.length,
        unasked: per.filter((p) => !p.asked).map((p) => `${p.node.name}: ${p.error ?? "no answer"}`),
        notConnected,
    };
}

// ------------------------------------------------------------------------ hostname verification

/** Host part of `host:port` / `[v6]:port`. */
export function hostOf(address: string): string {
    const a = address.trim();
    const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
    if (v6) return v6[1];
    const i = a.lastIndexOf(":");
    return i > 0 && a.indexOf(":") === i ? a.slice(0, i) : a;
}

/** Parses Node's `subjectaltname` ("DNS:a, IP Address:1.2.3.4") into names. */
export function parseSans(subjectaltname: string | undefined): { dns: string[]; ips: string[] } {
    const dns: string[] = [];
    const ips: string[] = [];
    for (const part of (subjectaltname ?? "").split(/,\s*/)) {
        const m = /^(DNS|IP Address):(.+)$/.exec(part.trim());
        if (!m) continue;
        (m[1] === "DNS" ? dns : ips).push(m[2].trim().toLowerCase());
    }
    return { dns, ips };
}

/** RFC 6125 matching of a host name or IP against a certificate's SANs (one left-most wildcard label). */
export function nameInSans(name: string, sans: { dns: string[]; ips: string[] }): boolean {
    const n = name.trim().toLowerCase().replace(/^\[|\]$/g, "");
    if (/^[0-9.]+$/.test(n) || n.includes(":")) {
        return sans.ips.some((ip) => ip === n || (n === "::1" && ip === "0:0:0:0:0:0:0:1"));
    }
    return sans.dns.some((d) => {
        if (d === n) return true;
        if (d.startsWith("*.")) {
            const rest = d.slice(2);
            const dot = n.indexOf(".");
            return dot > 0 && n.slice(dot + 1) === rest;
        }
        return false;
    });
}

/** One name the local nodes will verify, and the certificate's SANs served where it points. */
export interface NameCheck {
    /** The name the local node dials or sends as SNI (seed host, gateway publish host, serverName). */
    name: string;
    /** Where it comes from, for the message (e.g. `seeds[0]`, `gateway node es-2`, `serverName`). */
    source: string;
    /** SANs of the certificate served there; undefined when the handshake could not be made. */
    sans?: { dns: string[]; ips: string[] };
    error?: string;
}

/** Names missing from the SANs (warnings for the preview), and names that could not be checked. */
export function hostnameVerdict(checks: NameCheck[]): { missing: string[]; unchecked: string[] } {
    const missing: string[] = [];
    const unchecked: string[] = [];
    for (const c of checks) {
        if (!c.sans) unchecked.push(`${c.name} (${c.source}): ${c.error ?? "no certificate"}`);
        else if (!nameInSans(c.name, c.sans)) missing.push(`${c.name} (${c.source}) is not in the certificate's SANs (${[...c.sans.dns.map((d) => `DNS:${d}`), ...c.sans.ips.map((i) => `IP:${i}`)].join(", ") || "none"})`);
    }
    return { missing, unchecked };
}
