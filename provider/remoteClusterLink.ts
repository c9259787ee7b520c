/**
 * Hooks of `RemoteClusterLink`: registers a remote cluster on a local cluster and owns exactly the
 * `cluster.remote.<alias>.*` persistent settings it wrote (steps 1 and 3 of Elastic's procedure),
 * and, with an API key, the keystore entries and signing files that go with them. One lifecycle for
 * both security models; what differs is the link's model ({@link LinkModel}, provider/link/model.ts:
 * ./link/certificateModel.ts and ./link/apiKeyModel.ts):
 *
 * - check: validates every input, then the model's checks against the real clusters (versions,
 *   prerequisites, trust, keystores, licenses), before anything is written;
 * - create: claims the alias in this process, refuses an existing alias unless `adoptExisting`,
 *   runs the model's write-time refusals, then its writes, the settings in one request, and the wait
 *   for every local node to connect, each write with its undo: a failure takes them back, and if
 *   that fails too the engine records the link as not finished, so the next `up` finishes it;
 * - update: a model switch is a migration (./link/migration.ts); otherwise the model's writes and
 *   only the settings that changed (a mode switch clears the other mode's keys in the same request);
 * - read: the settings as the nodes apply them (hand edits become drift; a removed alias makes the
 *   resource gone), the versions and UUIDs now, and the model's drift (keystores, signing files);
 * - delete: this alias's keys set to null, then what the model placed on the nodes; an alias
 *   already gone is success.
 */
import * as pulumi from "@pulumi/pulumi";
import { clientFor, ClusterConnection, insecureWarnings, validateConnection } from "./core/client";
import { containsUnknown, HookModule, plain, plainInputs } from "./core/dynamic";
import { ConflictError, CreateInterruptedError, EsRemoteError } from "./core/errors";
import { forgetFact } from "./core/facts";
import { withUndo } from "./core/steps";
import { clusterUuidOf } from "./security/identity";
import { CheckFailure, failOnInvalid, urlsOf } from "./core/validation";
import { claimAlias, holdAlias, releaseAlias, releaseClaim } from "./link/claim";
import { nothingPaused } from "./link/replication";
import { desiredSettings, inputsOf, linkOutputs, nextUp, recorded, refuseOtherCluster } from "./link/state";
import type { LinkInputs, LinkOutputs, LinkRecordOutputs } from "./link/types";
import { clearBody, diffSettings, settingsBody, SETTING_KEYS, validateRemoteArgs } from "./link/settings";
import { validateApiKeyLinkArgs } from "./link/apiKeyModel";
import { keystoresClean } from "./link/keystores";
import { isApiKey, LinkModel, modelOf, Sides, Unfinished } from "./link/model";
import { resumeLeftPaused, switchModel } from "./link/migration";
import { aliasConflict, currentStatus, observe, observeForCreate, putSettings, RemoteStatus, remoteStatus, waitConnected, warnUnasked } from "./link/io";

/** What to do when a version pair is wire-compatible but not a supported cross-cluster search configuration. */
export type CcsCompatibility = "enforce" | "warn" | "ignore";

export type { LinkInputs, LinkOutputs } from "./link/types";

/** @internal Forgets the once-per-process warnings (tests run many "processes" in one). */
export { forgetWarnings } from "./link/certificateModel";

const DEFAULT_TIMEOUT_SECONDS = 60;

/** The settings part of the inputs, mode defaulted to sniff (kept here for importers of the hook file). */
export { desiredSettings };

const ENUMS = {
    ccsCompatibility: ["enforce", "warn", "ignore"],
};

