/**
 * One secure setting of the link (the API-key credential, the signing key's passphrase) in every
 * local keystore of `keystoreOn`, then the reload that makes the nodes read it, and the proof that
 * each node holds it from the keystore just written. Values go to the keystore tool on its standard
 * input only (./keystoreTool.ts), never on a command line, and are never printed.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Client } from "@elastic/elasticsearch";
import { EsRemoteError } from "../core/errors";
import { urlsOf } from "../core/validation";
import { addSecureSetting, KeystoreTarget, keystoreFileDigest, keystoreWhere, removeSecureSetting } from "./keystoreTool";
import { nodesMissing, nodesOnOtherKeystore, reloadSecureSettings } from "./reload";
import type { LinkInputs } from "./types";

type On = Pick<LinkInputs, "alias" | "local" | "keystoreOn">;

/** The keystores of the inputs (validated by check: the engine's JSON has this shape). */
export function keystores(i: Pick<LinkInputs, "keystoreOn">): KeystoreTarget[] {
    return (i.keystoreOn ?? []) as KeystoreTarget[];
}

/**
 * Adds `name` = `value` to every keystore (all hosts at once), reloads, and checks that every node
 * holds it from one of the keystores written. If a keystore cannot be written (a host down, a
 * refused login), the keystores already written get `previous` back (or lose the setting) before
 * this throws, naming the host: nothing is left behind that the state would not know. `what` names
 * the value in messages ("the credential", "the passphrase").
 */
export async function deliverSecureSetting(client: Client, i: On, name: string, value: string, what: string, previous?: string): Promise<void> {
    const targets = keystores(i);
    const results = await Promise.allSettled(targets.map((t) => addSecureSetting(t, name, value)));
    const failed = results.map((r, k) => ({ r, t: targets[k] })).filter((x) => x.r.status === "rejected");
    if (failed.length) {
        const written = targets.filter((_, k) => results[k].status === "fulfilled");
        const undo = await Promise.allSettled(written.map((t) => (previous !== undefined ? addSecureSetting(t, name, previous) : removeSecureSetting(t, name))));
        const undoFailed = written.filter((_, k) => undo[k].status === "rejected");
        if (written.length) await reloadSecureSettings(client, i.local).catch(() => undefined);
        const why = failed.map((x) => `${keystoreWhere(x.t)}: ${((x.r as PromiseRejectedResult).reason as Error).message}`).join("; ");
        const back = written.length === 0 ? "no keystore was written"
            : undoFailed.length === 0 ? `the ${written.length} keystore(s) already written ${previous !== undefined ? `hold the previous value again` : `lost ${what} again`} (${written.map(keystoreWhere).join(", ")})`
                : `${previous !== undefined ? "putting the previous value back" : "removing it again"} failed on ${undoFailed.map(keystoreWhere).join(", ")}: ${previous !== undefined ? "run 'pulumi up' again" : `remove ${name} there by hand`}`;
        // keystoresClean: the callers' undo must not try the keystores again (a host that is down
        // would fail it a second time and the message would ask for a removal by hand that is done).
        throw new EsRemoteError(`could not add ${name} to every local keystore: ${why}; ${back}`,
            { keystores: failed.map((x) => keystoreWhere(x.t)), keystoresClean: undoFailed.length === 0 }, { cause: (failed[0].r as PromiseRejectedResult).reason });
    }
    // The files as written, before any node reads them: what each node must report it loaded.
    const files = await Promise.all(targets.map((t) => keystoreFileDigest(t).catch(() => undefined)));
    const digests = files.every((d) => d !== undefined) ? files as string[] : undefined;
    const nodes = await reloadSecureSettings(client, i.local);
    const missing = nodesMissing(nodes, name);
    if (missing.length) {
        throw new EsRemoteError(
            `after the reload, ${missing.map((n) => `${n.name} (keystore ${n.keystorePath ?? "?"})`).join(", ")} of the local cluster (${urlsOf(i.local)}) do not hold ${name}: ` +
            `add each node's { esHome, configDir, access } to keystoreOn`, { nodes: missing.map((n) => n.name) });
    }
    // A node that holds the setting from a keystore none of keystoreOn is keeps its old value (a
    // rotation's old key): its _remote/info shows cluster_credentials all the same, and the old key's
    // invalidation would break it. Only a node that reports its keystore's digest (9.x) can be told.
    if (!digests) pulumi.log.warn(`remote cluster '${i.alias}': the digest of ${targets.filter((_, k) => files[k] === undefined).map(keystoreWhere).join(", ")} could not be read, so which keystore each node loaded is not checked`);
    const elsewhere = digests ? nodesOnOtherKeystore(nodes, digests) : [];
    if (elsewhere.length) {
        throw new EsRemoteError(
            `after the reload, ${elsewhere.map((n) => `${n.name} (keystore ${n.keystorePath ?? "?"})`).join(", ")} of the local cluster (${urlsOf(i.local)}) loaded a keystore that is none of the ${targets.length} keystoreOn wrote, ` +
            `so it holds ${name} with another value (the previous one, for a rotation): give that node's own { esHome, configDir, access } in keystoreOn (its config directory, the one it runs with)`,
            { nodes: elsewhere.map((n) => n.name) });
    }
    const unproven = nodes.filter((n) => n.keystoreDigest === undefined && !n.error);
    if (unproven.length) {
        pulumi.log.info(`remote cluster '${i.alias}': ${unproven.map((n) => n.name).join(", ")} report${unproven.length > 1 ? "" : "s"} no keystore_digest from the reload (8.19 does not): that ${unproven.length > 1 ? "they hold" : "it holds"} the new value of ${name} rests on keystoreOn naming their keystores`);
    }
}

/** True when `e` is {@link deliverSecureSetting}'s failure after it took back every keystore it wrote. */
export function keystoresClean(e: unknown): boolean {
    return e instanceof EsRemoteError && e.details.keystoresClean === true;
}

/** Removes `name` from every keystore (all hosts at once; absent is fine) and reloads; throws the first failure after trying all. */
export async function withdrawSecureSetting(client: Client, i: On, name: string): Promise<void> {
    const results = await Promise.allSettled(keystores(i).map((t) => removeSecureSetting(t, name)));
    await reloadSecureSettings(client, i.local);
    const first = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (first) throw first.reason;
}
