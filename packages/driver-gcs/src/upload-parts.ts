import { createHash } from "node:crypto";
import type { BucketApi, ObjectInfo } from "./bucket-api.js";
import { isNotFound, isPreconditionFailed } from "./gcs-errors.js";
import { forEachBounded } from "./limiter.js";
import { ObjectNames } from "./object-names.js";

/** GCS composes at most 32 sources per request. */
export const MAX_COMPOSE = 32;

/** One durable piece of an upload: the bytes [offset, offset + size). */
export interface Part {
	name: string;
	offset: number;
	size: number;
	generation: string;
}

/** The durable state of an upload: its parts in order, gap-free from offset 0. */
export interface PartChain {
	/**
	 * Committed content the parts continue (an upload resumed on a committed file): the object at
	 * the key, covering [0, base.size). The parts then start at base.size.
	 */
	base?: Part;
	parts: Part[];
	/** Leftovers of an interrupted compaction: parts wholly inside an earlier (composed) one. */
	stale: Part[];
	/** Bytes the parts hold: the offset at which the upload resumes. */
	size: number;
}

export class CorruptUploadError extends Error {
	constructor(path: string, detail: string) {
		super(`upload at ${path} is inconsistent: ${detail}`);
		this.name = "CorruptUploadError";
	}
}

/**
 * Read an upload's parts. Sizes come from GCS, offsets from the names; the resume offset is the
 * end of the chain. Parts that start past 0 continue the committed object at the key, which must
 * then end exactly where they start. A part lying wholly inside an earlier one is a leftover of
 * a compaction that stopped before deleting its sources (the composed part holds the same bytes)
 * and is set aside; a gap or a partial overlap cannot come from this driver and is refused
 * rather than guessed at.
 */
export async function loadChain(
	api: BucketApi,
	names: ObjectNames,
	path: string,
	signal?: AbortSignal,
): Promise<PartChain | undefined> {
	const found: Part[] = [];
	for await (const page of api.listAll(names.uploadPrefix(path), signal)) {
		for (const o of page) {
			const offset = ObjectNames.partOffset(o.name);
			if (offset !== undefined) {
				found.push({ name: o.name, offset, size: o.size, generation: o.generation });
			}
		}
	}
	if (found.length === 0) return undefined;
	found.sort((a, b) => a.offset - b.offset || b.size - a.size);
	const start = (found[0] as Part).offset;
	let base: Part | undefined;
	if (start > 0) {
		const key = names.key(path);
		const committed = await api.stat(key, signal);
		if (!committed || committed.size !== start) {
			throw new CorruptUploadError(
				path,
				`its parts start at ${start}, but the committed object holds ${committed?.size ?? "nothing"}`,
			);
		}
		base = { name: key, offset: 0, size: start, generation: committed.generation };
	}
	const parts: Part[] = [];
	const stale: Part[] = [];
	let end = start;
	for (const p of found) {
		if (p.offset === end && (p.size > 0 || (parts.length === 0 && !base))) {
			parts.push(p);
			end += p.size;
		} else if (p.offset + p.size <= end) {
			stale.push(p);
		} else if (p.offset > end) {
			throw new CorruptUploadError(path, `no part covers bytes ${end} to ${p.offset}`);
		} else {
			throw new CorruptUploadError(path, `part at ${p.offset} overlaps the part ending at ${end}`);
		}
	}
	return { ...(base && { base }), parts, stale, size: end };
}

export function md5Base64(data: Uint8Array): string {
	return createHash("md5").update(data).digest("base64");
}

/**
 * Upload one small part in a single request, creating it only if its name is free (or still
 * holds the generation we replace). A retry that meets a 412 checks whether the part there is
 * the one the lost first attempt wrote (same MD5): then it is ours; otherwise another writer got
 * there first and the upload is refused.
 */
export async function uploadPart(
	api: BucketApi,
	name: string,
	offset: number,
	data: Uint8Array,
	replaceGeneration: string | undefined,
	signal?: AbortSignal,
): Promise<Part> {
	const md5 = md5Base64(data);
	try {
		const o = await api.upload(
			name,
			data,
			md5,
			{ ifGenerationMatch: replaceGeneration ?? "0" },
			signal,
		);
		return { name, offset, size: o.size, generation: o.generation };
	} catch (err) {
		if (!isPreconditionFailed(err)) throw err;
		const there = await api.stat(name, signal);
		if (there && there.md5Hash === md5 && there.size === data.length) {
			return { name, offset, size: there.size, generation: there.generation };
		}
		throw new Error(`another writer created ${name} concurrently`, { cause: err });
	}
}

/**
 * Compose `parts` (≤ 32, in order) into the first part's name, then delete the others. The
 * compose is conditional on the first part's generation and names each source's generation, so
 * a concurrent compaction or writer cannot be overwritten or mixed in.
 */
export async function compact(
	api: BucketApi,
	parts: readonly Part[],
	width: number,
	signal?: AbortSignal,
): Promise<Part> {
	const first = parts[0] as Part;
	const size = parts.reduce((n, p) => n + p.size, 0);
	let composed: ObjectInfo;
	try {
		composed = await api.compose(
			first.name,
			parts,
			{ ifGenerationMatch: first.generation },
			signal,
		);
	} catch (err) {
		// After a retry, our own lost first attempt shows as a 412 (the first part has a new
		// generation) or a 404 (a source generation is gone): the composed part is there.
		if (!isPreconditionFailed(err) && !isNotFound(err)) throw err;
		const there = await api.stat(first.name, signal);
		if (!there || there.generation === first.generation || there.size !== size) {
			throw new Error(`another writer changed ${first.name} during compaction`, { cause: err });
		}
		composed = there;
	}
	await removeParts(api, parts.slice(1), width, signal);
	return { name: first.name, offset: first.offset, size, generation: composed.generation };
}

/** Delete parts, each only in the generation we know (a 404 is fine: already gone). */
export function removeParts(
	api: BucketApi,
	parts: readonly Part[],
	width: number,
	signal?: AbortSignal,
): Promise<void> {
	return forEachBounded(parts, width, async (p) => {
		try {
			await api.remove(p.name, { ifGenerationMatch: p.generation }, signal);
		} catch (err) {
			// A newer generation under the name belongs to someone else: leave it.
			if (!isPreconditionFailed(err)) throw err;
		}
	});
}

/** Delete everything under an upload's part prefix, whatever it is. */
export async function removeAllParts(
	api: BucketApi,
	names: ObjectNames,
	path: string,
	width: number,
	signal?: AbortSignal,
): Promise<void> {
	for await (const page of api.listAll(names.uploadPrefix(path), signal)) {
		await forEachBounded(page, width, async (o) => {
			await api.remove(o.name, {}, signal);
		});
	}
}
