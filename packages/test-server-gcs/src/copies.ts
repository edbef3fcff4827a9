import { randomBytes } from "node:crypto";
import { close, openSync, read } from "node:fs";
import { unlink } from "node:fs/promises";
import { promisify } from "node:util";
import { ContentSink } from "./content.js";
import { badRequest, GcsError, required } from "./errors.js";
import {
	checkPreconditions,
	type NewResource,
	type Preconditions,
	type Store,
	type StoredObject,
} from "./store.js";

const readAsync = promisify(read);
const closeAsync = promisify(close);

/** GCS requires maxBytesRewrittenPerCall to be a multiple of 1 MiB. */
const REWRITE_UNIT = 1024 * 1024;

/** A source pinned for the length of a copy: its generation and an open descriptor. */
interface PinnedSource {
	obj: StoredObject;
	fd: number;
}

/** Open the source before any await: a concurrent replace or delete cannot pull it away. */
function pin(obj: StoredObject): PinnedSource {
	return { obj, fd: openSync(obj.file, "r") };
}

async function copyFd(fd: number, start: number, end: number, sink: ContentSink): Promise<void> {
	const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, end - start)));
	let pos = start;
	while (pos < end) {
		const { bytesRead } = await readAsync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
		if (bytesRead === 0) throw new Error(`short read at ${pos} of ${end}`);
		await sink.write(buf.subarray(0, bytesRead));
		pos += bytesRead;
	}
}

export interface CopyRequest {
	srcBucket: string;
	srcName: string;
	dstBucket: string;
	dstName: string;
	sourceGeneration?: string;
	sourcePre: Preconditions;
	destPre: Preconditions;
	/** Destination metadata from the request body; the source's when absent. */
	resource?: NewResource;
}

export interface RewriteReply {
	done: boolean;
	totalBytesRewritten: number;
	objectSize: number;
	rewriteToken?: string;
	resource?: StoredObject;
}

interface RewriteState {
	req: CopyRequest;
	generation: string;
	file: string;
	copied: number;
}

/**
 * objects.rewrite and objects.copy. A rewrite copies at most maxBytesRewrittenPerCall bytes per
 * call (the server's cap, or the request's if smaller) and hands back a rewriteToken naming its
 * progress; the call that copies the last byte installs the destination (its preconditions are
 * checked then). A token is tied to its source generation and destination.
 */
export class Copier {
	private readonly rewrites = new Map<string, RewriteState>();
	/** Tokens whose rewrite finished: a retried last call gets the same answer again. */
	private readonly finished = new Map<string, { req: CopyRequest; object: StoredObject }>();

	constructor(
		private readonly store: Store,
		private readonly maxBytesPerCall: number | undefined,
	) {}

	async copy(r: CopyRequest): Promise<StoredObject> {
		const reply = await this.rewrite(r, undefined, Number.POSITIVE_INFINITY);
		return reply.resource as StoredObject;
	}

	async rewrite(
		r: CopyRequest,
		token: string | undefined,
		requestedMax: number | undefined,
	): Promise<RewriteReply> {
		if (requestedMax !== undefined && requestedMax !== Number.POSITIVE_INFINITY) {
			if (requestedMax <= 0 || requestedMax % REWRITE_UNIT !== 0) {
				throw badRequest("maxBytesRewrittenPerCall must be a multiple of 1048576.");
			}
		}
		let state: RewriteState;
		let source: PinnedSource;
		if (token !== undefined) {
			const done = this.finished.get(token);
			if (done && sameTarget(done.req, r)) {
				const size = done.object.size;
				return { done: true, totalBytesRewritten: size, objectSize: size, resource: done.object };
			}
			const found = this.rewrites.get(token);
			if (!found || !sameTarget(found.req, r)) {
				throw badRequest("The rewrite token is invalid for this request.");
			}
			state = found;
			source = pin(this.store.get(r.srcBucket, r.srcName, state.generation));
		} else {
			const obj = this.store.get(r.srcBucket, r.srcName, r.sourceGeneration);
			checkPreconditions(obj, r.sourcePre);
			// Fail early on a destination that cannot be written, as GCS does.
			checkPreconditions(this.store.find(r.dstBucket, r.dstName), r.destPre);
			source = pin(obj);
			state = { req: r, generation: obj.generation, file: this.store.tempFile(), copied: 0 };
		}
		const obj = source.obj;
		const limit = Math.min(
			requestedMax ?? Number.POSITIVE_INFINITY,
			this.maxBytesPerCall ?? Number.POSITIVE_INFINITY,
		);
		const end = Math.min(obj.size, state.copied + limit);
		const sink = await ContentSink.open(state.file);
		try {
			await copyFd(source.fd, state.copied, end, sink);
		} finally {
			await sink.close();
			await closeAsync(source.fd).catch(() => {});
		}
		state.copied = end;
		if (end < obj.size) {
			const next = token ?? randomBytes(18).toString("base64url");
			this.rewrites.set(next, state);
			return {
				done: false,
				totalBytesRewritten: end,
				objectSize: obj.size,
				rewriteToken: next,
			};
		}
		if (token !== undefined) this.rewrites.delete(token);
		try {
			const installed = this.store.install(
				r.dstBucket,
				r.dstName,
				{
					file: state.file,
					size: obj.size,
					crc32c: obj.crc32c,
					...(obj.md5Hash !== undefined && { md5Hash: obj.md5Hash }),
					...(obj.componentCount !== undefined && { componentCount: obj.componentCount }),
				},
				r.resource ?? {
					contentType: obj.contentType,
					...(obj.metadata && { metadata: obj.metadata }),
				},
				r.destPre,
			);
			if (token !== undefined) this.finished.set(token, { req: r, object: installed });
			return {
				done: true,
				totalBytesRewritten: obj.size,
				objectSize: obj.size,
				resource: installed,
			};
		} catch (err) {
			await unlink(state.file).catch(() => {});
			throw err;
		}
	}
}

