import { randomBytes } from "node:crypto";

/** What S3 keeps with an object besides its bytes. */
export interface ObjectAttributes {
	contentType: string;
	/** `x-amz-meta-*` values, by lower-case name without the prefix. */
	metadata: Record<string, string>;
	storageClass: string;
	/** `x-amz-server-side-encryption` and its KMS key id, echoed back as S3 does. */
	sse?: { algorithm: string; kmsKeyId?: string | undefined } | undefined;
}

export interface StoredObject extends ObjectAttributes {
	key: string;
	data: Buffer;
	/** Quoted, as in the ETag header. */
	etag: string;
	lastModified: Date;
}

export interface StoredPart {
	partNumber: number;
	data: Buffer;
	etag: string;
	lastModified: Date;
}

export interface MultipartUpload extends ObjectAttributes {
	uploadId: string;
	key: string;
	initiated: Date;
	parts: Map<number, StoredPart>;
}

/** Keys order by their UTF-8 bytes, as S3 lists them (not by UTF-16 code units). */
export function compareKeys(a: string, b: string): number {
	if (isAscii(a) && isAscii(b)) return a < b ? -1 : a > b ? 1 : 0;
	return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function isAscii(s: string): boolean {
	for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
	return true;
}

export class Bucket {
	readonly created = new Date();
	private readonly objects = new Map<string, StoredObject>();
	private sorted: string[] | undefined;
	readonly uploads = new Map<string, MultipartUpload>();

	constructor(readonly name: string) {}

	get(key: string): StoredObject | undefined {
		return this.objects.get(key);
	}

	put(object: StoredObject): void {
		if (!this.objects.has(object.key)) this.sorted = undefined;
		this.objects.set(object.key, object);
	}

	delete(key: string): boolean {
		const had = this.objects.delete(key);
		if (had) this.sorted = undefined;
		return had;
	}

	get size(): number {
		return this.objects.size;
	}

	/**
	 * Keys in listing order, starting at the first key strictly after `after` and not before
	 * `atLeast` (a listing's prefix), found by binary search.
	 */
	*keysAfter(after: string | undefined, atLeast?: string): Generator<StoredObject> {
		this.sorted ??= [...this.objects.keys()].sort(compareKeys);
		const keys = this.sorted;
		const firstWhere = (past: (key: string) => boolean) => {
			let lo = 0;
			let hi = keys.length;
			while (lo < hi) {
				const mid = (lo + hi) >>> 1;
				if (past(keys[mid] as string)) hi = mid;
				else lo = mid + 1;
			}
			return lo;
		};
		let lo = 0;
		if (after !== undefined) lo = firstWhere((k) => compareKeys(k, after) > 0);
		if (atLeast)
			lo = Math.max(
				lo,
				firstWhere((k) => compareKeys(k, atLeast) >= 0),
			);
		for (let i = lo; i < keys.length; i++) {
			const object = this.objects.get(keys[i] as string);
			// A key deleted while a listing was in progress is skipped.
			if (object) yield object;
		}
	}

	newUploadId(): string {
		// Opaque and URL-unsafe on purpose (like AWS's), so clients must encode it.
		return randomBytes(24).toString("base64").replace(/=+$/, "");
	}
}

export class Store {
	readonly buckets = new Map<string, Bucket>();
}
