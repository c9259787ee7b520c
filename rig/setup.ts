/**
 * Prepares a machine for the tests and the demo: the three Elasticsearch distributions and the
 * Pulumi CLI, each cached by version outside the repository. Prints what it did and how long it
 * took, so cold and warm runs can be compared.
 */
import { ensureDistribution, ES_VERSIONS, findJavaHome } from "./elasticsearch";
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
}
