import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { Readable } from "node:stream";

/** A scratch directory per test, removed afterwards by the returned cleanup. */
export async function scratch(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
	const dir = await mkdtemp(join(tmpdir(), "stowage-fs-"));
	return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Every entry below `dir` as a sorted list of relative paths (directories end with `/`). */
export async function hostTree(dir: string): Promise<string[]> {
	const out: string[] = [];
	async function visit(at: string): Promise<void> {
		for (const entry of await readdir(at, { withFileTypes: true })) {
			const full = join(at, entry.name);
			if (entry.isDirectory()) {
				out.push(`${relative(dir, full)}/`);
				await visit(full);
			} else out.push(relative(dir, full));
		}
	}
	await visit(dir);
	return out.sort();
}

export async function readAll(stream: Readable): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks);
}

/** Open file descriptors of this process (Linux). */
export async function openFdCount(): Promise<number> {
	return (await readdir("/proc/self/fd")).length;
}

export const bytes = (text: string) => Buffer.from(text);

/** Collects unhandled rejections while `fn` runs (and a little after). */
export async function withoutUnhandledRejections(fn: () => Promise<void>): Promise<unknown[]> {
	const seen: unknown[] = [];
	const onUnhandled = (reason: unknown) => seen.push(reason);
	process.on("unhandledRejection", onUnhandled);
	try {
		await fn();
		await new Promise((resolve) => setTimeout(resolve, 50));
	} finally {
		process.off("unhandledRejection", onUnhandled);
	}
	return seen;
}
