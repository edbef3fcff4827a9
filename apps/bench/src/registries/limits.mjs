// The machine's limits, measured in the same run as the registries: what any registry on this
// disk and CPU could reach at best.
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { MiB, makeBlob } from "./data.mjs";

/** 16 MiB writes then fdatasync: the disk as a registry that makes blobs durable sees it. */
export async function diskWrite(dir, size) {
	const blob = makeBlob("disk", size);
	const file = join(dir, "disk-limit");
	const t = performance.now();
	const fh = await open(file, "w");
	let off = 0;
	for (const c of blob.chunks(0, size, 16 * MiB)) {
		await fh.write(c, 0, c.length, off);
		off += c.length;
	}
	await fh.datasync();
	await fh.close();
	const ms = performance.now() - t;
	rmSync(file, { force: true });
	return size / MiB / (ms / 1000);
}

/** node:crypto SHA-256 over 16 MiB updates. */
export function sha256(size) {
	const blob = makeBlob("sha", size);
	const t = performance.now();
	const h = createHash("sha256");
	for (const c of blob.chunks(0, size, 16 * MiB)) h.update(c);
	h.digest();
	return size / MiB / ((performance.now() - t) / 1000);
}
