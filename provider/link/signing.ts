/**
 * `RemoteClusterLink.signing` (security: "apiKey", Elasticsearch 9.3+): the local side of strong
 * identity. The link signs its requests for the alias with a certificate and key:
 *
 * 1. the files on every node of `keystoreOn` (`<configDir>/certs/es-remote-signing-<alias>.crt` /
 *    `.key`, provider/signing/settings.ts's `signingFilesFor`), written as every node file of this
 *    package is (provider/certs/delivery.ts: atomic, key 0600, owner kept, what was there kept
 *    aside and put back when signing stops);
 * 2. the key's passphrase, if any, in every keystore (`…signing.secure_key_passphrase`, on the
 *    tool's stdin), then `POST _nodes/reload_secure_settings`;
 * 3. `cluster.remote.<alias>.signing.certificate` / `.key` (dynamic): Elasticsearch refuses a path
 *    that is not on the node ("Configured file [...] not found"), so the files come first.
 *
 * Stopping reverses it: the settings, the passphrase, the files. Each write is a step of the
 * caller's {@link Writes} with its undo. Everything here reads and writes only this alias's names.
 */
import * as crypto from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { Client } from "@elastic/elasticsearch";
import { containsUnknown } from "../core/dynamic";
import { EsRemoteError, VersionIncompatibilityError } from "../core/errors";
import { clientFor, ClusterConnection } from "../core/client";
import { urlsOf } from "../core/validation";
import { nodeVersions } from "../apikey/checks";
import type { Writes } from "../core/steps";
import type { CheckFailure } from "../core/validation";
import { isPemCertificate } from "../certs/pem";
import { deliverKeyPair, KeyPairTarget, readKeyPair, releaseKeyPair } from "../certs/delivery";
import { onLocation } from "../access/node";
import { keystoreKey, KeystoreTarget, keystoreWhere, secureSettingState } from "./keystoreTool";
import { identityMatches, signingCertificateProblems, subjectDnRfc2253 } from "../signing/certificate";
import { MIN_STRONG_IDENTITY_VERSION, signingFilesFor, SigningFiles, signingPassphraseSetting, signingSettingsBody } from "../signing/settings";
import { nodesOlderThan } from "./compat";
import { putSettings } from "./io";
import { deliverSecureSetting, keystores, keystoresClean, withdrawSecureSetting } from "./keystores";
import type { LinkInputs } from "./types";

/** The link's `signing`, unwrapped. */
export type LinkSigning = NonNullable<LinkInputs["signing"]>;

/** The first Elasticsearch version that signs cross-cluster requests. */
export const MIN_SIGNING_VERSION = MIN_STRONG_IDENTITY_VERSION;

const PEM_KEY = /^-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----\s*$/;

/** Pure validation of the shape of `signing` (each failure names `signing.<field>`); never echoes a key or passphrase. */
export function validateSigningArgs(n: Record<string, unknown>): CheckFailure[] {
    const s = n.signing;
    if (s === undefined || s === null || containsUnknown(s)) return [];
    if (n.security !== "apiKey") {
        return [{ property: "signing", reason: "is only used with security: \"apiKey\" (strong identity signs the requests an API-key link sends); set security: \"apiKey\" with a credential and keystoreOn, or remove signing" }];
    }
    if (typeof s !== "object" || Array.isArray(s)) {
        return [{ property: "signing", reason: "must be an object { certPem, keyPem, keyPassphrase? } (the signing certificate and its key, PEM)" }];
    }
    const o = s as Record<string, unknown>;
    const f: CheckFailure[] = [];
    for (const k of Object.keys(o)) {
        if (!["certPem", "keyPem", "keyPassphrase"].includes(k)) f.push({ property: `signing.${k}`, reason: "is not a signing field; give certPem, keyPem and (for an encrypted key) keyPassphrase" });
    }
    if (!containsUnknown(o.certPem) && !isPemCertificate(o.certPem)) {
        f.push({ property: "signing.certPem", reason: "must be a PEM certificate (-----BEGIN CERTIFICATE-----), the leaf first: the certificate whose subject DN the key's certificate_identity matches" });
    }
    if (!containsUnknown(o.keyPem) && (typeof o.keyPem !== "string" || !PEM_KEY.test(o.keyPem.trim()))) {
        f.push({ property: "signing.keyPem", reason: "must be a PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY, EC PRIVATE KEY or ENCRYPTED PRIVATE KEY); its value is not shown" });
    }
    if (o.keyPassphrase !== undefined && !containsUnknown(o.keyPassphrase) && (typeof o.keyPassphrase !== "string" || o.keyPassphrase === "")) {
        f.push({ property: "signing.keyPassphrase", reason: "must be a non-empty string (the passphrase of an encrypted keyPem), or left out for a key that is not encrypted; its value is not shown" });
    }
    return f;
}

