/**
 * `npm run clusters -- <command>`: local Elasticsearch clusters for the demo, the tests and you.
 *
 *   up [name:version ...] [--shared-ca]   start clusters (default: local:9.x remote:8.19.x)
 *   status                                 print the state file and each cluster's health
 *   down [name ...]                        stop clusters (all by default) by PID, remove their files
 *   config [name ...]                      print the clusters as the demo and examples take them
 *                                          (`pulumi config set clusters "$(npm run -s clusters -- config)"`)
 *
 * Versions may be given as aliases: 9, 8.19, 8.18 (the rig's pinned versions) or exact x.y.z.
 * The state file (machine-readable JSON) is printed by `status` and lives in $PULUMI_ES_REMOTE_RUN.
 */
import * as fs from "fs";
import * as path from "path";
import { generateCa } from "../provider/certs/pem";
import { ClusterInfo, ES_VERSIONS, rigClient, startCluster, stopCluster } from "./elasticsearch";
import { readState, stateFile, writeState } from "./state";

/** Resolves `9`, `8.19`, `8.18` to the pinned patch versions; anything else is taken as is. */
export function resolveVersion(v: string): string {
    const aliases: Record<string, string> = { "9": ES_VERSIONS.v9, "8.19": ES_VERSIONS.v819, "8.18": ES_VERSIONS.v818 };
    return aliases[v] ?? v;
}

async function up(args: string[]): Promise<void> {
    const sharedCa = args.includes("--shared-ca");
    const specs = args.filter((a) => !a.startsWith("--"));
    const wanted = (specs.length ? specs : [`local:${ES_VERSIONS.v9}`, `remote:${ES_VERSIONS.v819}`]).map((s) => {
        const [name, version] = s.split(":");
        if (!name || !version || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
            throw new Error(`'${s}': write clusters as name:version, e.g. local:9 remote:8.19 (names: lowercase letters, digits, '-')`);
        }
        return { name, version: resolveVersion(version) };
    });
    const state = readState();
    for (const w of wanted) {
        if (state.some((c) => c.name === w.name)) {
            throw new Error(`a cluster named '${w.name}' is already running (see 'npm run clusters -- status'); stop it with 'down ${w.name}'`);
        }
    }
    const transportCa = sharedCa ? await generateCa({ commonName: "rig shared transport CA" }) : undefined;
    // Start in parallel: on 2 cores this still saves most of the JVM start-up time.
    const results = await Promise.allSettled(wanted.map((w) => startCluster({ ...w, transportCa })));
    const started = results.filter((r): r is PromiseFulfilledResult<ClusterInfo> => r.status === "fulfilled").map((r) => r.value);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length) {
        await Promise.all(started.map((c) => stopCluster(c)));
        throw new Error(failed.map((f) => (f.reason as Error).message).join("\n"));
    }
    writeState([...state, ...started]);
    for (const c of started) {
        console.log(`${c.name}: Elasticsearch ${c.version} at ${c.url} (transport ${c.transportAddress}), user ${c.username}, CA ${c.httpCaFile}, pid ${c.pid}`);
    }
    console.log(`state file: ${stateFile()}`);
}

async function status(): Promise<void> {
    const state = readState();
    const report = await Promise.all(state.map(async (c) => {
        const client = rigClient(c);
        try {
            const h = await client.cluster.health();
            return { ...c, password: "<in state file>", health: h.status };
        } catch (e) {
            return { ...c, password: "<in state file>", health: `unreachable: ${(e as Error).message}` };
        } finally {
            await client.close();
        }
    }));
    console.log(JSON.stringify({ stateFile: stateFile(), clusters: report }, null, 2));
}

/** The `clusters` config value of the demo and the examples, for running clusters. */
export function exampleConfig(clusters: ClusterInfo[]): Array<Record<string, string>> {
    return clusters.map((c) => ({
        name: c.name,
        url: c.url,
        transportAddress: c.transportAddress,
        nodeName: c.nodeName,
        certsDir: path.join(c.configDir, "certs"),
        httpCaPem: fs.readFileSync(c.httpCaFile, "utf8"),
    }));
}

function config(names: string[]): void {
    const state = readState();
    const chosen = names.length ? names.map((n) => {
        const c = state.find((x) => x.name === n);
        if (!c) throw new Error(`no running cluster named '${n}'`);
        return c;
    }) : state;
    console.log(JSON.stringify(exampleConfig(chosen)));
}

async function down(names: string[]): Promise<void> {
    const state = readState();
    const stopping = names.length ? state.filter((c) => names.includes(c.name)) : state;
    for (const n of names) {
        if (!state.some((c) => c.name === n)) {
            console.error(`no running cluster named '${n}'`);
        }
    }
    await Promise.all(stopping.map(async (c) => {
        await stopCluster(c);
        console.log(`stopped ${c.name} (pid ${c.pid})`);
    }));
    writeState(state.filter((c) => !stopping.includes(c)));
}

async function main(argv: string[]): Promise<void> {
    const [cmd, ...rest] = argv;
    switch (cmd) {
        case "up":
            return up(rest);
        case "status":
            return status();
        case "down":
            return down(rest);
        case "config":
            return config(rest);
        default:
            console.error("usage: npm run clusters -- up [name:version ...] [--shared-ca] | status | down [name ...] | config [name ...]");
            process.exitCode = 2;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((e) => {
        console.error((e as Error).message);
        process.exitCode = 1;
    });
}