function sameTarget(a: CopyRequest, b: CopyRequest): boolean {
	return (
		a.srcBucket === b.srcBucket &&
		a.srcName === b.srcName &&
		a.dstBucket === b.dstBucket &&
		a.dstName === b.dstName
	);
}

/** GCS's compose limit: 1 to 32 source objects per request. */
export const MAX_COMPOSE_SOURCES = 32;

export interface ComposeSource {
	name: string;
	generation?: string;
	ifGenerationMatch?: string;
}

/** Parse objects.compose's sourceObjects. */
export function composeSources(body: Record<string, unknown>): ComposeSource[] {
	const raw = body.sourceObjects;
	if (!Array.isArray(raw) || raw.length === 0) throw required("sourceObjects");
	if (raw.length > MAX_COMPOSE_SOURCES) {
		throw badRequest(
			`The number of source components provided (${raw.length}) exceeds the maximum (${MAX_COMPOSE_SOURCES})`,
		);
	}
	return raw.map((s: unknown) => {
		const o = s as Record<string, unknown>;
		if (typeof o?.name !== "string" || o.name === "") throw required("sourceObjects[].name");
		const out: ComposeSource = { name: o.name };
		if (o.generation !== undefined) out.generation = String(o.generation);
		const pre = o.objectPreconditions as Record<string, unknown> | undefined;
		if (pre?.ifGenerationMatch !== undefined) out.ifGenerationMatch = String(pre.ifGenerationMatch);
		return out;
	});
}

/**
 * objects.compose: the destination becomes the concatenation of the sources (all in one
 * bucket). Like GCS, a composite has a crc32c but no md5Hash, and its componentCount is the sum
 * of its sources' (a plain object counts 1).
 */
export async function compose(
	store: Store,
	bucket: string,
	name: string,
	sources: ComposeSource[],
	resource: NewResource,
	pre: Preconditions,
): Promise<StoredObject> {
	const pinned: PinnedSource[] = [];
	try {
		for (const s of sources) {
			const obj = store.get(bucket, s.name, s.generation);
			if (s.ifGenerationMatch !== undefined && obj.generation !== s.ifGenerationMatch) {
				throw new GcsError(
					412,
					"conditionNotMet",
					"At least one of the pre-conditions you specified did not hold.",
				);
			}
			pinned.push(pin(obj));
		}
		checkPreconditions(store.find(bucket, name), pre);
		const file = store.dataFile();
		const sink = await ContentSink.open(file);
		try {
			for (const p of pinned) await copyFd(p.fd, 0, p.obj.size, sink);
			await sink.close();
			const first = pinned[0]?.obj as StoredObject;
			return store.install(
				bucket,
				name,
				{
					file,
					size: sink.sums.size,
					crc32c: sink.sums.crc32c,
					componentCount: pinned.reduce((n, p) => n + (p.obj.componentCount ?? 1), 0),
				},
				{ ...resource, contentType: resource.contentType ?? first.contentType },
				pre,
			);
		} catch (err) {
			await sink.close().catch(() => {});
			await unlink(file).catch(() => {});
			throw err;
		}
	} finally {
		for (const p of pinned) await closeAsync(p.fd).catch(() => {});
	}
}