/**
 * What the certificate and key are themselves (pure, a preview check): the certificate parses, is
 * RSA or EC, is valid now and for 7 more days ({@link signingCertificateProblems}); the key opens
 * (with the passphrase, if any) and is the certificate's. Never throws, never echoes a secret.
 */
export function signingPemProblems(s: LinkSigning, now?: Date): CheckFailure[] {
    if (containsUnknown(s)) return [];
    const f: CheckFailure[] = signingCertificateProblems(s.certPem, { now }).map((reason) => ({ property: "signing.certPem", reason }));
    let key: crypto.KeyObject;
    try {
        key = crypto.createPrivateKey({ key: s.keyPem, format: "pem", ...(s.keyPassphrase ? { passphrase: s.keyPassphrase } : {}) });
    } catch {
        const encrypted = /ENCRYPTED/.test(s.keyPem) || /Proc-Type: 4,ENCRYPTED/.test(s.keyPem);
        f.push(encrypted && !s.keyPassphrase
            ? { property: "signing.keyPassphrase", reason: "keyPem is encrypted: give its passphrase (it goes to each keystore as the secure setting), or an unencrypted key" }
            : { property: encrypted ? "signing.keyPassphrase" : "signing.keyPem", reason: encrypted ? "does not open keyPem (wrong passphrase); its value is not shown" : "cannot be read as a private key; its value is not shown" });
        return f;
    }
    if (key.asymmetricKeyType !== "rsa" && key.asymmetricKeyType !== "ec") {
        f.push({ property: "signing.keyPem", reason: `is a ${key.asymmetricKeyType ?? "unknown"} key; Elasticsearch signs cross-cluster requests with RSA or EC keys only` });
        return f;
    }
    try {
        const pub = new crypto.X509Certificate(s.certPem).publicKey.export({ type: "spki", format: "der" });
        if (!crypto.createPublicKey(key).export({ type: "spki", format: "der" }).equals(pub)) {
            f.push({ property: "signing.keyPem", reason: "is not the private key of signing.certPem (their public keys differ): give the key the certificate was issued for" });
        }
    } catch {
        // The certificate's own problem is reported above.
    }
    return f;
}

/**
 * The key's `certificate_identity` against the certificate's subject DN, as the remote matches it
 * (the whole RFC 2253 DN): a failure naming `signing.certPem`, quoting both, or undefined.
 */
export function identityProblem(certPem: string, identity: string | undefined, keyId: string): CheckFailure | undefined {
    if (identity === undefined) return undefined;
    const dn = subjectDnRfc2253(certPem);
    if (dn === undefined) return undefined;
    if (identityMatches(identity, dn)) return undefined;
    return {
        property: "signing.certPem",
        reason: `its subject DN ${JSON.stringify(dn)} does not match the certificate_identity ${JSON.stringify(identity)} of API key ${keyId} (matched against the whole DN): ` +
            "the remote would refuse every request (\"DN from provided certificate [...] does not match API Key certificate identity pattern [...]\"). " +
            "Sign with a certificate of a matching subject, or give the key a pattern that matches (CrossClusterApiKey.certificateIdentity)",
    };
}

/** Nodes older than {@link MIN_SIGNING_VERSION}, named with their versions, as a failure of `signing`; undefined when all are new enough. */
export function signingVersionProblem(side: "local" | "remote", urls: string, nodes: Array<{ name: string; version: string }>): CheckFailure | undefined {
    const old = nodesOlderThan(nodes, MIN_SIGNING_VERSION);
    if (!old.length) return undefined;
    return {
        property: "signing",
        reason: `signing cross-cluster requests (strong identity) needs Elasticsearch ${MIN_SIGNING_VERSION} or later on every node of both clusters; the ${side} cluster (${urls}) has ` +
            `${old.map((n) => `${n.name} on ${n.version}`).join(", ")}. Upgrade those nodes first, or leave signing out`,
    };
}