function validateOwnArgs(n: Record<string, unknown>): CheckFailure[] {
    const f: CheckFailure[] = [];
    const w = n.waitForCertificates;
    if (w !== undefined && !containsUnknown(w) && (!Array.isArray(w) || w.some((x) => typeof x !== "string"))) {
        f.push({ property: "waitForCertificates", reason: "must be a list of strings, e.g. [cert.fingerprintSha256] of the NodeCertificates that establish trust" });
    }
    if (n.waitForConnection !== undefined && typeof n.waitForConnection !== "boolean") {
        f.push({ property: "waitForConnection", reason: "must be true or false" });
    }
    if (n.adoptExisting !== undefined && typeof n.adoptExisting !== "boolean") {
        f.push({ property: "adoptExisting", reason: "must be true or false" });
    }
    const t = n.connectionTimeoutSeconds;
    if (t !== undefined && (typeof t !== "number" || !Number.isFinite(t) || t < 1 || t > 3600)) {
        f.push({ property: "connectionTimeoutSeconds", reason: "must be a number of seconds between 1 and 3600" });
    }
    if (n.ccsCompatibility !== undefined && !ENUMS.ccsCompatibility.includes(String(n.ccsCompatibility))) {
        f.push({ property: "ccsCompatibility", reason: `must be one of ${ENUMS.ccsCompatibility.join(", ")} (got ${JSON.stringify(n.ccsCompatibility)})` });
    }
    return f;
}

/**
 * Validation without the network (pure): every input, each failure naming the property.
 * @internal
 */
export function validateLinkInputs(news: Record<string, unknown>): CheckFailure[] {
    const failures: CheckFailure[] = [];
    if (!containsUnknown(news.local)) failures.push(...validateConnection("local", news.local));
    if (news.remote !== undefined && !containsUnknown(news.remote)) failures.push(...validateConnection("remote", news.remote));
    failures.push(...validateRemoteArgs(news));
    failures.push(...validateOwnArgs(news));
    failures.push(...validateApiKeyLinkArgs(news));
    return failures;
}

/** A sentence ends with one full stop, whatever the text before it ended with. */
function sentence(s: string): string {
    return `${s.replace(/[.\s]+$/, "")}.`;
}

/** Every run that uses an unverified TLS connection says so. */
export function warnInsecure(i: { local?: ClusterConnection; remote?: ClusterConnection; alias?: string }): void {
    for (const side of ["local", "remote"] as const) {
        insecureWarnings(side, i[side]).forEach((m) => pulumi.log.warn(m));
    }
}

/**
 * The inputs the engine hands a writing hook, validated (a failure names the property; nothing is
 * written), with the engine's serialized provider kept for a recorded state (see `recorded`).
 */
function writable(news: unknown): LinkInputs {
    const i = plainInputs<LinkInputs>(news);
    failOnInvalid(validateLinkInputs(i as unknown as Record<string, unknown>));
    const provider = (news as { __provider?: string } | undefined)?.__provider;
    if (provider !== undefined) i.__provider = provider;
    return i;
}

/** What the state records beyond the inputs, from the sides read now (a side not read keeps the state's). */
function record(sides: Sides, olds?: Partial<LinkOutputs>): LinkRecordOutputs {
    return {
        localClusterUuid: sides.local.clusterUuid ?? olds?.localClusterUuid,
        remoteClusterUuid: sides.remote?.clusterUuid ?? olds?.remoteClusterUuid,
        adoptedFrom: olds?.adoptedFrom,
    };
}

/** The link's outputs from the status and the sides read now. */
function outputs(model: LinkModel, i: LinkInputs, s: RemoteStatus | undefined, sides: Sides, rec: LinkRecordOutputs, olds?: Partial<LinkOutputs>): LinkOutputs {
    return linkOutputs(i, s, { local: sides.local.minVersion || olds?.localVersion || "", remote: sides.remote?.minVersion || olds?.remoteVersion },
        model.withCredentials ? s !== undefined : undefined, rec);
}

/** The wait for every local node to connect (or, with waitForConnection: false, the status now). */
async function connection(client: ReturnType<typeof clientFor>, model: LinkModel, i: LinkInputs, sides: Sides): Promise<RemoteStatus> {
    const opts = { apiKey: model.withCredentials };
    if (!(i.waitForConnection ?? true)) return remoteStatus(client, i.local, i.alias, sides.local, opts);
    return waitConnected(client, i.local, i.alias, sides.local, i.connectionTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, opts);
}

