/**
 * Preview checks of a node's access, writing nothing: the host answers, presents the pinned host
 * key, the login and `sudo -n` work (all proven by the first step that runs there), and the
 * directory the files go to exists and may be written. Every failure names the host, the directory
 * and the fix.
 */
import { NodeAccessError, describeError } from "../core/errors";
import { filesOn, isLocalAccess } from "./node";
import { describeAccess } from "./validate";
import type { NodeAccess } from "./types";

/**
 * What stops node-side steps in `directory` on the node `access` reaches, or `undefined`. The
 * local host is not checked here (as before node access existed, its writes say what is wrong).
 */
export async function directoryProblem(access: NodeAccess | undefined, directory: string): Promise<string | undefined> {
    if (isLocalAccess(access)) return undefined;
    let where = describeAccess(access);
    try {
        const f = await filesOn(access);
        where = f.where;
        // One step in the usual case; the stat only tells a missing folder from a file in its place.
        const w = await f.writable(directory);
        if (w?.byAccess) return undefined;
        if (w) return `${directory} on ${where} is not writable by the user the access acts as: set access.sudo (true for root, or { user } for the owner of the node's files)`;
        const st = await f.stat(directory);
        return st ? `${directory} on ${where} is not a directory` : `${directory} does not exist on ${where}; create it (e.g. the node's config directory) or fix the path`;
    } catch (e) {
        return e instanceof NodeAccessError ? e.message : `${where}: ${describeError(e)}`;
    }
}
