import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { GcsError, noSuchBucket, noSuchObject, preconditionFailed } from "./errors.js";

/** One live object generation. Metadata is kept in memory, content in `file` on disk. */
export interface StoredObject {
	readonly bucket: string;
	readonly name: string;
	readonly generation: string;
	readonly metageneration: number;
	readonly size: number;
	readonly contentType: string;
	/** Absent for composite objects, as on GCS. */
	readonly md5Hash?: string;
	readonly crc32c: string;
	readonly componentCount?: number;
	readonly metadata?: Record<string, string>;
	readonly timeCreated: Date;
	readonly updated: Date;
	readonly file: string;
}

/** The content half of a new generation: a finished data file and its checksums. */
export interface NewContent {
	file: string;
	size: number;
	md5Hash?: string;
	crc32c: string;
	componentCount?: number;
}

/** The metadata a client may set on a new object. */
export interface NewResource {
	contentType?: string;
	metadata?: Record<string, string>;
}

/** GCS's generation and metageneration preconditions (query parameters). */
export interface Preconditions {
	ifGenerationMatch?: string;
	ifGenerationNotMatch?: string;
	ifMetagenerationMatch?: string;
	ifMetagenerationNotMatch?: string;
}

interface Bucket {
	readonly name: string;
	readonly created: Date;
	readonly objects: Map<string, StoredObject>;
	/** Object names in code-unit order, for listing. */
	readonly names: string[];
}

/**
 * Buckets and their objects. Every state change is synchronous (no await between a precondition
 * check and the swap), so concurrent requests see atomic replacement exactly as on GCS.
 */
export class Store {
	private readonly buckets = new Map<string, Bucket>();
	private lastGeneration = 0;
	private readonly dataDir: string;
	private readonly tmpDir: string;

	constructor(readonly root: string) {
		this.dataDir = join(root, "data");
		this.tmpDir = join(root, "tmp");
		mkdirSync(this.dataDir, { recursive: true });
		mkdirSync(this.tmpDir, { recursive: true });
	}

	/** Generations are microsecond timestamps, strictly increasing across the server. */
	nextGeneration(): string {
		this.lastGeneration = Math.max(Date.now() * 1000, this.lastGeneration + 1);
		return String(this.lastGeneration);
	}

	/** A fresh path for content being received. */
	tempFile(): string {
		return join(this.tmpDir, randomUUID());
	}

	dataFile(): string {
		return join(this.dataDir, randomUUID());
	}

	createBucket(name: string): Date {
		if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(name)) {
			throw new GcsError(400, "invalid", `Invalid bucket name: '${name}'`);
		}
		if (this.buckets.has(name)) {
			throw new GcsError(
				409,
				"conflict",
				"Your previous request to create the named bucket succeeded and you already own it.",
			);
		}
		const created = new Date();
		this.buckets.set(name, { name, created, objects: new Map(), names: [] });
		return created;
	}

	bucketCreated(name: string): Date {
		return this.bucket(name).created;
	}

	deleteBucket(name: string): void {
		const b = this.bucket(name);
		if (b.objects.size > 0) {
			throw new GcsError(409, "conflict", "The bucket you tried to delete is not empty.");
		}
		this.buckets.delete(name);
	}

	find(bucket: string, name: string): StoredObject | undefined {
		return this.bucket(bucket).objects.get(name);
	}

	/** The live object, optionally pinned to a generation (a stale one is gone: 404). */
	get(bucket: string, name: string, generation?: string): StoredObject {
		const obj = this.find(bucket, name);
		if (!obj || (generation !== undefined && obj.generation !== generation)) {
			throw noSuchObject(bucket, name);
		}
		return obj;
	}

	/** Sorted names of a bucket, for listing. Do not mutate. */
	names(bucket: string): readonly string[] {
		return this.bucket(bucket).names;
	}

	/** Make `content` the new live generation of `name`, if the preconditions hold. */
	install(
		bucket: string,
		name: string,
		content: NewContent,
		resource: NewResource,
		pre: Preconditions,
	): StoredObject {
		const b = this.bucket(bucket);
		const existing = b.objects.get(name);
		checkPreconditions(existing, pre);
		const now = new Date();
		const obj: StoredObject = {
			bucket,
			name,
			generation: this.nextGeneration(),
			metageneration: 1,
			size: content.size,
			contentType: resource.contentType || "application/octet-stream",
			crc32c: content.crc32c,
			timeCreated: now,
			updated: now,
			file: content.file,
			...(content.md5Hash !== undefined && { md5Hash: content.md5Hash }),
			...(content.componentCount !== undefined && { componentCount: content.componentCount }),
			...(resource.metadata && { metadata: { ...resource.metadata } }),
		};
		b.objects.set(name, obj);
		if (existing) discard(existing.file);
		else insertSorted(b.names, name);
		return obj;
	}

	remove(bucket: string, name: string, pre: Preconditions, generation?: string): void {
		const b = this.bucket(bucket);
		const existing = this.get(bucket, name, generation);
		checkPreconditions(existing, pre);
		b.objects.delete(name);
		removeSorted(b.names, name);
		discard(existing.file);
	}

	/** Remove everything on disk (the server's temp directory). */
	destroy(): void {
		rmSync(this.root, { recursive: true, force: true });
	}

	private bucket(name: string): Bucket {
		const b = this.buckets.get(name);
		if (!b) throw noSuchBucket(name);
		return b;
	}
}

/**
 * GCS semantics: ifGenerationMatch=0 means "must not exist"; any other match condition on a
 * missing object fails; NotMatch conditions on a missing object hold.
 */
export function checkPreconditions(obj: StoredObject | undefined, pre: Preconditions): void {
	const {
		ifGenerationMatch,
		ifGenerationNotMatch,
		ifMetagenerationMatch,
		ifMetagenerationNotMatch,
	} = pre;
	if (ifGenerationMatch !== undefined) {
		const ok = ifGenerationMatch === "0" ? !obj : obj?.generation === ifGenerationMatch;
		if (!ok) throw preconditionFailed("If-Match");
	}
	if (ifGenerationNotMatch !== undefined && obj?.generation === ifGenerationNotMatch) {
		throw preconditionFailed("If-None-Match");
	}
	if (
		ifMetagenerationMatch !== undefined &&
		String(obj?.metageneration) !== ifMetagenerationMatch
	) {
		throw preconditionFailed("If-Metageneration-Match");
	}
	if (
		ifMetagenerationNotMatch !== undefined &&
		obj !== undefined &&
		String(obj.metageneration) === ifMetagenerationNotMatch
	) {
		throw preconditionFailed("If-Metageneration-Not-Match");
	}
}

/** Readers that opened the file keep their descriptor: unlinking never cuts a download short. */
function discard(file: string): void {
	unlink(file).catch(() => {});
}

/** First index whose name is >= `name` (code-unit order). */
export function lowerBound(names: readonly string[], name: string): number {
	let lo = 0;
	let hi = names.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if ((names[mid] as string) < name) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

function insertSorted(names: string[], name: string): void {
	names.splice(lowerBound(names, name), 0, name);
}

function removeSorted(names: string[], name: string): void {
	const i = lowerBound(names, name);
	if (names[i] === name) names.splice(i, 1);
}
