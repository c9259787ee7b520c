import * as pulumi from "@pulumi/pulumi";

/**
 * One SSH hop: the node itself, or the jump host (bastion) in front of it.
 *
 * The host key is **pinned**: the connection is refused unless the host presents exactly the key
 * given in `hostKey`. Get it from the host itself (`ssh-keyscan -t ed25519 <host>`, or
 * `cat /etc/ssh/ssh_host_ed25519_key.pub` on the host's console) or from your `known_hosts`
 * (`ssh-keygen -F <host>`), and check it out of band.
 */
export interface SshHopArgs {
    /** Host name or address the SSH server listens on. */
    host: pulumi.Input<string>;
    /**
     * TCP port of the SSH server.
     * @default 22
     */
    port?: pulumi.Input<number>;
    /** The user to log in as (an admin's own account; see `sudo` for acting as another user). */
    user: pulumi.Input<string>;
    /**
     * The private key to log in with (OpenSSH or PEM format: RSA, ECDSA, Ed25519). Stored as a secret
     * in the state. Excludes nothing: with `agent` as well, the key is tried first.
     */
    privateKey?: pulumi.Input<string>;
    /** The passphrase of an encrypted `privateKey`. Stored as a secret in the state. */
    passphrase?: pulumi.Input<string>;
    /**
     * Path of an SSH agent's socket (e.g. `process.env.SSH_AUTH_SOCK`) whose keys are offered. Either
     * `privateKey` or `agent` is required. The state holds only the path.
     */
    agent?: pulumi.Input<string>;
    /**
     * The host key the server must present, in one of these forms (several entries: any one of them):
     * - an OpenSSH `known_hosts` line (`host ssh-ed25519 AAAAC3…`; hashed host names are fine),
     * - a public key line (`ssh-ed25519 AAAAC3… comment`, the host's `/etc/ssh/ssh_host_*_key.pub`),
     * - a fingerprint as `ssh-keygen -lf` prints it (`SHA256:…`).
     * Required unless `acceptAnyHostKey` is set: an unknown or changed host key is refused, naming
     * the key expected and the key the host presented.
     */
    hostKey?: pulumi.Input<string | string[]>;
    /**
     * Accept whatever key the host presents (no protection against a man in the middle). Warns on
     * every run. Meant for throw-away test hosts only.
     * @default false
     */
    acceptAnyHostKey?: pulumi.Input<boolean>;
    /**
     * Seconds to wait for the TCP connection and the SSH handshake (each hop).
     * @default 20
     */
    timeoutSeconds?: pulumi.Input<number>;
}

/** SSH to the node, optionally through a jump host. */
export interface SshAccessArgs extends SshHopArgs {
    /**
     * A jump host (bastion) through which the node is reached (like `ssh -J`): the connection to the
     * node is tunnelled through it (a `direct-tcpip` channel; the jump host must allow TCP
     * forwarding to the node's SSH port). Its host key is pinned like the node's.
     */
    jumpHost?: pulumi.Input<SshHopArgs>;
}

/**
 * How this package reaches a node's files and tools: every node-side step (certificate and trust
 * files, the keystore) goes through it. Give at most one of `ssh` and `command`; with neither, the
 * node's files are on the machine that runs `pulumi` (the default, as in earlier releases).
 *
 * What runs on the node is POSIX `sh` with coreutils (`stat`, `mv`, `chmod`, `chown`, `mktemp`).
 * Secrets (private keys, API-key credentials) only ever travel on the standard input of what runs
 * there, never in a command line, an environment variable or a file outside the destination.
 */
export interface NodeAccessArgs {
    /** Log in over SSH (with the `ssh2` library; no `ssh` binary needed). Excludes `command`. */
    ssh?: pulumi.Input<SshAccessArgs>;
    /**
     * An argv prefix that runs a command on the node with its standard input attached, e.g.
     * `["docker", "exec", "-i", "es01"]`, `["kubectl", "exec", "-i", "es-0", "--"]` or
     * `["nsenter", "--target", "1234", "--mount", "--"]`. The package appends `sh -c <script>` and
     * runs it on the machine that runs `pulumi`. Excludes `ssh`.
     */
    command?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Run every step through `sudo -n` on the node: `true` as root, `{ user: "elasticsearch" }` as
     * that user. Needs passwordless sudo for the login user (a password prompt is refused, never
     * answered). Files keep the owner of the file they replace and the keystore tool runs as the
     * keystore's owner either way, when the effective user may do so.
     * @default false
     */
    sudo?: pulumi.Input<boolean | { user?: pulumi.Input<string> }>;
}

/**
 * @internal Marks the `access` of a delivery (or keystore) target secret in the state's inputs: it
 * may hold a private key and its passphrase. The rest of the target (paths, modes) stays readable
 * in `pulumi preview --diff`. A target given as one Output becomes secret as a whole.
 */
export function withSecretAccess<T extends { access?: pulumi.Input<NodeAccessArgs> }>(t: pulumi.Input<T> | undefined): pulumi.Input<T> | undefined {
    if (t === undefined || t === null) return t;
    if (pulumi.Output.isInstance(t) || typeof (t as { then?: unknown }).then === "function") {
        return pulumi.output(t).apply((v) => (v && (v as T).access !== undefined ? pulumi.secret(v) : v)) as pulumi.Output<T>;
    }
    const v = t as T;
    return v.access === undefined ? v : { ...v, access: pulumi.secret(v.access) };
}

/** @internal {@link withSecretAccess} for each entry of a list of targets. */
export function withSecretAccessEach<T extends { access?: pulumi.Input<NodeAccessArgs> }>(ts: pulumi.Input<pulumi.Input<T>[]> | undefined): pulumi.Input<pulumi.Input<T>[]> | undefined {
    if (ts === undefined || ts === null) return ts;
    if (Array.isArray(ts)) return ts.map((t) => withSecretAccess<T>(t) as pulumi.Input<T>);
    return pulumi.output(ts).apply((vs) => (vs.some((v) => (v as T)?.access !== undefined) ? pulumi.secret(vs) : vs)) as pulumi.Output<T[]>;
}