// ---------------------------------------------------------------------------------------- hooks

/** The engine hands check the program's values as JSON: they are LinkInputs once validated. */
export async function check(olds: unknown, news: unknown): Promise<{ inputs: LinkInputs; failures: CheckFailure[] }> {
    const n = plainInputs<LinkInputs>(news);
    const failures = validateLinkInputs(n as unknown as Record<string, unknown>);
    if (failures.length) return { inputs: n, failures };
    const inputs: LinkInputs = { ...n, mode: n.mode ?? "sniff" };
    warnInsecure(inputs);
    // The checks of the model the program declares: a link going back from an API key to
    // certificate trust gets every certificate check, as a new one would.
    return { inputs, failures: await modelOf(inputs).preflight(plainInputs<LinkOutputs>(olds), inputs) };
}

/** `cluster_uuid` of the cluster behind a connection, or undefined when it cannot be told now. */
async function uuidBehind(label: string, conn: ClusterConnection | undefined): Promise<string | undefined> {
    if (!conn || containsUnknown(conn)) return undefined;
    try {
        return await clusterUuidOf(label, conn);
    } catch {
        return undefined;
    }
}

export async function diff(_id: string, olds: LinkOutputs, news: LinkInputs): Promise<pulumi.dynamic.DiffResult> {
    const o = olds;
    const n = news;
    const replaces: string[] = [];
    if (o.alias !== n.alias) replaces.push("alias");
    const changed = new Set<string>(diffSettings(desiredSettings(n), desiredSettings(o), { localVersion: o.localVersion }));
    for (const k of ["local", "remote", "waitForConnection", "connectionTimeoutSeconds", "ccsCompatibility", "adoptExisting", "security", "credential", "keystoreOn", "signing"] as const) {
        if (JSON.stringify(o[k] ?? null) !== JSON.stringify(n[k] ?? null)) changed.add(k);
    }
    // A keystore found without the credential at refresh is written again.
    if (o.keystoresInSync === false) changed.add("credential");
    // A signing file missing or changed on a node (refresh) is written again.
    if (o.signingInSync === false) changed.add("signing");
    // An unfinished create or migration, or replication it left paused: the update finishes it.
    if (o.createInterrupted) changed.add("createInterrupted");
    if (!nothingPaused(o.pausedReplication)) changed.add("pausedReplication");
    // New URLs for `local` are another way to reach the same cluster (an update), unless they reach
    // another cluster: the settings are not there, so the link is created there (a replacement).
    // States written before the UUID was recorded have none: they keep updating as before.
    let sameLocal = true;
    if (changed.has("local") && o.localClusterUuid) {
        const now = await uuidBehind("local", n.local);
        if (now && now !== o.localClusterUuid) {
            replaces.push("local");
            sameLocal = false;
        }
    }
    if (changed.has("remote") && o.remoteClusterUuid) {
        const now = await uuidBehind("remote", n.remote);
        if (now && now !== o.remoteClusterUuid) replaces.push("remote");
    }
    // waitForCertificates only orders the checks: a certificate being replaced is no change here.
    const { waitForCertificates: _ignored, ...compared } = n;
    if (containsUnknown(compared)) {
        return { changes: true, replaces };
    }
    // Replaced with the same alias on the same cluster: the old link's keys must go before the new
    // link writes them, or the create finds the alias taken and the delete then removes the new keys.
    const deleteBeforeReplace = replaces.length > 0 && !replaces.includes("alias") && sameLocal;
    return { changes: changed.size > 0 || replaces.length > 0, replaces, deleteBeforeReplace };
}

/**
 * Creates the link: the model's writes (an API key: the credential into every keystore and reload,
 * the signing files), the settings, the wait. Each write is paired with its undo
 * ({@link withUndo}); a failure after the first write takes them back (an adopted alias gets its
 * previous settings and keystore credential back), and if that fails too the engine records the
 * link as not finished, so nothing is left on the cluster the state does not know.
 */
