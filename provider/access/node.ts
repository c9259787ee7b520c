/**
 * The one place a hook turns a node access into what the node-side steps use: its files
 * ({@link filesOn}) and its shell ({@link shellOn}). Connections are pooled per process by
 * ./shell (one per host, shared by every resource); warnings an access asks for (a host key
 * accepted unchecked) go to Pulumi's log on every run.
 */
import * as pulumi from "@pulumi/pulumi";
import { NodeFiles, localFiles, shellFiles } from "./files";
import { shellFor } from "./shell";
import type { NodeAccess, NodeShell } from "./types";

/** True when `a` means the machine that runs `pulumi`, as this package's steps were before access existed. */
export function isLocalAccess(a: NodeAccess | undefined): boolean {
    return a === undefined || a === null || (a.ssh === undefined && a.command === undefined && !a.sudo);
}

const warn = (m: string) => {
    void pulumi.log.warn(m);
};

/** The files of the node `a` reaches: this process's `fs` for the local host, else scripts over its shell. */
export async function filesOn(a: NodeAccess | undefined): Promise<NodeFiles> {
    return isLocalAccess(a) ? localFiles() : shellFiles(await shellFor(a, { warn }));
}

/** The shell of the node `a` reaches (the local host's `sh` by default). */
export async function shellOn(a: NodeAccess | undefined): Promise<NodeShell> {
    return shellFor(isLocalAccess(a) ? undefined : a, { warn });
}

/**
 * Which machine `a` reaches, for telling two node paths apart: `""` (this host), `ssh://host:port`
 * (the jump host does not matter: the same node is the same files), or `command:<argv>`. The login
 * user, the credential and sudo are how, not where: changing them moves nothing.
 */
export function locationOf(a: NodeAccess | undefined): string {
    if (a?.ssh) return `ssh://${String(a.ssh.host).toLowerCase()}:${a.ssh.port ?? 22}`;
    if (a?.command) return `command:${JSON.stringify(a.command)}`;
    return "";
}

/** ` on <location>` for a node on another host (`on ssh://h:22`), "" for this host: for messages after a path. */
export function onLocation(a: NodeAccess | undefined): string {
    const loc = locationOf(a);
    return loc ? ` on ${loc}` : "";
}

/** `path` on the node `a` reaches, as one comparable key (`ssh://h:22/etc/elasticsearch/certs/transport.crt`). */
export function nodePath(a: NodeAccess | undefined, path: string): string {
    return `${locationOf(a)}${path}`;
}
