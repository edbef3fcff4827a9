import { randomBytes } from "node:crypto";
import { truncate, unlink } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { Checksums, ContentSink } from "./content.js";
import { badRequest, GcsError } from "./errors.js";
import type { NewResource, Preconditions, Store, StoredObject } from "./store.js";
import { checkPreconditions } from "./store.js";
import { checkDeclaredHashes, type DeclaredHashes } from "./uploads.js";

/** Every chunk but the last must be a multiple of this (GCS's 256 KiB rule). */
export const CHUNK_GRANULARITY = 256 * 1024;

interface Session {
	readonly id: string;
	readonly bucket: string;
	readonly name: string;
	readonly resource: NewResource;
	readonly pre: Preconditions;
	readonly declared: DeclaredHashes;
	readonly declaredSize?: number;
	readonly file: string;
	/** Checksums and size of the persisted bytes. */
	sums: Checksums;
	readonly expiresAt: number;
	state: "open" | "done" | "expired";
	result?: StoredObject;
	busy: boolean;
}

/** What a PUT to a session URI answered: 308 with the persisted range, or the final object. */
export type SessionReply =
	| { kind: "incomplete"; persisted: number }
	| { kind: "done"; object: StoredObject };

export interface SessionOptions {
	ttlMs: number;
	/** The status an expired session answers with (GCS documents 404 and 410). */
	expiredStatus: 404 | 410;
}

/** A parsed Content-Range of a session PUT. */
type ContentRange =
	| { kind: "query"; total?: number }
	| { kind: "chunk"; first: number; last: number; total?: number }
	/** `bytes a-*\/…`: the request body is all the rest; its end ends the upload. */
	| { kind: "rest"; first: number; total?: number };

/**
 * Resumable upload sessions (uploadType=resumable). A session persists the bytes of each PUT
 * that starts exactly at its persisted size; every chunk but the last must be a multiple of
 * 256 KiB; a PUT whose range ends at the declared total finalizes the object (preconditions are
 * checked again then). Sessions expire after `ttlMs`; an expired session answers
 * `expiredStatus` from then on. Persisted bytes live in a file on disk.
 */
export class Sessions {
	private readonly sessions = new Map<string, Session>();

	constructor(
		private readonly store: Store,
		private readonly options: SessionOptions,
	) {}

	start(
		bucket: string,
		name: string,
		resource: NewResource,
		pre: Preconditions,
		declared: DeclaredHashes,
		declaredSize: number | undefined,
	): string {
		// Fail fast, as GCS does; the conditions are checked again at finalization.
		checkPreconditions(this.store.find(bucket, name), pre);
		const id = randomBytes(24).toString("base64url");
		this.sessions.set(id, {
			id,
			bucket,
			name,
			resource,
			pre,
			declared,
			...(declaredSize !== undefined && { declaredSize }),
			file: this.store.tempFile(),
			sums: new Checksums(),
			expiresAt: Date.now() + this.options.ttlMs,
			state: "open",
			busy: false,
		});
		return id;
	}

	/** Expire every open session now (test control). */
	expireAll(): void {
		for (const s of this.sessions.values()) this.expire(s);
	}

	cancel(id: string): void {
		const s = this.session(id);
		this.sessions.delete(id);
		// A finished session's file is its object's content now: only an open one is discarded.
		if (s.state === "open") unlink(s.file).catch(() => {});
	}

	/** Handle a PUT: a status query, a chunk, or the final chunk. */
	async put(id: string, req: IncomingMessage, fault?: { keep?: number }): Promise<SessionReply> {
		const s = this.session(id);
		if (s.state === "done") {
			req.resume();
			return { kind: "done", object: s.result as StoredObject };
		}
		if (s.busy) throw new GcsError(409, "conflict", "Another request is using this upload.");
		s.busy = true;
		try {
			return await this.receive(s, req, fault);
		} finally {
			s.busy = false;
		}
	}

