import { close, read } from "node:fs";
import { Readable } from "node:stream";
import type { FillableReadable } from "@stowage/core";

/**
 * A file descriptor read from a start offset to its end, as a stream of `chunkSize` pieces or
 * into the caller's buffers (`fill`). The stream owns the descriptor and closes it when
 * destroyed or ended, but only after a read in flight has returned: closing under it could let
 * the read land on a descriptor number the process has already reused for another file.
 */
export class FdReadStream extends Readable implements FillableReadable {
	readonly #fd: number;
	readonly #chunkSize: number;
	readonly #wrap: (err: unknown) => Error;
	#position: number;
	#io: Promise<unknown> = Promise.resolve();

	constructor(fd: number, start: number, chunkSize: number, wrap: (err: unknown) => Error) {
		super({ highWaterMark: chunkSize });
		this.#fd = fd;
		this.#position = start;
		this.#chunkSize = chunkSize;
		this.#wrap = wrap;
	}

	override _read(): void {
		const chunk = Buffer.allocUnsafeSlow(this.#chunkSize);
		this.#readInto(chunk).then(
			(n) => this.push(n === 0 ? null : n < chunk.length ? chunk.subarray(0, n) : chunk),
			(err: unknown) => this.destroy(err as Error),
		);
	}

	async fill(target: Uint8Array): Promise<number> {
		if (this.destroyed) throw this.#wrap(this.errored ?? new Error("the reader is closed"));
		return this.#readInto(target);
	}

	override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
		void this.#io.then(() => close(this.#fd, (closeErr) => callback(err ?? closeErr)));
	}

	#readInto(target: Uint8Array): Promise<number> {
		const io = new Promise<number>((resolve, reject) => {
			read(this.#fd, target, 0, target.byteLength, this.#position, (err, n) =>
				err ? reject(this.#wrap(err)) : resolve(n),
			);
		});
		this.#io = io.catch(() => undefined);
		return io.then((n) => {
			this.#position += n;
			return n;
		});
	}
}
