/** The manifest formats Stowage stores and serves. Docker schema 1 is deliberately absent. */
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

export const MANIFEST_MEDIA_TYPES: readonly string[] = [
	OCI_MANIFEST,
	OCI_INDEX,
	DOCKER_MANIFEST,
	DOCKER_MANIFEST_LIST,
];

export type ManifestMediaType =
	| typeof OCI_MANIFEST
	| typeof OCI_INDEX
	| typeof DOCKER_MANIFEST
	| typeof DOCKER_MANIFEST_LIST;

export function isManifestMediaType(value: string): value is ManifestMediaType {
	return MANIFEST_MEDIA_TYPES.includes(value);
}

/** Indexes and lists point at other manifests; image manifests point at blobs. */
export function isIndexMediaType(value: string): boolean {
	return value === OCI_INDEX || value === DOCKER_MANIFEST_LIST;
}

/** Distribution's default limit on a manifest body. */
export const MANIFEST_SIZE_LIMIT = 4 * 1024 * 1024;
