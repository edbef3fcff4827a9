import type { IncomingHttpHeaders } from "node:http";
import { type Authenticated, verifyChunkSignature, verifyTrailerSignature } from "./auth.js";
import { verifyChecksum } from "./checksums.js";
import { errors } from "./errors.js";

const STREAMING_MODES = new Set([
	"STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
	"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
	"STREAMING-UNSIGNED-PAYLOAD-TRAILER",
]);

/**
 * Decode an aws-chunked body into the object bytes, verifying chunk signatures (signed modes),
 * the decoded length, and a trailing checksum. The framing is never stored: a server that keeps
 * it corrupts the object silently, as s3rver 3.x does.
 */
export function decodeAwsChunked(
	body: Buffer,
	headers: IncomingHttpHeaders,
	auth: Authenticated,
): Buffer {
	const mode = auth.payloadHash;
	if (!STREAMING_MODES.has(mode)) {
		throw errors.notImplemented(`x-amz-content-sha256 mode ${mode} is not supported`);
	}
	const signed = mode.startsWith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
	const withTrailer = mode.endsWith("-TRAILER");
	const declared = headers["x-amz-decoded-content-length"];
	if (typeof declared !== "string" || !/^\d+$/.test(declared)) {
		throw errors.missingContentLength();
	}
	const out: Buffer[] = [];
	let total = 0;
	let pos = 0;
	let previous = auth.signature;
	const line = (): string => {
		const end = body.indexOf("\r\n", pos);
		if (end < 0) throw errors.incompleteBody("The aws-chunked body ended inside a chunk header");
		const text = body.subarray(pos, end).toString("latin1");
		pos = end + 2;
		return text;
	};
	for (;;) {
		const header = line();
		const m = /^([0-9a-fA-F]+)(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(header);
		if (!m)
			throw errors.invalidRequest(`Malformed aws-chunked chunk header: ${JSON.stringify(header)}`);
		const size = Number.parseInt(m[1] as string, 16);
		if (signed && m[2] === undefined) throw errors.accessDenied("Missing chunk signature");
		if (pos + size > body.length) throw errors.incompleteBody();
		const data = body.subarray(pos, pos + size);
		pos += size;
		if (signed) previous = verifyChunkSignature(auth, previous, data, m[2] as string);
		if (size === 0) break;
		if (!body.subarray(pos, pos + 2).equals(CRLF)) {
			throw errors.invalidRequest("aws-chunked chunk data is not followed by CRLF");
		}
		pos += 2;
		out.push(data);
		total += size;
	}
	const decoded = Buffer.concat(out, total);
	if (total !== Number(declared)) {
		throw errors.incompleteBody(
			`x-amz-decoded-content-length is ${declared} but the chunks hold ${total} bytes`,
		);
	}
	if (withTrailer) {
		const trailers: [string, string][] = [];
		let trailerSignature: string | undefined;
		for (;;) {
			const text = line();
			if (text === "") break;
			const colon = text.indexOf(":");
			if (colon < 0) throw errors.invalidRequest(`Malformed trailer: ${JSON.stringify(text)}`);
			const name = text.slice(0, colon).trim().toLowerCase();
			const value = text.slice(colon + 1).trim();
			if (name === "x-amz-trailer-signature") trailerSignature = value;
			else trailers.push([name, value]);
		}
		const expected = headers["x-amz-trailer"];
		for (const [name, value] of trailers) {
			if (name !== expected) throw errors.invalidRequest(`Unexpected trailer ${name}`);
			if (!name.startsWith("x-amz-checksum-"))
				throw errors.invalidRequest(`Unsupported trailer ${name}`);
			verifyChecksum(name.slice("x-amz-checksum-".length), value, decoded);
		}
		if (expected !== undefined && !trailers.some(([n]) => n === expected)) {
			throw errors.invalidRequest(`The trailer ${String(expected)} was announced but not sent`);
		}
		if (signed) {
			if (trailerSignature === undefined) throw errors.accessDenied("Missing trailer signature");
			const canonical = trailers.map(([n, v]) => `${n}:${v}\n`).join("");
			verifyTrailerSignature(auth, previous, canonical, trailerSignature);
		}
	} else if (pos < body.length && !body.subarray(pos).equals(CRLF)) {
		throw errors.invalidRequest("Unexpected bytes after the final aws-chunked chunk");
	}
	return decoded;
}

const CRLF = Buffer.from("\r\n");
