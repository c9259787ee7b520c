import * as pulumi from "@pulumi/pulumi";
import { ClusterConnectionArgs } from "./connection";
import { RemoteClusterLink, RemoteClusterLinkArgs } from "./remoteClusterLink";

/** One member of a {@link RemoteClusterMesh}. */
export interface MeshMember {
    /** The alias the other clusters register this one under (letters, digits, `_`, `-`). */
    alias: string;
    /** This cluster's HTTP connection. */
    connection: pulumi.Input<ClusterConnectionArgs>;
    /** Transport addresses (`host:port`) the others use as seeds (sniff mode). Excludes `proxyAddress`. */
    seeds?: pulumi.Input<pulumi.Input<string>[]>;
    /** The `host:port` the others connect to in proxy mode. Excludes `seeds`. */
    proxyAddress?: pulumi.Input<string>;
    /** proxy: the SNI name the others send. */
    serverName?: pulumi.Input<string>;
}

/** Options every link of the mesh shares (everything of {@link RemoteClusterLinkArgs} but the endpoints). */
export type MeshLinkOptions = Omit<RemoteClusterLinkArgs, "local" | "remote" | "alias" | "mode" | "seeds" | "proxyAddress" | "serverName">;

/** Arguments of {@link RemoteClusterMesh}. */
export interface RemoteClusterMeshArgs {
    /** The clusters; every one is linked to every other (n·(n-1) links). At least two, aliases unique. */
    members: MeshMember[];
    /** Options applied to every link (e.g. `skipUnavailable`, `connectionTimeoutSeconds`). */
    linkOptions?: MeshLinkOptions;
}

/**
 * Every cluster registered as a remote of every other: a {@link RemoteClusterLink} per ordered pair,
 * named `<local>-to-<remote>`. Each link runs its own preview-time version and trust checks, and the
 * probes of one cluster are shared between its links within one operation.
 */
export class RemoteClusterMesh extends pulumi.ComponentResource {
    /** The links, keyed `<local alias>-><remote alias>`. */
    readonly links: Record<string, RemoteClusterLink>;

    constructor(name: string, args: RemoteClusterMeshArgs, opts?: pulumi.ComponentResourceOptions) {
        super("es-remote:index:RemoteClusterMesh", name, {}, opts);
        const aliases = args.members.map((m) => m.alias);
        if (args.members.length < 2) {
            throw new Error(`RemoteClusterMesh ${name}: members needs at least two clusters (got ${args.members.length})`);
        }
        const dup = aliases.find((a, i) => aliases.indexOf(a) !== i);
        if (dup) {
            throw new Error(`RemoteClusterMesh ${name}: members[].alias must be unique; '${dup}' appears twice`);
        }
        this.links = {};
        for (const local of args.members) {
            for (const remote of args.members) {
                if (local === remote) continue;
                this.links[`${local.alias}->${remote.alias}`] = new RemoteClusterLink(`${name}-${local.alias}-to-${remote.alias}`, {
                    ...args.linkOptions,
                    local: local.connection,
                    remote: remote.connection,
                    alias: remote.alias,
                    mode: remote.proxyAddress !== undefined ? "proxy" : "sniff",
                    seeds: remote.seeds,
                    proxyAddress: remote.proxyAddress,
                    serverName: remote.serverName,
                }, { parent: this });
            }
        }
        this.registerOutputs({});
    }
}