export async function create(news: LinkInputs): Promise<{ id: string; outs: LinkOutputs }> {
    const i = writable(news);
    const model = modelOf(i);
    const alias = i.alias;
    const client = clientFor(i.local);
    const sides = await model.sides(i, client, true);
    const claim = claimAlias(sides.local.clusterUuid, i.local, alias);
    try {
        const observed = await observeForCreate(client, i.local, alias);
        forgetFact(i.local, `remote:${alias}`);
        const conflict = aliasConflict(i, observed);
        if (conflict) throw new ConflictError(`${sentence(conflict)} Nothing was written.`, { kind: "remote cluster alias", name: alias });
        await model.refuse(i, sides);
        // What the persistent layer held (an adopted alias) is what a failed create puts back.
        const existing = observed?.byLayer.persistent;
        const rec: LinkRecordOutputs = { ...record(sides), adoptedFrom: observed?.effective };
        const timeout = i.connectionTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
        const failed = (err: Error, cleanup: string): Error => err instanceof Unfinished ? err.make(cleanup) : new EsRemoteError(model.withCredentials
            ? `creating remote cluster '${alias}' (security: apiKey) failed: ${err.message}; ${cleanup}`
            : `the settings of remote cluster '${alias}' were sent to the local cluster (${urlsOf(i.local)}), then creating it failed: ${err.message}; ${cleanup}`,
        { alias }, { cause: err });
        const outs = await withUndo(async (w) => {
            await model.createWrites(w, client, i, observed !== undefined);
            // No `previous`: the body names every key, so an adopted alias ends up exactly as declared.
            await w.step("write the settings", () => putSettings(client, i.local, `register remote cluster '${alias}' (PUT _cluster/settings)`, settingsBody(alias, desiredSettings(i))),
                () => putSettings(client, i.local, `remove remote cluster '${alias}' after the failed create`, existing ? settingsBody(alias, existing) : clearBody(alias)),
                { undoneText: existing ? "its previous settings were restored" : "the settings this link wrote were removed" });
            const s = await connection(client, model, i, sides);
            if ((i.waitForConnection ?? true) && !s.connected) throw new Unfinished((cleanup) => model.notConnected(i, s, sides, timeout, cleanup));
            if (!s.connected) pulumi.log.info(`remote cluster '${alias}' is registered but not connected yet (waitForConnection: false)`);
            return outputs(model, i, s, sides, rec);
        }, {
            undone: failed,
            interrupted: (err, _failed, cleanup) => recorded(
                `${failed(err, cleanup).message.replace(/[.\s]+$/, "")}. What it wrote may still be on the cluster, so the stack records the link as not finished: ${nextUp(model.nextUpWhen, model.nextUpWrites)}`,
                i, { ...linkOutputs(i, undefined, { local: sides.local.minVersion, remote: sides.remote?.minVersion }, model.withCredentials ? false : undefined, rec), createInterrupted: true }, err),
        });
        return { id: alias, outs };
    } catch (e) {
        if (keystoresClean(e)) {
            releaseClaim(claim);
            // Nothing else was written yet, and every keystore written has given the credential back.
            throw new EsRemoteError(`creating remote cluster '${alias}' (security: apiKey) failed: ${(e as Error).message}. Nothing is left on the cluster`, { alias }, { cause: e });
        }
        // A failed create leaves the alias free, unless what it wrote may still be on the cluster.
        if (!(e instanceof CreateInterruptedError)) releaseClaim(claim);
        throw e;
    }
}

