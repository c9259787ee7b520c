/**
 * Load through the real Pulumi CLI: twelve links, ten cross-cluster roles and four users on the
 * same pair of clusters, created in ONE `pulumi up` (the engine runs independent resources in
 * parallel, so their writes to `_cluster/settings` and `_security` interleave). Afterwards every
 * link, role and user is there with its own values (none lost, none clobbering another), nothing
 * else on the clusters changed, a preview and a refresh see no drift, and one destroy removes all.
 *
 * Figures (durations) are printed with a `[load]` prefix; nothing asserts a timing.
 */
import * as assert from "assert";
import { ClusterInfo } from "../../rig/elasticsearch";
import { pulumi, runPulumi } from "../../rig/pulumi";
import { connectionTo, remoteKeys, withClient } from "../support/connections";
import { pool } from "../support/pool";
import { tempProject, TempProject } from "../support/project";

const LINKS = 12;
const ROLES = 10;
const USERS = 4;

const pad = (i: number) => String(i).padStart(2, "0");

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { RemoteClusterLink, CrossClusterRole, CrossClusterUser } = require("pulumi-es-remote");
const cfg = new pulumi.Config();
const local = cfg.requireSecretObject("local");
const remote = cfg.requireSecretObject("remote");
const pad = (i) => String(i).padStart(2, "0");
for (let i = 0; i < ${LINKS}; i++) {
    new RemoteClusterLink("load-link-" + pad(i), {
        local, remote, alias: "load_" + pad(i), seeds: [cfg.require("seed")],
        nodeConnections: 1 + (i % 3), skipUnavailable: i % 2 === 0, transportPingSchedule: (10 + i) + "s",
        connectionTimeoutSeconds: 120,
    });
}
const roles = [];
for (let j = 0; j < ${ROLES}; j++) {
    roles.push(new CrossClusterRole("load-role-" + pad(j), { local, remote, name: "load_role_" + pad(j), preset: "search", indices: ["load-" + pad(j) + "-*"] }));
}
for (let k = 0; k < ${USERS}; k++) {
    new CrossClusterUser("load-user-" + pad(k), { local, username: "load_user_" + pad(k), roles: [roles[k].name] });
}
`;

/** Everything on a cluster that is not this test's: other aliases' keys, roles, users. */
async function others(c: ClusterInfo): Promise<unknown> {
    return withClient(c, async (client) => {
        const s = await client.cluster.getSettings({ flat_settings: true });
        const roles = await client.security.getRole();
        const users = await client.security.getUser();
        const notLoad = (k: string) => !/load_/.test(k);
        return {
            persistent: Object.fromEntries(Object.entries(s.persistent ?? {}).filter(([k]) => notLoad(k))),
            roles: Object.keys(roles).filter(notLoad).sort(),
            users: Object.keys(users).filter(notLoad).sort(),
        };
    });
}

describe("e2e: load — links, roles and users created in parallel by one up", function () {
    this.timeout(30 * 60 * 1000);
    let local: ClusterInfo;
    let remote: ClusterInfo;
    let p: TempProject | undefined;

    before(async function () {
        [local, remote] = await pool("v9", "v819");
    });
    after(async function () {
        if (p) {
            await runPulumi(p.ws, ["destroy", "--yes"]);
            p.remove();
        }
    });

    it(`${LINKS} links, ${ROLES} roles and ${USERS} users: all there with their own values; destroy removes all`, async () => {
        p = await tempProject("e2e-load", PROGRAM);
        await pulumi(p.ws, ["config", "set", "--secret", "local", JSON.stringify(connectionTo(local))]);
        await pulumi(p.ws, ["config", "set", "--secret", "remote", JSON.stringify(connectionTo(remote))]);
        await pulumi(p.ws, ["config", "set", "seed", remote.transportAddress]);
        const before = [await others(local), await others(remote)];

        const t0 = Date.now();
        const up = await runPulumi(p.ws, ["up", "--yes", "--parallel", "32"]);
        const upSeconds = (Date.now() - t0) / 1000;
        assert.strictEqual(up.code, 0, up.output.slice(-4000));
        assert.match(up.output, new RegExp(`\\+ ${LINKS + ROLES + USERS + 1} created`));

        // Links: exactly their own keys, values and connection.
        const keys = await remoteKeys(local);
        const aliases = [...new Set(Object.keys(keys).map((k) => k.split(".")[2]))].filter((a) => a.startsWith("load_")).sort();
        assert.deepStrictEqual(aliases, Array.from({ length: LINKS }, (_, i) => `load_${pad(i)}`));
        for (let i = 0; i < LINKS; i++) {
            const a = `load_${pad(i)}`;
            assert.deepStrictEqual(await remoteKeys(local, a), {
                [`cluster.remote.${a}.mode`]: "sniff",
                [`cluster.remote.${a}.seeds`]: [remote.transportAddress],
                [`cluster.remote.${a}.node_connections`]: String(1 + (i % 3)),
                [`cluster.remote.${a}.skip_unavailable`]: String(i % 2 === 0),
                [`cluster.remote.${a}.transport.ping_schedule`]: `${10 + i}s`,
            }, a);
        }
        const info = await withClient(local, (c) => c.cluster.remoteInfo());
        const connected = Object.entries(info).filter(([a, r]) => a.startsWith("load_") && (r as { connected?: boolean }).connected).length;
        assert.strictEqual(connected, LINKS, "every link connected");

        // Roles on both sides, each with its own index pattern; users on the local side only.
        for (let j = 0; j < ROLES; j++) {
            const name = `load_role_${pad(j)}`;
            const onRemote = await withClient(remote, (c) => c.security.getRole({ name }));
            const onLocal = await withClient(local, (c) => c.security.getRole({ name }));
            assert.ok(onLocal[name], `${name} on the local cluster`);
            assert.ok(JSON.stringify(onRemote[name]).includes(`load-${pad(j)}-*`), `${name} on the remote grants its own pattern: ${JSON.stringify(onRemote[name])}`);
            for (let other = 0; other < ROLES; other++) {
                if (other !== j) assert.ok(!JSON.stringify(onRemote[name]).includes(`load-${pad(other)}-*`), `${name} holds another role's pattern`);
            }
        }
        for (let k = 0; k < USERS; k++) {
            const username = `load_user_${pad(k)}`;
            const u = await withClient(local, (c) => c.security.getUser({ username }));
            assert.deepStrictEqual(u[username].roles, [`load_role_${pad(k)}`]);
            // Only a 404 means "no such user": any other failure of the remote must fail the test.
            const onRemote = await withClient(remote, (c) => c.security.getUser({ username }, { ignore: [404], meta: true }));
            assert.strictEqual(onRemote.statusCode, 404, `users live on the local cluster only: ${JSON.stringify(onRemote.body)}`);
        }
        assert.deepStrictEqual([await others(local), await others(remote)], before, "nothing else on the clusters changed");

        const t1 = Date.now();
        const pre = await runPulumi(p.ws, ["preview", "--expect-no-changes"]);
        assert.strictEqual(pre.code, 0, pre.output.slice(-3000));
        const refresh = await runPulumi(p.ws, ["refresh", "--yes", "--expect-no-changes"]);
        assert.strictEqual(refresh.code, 0, refresh.output.slice(-3000));
        const checkSeconds = (Date.now() - t1) / 1000;

        const t2 = Date.now();
        const destroy = await runPulumi(p.ws, ["destroy", "--yes", "--parallel", "32"]);
        const destroySeconds = (Date.now() - t2) / 1000;
        assert.strictEqual(destroy.code, 0, destroy.output.slice(-3000));
        assert.deepStrictEqual(Object.keys(await remoteKeys(local)).filter((k) => k.includes("load_")), []);
        for (const c of [local, remote]) {
            const roles = await withClient(c, (cl) => cl.security.getRole());
            assert.deepStrictEqual(Object.keys(roles).filter((r) => r.startsWith("load_")), []);
            const users = await withClient(c, (cl) => cl.security.getUser());
            assert.deepStrictEqual(Object.keys(users).filter((u) => u.startsWith("load_")), []);
        }
        assert.deepStrictEqual([await others(local), await others(remote)], before);
        process.stderr.write(`[load] ${LINKS} links + ${ROLES} roles + ${USERS} users: up ${upSeconds.toFixed(1)} s, preview + refresh ${checkSeconds.toFixed(1)} s, destroy ${destroySeconds.toFixed(1)} s; all present with their own values, none clobbered, all removed\n`);
        p.remove();
        p = undefined;
    });
});
