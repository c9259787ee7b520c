/**
 * pulumi-es-remote: Elasticsearch remote clusters over TLS certificate trust, from `pulumi up`.
 *
 * Resources: {@link SharedCa}, {@link NodeCertificate}, {@link RemoteClusterLink},
 * {@link CrossClusterRole}, {@link CrossClusterUser}. Plain functions: {@link checkCompatibility}.
 */
export { ClusterConnectionArgs } from "./sdk/connection";
export { RemoteClusterLink, RemoteClusterLinkArgs } from "./sdk/remoteClusterLink";
export { checkCompatibility, CompatibilityVerdict, minimumVersion } from "./provider/compat";
export {
    ClusterUnreachableError, EsRemoteError, InputError, RemoteNotConnectedError, TrustError, VersionIncompatibilityError,
} from "./provider/errors";
