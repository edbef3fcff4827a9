import { type ParsedDigest, parseDigest } from "../digest.js";
import { ManifestBlobUnknownError } from "../errors/registry-errors.js";
import type { CollectionFence, FencedReference } from "../gc/fence.js";
import type { Layout } from "../layout.js";
import type { ParsedManifest } from "../manifests/parse.js";
import { referrerLink } from "../manifests/referrers.js";
import type { BlobStore } from "./blob-store.js";

/**
 * A manifest push's part of the garbage collection fence (gc/fence.ts): once its revision is
 * linked, hold the manifest's own bytes and links, and every blob and child manifest it
 * references, against a collection running concurrently. What was collected for good fails the
 * push as if it had never been uploaded.
 */
export async function holdManifest(
	fence: CollectionFence,
	layout: Layout,
	blobs: BlobStore,
	repository: string,
	manifest: { digest: ParsedDigest; content: Uint8Array; parsed: ParsedManifest },
	signal?: AbortSignal,
): Promise<void> {
	const { digest, content, parsed } = manifest;
	const refs: FencedReference[] = [
		{
			digest,
			link: layout.manifestRevisionLink(repository, digest),
			restore: async () => {
				await blobs.put(digest, content, signal);
				return true;
			},
		},
	];
	if (parsed.subject) {
		const subject = parseDigest(parsed.subject.digest);
		refs.push({ digest, link: referrerLink(layout, repository, subject, digest) });
	}
	for (const blob of parsed.blobs) {
		const d = parseDigest(blob.digest);
		refs.push({ digest: d, link: layout.layerLink(repository, d) });
	}
	for (const child of parsed.manifests) {
		const d = parseDigest(child.digest);
		refs.push({ digest: d, link: layout.manifestRevisionLink(repository, d) });
	}
	const lost = await fence.settle(refs, signal);
	if (lost.length > 0) throw new ManifestBlobUnknownError([...new Set(lost.map((d) => d.digest))]);
}