	private async receive(
		s: Session,
		req: IncomingMessage,
		fault?: { keep?: number },
	): Promise<SessionReply> {
		const length = contentLength(req);
		const range = parseContentRange(req.headers["content-range"], length);
		const persisted = s.sums.size;
		if (range.kind === "query") {
			if ((length ?? 0) > 0) throw badRequest("A status query must not have a body.");
			if (range.total !== undefined && range.total === persisted) {
				return this.finalize(s, range.total, req.headers["x-goog-hash"]);
			}
			if (range.total !== undefined && range.total < persisted) {
				throw badRequest(
					`The total size ${range.total} is less than the ${persisted} bytes already uploaded.`,
				);
			}
			return { kind: "incomplete", persisted };
		}
		if (range.kind === "rest") return this.receiveRest(s, req, range.first, range.total);
		const size = range.last - range.first + 1;
		if (range.first !== persisted) {
			throw badRequest(
				`Invalid request. According to the Content-Range header, the upload offset is ${range.first} byte(s), which does not match the ${persisted} byte(s) already persisted.`,
			);
		}
		const final = range.total !== undefined && range.last + 1 === range.total;
		if (range.total !== undefined && range.last + 1 > range.total) {
			throw badRequest(`Content-Range ends at ${range.last}, past the total ${range.total}.`);
		}
		if (!final && size % CHUNK_GRANULARITY !== 0) {
			throw badRequest(
				`Invalid request. The number of bytes uploaded is required to be equal or greater than 262144, except for the final request (it's recommended to be the exact multiple of 262144). The received request contained ${size} bytes, which does not meet this requirement.`,
			);
		}
		if (
			s.declaredSize !== undefined &&
			range.total !== undefined &&
			range.total !== s.declaredSize
		) {
			throw badRequest(
				`The total ${range.total} does not match X-Upload-Content-Length ${s.declaredSize}.`,
			);
		}
		// Fault: persist only the first `keep` bytes of a non-final chunk (GCS may persist less
		// than it received; the 308's Range says how much).
		const keep =
			!final && fault?.keep !== undefined && fault.keep < size
				? Math.floor(fault.keep / CHUNK_GRANULARITY) * CHUNK_GRANULARITY
				: size;
		const before = new Checksums(...s.sums.snapshot());
		const sink = await ContentSink.open(s.file, s.sums);
		let received = 0;
		try {
			for await (const raw of req) {
				const chunk = raw as Buffer;
				const room = keep - Math.min(received, keep);
				if (room > 0) await sink.write(chunk.length > room ? chunk.subarray(0, room) : chunk);
				received += chunk.length;
				if (received > size) throw badRequest("The body is longer than its Content-Range.");
			}
			if (received !== size) {
				throw badRequest(`The body has ${received} bytes, its Content-Range says ${size}.`);
			}
		} catch (err) {
			// An interrupted or refused chunk persists nothing.
			await sink.close().catch(() => {});
			await truncate(s.file, persisted).catch(() => {});
			s.sums = before;
			throw err;
		}
		await sink.close();
		if (final) return this.finalize(s, range.total as number, req.headers["x-goog-hash"]);
		return { kind: "incomplete", persisted: s.sums.size };
	}

	/** `bytes a-*\/…`: stream the whole rest, then finalize at whatever size it reached. */
	private async receiveRest(
		s: Session,
		req: IncomingMessage,
		first: number,
		total: number | undefined,
	): Promise<SessionReply> {
		const persisted = s.sums.size;
		if (first !== persisted) {
			throw badRequest(
				`Invalid request. The upload offset is ${first} byte(s), which does not match the ${persisted} byte(s) already persisted.`,
			);
		}
		const before = new Checksums(...s.sums.snapshot());
		const sink = await ContentSink.open(s.file, s.sums);
		try {
			for await (const chunk of req) await sink.write(chunk as Buffer);
			if (total !== undefined && s.sums.size !== total) {
				throw badRequest(
					`The upload ended at ${s.sums.size} bytes, its Content-Range says ${total}.`,
				);
			}
		} catch (err) {
			await sink.close().catch(() => {});
			await truncate(s.file, persisted).catch(() => {});
			s.sums = before;
			throw err;
		}
		await sink.close();
		return this.finalize(s, s.sums.size, req.headers["x-goog-hash"]);
	}

