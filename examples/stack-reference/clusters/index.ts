// Stands in for the stack that provisions your clusters (Terraform output, another Pulumi project…):
// it exports each cluster's connection (password as a secret) and transport address.
import * as pulumi from "@pulumi/pulumi";

interface Cluster { name: string; url: string; transportAddress: string; httpCaPem: string }
const config = new pulumi.Config();
const clusters = config.requireObject<Cluster[]>("clusters");
const password = config.requireSecret("elasticPassword");

export const connections = Object.fromEntries(clusters.map((c) => [c.name, {
    urls: [c.url],
    username: "elastic",
    password,
    caPem: c.httpCaPem,
}]));
export const transportAddresses = Object.fromEntries(clusters.map((c) => [c.name, c.transportAddress]));
