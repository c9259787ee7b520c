/**
 * Where the rig keeps downloads, builds and running clusters: outside the repository, cached by
 * version, so warm runs are fast and nothing downloaded is ever committed.
 */
import * as os from "os";
import * as path from "path";

/**
 * The cache root. Elasticsearch runs as an unprivileged user, who must be able to read the
 * distribution: root's home is not traversable by others, so root caches under /var/cache.
 */
export function cacheRoot(): string {
    if (process.env.PULUMI_ES_REMOTE_CACHE) {
        return path.resolve(process.env.PULUMI_ES_REMOTE_CACHE);
    }
    if (process.getuid && process.getuid() === 0) {
        return "/var/cache/pulumi-es-remote";
    }
    return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "pulumi-es-remote");
}

/** Folder holding running clusters' files and the state file of `npm run clusters`. */
export function runRoot(): string {
    return path.resolve(process.env.PULUMI_ES_REMOTE_RUN ?? path.join(os.tmpdir(), "pulumi-es-remote-rig"));
}

/** The repository root (this file is compiled to dist/rig/paths.js). */
export function repoRoot(): string {
    return path.resolve(__dirname, "..", "..");
}
