/**
 * Strong identity (Elasticsearch 9.3+) in cluster settings, pure: the local cluster's per-alias
 * signing settings and the remote cluster's global list of signing CAs. No network.
 *
 * - local (signing): `cluster.remote.<alias>.signing.certificate` / `.signing.key`, PEM paths
 *   relative to the node's config directory, dynamic; the files must be on every node before the
 *   setting is written (Elasticsearch loads them when it applies the setting);
 * - the key's passphrase, if any, is the secure (keystore) setting {@link signingPassphraseSetting};
 * - remote (verifying): `cluster.remote.signing.certificate_authorities`, global and dynamic: a list
 *   shared with every other alias and person, of which we own only our own entries.
 */

/** The prefix of every signing setting of `alias`. */
function aliasPrefix(alias: string): string {
    return `cluster.remote.${alias}.signing`;
}

/** `cluster.remote.<alias>.signing.certificate`: the signing certificate (chain), PEM, relative to the config dir. */
export function signingCertificateSetting(alias: string): string {
    return `${aliasPrefix(alias)}.certificate`;
}

/** `cluster.remote.<alias>.signing.key`: the signing private key, PEM, relative to the config dir. */
export function signingKeySetting(alias: string): string {
    return `${aliasPrefix(alias)}.key`;
}

/**
 * The keystore setting of the signing key's passphrase. Elastic's reference page says
 * `.signing.key.secure_passphrase`; the 9.5.4 source (CrossClusterApiKeySigningSettings) and a
 * real 9.5.4 node say `.signing.secure_key_passphrase`: with that name in the keystore the reload
 * lists it in `secure_setting_names`; with the other, the node's reload answers "Setting [...] is a
 * non-secure setting and must be stored inside elasticsearch.yml, but was found inside the
 * Elasticsearch keystore" (docs/strong-identity.md quotes both).
 */
export function signingPassphraseSetting(alias: string): string {
    return `${aliasPrefix(alias)}.secure_key_passphrase`;
}

/** The first Elasticsearch version with strong identity: `certificate_identity` on keys, signed requests. */
export const MIN_STRONG_IDENTITY_VERSION = "9.3.0";

/** The remote's global list of CAs it verifies signatures against. */
export const SIGNING_CAS_SETTING = "cluster.remote.signing.certificate_authorities";

/** Whether the remote logs why a signature's chain is not trusted (global, dynamic). */
export const SIGNING_DIAGNOSE_TRUST_SETTING = "cluster.remote.signing.diagnose.trust";

/** Where the signing files of an alias are, relative to the node's config directory. */
export interface SigningFiles {
    /** The certificate (leaf first, then intermediates), e.g. `certs/signing-eu.crt`. */
    certificate: string;
    /** The private key (PKCS#8 or PKCS#1/SEC1 PEM), e.g. `certs/signing-eu.key`. */
    key: string;
}

/**
 * The persistent settings body that makes the local cluster sign its requests for `alias` with
 * `files`, or (`null`) stops signing: only this alias's two signing keys, nothing else.
 */
export function signingSettingsBody(alias: string, files: SigningFiles | null): { persistent: Record<string, string | null> } {
    return {
        persistent: {
            [signingCertificateSetting(alias)]: files ? files.certificate : null,
            [signingKeySetting(alias)]: files ? files.key : null,
        },
    };
}

/** The signing files of `alias` as a flat settings answer reports them (`undefined`: not signing). */
export function signingFilesIn(alias: string, flat: Record<string, unknown>): SigningFiles | undefined {
    const c = flat[signingCertificateSetting(alias)];
    const k = flat[signingKeySetting(alias)];
    return typeof c === "string" && typeof k === "string" ? { certificate: c, key: k } : undefined;
}

/**
 * The CA paths a flat settings answer (`?flat_settings=true`) holds in the global list, in its
 * order. A list set through the API comes back as a JSON array; one in `elasticsearch.yml` may be a
 * comma-separated string; the indexed form (`…certificate_authorities.0`) is read too.
 */
export function signingCasIn(flat: Record<string, unknown>): string[] {
    const v = flat[SIGNING_CAS_SETTING];
    if (Array.isArray(v)) return v.map(String).map((s) => s.trim()).filter(Boolean);
    if (typeof v === "string") return v.split(",").map((s) => s.trim()).filter(Boolean);
    const indexed = Object.keys(flat)
        .map((k) => /^cluster\.remote\.signing\.certificate_authorities\.(\d+)$/.exec(k))
        .filter((m): m is RegExpExecArray => m !== null)
        .sort((a, b) => Number(a[1]) - Number(b[1]))
        .map((m) => String(flat[m[0]]).trim());
    return indexed.filter(Boolean);
}

/**
 * `cluster.remote.signing.certificate_authorities` is a *filtered* setting (as SSL file settings
 * are): on 9.5.4, `GET _cluster/settings` (also with `include_defaults`), the cluster state and
 * `GET _nodes/settings` all leave it out, so `current` cannot come from the cluster. It comes from
 * the owners' own record of the list (docs/strong-identity.md, "Known limits"); {@link signingCasIn}
 * reads it only where a cluster does report it (elasticsearch.yml on the host, other versions).
 *
 * The global list after adding `add` and removing `remove`, keeping every other entry (other
 * aliases', other people's) where it was: entries are compared as paths (`./a` = `a`), an entry
 * already there is not added twice, and `null` when nothing is left (the setting is removed, not
 * set to an empty list). `changed` is false when the list stays as it is (nothing to write).
 */
export function mergeSigningCas(current: readonly string[], add: readonly string[], remove: readonly string[] = []): { list: string[] | null; changed: boolean } {
    const norm = (p: string) => p.trim().replace(/^(\.\/)+/, "").replace(/\/{2,}/g, "/");
    const removing = new Set(remove.map(norm));
    const kept = current.filter((p) => !removing.has(norm(p)));
    const have = new Set(kept.map(norm));
    const out = [...kept];
    for (const a of add) {
        if (!have.has(norm(a))) {
            out.push(a);
            have.add(norm(a));
        }
    }
    const changed = out.length !== current.length || out.some((p, i) => p !== current[i]);
    return { list: out.length ? out : null, changed };
}

/** The persistent settings body of the global list (`null`: remove the setting). */
export function signingCasBody(list: string[] | null): { persistent: Record<string, string[] | null> } {
    return { persistent: { [SIGNING_CAS_SETTING]: list } };
}

/**
 * Where this package places an alias's signing files in a local node's config directory: one pair
 * per alias, so two aliases never share (or remove) each other's files.
 */
export function signingFilesFor(alias: string): SigningFiles {
    return { certificate: `certs/es-remote-signing-${alias}.crt`, key: `certs/es-remote-signing-${alias}.key` };
}

/**
 * Where this package places a verification CA in a remote node's config directory, named by its
 * owner's tag (a resource name, an alias): the entry of the global list that owner owns.
 */
export function signingCaFileFor(tag: string): string {
    return `certs/es-remote-signing-ca-${tag.replace(/[^A-Za-z0-9_.-]/g, "_")}.crt`;
}
