import { unlink } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { type Checksums, ContentSink } from "./content.js";
import { badRequest, GcsError, required } from "./errors.js";
import { resourceFrom } from "./http-util.js";
import type { NewResource, Preconditions, Store, StoredObject } from "./store.js";

/** Hashes a client declared in the object resource; GCS refuses content that does not match. */
export interface DeclaredHashes {
	md5Hash?: string;
	crc32c?: string;
}

export function declaredHashes(body: Record<string, unknown>): DeclaredHashes {
	const out: DeclaredHashes = {};
	if (typeof body.md5Hash === "string") out.md5Hash = body.md5Hash;
	if (typeof body.crc32c === "string") out.crc32c = body.crc32c;
	return out;
}

export function checkDeclaredHashes(sums: Checksums, declared: DeclaredHashes): void {
	if (declared.md5Hash !== undefined && declared.md5Hash !== sums.md5Hash) {
		throw badRequest(
			`Provided MD5 hash "${declared.md5Hash}" doesn't match calculated MD5 hash "${sums.md5Hash}".`,
		);
	}
	if (declared.crc32c !== undefined && declared.crc32c !== sums.crc32c) {
		throw badRequest(
			`Provided CRC32C "${declared.crc32c}" doesn't match calculated CRC32C "${sums.crc32c}".`,
		);
	}
}

/** Stream `body` into a new data file, then install it; the file is removed on any failure. */
export async function storeUpload(
	store: Store,
	bucket: string,
	name: string,
	body: AsyncIterable<Uint8Array>,
	resource: NewResource,
	pre: Preconditions,
	declared: DeclaredHashes,
	expectedSize?: number,
): Promise<StoredObject> {
	const file = store.dataFile();
	const sink = await ContentSink.open(file);
	try {
		for await (const chunk of body) await sink.write(chunk);
		await sink.close();
		if (expectedSize !== undefined && sink.sums.size !== expectedSize) {
			throw badRequest(
				`Content-Length ${expectedSize} does not match the ${sink.sums.size} bytes received.`,
			);
		}
		checkDeclaredHashes(sink.sums, declared);
		return store.install(
			bucket,
			name,
			{ file, size: sink.sums.size, md5Hash: sink.sums.md5Hash, crc32c: sink.sums.crc32c },
			resource,
			pre,
		);
	} catch (err) {
		await sink.close().catch(() => {});
		await unlink(file).catch(() => {});
		throw err;
	}
}

/** uploadType=media: the body is the content, the name a query parameter. */
export function mediaUpload(
	store: Store,
	req: IncomingMessage,
	bucket: string,
	q: URLSearchParams,
	pre: Preconditions,
): Promise<StoredObject> {
	const name = q.get("name");
	if (!name) throw required("name");
	const length = req.headers["content-length"];
	return storeUpload(
		store,
		bucket,
		name,
		req,
		resourceFrom({}, req.headers["content-type"]),
		pre,
		{},
		length === undefined ? undefined : Number(length),
	);
}

/** The boundary of a `multipart/related` Content-Type, or a 400. */
export function multipartBoundary(contentType: string | undefined): string {
	const m = /^multipart\/related\s*;(?:.*;)?\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(
		contentType ?? "",
	);
	const boundary = m?.[1] ?? m?.[2];
	if (!boundary) {
		throw badRequest(
			"Invalid Content-Type for a multipart upload: expected multipart/related with a boundary.",
		);
	}
	return boundary;
}

const HEAD_LIMIT = 2 << 20;

/**
 * uploadType=multipart: a `multipart/related` body of two parts, the object resource as JSON and
 * then the content. Parsed as a stream: the head (first part and the second part's headers) is
 * buffered, the content goes to disk holding back just enough bytes to find the closing
 * delimiter.
 */
export async function multipartUpload(
	store: Store,
	req: IncomingMessage,
	bucket: string,
	q: URLSearchParams,
	pre: Preconditions,
): Promise<StoredObject> {
	const boundary = multipartBoundary(req.headers["content-type"]);
	const delimiter = Buffer.from(`--${boundary}`);
	const closing = Buffer.from(`\r\n--${boundary}--`);
	const iterator = (req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();

	let head = Buffer.alloc(0);
	let parsed: ReturnType<typeof parseHead>;
	for (;;) {
		parsed = parseHead(head, delimiter);
		if (parsed) break;
		const next = await iterator.next();
		if (next.done) throw badRequest("Multipart body ended before the media part.");
		head = Buffer.concat([head, next.value]);
		if (head.length > HEAD_LIMIT) throw badRequest("Multipart metadata part is too large.");
	}
	const { metadata, mediaType, rest } = parsed;
	const name = q.get("name") ?? (typeof metadata.name === "string" ? metadata.name : undefined);
	if (!name) throw required("name");

	async function* content(): AsyncGenerator<Uint8Array> {
		// Hold back closing.length + 2 bytes (the delimiter and an optional CRLF) until the end.
		const keep = closing.length + 2;
		let pending = rest;
		for (;;) {
			if (pending.length > keep) {
				yield pending.subarray(0, pending.length - keep);
				pending = pending.subarray(pending.length - keep);
			}
			const next = await iterator.next();
			if (next.done) break;
			pending = pending.length ? Buffer.concat([pending, next.value]) : next.value;
		}
		let end = pending.length;
		if (pending.subarray(end - 2).toString() === "\r\n") end -= 2;
		if (end < closing.length || !pending.subarray(end - closing.length, end).equals(closing)) {
			throw badRequest("Multipart body does not end with its closing delimiter.");
		}
		yield pending.subarray(0, end - closing.length);
	}

	return storeUpload(
		store,
		bucket,
		name,
		content(),
		resourceFrom(metadata, mediaType),
		pre,
		declaredHashes(metadata),
	);
}

/** Find the JSON part and the media part's headers; undefined while more bytes are needed. */
function parseHead(
	head: Buffer,
	delimiter: Buffer,
): { metadata: Record<string, unknown>; mediaType?: string; rest: Buffer } | undefined {
	const crlf = Buffer.from("\r\n");
	const blank = Buffer.from("\r\n\r\n");
	if (head.length < delimiter.length + 2) return undefined;
	if (!head.subarray(0, delimiter.length).equals(delimiter)) {
		throw badRequest("Multipart body does not start with its boundary.");
	}
	let at = delimiter.length;
	if (!head.subarray(at, at + 2).equals(crlf)) throw badRequest("Malformed multipart boundary.");
	at += 2;
	const h1End = head.indexOf(blank, at - 2);
	if (h1End < 0) return undefined;
	const bodyStart = h1End + 4;
	const next = head.indexOf(Buffer.concat([crlf, delimiter, crlf]), bodyStart);
	if (next < 0) return undefined;
	let metadata: Record<string, unknown>;
	try {
		metadata = JSON.parse(head.subarray(bodyStart, next).toString("utf8")) as Record<
			string,
			unknown
		>;
	} catch {
		throw badRequest("Multipart metadata part is not valid JSON.", "parseError");
	}
	if (!metadata || typeof metadata !== "object" || Array.isArray(metadata)) {
		throw new GcsError(400, "invalid", "Multipart metadata part must be a JSON object.");
	}
	const h2Start = next + 2 + delimiter.length + 2;
	const h2End = head.indexOf(blank, h2Start - 2);
	if (h2End < 0) return undefined;
	const headers = head.subarray(h2Start, h2End).toString("latin1");
	const ct = /^content-type:\s*(.+)$/im.exec(headers)?.[1]?.trim();
	return { metadata, ...(ct !== undefined && { mediaType: ct }), rest: head.subarray(h2End + 4) };
}
