/**
 * pulumi-es-remote: Elasticsearch remote clusters over TLS certificate trust, from `pulumi up`.
 *
 * Resources: {@link SharedCa}, {@link NodeCertificate}, {@link RemoteClusterLink},
 * {@link CrossClusterRole}, {@link CrossClusterUser}, {@link FollowerIndex}, {@link AutoFollowPattern}, {@link RemoteSigningTrust}. Plain functions: {@link checkCompatibility}.
 */
export { ClusterConnectionArgs } from "./sdk/connection";
export { SharedCa, SharedCaArgs, SharedCaTrustDeliveryArgs } from "./sdk/sharedCa";
export { NodeCertificate, NodeCertificateArgs, NodeCertificateDeliveryArgs, NodeCertificateVerifyArgs } from "./sdk/nodeCertificate";
export { KeystoreOnArgs, LinkSigningArgs, RemoteClusterLink, RemoteClusterLinkArgs } from "./sdk/remoteClusterLink";
export { NodeAccessArgs, SshAccessArgs, SshHopArgs } from "./sdk/nodeAccess";
export { MeshLinkOptions, MeshMember, RemoteClusterMesh, RemoteClusterMeshArgs } from "./sdk/remoteClusterMesh";
export { checkCompatibility, CompatibilityVerdict, minimumVersion } from "./provider/link/compat";
export { KeyAlgorithm } from "./provider/certs/pem";
export {
    ClusterUnreachableError, ConflictError, EsRemoteError, HostKeyError, InputError, LicenseError, NodeAccessError, NodeNotFoundError, OutcomeUnknownError,
    RemoteNotConnectedError, TrustError, VersionIncompatibilityError,
} from "./provider/core/errors";
export { CrossClusterRole, CrossClusterRoleArgs } from "./sdk/crossClusterRole";
export { CrossClusterUser, CrossClusterUserArgs } from "./sdk/crossClusterUser";
export { CrossClusterApiKey, CrossClusterApiKeyArgs, CrossClusterSearchAccessArgs } from "./sdk/crossClusterApiKey";
export { FollowerIndex, FollowerIndexArgs, FollowTuningArgs } from "./sdk/followerIndex";
export { AutoFollowPattern, AutoFollowPatternArgs } from "./sdk/autoFollowPattern";
export { RemoteSigningTrust, RemoteSigningTrustArgs, RemoteSigningTrustNodeArgs } from "./sdk/remoteSigningTrust";
