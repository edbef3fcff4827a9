import { createHash, type HashAlgorithm, type ResumableHash } from "@stowage/sha-state";
import { PathNotFoundError } from "../driver/errors.js";
import type { StorageDriver } from "../driver/types.js";
import type { Layout } from "../layout.js";

/**
 * Saved digest states of an upload, one file per chunk boundary at
 * `_uploads/<id>/hashstates/<alg>/<offset>`, in Go's MarshalBinary layout (what Distribution
 * writes), so a store can be shared with Distribution. A state that is missing or unreadable is
 * never fatal: the caller falls back to hashing the bytes from the last good state.
 */
export class HashStates {
	constructor(
		private readonly driver: StorageDriver,
		private readonly layout: Layout,
	) {}

	async save(
		repository: string,
		id: string,
		hash: ResumableHash,
		signal?: AbortSignal,
	): Promise<void> {
		const path = this.layout.uploadHashState(repository, id, hash.algorithm, hash.length);
		await this.driver.putContent(path, hash.save(), { signal });
	}

	/** The state saved at exactly `offset`, if there is a readable one. */
	async load(
		repository: string,
		id: string,
		algorithm: HashAlgorithm,
		offset: number,
		signal?: AbortSignal,
	): Promise<ResumableHash | undefined> {
		if (offset === 0) return createHash(algorithm);
		const path = this.layout.uploadHashState(repository, id, algorithm, offset);
		return this.read(path, offset, algorithm, signal);
	}

	/** The newest readable state at or below `offset` (a fresh hash when there is none). */
	async latest(
		repository: string,
		id: string,
		algorithm: HashAlgorithm,
		offset: number,
		signal?: AbortSignal,
	): Promise<ResumableHash> {
		const dir = this.layout.uploadHashStates(repository, id, algorithm);
		let entries: string[] = [];
		try {
			entries = await this.driver.list(dir, { signal });
		} catch (err) {
			if (!(err instanceof PathNotFoundError)) throw err;
		}
		const offsets = entries
			.map((p) => Number(p.slice(p.lastIndexOf("/") + 1)))
			.filter((n) => Number.isSafeInteger(n) && n > 0 && n <= offset)
			.sort((a, b) => b - a);
		for (const at of offsets) {
			const hash = await this.read(`${dir}/${at}`, at, algorithm, signal);
			if (hash) return hash;
		}
		return createHash(algorithm);
	}

	private async read(
		path: string,
		offset: number,
		algorithm: HashAlgorithm,
		signal?: AbortSignal,
	): Promise<ResumableHash | undefined> {
		let state: Buffer;
		try {
			state = await this.driver.getContent(path, { signal });
		} catch (err) {
			if (err instanceof PathNotFoundError) return undefined;
			throw err;
		}
		try {
			const hash = createHash(algorithm, state);
			// A state whose length disagrees with its file name is as good as corrupt.
			return hash.length === offset ? hash : undefined;
		} catch {
			return undefined;
		}
	}
}
