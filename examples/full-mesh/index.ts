// Every cluster registered as a remote of every other one, for however many clusters the config lists.
import * as pulumi from "@pulumi/pulumi";
import { RemoteClusterMesh } from "pulumi-es-remote";

interface Cluster { name: string; url: string; transportAddress: string; httpCaPem: string }
const config = new pulumi.Config();
const clusters = config.requireObject<Cluster[]>("clusters");
const password = config.requireSecret("elasticPassword");
const conn = (c: Cluster) => ({ urls: [c.url], username: "elastic", password, caPem: c.httpCaPem });

// Assumes transport trust between all clusters (one SharedCa for every node, see cross-cluster-search).
const mesh = new RemoteClusterMesh("mesh", {
    members: clusters.map((c) => ({ alias: c.name, connection: conn(c), seeds: [c.transportAddress] })),
    linkOptions: { skipUnavailable: true, connectionTimeoutSeconds: 60 },
});

export const links = Object.fromEntries(Object.entries(mesh.links).map(([k, l]) => [k, l.connected]));
