import * as pulumi from "@pulumi/pulumi";
import { ClusterConnectionArgs } from "./connection";
import { RemoteClusterLink, RemoteClusterLinkArgs } from "./remoteClusterLink";
import { InputError } from "../provider/core/errors";

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
    /**
     * Options applied to every link (e.g. `skipUnavailable`, `connectionTimeoutSeconds`). Not the
     * API-key model's `security: "apiKey"`, `credential` or `keystoreOn`: one key cannot serve every
     * pair (refused with an InputError); link such pairs one by one.
     */
    linkOptions?: MeshLinkOptions;
}

/**
 * The link options a mesh refuses: the API-key model's credential is one cross-cluster API key of
 * one remote cluster, so it cannot serve every pair (a key made on B is refused by C, and one key
 * for every direction would grant each cluster the same access on all the others). Link each pair
 * with its own RemoteClusterLink and a CrossClusterApiKey made on that pair's remote instead.
 */
const PER_PAIR_OPTIONS = ["security", "credential", "keystoreOn"] as const;

/** Throws an InputError naming the first mistake in `args`; returns the component's (empty) inputs. @internal */
export function checkMeshArgs(name: string, args: RemoteClusterMeshArgs): Record<string, never> {
    const members = Array.isArray(args?.members) ? args.members : [];
    if (members.length < 2) {
        throw new InputError("members", `RemoteClusterMesh ${name} needs at least two clusters (got ${members.length})`);
    }
    const aliases = members.map((m) => m.alias);
    const dup = aliases.find((a, i) => aliases.indexOf(a) !== i);
    if (dup) {
        throw new InputError("members[].alias", `must be unique in RemoteClusterMesh ${name}; '${dup}' appears twice`);
    }
    const o = (args.linkOptions ?? {}) as Record<string, unknown>;
    for (const k of PER_PAIR_OPTIONS) {
        if (o[k] === undefined || (k === "security" && o[k] === "certificate")) continue;
        throw new InputError(`linkOptions.${k}`,
            `RemoteClusterMesh ${name} would give all ${members.length * (members.length - 1)} links one ${k === "keystoreOn" ? "keystore list" : "API-key credential"}, ` +
            "but a cross-cluster API key belongs to one remote cluster (the others refuse it) and its access would be every pair's. " +
            "Leave security, credential and keystoreOn out of linkOptions (the mesh links over certificate trust), or link each pair with its own RemoteClusterLink " +
            "and a CrossClusterApiKey made on that pair's remote cluster. Nothing was created.");
    }
    return {};
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
        // Checked before anything is registered: a mistake here must not leave half a mesh.
        super("es-remote:index:RemoteClusterMesh", name, checkMeshArgs(name, args), opts);
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
