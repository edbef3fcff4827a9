import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, GcsError } from "./errors.js";
import type { Preconditions } from "./store.js";

export function sendJson(
	res: ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string | number> = {},
): void {
	const text = JSON.stringify(body);
	res.writeHead(status, {
		"content-type": "application/json; charset=UTF-8",
		"content-length": Buffer.byteLength(text),
		...headers,
	});
	res.end(text);
}

/** Read a small request body (JSON metadata) whole; larger ones are refused. */
export async function readSmallBody(req: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
	const parts: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		size += (chunk as Buffer).length;
		if (size > limit) throw new GcsError(413, "uploadTooLarge", "Metadata part is too large.");
		parts.push(chunk as Buffer);
	}
	return Buffer.concat(parts);
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
	const body = await readSmallBody(req);
	if (body.length === 0) return {};
	try {
		const parsed = JSON.parse(body.toString("utf8")) as unknown;
		if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
			return parsed as Record<string, unknown>;
		}
	} catch {
		// fall through
	}
	throw badRequest("Parse Error", "parseError");
}

/** Drain what is left of a request we answered early, so the connection stays usable. */
export function drain(req: IncomingMessage): void {
	if (!req.complete) req.resume();
}

/** An int64 query parameter as its decimal string, or a 400. */
export function int64Param(q: URLSearchParams, name: string): string | undefined {
	const v = q.get(name);
	if (v === null) return undefined;
	if (!/^-?\d+$/.test(v)) throw badRequest(`Invalid value for ${name}: ${v}`);
	return BigInt(v).toString();
}

export function preconditions(q: URLSearchParams, prefix = ""): Preconditions {
	const name = (s: string) => (prefix ? `${prefix}${s[0]?.toUpperCase()}${s.slice(1)}` : s);
	const out: Preconditions = {};
	for (const key of [
		"ifGenerationMatch",
		"ifGenerationNotMatch",
		"ifMetagenerationMatch",
		"ifMetagenerationNotMatch",
	] as const) {
		const v = int64Param(q, name(key));
		if (v !== undefined) out[key] = v;
	}
	return out;
}

/** Metadata fields a client may set on an object (objects.insert / compose destination). */
export function resourceFrom(
	body: Record<string, unknown>,
	fallbackContentType?: string,
): { contentType?: string; metadata?: Record<string, string> } {
	const out: { contentType?: string; metadata?: Record<string, string> } = {};
	const ct = typeof body.contentType === "string" ? body.contentType : fallbackContentType;
	if (ct) out.contentType = ct;
	if (body.metadata && typeof body.metadata === "object") {
		const md: Record<string, string> = {};
		for (const [k, v] of Object.entries(body.metadata as Record<string, unknown>)) {
			if (v !== null && v !== undefined) md[k] = String(v);
		}
		out.metadata = md;
	}
	return out;
}

export interface ByteRange {
	start: number;
	/** Inclusive. */
	end: number;
}

/**
 * A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range against an object of `size`.
 * Returns undefined for no (or an ignorable) header, "unsatisfiable" for a 416.
 */
export function parseRange(
	header: string | undefined,
	size: number,
): ByteRange | "unsatisfiable" | undefined {
	if (!header) return undefined;
	const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
	if (!m || (m[1] === "" && m[2] === "")) return undefined;
	if (m[1] === "") {
		const n = Number(m[2]);
		if (n === 0) return "unsatisfiable";
		return { start: Math.max(0, size - n), end: size - 1 };
	}
	const start = Number(m[1]);
	const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
	if (start >= size || end < start) return "unsatisfiable";
	return { start, end };
}
