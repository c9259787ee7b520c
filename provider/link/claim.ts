/**
 * Aliases this provider process is creating or has created, per local cluster, for links of both
 * security models. Two resources of one program declaring the same alias on the same cluster both
 * pass `check` (it sees one resource at a time, and before the first create the alias is free), and
 * the last write would win while destroying either removed both. The engine runs every dynamic
 * resource of a deployment in one provider process, so the second create finds the first one's
 * claim here and is refused; across runs, the existing alias refuses it (unless adoptExisting,
 * which says taking it over is meant).
 */
import type { ClusterConnection } from "../core/client";
import { ConflictError } from "../core/errors";
import { urlsOf } from "../core/validation";

const claimed = new Map<string, string>();

function claimKey(localUuid: string | undefined, local: ClusterConnection, alias: string): string {
    return `${localUuid ?? urlsOf(local)}|${alias}`;
}

/** Claims `alias` on the cluster for a create; throws ConflictError (nothing written) if another link of this program holds it. Returns the claim to release. */
export function claimAlias(localUuid: string | undefined, local: ClusterConnection, alias: string): string {
    const key = claimKey(localUuid, local, alias);
    if (claimed.has(key)) {
        throw new ConflictError(
            `another RemoteClusterLink of this program already manages remote cluster '${alias}' on the local cluster (${urlsOf(local)}); ` +
            "two links with one alias would overwrite each other and destroying either would remove both. Give each link its own alias. Nothing was written.",
            { kind: "remote cluster alias", name: alias });
    }
    claimed.set(key, alias);
    return key;
}

/** Records that an existing link (an update) holds the alias. */
export function holdAlias(localUuid: string | undefined, local: ClusterConnection, alias: string): void {
    claimed.set(claimKey(localUuid, local, alias), alias);
}

/** Gives a claim back (a create that left nothing, a delete). */
export function releaseClaim(key: string | undefined): void {
    if (key) claimed.delete(key);
}

/** Gives back the alias held by a link's state. */
export function releaseAlias(localUuid: string | undefined, local: ClusterConnection, alias: string): void {
    claimed.delete(claimKey(localUuid, local, alias));
}
