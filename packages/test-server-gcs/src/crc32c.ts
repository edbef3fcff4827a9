/**
 * CRC32C (Castagnoli), the checksum GCS reports for every object, as base64 of the big-endian
 * value. Slicing-by-8 tables: about 1.3 GB/s in V8, so hashing is never what a test waits on.
 */
const POLY = 0x82f63b78;
const TABLE = buildTable();

function buildTable(): Int32Array {
	const t = new Int32Array(8 * 256);
	for (let i = 0; i < 256; i++) {
		let c = i;
		for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
		t[i] = c;
	}
	for (let i = 0; i < 256; i++) {
		for (let s = 1; s < 8; s++) {
			const prev = t[(s - 1) * 256 + i] as number;
			t[s * 256 + i] = (prev >>> 8) ^ (t[prev & 0xff] as number);
		}
	}
	return t;
}

/** Continue a CRC32C (0 for an empty prefix) over `data`. */
export function crc32cUpdate(crc: number, data: Uint8Array): number {
	const t = TABLE;
	let c = ~crc;
	let i = 0;
	const n = data.length;
	for (; i + 8 <= n; i += 8) {
		const a =
			c ^
			((data[i] as number) |
				((data[i + 1] as number) << 8) |
				((data[i + 2] as number) << 16) |
				((data[i + 3] as number) << 24));
		c =
			(t[1792 + (a & 0xff)] as number) ^
			(t[1536 + ((a >>> 8) & 0xff)] as number) ^
			(t[1280 + ((a >>> 16) & 0xff)] as number) ^
			(t[1024 + (a >>> 24)] as number) ^
			(t[768 + (data[i + 4] as number)] as number) ^
			(t[512 + (data[i + 5] as number)] as number) ^
			(t[256 + (data[i + 6] as number)] as number) ^
			(t[data[i + 7] as number] as number);
	}
	for (; i < n; i++) c = (t[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
	return ~c >>> 0;
}

/** GCS's encoding of a CRC32C: base64 of the four big-endian bytes. */
export function crc32cBase64(crc: number): string {
	const b = Buffer.alloc(4);
	b.writeUInt32BE(crc >>> 0);
	return b.toString("base64");
}
