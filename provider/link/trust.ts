/**
 * Step 2 of Elastic's procedure as a verdict: with certificate trust, each cluster must trust the
 * CA that issued the other cluster's transport certificates. Pure; works on {@link ClusterFacts}.
 */
import type { CheckFailure } from "../core/validation";
import { normalDn } from "./nodes";
import { ClusterFacts } from "./probe";

const dn = normalDn;

/**
 * What stands between the two clusters and a certificate-trust connection: prerequisites (security
 * on, transport TLS on) and mutual trust. Each failure names the side that must change and how.
 * `info` collects the checks that could not be made (e.g. keystores the node does not describe).
 */
export function trustFailures(local: ClusterFacts, remote: ClusterFacts, where: { local: string; remote: string }): { failures: CheckFailure[]; info: string[] } {
    const failures: CheckFailure[] = [];
    const info: string[] = [];
    for (const [side, f, url] of [["local", local, where.local], ["remote", remote, where.remote]] as const) {
        if (!f.securityEnabled) {
            failures.push({ property: `${side}.urls`, reason: `the ${side} cluster (${url}) has security disabled: set xpack.security.enabled: true on every node (remote clusters with certificate trust need it on both sides)` });
        }
        if (!f.transportTls) {
            failures.push({ property: `${side}.urls`, reason: `the ${side} cluster (${url}) does not have TLS on the transport layer: set xpack.security.transport.ssl.enabled: true with a key, certificate and certificate_authorities on every node` });
        }
    }
    if (failures.length) {
        return { failures, info };
    }
    const pairs = [
        { truster: "local", trusterFacts: local, trusterUrl: where.local, presenter: "remote", presenterFacts: remote, presenterUrl: where.remote },
        { truster: "remote", trusterFacts: remote, trusterUrl: where.remote, presenter: "local", presenterFacts: local, presenterUrl: where.local },
    ] as const;
    for (const p of pairs) {
        if (!p.trusterFacts.trustKnown || !p.presenterFacts.trustKnown) {
            info.push(`trust between ${p.truster} and ${p.presenter} not checked: a node's transport certificate or CA files could not be matched in GET _ssl/certificates (keystores or PKCS#11?)`);
            continue;
        }
        const trusted = new Set(p.trusterFacts.trustedCaSubjects.map(dn));
        const missing = p.presenterFacts.transportCertIssuers.filter((i) => !trusted.has(dn(i)));
        if (missing.length) {
            failures.push({
                // `<side>.urls`, not the connection: the engine prints the property's value (credentials).
                property: `${p.truster}.urls`,
                reason: `the ${p.truster} cluster (${p.trusterUrl}) does not trust the CA that issued the ${p.presenter} cluster's transport certificate ` +
                    `(issuer "${missing.join('", "')}"; ${p.truster} trusts ${p.trusterFacts.trustedCaSubjects.map((s) => `"${s}"`).join(", ") || "no CA"}). ` +
                    `Add that CA to xpack.security.transport.ssl.certificate_authorities on every ${p.truster} node, ` +
                    `or issue both clusters' transport certificates from one SharedCa (NodeCertificate with delivery).`,
            });
        }
    }
    return { failures, info };
}

/**
 * Only the prerequisites of {@link trustFailures} (security and transport TLS on every node of both
 * sides); the link judges trust itself per node (`nodeTrustVerdict` in nodes.ts).
 */
export function prerequisiteFailures(local: ClusterFacts, remote: ClusterFacts, where: { local: string; remote: string }): CheckFailure[] {
    const bare = (f: ClusterFacts): ClusterFacts => ({ ...f, trustKnown: false });
    return trustFailures(bare(local), bare(remote), where).failures;
}