// ------------------------------------------------------------------------------ on the nodes

/** Where the pair goes on one node: its config directory's `certs/`, the names of {@link signingFilesFor}. */
export function pairTarget(t: KeystoreTarget, alias: string): KeyPairTarget {
    const files = signingFilesFor(alias);
    return {
        directory: path.posix.join(t.configDir, path.posix.dirname(files.certificate)),
        access: t.access,
        certFile: path.posix.basename(files.certificate),
        keyFile: path.posix.basename(files.key),
    };
}

/** A failure of {@link placeSigningFiles} after it took back every file it wrote. */
function signingFilesClean(e: unknown): boolean {
    return e instanceof EsRemoteError && e.details.signingFilesClean === true;
}

/** Whether a failed {@link deliverKeyPair} may have written a file (it failed in the writes, not before them). */
function mayHaveWritten(e: unknown): boolean {
    return (e as { details?: { writing?: unknown } } | undefined)?.details?.writing === true;
}

/**
 * Puts back on one node what it held before `pems` were written: `previous` where the state recorded
 * the previous pair (`previousOn`; absent: every node), else what was there before the first write
 * (a node new to keystoreOn never gets a key the state did not put there).
 */
function restoreNode(t: KeystoreTarget, alias: string, pems: LinkSigning, previous: LinkSigning | undefined, previousOn: KeystoreTarget[] | undefined): Promise<unknown> {
    const recorded = previous && (!previousOn || previousOn.some((o) => keystoreKey(o) === keystoreKey(t)));
    return recorded ? deliverKeyPair(pairTarget(t, alias), previous!) : releaseKeyPair(pairTarget(t, alias), pems);
}

/**
 * Writes the pair on every node (all hosts at once). If a node cannot be written, the nodes written
 * (and a node that failed part-way, which may hold the new key beside the old certificate) get back
 * what they held before this write ({@link restoreNode}) before this throws, naming the node. A node
 * that failed before writing anything (unreachable, no certs/ folder) is left as it is: it is clean.
 */
