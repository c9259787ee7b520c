/**
 * Node access: how the provider reaches a node's files and tools. The shapes the hooks receive
 * (the sdk's args, unwrapped), and the one interface every kind of access implements.
 *
 * Like elasticsearch-js's Transport over HttpConnection/UndiciConnection: the steps on a node
 * (files, keystore) are written once against {@link NodeShell}; the local host, SSH and a command
 * prefix differ only in how a script reaches the node.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { NodeAccessArgs, SshAccessArgs, SshHopArgs } from "../../sdk/nodeAccess";

/** One SSH hop, unwrapped. */
export type SshHop = pulumi.Unwrap<SshHopArgs>;
/** SSH access, unwrapped. */
export type SshAccess = pulumi.Unwrap<SshAccessArgs>;
/** A node access, unwrapped. `undefined` (or `{}`) is the machine that runs `pulumi`. */
export type NodeAccess = pulumi.Unwrap<NodeAccessArgs>;

/** What a script run on a node returned. */
export interface ShellResult {
    /** Exit code (a signal or a lost channel: -1). */
    code: number;
    /** Standard output, bytes. May hold what the script read from files: never log it. */
    stdout: Buffer;
    /** Standard error, text (cut to a few KB). */
    stderr: string;
}

/** Options of one {@link NodeShell.run}. */
export interface RunOptions {
    /**
     * Positional parameters `$1…` of the script. Travel on the node's command line (visible in `ps`
     * there): paths and names only, never a secret.
     */
    args?: string[];
    /** Bytes on the script's standard input: the only way a secret reaches the node. */
    stdin?: string | Buffer;
    /** Milliseconds before the run is abandoned (and reported as a timeout naming the host). Default 180 000. */
    timeoutMs?: number;
}

/**
 * A POSIX shell on one node, as the access's effective user (after `sudo`, if set). Implemented by
 * the local host, SSH ({@link import("./ssh")}) and a command prefix ({@link import("./shell")}).
 */
export interface NodeShell {
    /** Where scripts run, for messages: `this host`, `ssh admin@10.0.0.5:22 (sudo)`, `command docker exec -i es01`. */
    readonly where: string;
    /** Runs `script` with `sh -c` on the node. Rejects only when the script could not be run at all (connection, timeout). */
    run(script: string, opts?: RunOptions): Promise<ShellResult>;
}
