import type { ParsedDigest } from "./digest.js";

/**
 * Distribution's storage layout, so an existing Distribution root can be served as-is:
 *
 *   blobs/<alg>/<hex[0:2]>/<hex>/data
 *   repositories/<name>/_layers/<alg>/<hex>/link
 *   repositories/<name>/_uploads/<uuid>/{data,startedat,hashstates/<alg>/<offset>}
 *   repositories/<name>/_manifests/revisions/<alg>/<hex>/link
 *   repositories/<name>/_manifests/tags/<tag>/current/link
 *   repositories/<name>/_manifests/tags/<tag>/index/<alg>/<hex>/link
 */
export class Layout {
	constructor(readonly root = "/docker/registry/v2") {}

	get blobsRoot(): string {
		return `${this.root}/blobs`;
	}
	get repositoriesRoot(): string {
		return `${this.root}/repositories`;
	}

	blobDir(d: ParsedDigest): string {
		return `${this.root}/blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}`;
	}
	blobData(d: ParsedDigest): string {
		return `${this.blobDir(d)}/data`;
	}

	repository(name: string): string {
		return `${this.root}/repositories/${name}`;
	}
	layersRoot(name: string): string {
		return `${this.repository(name)}/_layers`;
	}
	layerLink(name: string, d: ParsedDigest): string {
		return `${this.repository(name)}/_layers/${d.algorithm}/${d.hex}/link`;
	}

	uploadsRoot(name: string): string {
		return `${this.repository(name)}/_uploads`;
	}
	upload(name: string, id: string): string {
		return `${this.uploadsRoot(name)}/${id}`;
	}
	uploadData(name: string, id: string): string {
		return `${this.upload(name, id)}/data`;
	}
	uploadStartedAt(name: string, id: string): string {
		return `${this.upload(name, id)}/startedat`;
	}
	uploadHashStates(name: string, id: string, algorithm: string): string {
		return `${this.upload(name, id)}/hashstates/${algorithm}`;
	}
	uploadHashState(name: string, id: string, algorithm: string, offset: number): string {
		return `${this.uploadHashStates(name, id, algorithm)}/${offset}`;
	}

	manifestsRoot(name: string): string {
		return `${this.repository(name)}/_manifests`;
	}
	manifestRevisionsRoot(name: string): string {
		return `${this.manifestsRoot(name)}/revisions`;
	}
	manifestRevisionLink(name: string, d: ParsedDigest): string {
		return `${this.manifestsRoot(name)}/revisions/${d.algorithm}/${d.hex}/link`;
	}
	tagsRoot(name: string): string {
		return `${this.manifestsRoot(name)}/tags`;
	}
	tag(name: string, tag: string): string {
		return `${this.tagsRoot(name)}/${tag}`;
	}
	tagCurrentLink(name: string, tag: string): string {
		return `${this.tag(name, tag)}/current/link`;
	}
	tagIndexLink(name: string, tag: string, d: ParsedDigest): string {
		return `${this.tag(name, tag)}/index/${d.algorithm}/${d.hex}/link`;
	}
}
