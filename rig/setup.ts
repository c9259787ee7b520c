/**
 * Prepares a machine for the tests and the demo: the three Elasticsearch distributions, the Pulumi
 * CLI (each cached by version outside the repository) and HAProxy for the rig's proxy (Debian's
 * package, installed with apt-get when missing and run as root). Prints what it did and how long
 * it took, so cold and warm runs can be compared.
 */
import { ensureDistribution, ES_VERSIONS, findJavaHome } from "./elasticsearch";
import { ensureHaproxy } from "./proxy";
import { pulumiBinDir } from "./pulumi";

function timed<T>(what: string, fn: () => T): T {
    const t0 = Date.now();
    const r = fn();
    console.log(`[setup] ${what}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return r;
}

if (require.main === module) {
    for (const v of Object.values(ES_VERSIONS)) {
        timed(`Elasticsearch ${v} (Java at ${findJavaHome(v)})`, () => ensureDistribution(v));
    }
    timed("Pulumi CLI", () => pulumiBinDir());
    try {
        timed("HAProxy", () => ensureHaproxy((m) => console.log(`[setup] ${m}`)));
    } catch (e) {
        // Only the proxy tests need it; they fail with this same message.
        console.log(`[setup] HAProxy: ${(e as Error).message}`);
    }
}
