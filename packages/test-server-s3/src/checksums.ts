import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { errors } from "./errors.js";

/** The flexible-checksum algorithms S3 verifies, by their `x-amz-checksum-<name>` header name. */
const ALGORITHMS: Record<string, (data: Buffer) => string> = {
	crc32: (data) => uint32(crc32(data)),
	crc32c: (data) => uint32(crc32c(data)),
	sha1: (data) => createHash("sha1").update(data).digest("base64"),
	sha256: (data) => createHash("sha256").update(data).digest("base64"),
};

function uint32(value: number): string {
	const b = Buffer.alloc(4);
	b.writeUInt32BE(value >>> 0);
	return b.toString("base64");
}

let CRC32C_TABLE: Uint32Array | undefined;

/** CRC-32C (Castagnoli), which node:zlib does not offer. */
function crc32c(data: Buffer): number {
	if (!CRC32C_TABLE) {
		CRC32C_TABLE = new Uint32Array(256);
		for (let n = 0; n < 256; n++) {
			let c = n;
			for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
			CRC32C_TABLE[n] = c >>> 0;
		}
	}
	let crc = 0xffffffff;
	for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
	return (crc ^ 0xffffffff) >>> 0;
}

export function md5Hex(data: Buffer): string {
	return createHash("md5").update(data).digest("hex");
}

export function sha256Hex(data: Buffer | string): string {
	return createHash("sha256").update(data).digest("hex");
}

/** Whether the request carries any integrity header (DeleteObjects demands one). */
export function hasIntegrityHeader(
	headers: Record<string, string | string[] | undefined>,
): boolean {
	if (headers["content-md5"] !== undefined) return true;
	return Object.keys(headers).some(isChecksumValueHeader);
}

/** `x-amz-checksum-<algorithm>` headers carry values; -mode, -algorithm and -type do not. */
function isChecksumValueHeader(name: string): boolean {
	return name.startsWith("x-amz-checksum-") && !NOT_VALUES.has(name.slice(15));
}

const NOT_VALUES = new Set(["mode", "algorithm", "type"]);

/** Verify a checksum value against the bytes; an unknown algorithm is refused, not ignored. */
export function verifyChecksum(name: string, expected: string, data: Buffer): void {
	const compute = ALGORITHMS[name];
	if (!compute) throw errors.invalidRequest(`Unsupported checksum algorithm: ${name}`);
	if (!/^[A-Za-z0-9+/]+=*$/.test(expected)) {
		throw errors.invalidDigest(`Value for x-amz-checksum-${name} header is invalid.`);
	}
	if (compute(data) !== expected) {
		throw errors.badDigest(
			`The ${name.toUpperCase()} you specified did not match the calculated checksum.`,
		);
	}
}

/** Content-MD5 and every `x-amz-checksum-*` header present must match the (decoded) body. */
export function verifyBodyIntegrity(
	headers: Record<string, string | string[] | undefined>,
	data: Buffer,
): void {
	const md5 = headers["content-md5"];
	if (typeof md5 === "string") {
		const raw = Buffer.from(md5, "base64");
		if (raw.length !== 16) throw errors.invalidDigest();
		if (!raw.equals(createHash("md5").update(data).digest())) throw errors.badDigest();
	}
	for (const [header, value] of Object.entries(headers)) {
		if (!isChecksumValueHeader(header)) continue;
		if (typeof value !== "string") continue;
		verifyChecksum(header.slice("x-amz-checksum-".length), value, data);
	}
}
