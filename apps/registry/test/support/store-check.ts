/**
 * What a filesystem store holds, checked from the disk rather than through the registry: every
 * blob re-hashed against its address, every link pointing at a complete blob, and what failed
 * or killed requests left behind.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export interface StoreReport {
	/** Blobs at their content address, all re-hashed. */
	blobs: number;
	bytes: number;
	/** Blobs whose bytes do not hash to their address. */
	corrupt: string[];
	/** Repository links (layers, manifest revisions) whose blob is missing or whose text is wrong. */
	badLinks: string[];
	/** Blob directories without their `data` file. */
	emptyBlobDirs: string[];
	/** Upload directories (`repository/_uploads/<id>`). */
	uploads: string[];
	/** Hidden temp or partial files outside uploads: what killed writes left. */
	hidden: string[];
}

const V2 = "docker/registry/v2";

export async function inspectStore(root: string): Promise<StoreReport> {
	const report: StoreReport = {
		blobs: 0,
		bytes: 0,
		corrupt: [],
		badLinks: [],
		emptyBlobDirs: [],
		uploads: [],
		hidden: [],
	};
	const blobRoot = join(root, V2, "blobs", "sha256");
	const stored = new Set<string>();
	for (const prefix of await entries(blobRoot)) {
		for (const hex of await entries(join(blobRoot, prefix))) {
			const dir = join(blobRoot, prefix, hex);
			const names = await entries(dir);
			for (const n of names.filter((n) => n.includes("~"))) report.hidden.push(join(dir, n));
			if (!names.includes("data")) {
				report.emptyBlobDirs.push(dir);
				continue;
			}
			const { hex: actual, size } = await hashFile(join(dir, "data"));
			report.blobs++;
			report.bytes += size;
			if (actual !== hex) report.corrupt.push(`sha256:${hex}`);
			else stored.add(hex);
		}
	}
	await walkRepositories(join(root, V2, "repositories"), report, stored);
	return report;
}

async function walkRepositories(dir: string, report: StoreReport, stored: Set<string>) {
	for (const name of await entries(dir)) {
		const path = join(dir, name);
		if (name === "_uploads") {
			for (const id of await entries(path)) report.uploads.push(join(path, id));
		} else if (name === "_layers") {
			await checkLinks(join(path, "sha256"), report, stored);
		} else if (name === "_manifests") {
			await checkLinks(join(path, "revisions", "sha256"), report, stored);
			await hiddenBelow(path, report);
		} else if (name.includes("~")) {
			report.hidden.push(path);
		} else if (!name.startsWith("_")) {
			await walkRepositories(path, report, stored);
		}
	}
}

async function checkLinks(dir: string, report: StoreReport, stored: Set<string>) {
	for (const hex of await entries(dir)) {
		const path = join(dir, hex, "link");
		const text = await readFile(path, "utf8").catch(() => "");
		if (text !== `sha256:${hex}` || !stored.has(hex)) report.badLinks.push(path);
		for (const n of await entries(join(dir, hex))) {
			if (n.includes("~")) report.hidden.push(join(dir, hex, n));
		}
	}
}

async function hiddenBelow(dir: string, report: StoreReport) {
	for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
		if (entry.name.includes("~")) report.hidden.push(join(entry.parentPath, entry.name));
	}
}

async function entries(dir: string): Promise<string[]> {
	try {
		return (await readdir(dir)).sort();
	} catch {
		return [];
	}
}

async function hashFile(path: string): Promise<{ hex: string; size: number }> {
	const hash = createHash("sha256");
	let size = 0;
	for await (const chunk of createReadStream(path)) {
		hash.update(chunk as Buffer);
		size += (chunk as Buffer).length;
	}
	return { hex: hash.digest("hex"), size };
}

/**
 * The same checks through a driver, for backends that are not a local directory: every blob
 * re-hashed against its address, every layer link naming a stored blob, the uploads left.
 */
export async function inspectDriverStore(
	driver: import("@stowage/core").StorageDriver,
	root = "/docker/registry/v2",
): Promise<Pick<StoreReport, "blobs" | "bytes" | "corrupt" | "badLinks" | "uploads">> {
	const report = {
		blobs: 0,
		bytes: 0,
		corrupt: [] as string[],
		badLinks: [] as string[],
		uploads: [] as string[],
	};
	const list = (path: string) => driver.list(path).catch(() => [] as string[]);
	const stored = new Set<string>();
	for (const prefix of await list(`${root}/blobs/sha256`)) {
		for (const dir of await list(prefix)) {
			const hex = dir.slice(dir.lastIndexOf("/") + 1);
			const hash = createHash("sha256");
			for await (const chunk of await driver.reader(`${dir}/data`)) {
				hash.update(chunk as Buffer);
				report.bytes += (chunk as Buffer).length;
			}
			report.blobs++;
			if (hash.digest("hex") !== hex) report.corrupt.push(`sha256:${hex}`);
			else stored.add(hex);
		}
	}
	await driver.walk(`${root}/repositories`, async (info) => {
		const name = info.path.slice(info.path.lastIndexOf("/") + 1);
		const parent = info.path.slice(0, info.path.lastIndexOf("/"));
		if (info.isDir && parent.endsWith("/_uploads")) {
			report.uploads.push(info.path);
			return "skip";
		}
		if (!info.isDir && name === "link" && info.path.includes("/_layers/")) {
			const hex = parent.slice(parent.lastIndexOf("/") + 1);
			const text = (await driver.getContent(info.path)).toString("utf8");
			if (text !== `sha256:${hex}` || !stored.has(hex)) report.badLinks.push(info.path);
		}
		return undefined;
	});
	return report;
}