export async function read(id: string, props: LinkOutputs): Promise<pulumi.dynamic.ReadResult<LinkOutputs>> {
    const state = props;
    const model = modelOf(state);
    const alias = state.alias ?? id;
    const client = clientFor(state.local);
    const observed = await observe(client, state.local, alias);
    if (!observed) {
        // Removed by hand: the resource is gone, and the next `up` creates it again.
        return {};
    }
    // Versions change with upgrades (and diff takes skip_unavailable's default from the local one);
    // states of releases before the UUIDs were recorded get them now.
    const sides = await model.sides(state, client, false);
    // A node that lost the remote is asked to try once before it is reported.
    const status = await currentStatus(client, state.local, alias, sides.local, { apiKey: model.withCredentials });
    warnUnasked(alias, status);
    const drift = await model.drift(state);
    // The settings as the nodes apply them (transient over persistent over elasticsearch.yml), under
    // the input names: after a refresh, `pulumi preview --diff` shows each changed key as
    // old => new, and keys removed by hand as removed.
    const settingsNow: Record<string, unknown> = {};
    for (const [k] of SETTING_KEYS) settingsNow[k] = undefined;
    Object.assign(settingsNow, observed.effective);
    const inputs = plain({ ...inputsOf(state), ...settingsNow }) as LinkInputs;
    const fresh = plain({
        ...outputs(model, inputs, status, sides, {
            ...record(sides, state), createInterrupted: state.createInterrupted, pausedReplication: state.pausedReplication, signingInSync: drift.signingInSync,
        }, state),
        keystoresInSync: drift.keystoresInSync, keystoreDrift: drift.keystoreDrift, signingDrift: drift.signingDrift,
    }) as LinkOutputs;
    // ReadResult types `inputs` as the outputs' type; they are the inputs (see the engine's ReadResult doc).
    return { id: alias, props: fresh, inputs: inputs as unknown as LinkOutputs };
}

export async function update(_id: string, olds: LinkOutputs, news: LinkInputs): Promise<{ outs: LinkOutputs }> {
    const i = writable(news);
    const model = modelOf(i);
    const alias = i.alias;
    const client = clientFor(i.local);
    const sides = await model.sides(i, client, true);
    refuseOtherCluster(olds, sides.local.clusterUuid);
    const rec = record(sides, olds);
    const timeout = i.connectionTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    if (isApiKey(i) !== isApiKey(olds)) {
        return { outs: await switchModel(client, olds, i, sides, rec, timeout) };
    }
    // After an interrupted create nobody knows what is on the cluster: write every key.
    const body = settingsBody(alias, desiredSettings(i), olds.createInterrupted ? undefined : desiredSettings(olds));
    const settingsChange = Object.keys(body).length > 0;
    if (settingsChange || model.updateWrites(olds, i)) await model.refuse(i, sides);
    const credentialWritten = await model.updateBefore(client, olds, i);
    if (settingsChange) await putSettings(client, i.local, `update remote cluster '${alias}' (PUT _cluster/settings)`, body);
    await model.updateAfter(client, olds, i, rec);
    const wrote = credentialWritten || settingsChange;
    const s = wrote ? await connection(client, model, i, sides) : await remoteStatus(client, i.local, alias, sides.local, { apiKey: model.withCredentials });
    if (wrote && (i.waitForConnection ?? true) && !s.connected) {
        // The settings stay as declared (the state says so); the update fails so the user sees it.
        throw model.notConnected(i, s, sides, timeout, model.withCredentials ? "the new settings and credential stay in place" : "the new settings stay in place");
    }
    holdAlias(rec.localClusterUuid, i.local, alias);
    // Replication an earlier switch of the model left paused resumes once the link is connected.
    return { outs: await resumeLeftPaused(client, olds, i, s, outputs(model, i, s, sides, rec, olds)) };
}

export async function delete_(_id: string, props: LinkOutputs): Promise<void> {
    const model = modelOf(props);
    const client = clientFor(props.local);
    await putSettings(client, props.local, `remove remote cluster '${props.alias}' (PUT _cluster/settings)`, { ...clearBody(props.alias), ...model.clearedWithAlias(props) });
    await model.release(client, props);
    releaseAlias(props.localClusterUuid, props.local, props.alias);
}
export { delete_ as delete };

/** Compile-time proof that the hooks match the resource's inputs and outputs. */
const _hooks: HookModule<LinkInputs, LinkOutputs> = { check, diff, create, read, update, delete: delete_ };
void _hooks;
