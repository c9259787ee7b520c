/**
 * Preview checks of a node's access, writing nothing: the host answers, presents the pinned host
 * key, the login and `sudo -n` work (all proven by running one script), and the directory the
 * files go to exists and may be written. Every failure names the host, the directory and the fix.
 */
import { NodeAccessError, describeError } from "../core/errors";
import { isLocalAccess, shellOn } from "./node";
import { describeAccess } from "./validate";
import type { NodeAccess } from "./types";

/** `$1`: the directory. Prints one word. */
const DIRECTORY_SCRIPT = `
d=$1
if [ ! -e "$d" ]; then echo missing; elif [ ! -d "$d" ]; then echo not-a-directory; elif [ ! -w "$d" ]; then echo not-writable; else echo ok; fi
`;

/**
 * What stops node-side steps in `directory` on the node `access` reaches, or `undefined`. The
 * local host is not checked here (as before node access existed, its writes say what is wrong).
 */
export async function directoryProblem(access: NodeAccess | undefined, directory: string): Promise<string | undefined> {
    if (isLocalAccess(access)) return undefined;
    let word: string;
    let where = describeAccess(access);
    try {
        const shell = await shellOn(access);
        where = shell.where;
        const r = await shell.run(DIRECTORY_SCRIPT, { args: [directory], timeoutMs: 60_000 });
        word = r.code === 0 ? r.stdout.toString("utf8").trim() : `exit-${r.code}`;
    } catch (e) {
        return e instanceof NodeAccessError ? e.message : `${where}: ${describeError(e)}`;
    }
    switch (word) {
        case "ok": return undefined;
        case "missing": return `${directory} does not exist on ${where}; create it (e.g. the node's config directory) or fix the path`;
        case "not-a-directory": return `${directory} on ${where} is not a directory`;
        case "not-writable": return `${directory} on ${where} is not writable by the user the access acts as: set access.sudo (true for root, or { user } for the owner of the node's files)`;
        default: return `checking ${directory} on ${where} failed (${word})`;
    }
}
