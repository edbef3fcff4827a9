import { createCipheriv, createHash, randomBytes, randomInt } from "node:crypto";
import type { Readable } from "node:stream";
import type { FileWriter, StorageDriver, WriterOptions } from "@stowage/core";

export const KiB = 1024;
export const MiB = 1024 * KiB;

const NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-";

/** A random path component of [a-z0-9-], as Distribution's suite uses, so runs never collide. */
export function randomName(length = 16): string {
	let name = "";
	for (let i = 0; i < length; i++) name += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
	return name;
}

export function randomContent(size: number): Buffer {
	return randomBytes(size);
}

/**
 * Deterministic pseudo-random bytes in blocks: the AES-CTR keystream of a key derived from `seed`.
 * Fast (AES-NI) and never holds more than one block, so a multi-GiB file costs no memory.
 */
export function* seededBlocks(seed: string, size: number, blockSize = MiB): Generator<Buffer> {
	const key = createHash("sha256").update(seed).digest().subarray(0, 16);
	const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
	const zeros = Buffer.alloc(Math.min(blockSize, size));
	for (let left = size; left > 0; left -= blockSize) {
		const n = Math.min(blockSize, left);
		yield cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
	}
}

/** The whole deterministic content, for files small enough to compare byte by byte. */
export function seededContent(seed: string, size: number): Buffer {
	return Buffer.concat([...seededBlocks(seed, size)], size);
}

export async function readAll(stream: Readable): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
	return Buffer.concat(chunks);
}

export interface Digest {
	sha256: string;
	size: number;
}

/** Hash a stream without keeping it. */
export async function digestStream(stream: Readable, onChunk?: () => void): Promise<Digest> {
	const hash = createHash("sha256");
	let size = 0;
	for await (const chunk of stream) {
		hash.update(chunk as Uint8Array);
		size += (chunk as Uint8Array).length;
		onChunk?.();
	}
	return { sha256: hash.digest("hex"), size };
}

/** Write every chunk, awaiting each (the writer's backpressure), and hash what was written. */
export async function writeChunks(
	writer: FileWriter,
	chunks: Iterable<Uint8Array>,
	onChunk?: () => void,
): Promise<Digest> {
	const hash = createHash("sha256");
	let size = 0;
	for (const chunk of chunks) {
		await writer.write(chunk);
		hash.update(chunk);
		size += chunk.length;
		onChunk?.();
	}
	return { sha256: hash.digest("hex"), size };
}

/** writer → write all → commit: the streaming counterpart of putContent. */
export async function streamContent(
	driver: StorageDriver,
	path: string,
	chunks: Iterable<Uint8Array>,
	options?: WriterOptions,
): Promise<Digest> {
	const writer = await driver.writer(path, options);
	const digest = await writeChunks(writer, chunks);
	await writer.commit();
	return digest;
}

export function sha256(data: Uint8Array): string {
	return createHash("sha256").update(data).digest("hex");
}

/** Split content into chunks of at most `size` bytes (views, no copies). */
export function* chunksOf(content: Uint8Array, size: number): Generator<Uint8Array> {
	for (let i = 0; i < content.length; i += size) yield content.subarray(i, i + size);
}

export function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** For test names: "10 MiB", "32 B". */
export function formatSize(bytes: number): string {
	if (bytes >= 1024 * MiB && bytes % (1024 * MiB) === 0) return `${bytes / (1024 * MiB)} GiB`;
	if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
	if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
	return `${bytes} B`;
}
