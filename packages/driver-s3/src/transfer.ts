import type { Readable } from "node:stream";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { withRetries } from "@stowage/core";
import type { DriverContext } from "./context.js";
import { isAbort, isTransient, TruncatedBodyError } from "./errors.js";

/**
 * Read a whole (small) object into memory, retrying when the body breaks off: the SDK retries
 * a request only until its headers arrive. `expectedSize` (when known) is checked, and lets the
 * bytes land in `target` at `at` without an extra copy.
 */
export async function readObject(
	ctx: DriverContext,
	key: string,
	signal: AbortSignal | undefined,
	expected?: {
		size: number;
		target?: Buffer;
		at?: number;
		range?: [number, number];
		etag?: string | undefined;
	},
): Promise<Buffer> {
	const range = expected?.range ? { Range: `bytes=${expected.range[0]}-${expected.range[1]}` } : {};
	const pinned = expected?.etag ? { IfMatch: expected.etag } : {};
	return withRetries(
		ctx.retry,
		async () => {
			const out = await ctx.client.send(
				new GetObjectCommand({ Bucket: ctx.bucket, Key: key, ...range, ...pinned }),
				{ abortSignal: signal },
			);
			const body = out.Body as Readable;
			const length = out.ContentLength ?? expected?.size;
			if (expected && length !== expected.size) {
				body.destroy();
				throw new Error(`object ${key} is ${length} bytes, expected ${expected.size}`);
			}
			const target =
				expected?.target ?? (length === undefined ? undefined : Buffer.allocUnsafe(length));
			const base = expected?.target ? (expected.at ?? 0) : 0;
			if (!target)
				return Buffer.from(
					await (
						out.Body as { transformToByteArray(): Promise<Uint8Array> }
					).transformToByteArray(),
				);
			let got = 0;
			try {
				for await (const chunk of body) {
					const c = chunk as Buffer;
					if (got + c.length > (length as number))
						throw new Error(`object ${key} is longer than its Content-Length`);
					c.copy(target, base + got);
					got += c.length;
				}
			} finally {
				body.destroy();
			}
			if (got !== length) throw new TruncatedBodyError(length as number, got);
			return expected?.target ? target.subarray(base, base + got) : target;
		},
		// The SDK retries a request only until its headers arrive; a broken body is retried here.
		{ signal, retryable: (err) => isTransient(err) && !isAbort(err, signal) },
	);
}