	private finalize(s: Session, total: number, hashHeader?: string | string[]): SessionReply {
		if (s.sums.size !== total) {
			throw badRequest(`Upload is incomplete: ${s.sums.size} of ${total} bytes.`);
		}
		if (s.declaredSize !== undefined && total !== s.declaredSize) {
			throw badRequest(
				`The total ${total} does not match X-Upload-Content-Length ${s.declaredSize}.`,
			);
		}
		checkDeclaredHashes(s.sums, { ...s.declared, ...hashesFromHeader(hashHeader) });
		const object = this.store.install(
			s.bucket,
			s.name,
			{ file: s.file, size: total, md5Hash: s.sums.md5Hash, crc32c: s.sums.crc32c },
			s.resource,
			s.pre,
		);
		s.state = "done";
		s.result = object;
		return { kind: "done", object };
	}

	private session(id: string): Session {
		const s = this.sessions.get(id);
		if (!s) throw new GcsError(404, "notFound", "No such upload session.");
		if (s.state === "open" && Date.now() > s.expiresAt) this.expire(s);
		if (s.state === "expired") {
			throw new GcsError(
				this.options.expiredStatus,
				this.options.expiredStatus === 410 ? "gone" : "notFound",
				"The upload session has expired.",
			);
		}
		return s;
	}

	private expire(s: Session): void {
		if (s.state !== "open") return;
		s.state = "expired";
		unlink(s.file).catch(() => {});
	}
}

function contentLength(req: IncomingMessage): number | undefined {
	const raw = req.headers["content-length"];
	if (raw === undefined) return undefined;
	const n = Number(raw);
	if (!Number.isSafeInteger(n) || n < 0) throw badRequest(`Invalid Content-Length: ${raw}`);
	return n;
}

/**
 * `bytes a-b/total`, `bytes a-b/*`, `bytes *\/total`, `bytes *\/*`, and `bytes a-*\/total` (the
 * rest in one streamed request); no header is a whole upload in one request (its Content-Length
 * is the total).
 */
function parseContentRange(header: string | undefined, length: number | undefined): ContentRange {
	if (header === undefined) {
		if (length === undefined) {
			throw badRequest("A single-request upload needs a Content-Length or a Content-Range.");
		}
		return length === 0
			? { kind: "query", total: 0 }
			: { kind: "chunk", first: 0, last: length - 1, total: length };
	}
	const m = /^bytes (?:(\d+)-(\d+|-1|\*)|\*)\/(\d+|\*)$/.exec(header.trim());
	if (!m) throw badRequest(`Invalid Content-Range: ${header}`);
	const total = m[3] === "*" ? undefined : Number(m[3]);
	if (m[1] === undefined) return { kind: "query", ...(total !== undefined && { total }) };
	const first = Number(m[1]);
	if (m[2] === "*") return { kind: "rest", first, ...(total !== undefined && { total }) };
	const last = Number(m[2]);
	// `bytes a-(a-1)/a` is how clients (the Node SDK among them) finish with an empty last chunk.
	if (last === first - 1 && total === first && !length) return { kind: "query", total };
	if (last < first) throw badRequest(`Invalid Content-Range: ${header}`);
	if (length !== undefined && length !== last - first + 1) {
		throw badRequest(
			`Content-Length ${length} does not match the ${last - first + 1} bytes of Content-Range ${header}.`,
		);
	}
	return { kind: "chunk", first, last, ...(total !== undefined && { total }) };
}

/** `X-Goog-Hash: crc32c=…,md5=…` on a final request: GCS checks the object against it. */
function hashesFromHeader(header: string | string[] | undefined): DeclaredHashes {
	const out: DeclaredHashes = {};
	for (const item of (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",")) {
		const i = item.indexOf("=");
		if (i < 0) continue;
		const key = item.slice(0, i).trim();
		const value = item.slice(i + 1).trim();
		if (key === "md5") out.md5Hash = value;
		if (key === "crc32c") out.crc32c = value;
	}
	return out;
}
