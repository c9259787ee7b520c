/**
 * A switch of a `RemoteClusterLink` between its security models (certificate trust ⇄ an API key) on
 * the same alias, in Elastic's documented order, and the resumption of the replication a switch
 * paused. The update hook (provider/remoteClusterLink.ts) calls {@link switchModel} when the state's
 * `security` and the program's differ; every step is a {@link Writes.step} with its undo.
 */
import * as pulumi from "@pulumi/pulumi";
import { Client } from "@elastic/elasticsearch";
import { plain } from "../core/dynamic";
import { RemoteNotConnectedError } from "../core/errors";
import { withUndo } from "../core/steps";
import { deliverCredential, withdrawCredential } from "./apiKeyModel";
import { localNodes, putSettings, RemoteStatus, waitConnected } from "./io";
import { keystoresClean } from "./keystores";
import { isApiKey, modelOf, Unfinished } from "./model";
import { nothingPaused, PausedReplication, pausedText, pauseReplication, resumeReplication } from "./replication";
import { clearBody, settingsBody } from "./settings";
import { LinkSigning, signingSteps } from "./signing";
import { desiredSettings, linkOutputs, nextUp, recorded } from "./state";
import { holdAlias } from "./claim";
import type { Sides } from "./model";
import type { LinkInputs, LinkOutputs, LinkRecordOutputs } from "./types";

/** Waits until every local remote_cluster_client node is connected (with the credential when `apiKey`). */
async function waitFor(client: Client, i: Pick<LinkInputs, "local" | "alias">, apiKey: boolean, timeoutSeconds: number): Promise<RemoteStatus> {
    return waitConnected(client, i.local, i.alias, await localNodes(client, i.local), timeoutSeconds, { apiKey });
}

/**
 * Resumes what an earlier, interrupted migration paused (`olds.pausedReplication`) once this link is
 * connected; until then (or if resuming fails) the state keeps the list, so the next up tries again.
 */
export async function resumeLeftPaused(client: Client, olds: LinkOutputs, i: LinkInputs, s: RemoteStatus, outs: LinkOutputs): Promise<LinkOutputs> {
    const paused = olds.pausedReplication;
    if (nothingPaused(paused)) return outs;
    if (!s.connected) {
        pulumi.log.warn(`remote cluster '${i.alias}': ${pausedText(paused!)} stay paused until the link is connected (the next 'pulumi up' resumes them)`);
        return { ...outs, pausedReplication: paused };
    }
    try {
        await resumeReplication(client, i.alias, paused);
    } catch (e) {
        throw recorded(`remote cluster '${i.alias}' is connected, but resuming ${pausedText(paused!)} (paused by an earlier migration) failed: ${(e as Error).message}; the stack keeps them as paused: run 'pulumi up' again`,
            i, { ...outs, pausedReplication: paused }, e as Error);
    }
    return outs;
}

/**
 * Certificate trust ⇄ API key, same alias, in Elastic's order: pause what replicates through the
 * alias, save and null the old settings, add (or remove) the credential and reload, re-add the alias
 * at the new port, verify, resume. Every step has its undo: any failure after the first write rolls
 * back to the old model's settings (the state's, not the cluster's, which after an earlier attempt
 * may already be the new model's), gives the keystores back what they held, and resumes what it
 * paused. If the rollback fails too, the engine records the link in the new model as not finished,
 * with what is still paused, so the next up finishes it and resumes them.
 */
