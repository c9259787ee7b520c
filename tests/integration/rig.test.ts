/**
 * The rig itself, on real Elasticsearch: two clusters of different majors, transport TLS from one
 * CA, linked through the raw REST API (no product code), and a cross-cluster search that returns a
 * document indexed on the remote.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as https from "https";
import { rigClient } from "../../rig/elasticsearch";
import { pool } from "../support/pool";

describe("rig: real clusters, raw REST", function () {
    it("links 9.x to 8.19.x over certificate trust and searches across", async function () {
        const [local, remote] = await pool("v9", "v819");
        const lc = rigClient(local);
        const rc = rigClient(remote);
        const alias = "rig_raw";
        try {
            // Security and TLS really are on: a request over verified TLS without credentials is refused.
            const anonStatus = await new Promise<number>((resolve, reject) => {
                https.get(`${local.url}/_cluster/health`, { ca: fs.readFileSync(local.httpCaFile, "utf8") }, (res) => {
                    res.resume();
                    resolve(res.statusCode ?? 0);
                }).on("error", reject);
            });
            assert.strictEqual(anonStatus, 401, "anonymous access must be refused");

            const nodes = await rc.nodes.info({ filter_path: "nodes.*.version" });
            assert.deepStrictEqual(Object.values(nodes.nodes).map((n) => n.version), [remote.version]);
            assert.ok(fs.existsSync(local.transportCaFile));

            await rc.index({ index: "rig-docs", id: "1", document: { msg: "hello from 8.19" }, refresh: true });
            await lc.cluster.putSettings({ persistent: { [`cluster.remote.${alias}.seeds`]: [remote.transportAddress] } });

            let info: any;
            for (let i = 0; i < 60; i++) {
                info = (await lc.cluster.remoteInfo())[alias];
                if (info?.connected) break;
                await new Promise((r) => setTimeout(r, 500));
            }
            assert.strictEqual(info?.connected, true, `not connected: ${JSON.stringify(info)}`);
            assert.ok(info.num_nodes_connected >= 1);

            const res = await lc.search({ index: `${alias}:rig-docs`, query: { match_all: {} } });
            assert.strictEqual(res.hits.hits.length, 1);
            assert.strictEqual(res.hits.hits[0]._index, `${alias}:rig-docs`);
            assert.deepStrictEqual(res.hits.hits[0]._source, { msg: "hello from 8.19" });
        } finally {
            await lc.cluster.putSettings({ persistent: { [`cluster.remote.${alias}.seeds`]: null } }).catch(() => undefined);
            await rc.indices.delete({ index: "rig-docs", ignore_unavailable: true }).catch(() => undefined);
            await lc.close();
            await rc.close();
        }
    });
});
