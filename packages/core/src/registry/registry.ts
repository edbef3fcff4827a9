import { checkedDriver } from "../driver/checked.js";
import type { StorageDriver } from "../driver/types.js";
import { garbageCollect } from "../gc/collect.js";
import { CollectionFence } from "../gc/fence.js";
import type { GcOptions, GcResult } from "../gc/types.js";
import { Layout } from "../layout.js";
import { type Catalog, type CatalogOptions, listRepositories } from "../manifests/catalog.js";
import { AfterResponse, type AfterResponseErrorHandler } from "./after-response.js";
import { BlobStore } from "./blob-store.js";
import { HashStates } from "./hash-states.js";
import { type Locker, MemoryLocker } from "./locker.js";
import { type PurgeOptions, type PurgeResult, purgeUploads } from "./purge-uploads.js";
import { Repository, type RepositoryContext } from "./repository.js";

export interface RegistryOptions {
	driver: StorageDriver;
	/** Upload locks; the in-process default is right for a single registry process. */
	locker?: Locker;
	/** Root of the layout inside the driver. Default `/docker/registry/v2`, as Distribution. */
	rootPath?: string;
	now?: () => Date;
	/** Told when tidying after a response fails (what it leaves, the upload purger removes). */
	onAfterResponseError?: AfterResponseErrorHandler;
}

/** The storage engine: repositories over one driver. Holds no per-upload state in memory. */
export class Registry {
	readonly driver: StorageDriver;
	readonly layout: Layout;
	protected readonly context: RepositoryContext;

	constructor(options: RegistryOptions) {
		this.driver = checkedDriver(options.driver);
		this.layout = new Layout(options.rootPath);
		const fence = new CollectionFence(this.driver, this.layout);
		this.context = {
			driver: this.driver,
			layout: this.layout,
			blobs: new BlobStore(this.driver, this.layout, (d, signal) => fence.claim(d, signal)),
			hashStates: new HashStates(this.driver, this.layout),
			locker: options.locker ?? new MemoryLocker(),
			now: options.now ?? (() => new Date()),
			fence,
			afterResponse: new AfterResponse(options.onAfterResponseError),
		};
	}

	/** Wait for the tidying that follows responses (removal of committed uploads) to finish. */
	drain(): Promise<void> {
		return this.context.afterResponse.drain();
	}

	/** Throws NameInvalidError for a name outside the OCI grammar. */
	repository(name: string): Repository {
		return new Repository(name, this.context);
	}

	purgeUploads(options: Omit<PurgeOptions, "now">): Promise<PurgeResult> {
		return purgeUploads(this.driver, this.layout, { ...options, now: this.context.now() });
	}

	/**
	 * Mark and sweep unreferenced blobs, links and (optionally) untagged manifests, safely while
	 * this or other processes keep serving pushes (see gc/fence.ts).
	 */
	garbageCollect(options: GcOptions = {}): Promise<GcResult> {
		return garbageCollect(this.driver, this.layout, options);
	}

	/** Repository names, paginated (`n`, `last`), streaming the walk. */
	catalog(options: CatalogOptions): Promise<Catalog> {
		return listRepositories(this.driver, this.layout, options);
	}
}
