// A remote link whose endpoints come from another stack: connections (with their secret passwords)
// and transport addresses are read through a StackReference, so this project holds no credentials.
import * as pulumi from "@pulumi/pulumi";
import { RemoteClusterLink } from "pulumi-es-remote";

const config = new pulumi.Config();
const clusters = new pulumi.StackReference(config.require("clustersStack"));
const localName = config.require("local");
const remoteName = config.require("remote");

const connections = clusters.requireOutput("connections") as pulumi.Output<Record<string, any>>;
const addresses = clusters.requireOutput("transportAddresses") as pulumi.Output<Record<string, string>>;

const link = new RemoteClusterLink("link", {
    local: connections.apply((c) => c[localName]),
    remote: connections.apply((c) => c[remoteName]),
    alias: remoteName,
    seeds: [addresses.apply((a) => a[remoteName])],
});

export const connected = link.connected;
export const remoteVersion = link.remoteVersion;
