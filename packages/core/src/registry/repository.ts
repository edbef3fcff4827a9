import type { StorageDriver } from "../driver/types.js";
import type { CollectionFence } from "../gc/fence.js";
import type { Layout } from "../layout.js";
import { ManifestStore } from "../manifests/manifest-store.js";
import { TagStore } from "../manifests/tag-store.js";
import { validateRepositoryName } from "../names.js";
import type { AfterResponse } from "./after-response.js";
import type { BlobStore } from "./blob-store.js";
import type { HashStates } from "./hash-states.js";
import { holdManifest } from "./hold-manifest.js";
import { LinkedBlobStore } from "./linked-blob-store.js";
import type { Locker } from "./locker.js";
import { UploadStore } from "./upload-store.js";

export interface RepositoryContext {
	readonly driver: StorageDriver;
	readonly layout: Layout;
	readonly blobs: BlobStore;
	readonly hashStates: HashStates;
	readonly locker: Locker;
	readonly now: () => Date;
	/** Keeps writes safe from a concurrent garbage collection (gc/fence.ts). */
	readonly fence?: CollectionFence;
	/** Tidying that follows a response (removal of committed uploads). */
	readonly afterResponse: AfterResponse;
}

/** One named repository: its linked blobs and its uploads. Cheap to create per request. */
export class Repository {
	readonly blobs: LinkedBlobStore;
	readonly uploads: UploadStore;
	readonly tags: TagStore;
	readonly manifests: ManifestStore;

	constructor(
		readonly name: string,
		protected readonly context: RepositoryContext,
	) {
		validateRepositoryName(name);
		const { driver, layout, blobs, hashStates, locker, now, fence, afterResponse } = context;
		this.blobs = new LinkedBlobStore(name, driver, layout, blobs, fence);
		this.uploads = new UploadStore(
			name,
			driver,
			layout,
			blobs,
			this.blobs,
			hashStates,
			locker,
			now,
			afterResponse,
		);
		this.tags = new TagStore(name, driver, layout);
		this.manifests = new ManifestStore(name, {
			driver,
			layout,
			blobs,
			linkedBlobs: this.blobs,
			tags: this.tags,
			...(fence
				? {
						afterLink: (manifest, signal) =>
							holdManifest(fence, layout, blobs, name, manifest, signal),
					}
				: {}),
		});
	}
}
