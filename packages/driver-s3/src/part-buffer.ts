/**
 * The bytes of the part being filled. It grows by doubling up to the part size and is reused
 * for every part, so a writer holds at most one part in memory however much it streams, and a
 * session that writes 32 bytes allocates kilobytes, not the whole part.
 */
export class PartBuffer {
	private data = Buffer.alloc(0);
	length = 0;

	constructor(private readonly capacityLimit: number) {}

	append(chunk: Uint8Array): void {
		const need = this.length + chunk.length;
		if (need > this.data.length) {
			const size = Math.min(
				Math.max(need, this.data.length * 2, 64 * 1024),
				Math.max(need, this.capacityLimit),
			);
			const grown = Buffer.allocUnsafe(size);
			this.data.copy(grown, 0, 0, this.length);
			this.data = grown;
		}
		// A copy: the caller may reuse its chunk as soon as write() resolves.
		this.data.set(chunk, this.length);
		this.length = need;
	}

	/** The buffered bytes, without copying (valid until the next append or reset). */
	view(): Buffer {
		return this.data.subarray(0, this.length);
	}

	reset(): void {
		this.length = 0;
	}
}
