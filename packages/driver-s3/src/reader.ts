import { addAbortSignal, Readable } from "node:stream";
import { GetObjectCommand, type GetObjectCommandOutput } from "@aws-sdk/client-s3";
import { backoffDelay, sleep } from "@stowage/core";
import type { DriverContext } from "./context.js";
import { isInvalidRange, isTransient, TruncatedBodyError } from "./errors.js";

/**
 * A ranged read. An offset at or past the end is an empty stream (S3 answers 416 InvalidRange).
 * If the connection breaks mid-body, the read resumes where it stopped with a new ranged GET
 * pinned to the same ETag (If-Match), so a retried stream can never splice two versions.
 */
export async function openReader(
	ctx: DriverContext,
	key: string,
	offset: number,
	signal: AbortSignal | undefined,
): Promise<Readable> {
	let first: GetObjectCommandOutput;
	try {
		first = await ctx.client.send(
			new GetObjectCommand({
				Bucket: ctx.bucket,
				Key: key,
				...(offset > 0 ? { Range: `bytes=${offset}-` } : {}),
			}),
			{ abortSignal: signal },
		);
	} catch (err) {
		if (isInvalidRange(err)) return withSignal(Readable.from([], { objectMode: false }), signal);
		throw err;
	}
	const end = offset + (first.ContentLength ?? 0);
	return withSignal(new ObjectStream(ctx, key, first, offset, end, signal), signal);
}

function withSignal(stream: Readable, signal: AbortSignal | undefined): Readable {
	return signal ? addAbortSignal(signal, stream) : stream;
}

class ObjectStream extends Readable {
	private body: Readable | undefined;
	private attempt = 0;
	private readonly etag: string | undefined;

	constructor(
		private readonly ctx: DriverContext,
		private readonly key: string,
		first: GetObjectCommandOutput,
		private pos: number,
		private readonly end: number,
		private readonly signal: AbortSignal | undefined,
	) {
		super();
		this.etag = first.ETag;
		this.attach(first.Body as Readable);
	}

	private attach(body: Readable): void {
		this.body = body;
		let settled = false;
		body.on("data", (chunk: Buffer) => {
			this.pos += chunk.length;
			this.attempt = 0;
			if (!this.push(chunk)) body.pause();
		});
		body.on("end", () => {
			settled = true;
			if (this.pos < this.end) this.interrupted(body, new TruncatedBodyError(this.end, this.pos));
			else this.push(null);
		});
		body.on("error", (err) => {
			if (settled) return;
			settled = true;
			this.interrupted(body, err);
		});
		body.on("close", () => {
			if (settled) return;
			settled = true;
			this.interrupted(body, new TruncatedBodyError(this.end, this.pos));
		});
	}

	override _read(): void {
		this.body?.resume();
	}

	override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
		this.body?.destroy();
		callback(error);
	}

	/** The body broke off: reopen at the current position, or fail the stream. */
	private interrupted(body: Readable, err: unknown): void {
		body.removeAllListeners("data");
		body.on("error", () => {});
		body.destroy();
		if (this.destroyed) return;
		if (this.signal?.aborted || !isTransient(err) || ++this.attempt >= this.ctx.retry.maxAttempts) {
			this.destroy(err as Error);
			return;
		}
		sleep(backoffDelay(this.ctx.retry, this.attempt), this.signal)
			.then(() =>
				this.ctx.client.send(
					new GetObjectCommand({
						Bucket: this.ctx.bucket,
						Key: this.key,
						Range: `bytes=${this.pos}-`,
						...(this.etag ? { IfMatch: this.etag } : {}),
					}),
					{ abortSignal: this.signal },
				),
			)
			.then(
				(next) => {
					if (this.destroyed) (next.Body as Readable).destroy();
					else this.attach(next.Body as Readable);
				},
				(e: unknown) => this.destroy(e as Error),
			);
	}
}