export async function placeSigningFiles(i: Pick<LinkInputs, "alias" | "keystoreOn">, pems: LinkSigning, previous?: LinkSigning, previousOn?: KeystoreTarget[]): Promise<void> {
    const targets = keystores(i);
    const results = await Promise.allSettled(targets.map((t) => deliverKeyPair(pairTarget(t, i.alias), pems)));
    const failed = targets.filter((_, k) => results[k].status === "rejected");
    if (!failed.length) return;
    const written = targets.filter((_, k) => results[k].status === "fulfilled");
    const touched = targets.filter((_, k) => results[k].status === "fulfilled" || mayHaveWritten((results[k] as PromiseRejectedResult).reason));
    const undo = await Promise.allSettled(touched.map((t) => restoreNode(t, i.alias, pems, previous, previousOn)));
    const undoFailed = touched.filter((_, k) => undo[k].status === "rejected");
    const why = failed.map((t) => `${keystoreWhere(t)}: ${((results[targets.indexOf(t)] as PromiseRejectedResult).reason as Error).message}`).join("; ");
    const back = undoFailed.length === 0
        ? `${written.length ? `the ${written.length} node(s) already written hold ${previous ? "the previous signing files" : "what they held before"} again` : "no node was written"}`
        : `putting the files back failed on ${undoFailed.map(keystoreWhere).join(", ")}`;
    throw new EsRemoteError(`could not write the signing files of remote cluster '${i.alias}' on every node: ${why}; ${back}`,
        { nodes: failed.map(keystoreWhere), signingFilesClean: undoFailed.length === 0 }, { cause: (results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason });
}

/**
 * The undo of a write of `pems` that succeeded on every node: each node gets back what it held
 * before ({@link restoreNode}); never a release of a recorded previous pair, so a node that cannot be
 * put back leaves the others holding the files their settings name. Throws the first failure.
 */
async function restoreSigningFiles(i: Pick<LinkInputs, "alias" | "keystoreOn">, pems: LinkSigning, previous: LinkSigning, previousOn: KeystoreTarget[] | undefined): Promise<void> {
    const results = await Promise.allSettled(keystores(i).map((t) => restoreNode(t, i.alias, pems, previous, previousOn)));
    const first = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (first) throw first.reason;
}

/** Gives up the pair on every node (what was there before the first write back, or removed); throws the first failure after trying all. */
export async function releaseSigningFiles(i: Pick<LinkInputs, "alias" | "keystoreOn">, pems: LinkSigning): Promise<void> {
    const results = await Promise.allSettled(keystores(i).map((t) => releaseKeyPair(pairTarget(t, i.alias), pems)));
    results.forEach((r) => {
        if (r.status === "fulfilled" && r.value.kept.length) {
            pulumi.log.warn(`remote cluster '${i.alias}': left ${r.value.kept.map((k) => `${k.file} (${k.why})`).join(", ")}`);
        }
    });
    const first = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (first) throw first.reason;
}

/**
 * Adds the passphrase to every keystore (stdin only), reloads, and proves every node holds it from
 * the keystore written; on a failure the keystores already written get `previous` back (or lose it).
 */
export function addPassphrase(client: Client, i: Pick<LinkInputs, "alias" | "keystoreOn" | "local">, passphrase: string, previous?: string): Promise<void> {
    return deliverSecureSetting(client, i, signingPassphraseSetting(i.alias), passphrase, "the passphrase", previous);
}

/** Removes the passphrase from every keystore (absent is fine) and reloads; throws the first failure after trying all. */
export function removePassphrase(client: Client, i: Pick<LinkInputs, "alias" | "keystoreOn" | "local">): Promise<void> {
    return withdrawSecureSetting(client, i, signingPassphraseSetting(i.alias));
}

/** Writes (or, `null`, removes) only this alias's two signing settings. */
export async function putSigningSettings(client: Client, i: Pick<LinkInputs, "alias" | "local">, files: SigningFiles | null): Promise<void> {
    await putSettings(client, i.local, `${files ? "write" : "remove"} the signing settings of remote cluster '${i.alias}' (PUT _cluster/settings)`, signingSettingsBody(i.alias, files).persistent);
}

/** Throws, writing nothing, when a node of either side (the remote when its connection is given) is older than 9.3. */
async function refuseOldNodes(client: Client, i: LinkInputs): Promise<void> {
    const sides: Array<["local" | "remote", Client, ClusterConnection]> = [["local", client, i.local]];
    if (i.remote && !containsUnknown(i.remote)) sides.push(["remote", clientFor(i.remote), i.remote]);
    for (const [side, c, conn] of sides) {
        const nodes = await nodeVersions(c, side, conn);
        const p = signingVersionProblem(side, urlsOf(conn), nodes);
        if (!p) continue;
        const oldest = nodesOlderThan(nodes, MIN_SIGNING_VERSION).map((n) => n.version).sort()[0];
        throw new VersionIncompatibilityError(`remote cluster '${i.alias}': ${p.reason}. Nothing of the signing was written`, {
            localVersion: side === "local" ? oldest : "", remoteVersion: side === "remote" ? oldest : "", rule: `signing needs ${MIN_SIGNING_VERSION}+ on every node of both clusters`,
        });
    }
}

/**
 * The steps that make the link sign as `next` declares, from what `prev` (the state) had, each with
 * its undo on `w`: start (files, passphrase, settings), stop (settings, passphrase, files), or change
 * (new files over the same paths, the passphrase, the settings written again). `force`: after an
 * interrupted write or drift, every step of `next` runs even if `prev` says it is done.
 */
export async function signingSteps(w: Writes, client: Client, i: LinkInputs, prev: LinkSigning | undefined, next: LinkSigning | undefined, force = false, prevOn?: KeystoreTarget[]): Promise<void> {
    const files = signingFilesFor(i.alias);
    if (!next) {
        if (!prev) return;
        await w.step("remove the signing settings", () => putSigningSettings(client, i, null), () => putSigningSettings(client, i, files), { undoneText: "the signing settings were written back" });
        if (prev.keyPassphrase !== undefined) {
            await w.step("remove the signing key's passphrase from the keystores", () => removePassphrase(client, i),
                () => addPassphrase(client, i, prev.keyPassphrase!), { undoIfFailed: () => true, undoneText: "the keystores hold the passphrase again" });
        }
        // Last, once no setting names them; a node that fails gets its files back with the rest.
        await w.step("remove the signing files", () => releaseSigningFiles(i, prev), () => placeSigningFiles(i, prev, prev),
            { undoIfFailed: () => true, undoneText: "the signing files were written back" });
        return;
    }
    // The preview's version rule again, before the first write: the connections may not have been
    // known at preview (clusters made in the same program), and nodes change between preview and up.
    if (!prev || force) await refuseOldNodes(client, i);
    const same = !force && prev !== undefined && prev.certPem === next.certPem && prev.keyPem === next.keyPem;
    if (!same) {
        await w.step(prev ? "write the new signing files" : "place the signing files", () => placeSigningFiles(i, next, prev, prevOn),
            () => (prev ? restoreSigningFiles(i, next, prev, prevOn) : releaseSigningFiles(i, next)),
            { undoIfFailed: (e) => !signingFilesClean(e), undoneText: prev ? "the previous signing files were written back" : "the signing files were removed" });
    }
    if (next.keyPassphrase !== undefined && (force || next.keyPassphrase !== prev?.keyPassphrase)) {
        const before = prev?.keyPassphrase;
        await w.step("add the signing key's passphrase to the keystores", () => addPassphrase(client, i, next.keyPassphrase!, before),
            () => (before !== undefined ? addPassphrase(client, i, before) : removePassphrase(client, i)),
            { undoIfFailed: (e) => !keystoresClean(e), undoneText: before !== undefined ? "the keystores hold the previous passphrase again" : "the passphrase was removed from the keystores" });
    } else if (next.keyPassphrase === undefined && prev?.keyPassphrase !== undefined) {
        const before = prev.keyPassphrase;
        await w.step("remove the signing key's passphrase from the keystores", () => removePassphrase(client, i),
            () => addPassphrase(client, i, before), { undoIfFailed: () => true, undoneText: "the keystores hold the previous passphrase again" });
    }
    if (!prev || force) {
        await w.step("write the signing settings", () => putSigningSettings(client, i, files),
            () => (prev ? Promise.resolve() : putSigningSettings(client, i, null)), { undoneText: prev ? "the signing settings stay" : "the signing settings were removed" });
    }
}

/**
 * Whether every node holds the declared pair and every keystore the passphrase: one line per
 * drifted node (a file missing or changed, the passphrase gone or changed, a host that cannot be
 * read). Reads only; a secret never leaves this process (the passphrase is hashed on the node).
 */
export async function signingDrift(props: LinkInputs): Promise<string[]> {
    const s = props.signing;
    if (!s || props.security !== "apiKey") return [];
    const alias = props.alias;
    const drift: string[] = [];
    await Promise.all(keystores(props).map(async (t) => {
        const target = pairTarget(t, alias);
        const where = `${target.directory}${onLocation(t.access)}`;
        try {
            const on = await readKeyPair(target);
            if (on.certPem === undefined) drift.push(`${where}: ${target.certFile} is missing`);
            else if (on.certPem !== s.certPem) drift.push(`${where}: ${target.certFile} holds another certificate`);
            if (on.keyPem === undefined) drift.push(`${where}: ${target.keyFile} is missing`);
            else if (on.keyPem !== s.keyPem) drift.push(`${where}: ${target.keyFile} holds another key`);
            if (s.keyPassphrase !== undefined) {
                const st = await secureSettingState(t, signingPassphraseSetting(alias), s.keyPassphrase);
                if (st !== "same") drift.push(`${keystoreWhere(t)}: ${st === "absent" ? "no longer holds" : "holds another value for"} ${signingPassphraseSetting(alias)}`);
            }
        } catch (e) {
            drift.push(`${where}: could not be read (${(e as Error).message.split("\n")[0]})`);
        }
    }));
    return drift.sort();
}
