/**
 * Byte ranges in both directions: the upload progress header (`Range: 0-<last>`), the chunk a
 * client sends (`Content-Range`), and the part of a blob a client asks for (`Range: bytes=`).
 */

/** Upload progress: `0-<offset-1>`; an empty upload is `0-0`, as Distribution answers. */
export function uploadRange(offset: number): string {
	return `0-${Math.max(offset - 1, 0)}`;
}

export interface ByteSpan {
	start: number;
	/** Inclusive. */
	end: number;
}

/**
 * A chunk's Content-Range: `<start>-<end>`, with or without the `bytes ` prefix (OCI writes it
 * without, RFC 9110 with), optionally followed by `/<total>` or `/*`. Undefined when malformed.
 */
export function parseContentRange(header: string): ByteSpan | undefined {
	const m = /^(?:bytes[ =])?\s*(\d{1,16})-(\d{1,16})(?:\/(?:\d{1,16}|\*))?$/i.exec(header.trim());
	if (!m) return undefined;
	return { start: Number(m[1]), end: Number(m[2]) };
}

/**
 * A GET's `Range: bytes=...` against a blob of `size` bytes: a span, "unsatisfiable" (416), or
 * undefined to serve the whole blob (no header, another unit, or several ranges, which RFC 9110
 * lets a server ignore).
 */
export function parseRange(
	header: string | undefined,
	size: number,
): ByteSpan | "unsatisfiable" | undefined {
	if (!header) return undefined;
	const m = /^bytes=\s*(\d*)-(\d*)\s*$/i.exec(header.trim());
	if (!m) return undefined;
	const [, first, last] = m;
	if (first === "" && last === "") return undefined;
	if (first === "") {
		// Suffix range: the last N bytes.
		const n = Number(last);
		if (n === 0 || size === 0) return "unsatisfiable";
		return { start: Math.max(size - n, 0), end: size - 1 };
	}
	const start = Number(first);
	if (start >= size) return "unsatisfiable";
	const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
	if (end < start) return undefined;
	return { start, end };
}