export async function switchModel(client: Client, olds: LinkOutputs, i: LinkInputs, sides: Sides, rec: LinkRecordOutputs, timeout: number): Promise<LinkOutputs> {
    const model = modelOf(i);
    const alias = i.alias;
    const toApiKey = isApiKey(i);
    const from = toApiKey ? "certificate trust" : "an API key";
    const to = toApiKey ? "an API key" : "certificate trust";
    const fromLabel = toApiKey ? "certificate" : "API-key";
    const toLabel = toApiKey ? "API-key" : "certificate";
    // Write-time refusals of the model switched to: its licenses, or its version rule.
    await model.refuse(i, sides);
    const saved = desiredSettings(olds);
    pulumi.log.info(`remote cluster '${alias}': migrating from ${from} to ${to} (saved settings: ${JSON.stringify(saved)})`);
    const earlier = olds.pausedReplication ?? { followers: [], patterns: [] };
    let paused: PausedReplication = { followers: [], patterns: [] };
    const allPaused = (): PausedReplication => ({
        followers: [...new Set([...earlier.followers, ...paused.followers])], patterns: [...new Set([...earlier.patterns, ...paused.patterns])],
    });
    let resumeFailed = false;
    const s = await withUndo(async (w) => {
        paused = await w.step("pause replication through the alias", () => pauseReplication(client, alias),
            async () => {
                try {
                    await resumeReplication(client, alias, paused);
                } catch (e) {
                    resumeFailed = true;
                    throw e;
                }
            }, { undoneText: "what it paused was resumed" });
        if (!nothingPaused(paused)) pulumi.log.info(`remote cluster '${alias}': paused ${pausedText(paused)} for the switch`);
        // Certificate trust signs nothing: the API-key link's signing stops first (settings, passphrase, files).
        if (!toApiKey && olds.signing) await signingSteps(w, client, { ...olds, local: i.local }, olds.signing as LinkSigning, undefined);
        await w.step(`null the ${from} settings`, () => putSettings(client, i.local, `null remote cluster '${alias}' (migration step: remove the ${from} connection)`, clearBody(alias)),
            async () => {
                await putSettings(client, i.local, `restore remote cluster '${alias}' with ${from} (migration rollback)`, settingsBody(alias, saved));
                const back = await waitFor(client, olds, !toApiKey, timeout).catch(() => undefined);
                if (!back?.connected) pulumi.log.warn(`remote cluster '${alias}': the restored ${from} settings have not reconnected yet`);
            }, { undoneText: `the ${fromLabel} settings were restored` });
        if (toApiKey) {
            await w.step("add the credential to the keystores", () => deliverCredential(client, i), () => withdrawCredential(client, i),
                { undoIfFailed: (e) => !keystoresClean(e), undoneText: "the credential was removed from the keystores" });
            if (i.signing) await signingSteps(w, client, i, undefined, i.signing as LinkSigning);
        } else {
            await w.step("remove the credential from the keystores", () => withdrawCredential(client, olds), () => deliverCredential(client, olds),
                { undoIfFailed: () => true, undoneText: "the keystores hold the API key again" });
        }
        await w.step(`re-add the alias with ${to}`, () => putSettings(client, i.local, `re-add remote cluster '${alias}' with ${to} (PUT _cluster/settings)`, settingsBody(alias, desiredSettings(i))),
            () => putSettings(client, i.local, `null remote cluster '${alias}' (migration rollback)`, clearBody(alias)), { undoneText: `the ${toLabel} settings were removed` });
        const st = await waitFor(client, i, toApiKey, timeout);
        if ((i.waitForConnection ?? true) && !st.connected) {
            throw new Unfinished(() => model.notConnected(i, st, sides, timeout, "rolling back"));
        }
        return st;
    }, {
        undone: (err, cleanup) => new RemoteNotConnectedError(
            `migrating remote cluster '${alias}' to ${to} failed: ${err instanceof Unfinished ? err.make("it was rolled back").message : err.message}. Rolled back: ${cleanup}. The stack still records the ${fromLabel} link`,
            { alias, rolledBack: true }),
        interrupted: (err, failed, cleanup) => {
            const why = `migrating remote cluster '${alias}' to ${to} failed: ${err instanceof Unfinished ? err.make("rolling back").message : err.message}. Rolling back: ${cleanup}`;
            if (resumeFailed && failed.length === 1) {
                // Everything else is back as it was: the old model's state, with what is still paused.
                return recorded(`${why}. The ${fromLabel} link is back; the stack records ${pausedText(allPaused())} as paused: run 'pulumi up' again to resume them`,
                    i, { ...olds, ...rec, pausedReplication: allPaused() } as LinkOutputs, err);
            }
            // Recorded so that the next up finishes the switch: to an API key, as an unfinished
            // API-key link (its update writes the credential and every key); back to certificate
            // trust, as the unfinished API-key link it was (the next up runs this switch again, with
            // the API-key settings as the ones to restore, and takes the credential out).
            const paused = nothingPaused(allPaused()) ? "" : `, and ${pausedText(allPaused())} as paused`;
            const state = toApiKey
                ? linkOutputs(i, undefined, { local: olds.localVersion ?? "" }, false, { ...rec, pausedReplication: allPaused() })
                : { ...olds, ...rec, connected: false, pausedReplication: nothingPaused(allPaused()) ? undefined : allPaused() } as LinkOutputs;
            return recorded(`${why}. What it wrote may still be on the cluster, so the stack records the link (security: ${toApiKey ? "apiKey" : "apiKey, to be switched"}) as not finished${paused}: ${nextUp(model.nextUpWhen, model.nextUpWrites)}`,
                i, plain({ ...state, createInterrupted: true }), err);
        },
    });
    holdAlias(rec.localClusterUuid, i.local, alias);
    const outs = linkOutputs(i, s, { local: sides.local.minVersion, remote: sides.remote?.minVersion ?? olds.remoteVersion }, toApiKey ? true : undefined, rec);
    return resumeLeftPaused(client, { ...olds, pausedReplication: allPaused() }, i, s, outs);
}

