import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFsDriver } from "../src/index.js";
import { scratch } from "./helpers.js";

// The child runs the built driver (turbo builds before testing); skipped when there is none.
const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const BLOB_SIZE = 2 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** Rewrites /blob with uniform content and appends uniform chunks to the /up upload, forever. */
const CHILD = `
import { createFsDriver } from ${JSON.stringify(DIST)};
const driver = createFsDriver({ rootDirectory: process.argv[1] });
for (let i = 0; ; i++) {
	await driver.putContent("/blob", Buffer.alloc(${BLOB_SIZE}, i % 256));
	const w = await driver.writer("/up", { append: i > 0 });
	await w.write(Buffer.alloc(${CHUNK}, (w.size / ${CHUNK}) % 256));
	await w.close();
	if (i === 3) process.stdout.write("running\\n");
}
`;

let root: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
	({ dir: root, cleanup } = await scratch());
});

afterEach(async () => {
	await cleanup();
});

async function killMidway(delayMs: number): Promise<void> {
	const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD, root], {
		stdio: ["ignore", "pipe", "inherit"],
	});
	await new Promise<void>((resolve, reject) => {
		child.stdout.once("data", () => resolve());
		child.once("exit", (code) => reject(new Error(`child exited early: ${code}`)));
	});
	await new Promise((resolve) => setTimeout(resolve, delayMs));
	const exited = new Promise((resolve) => child.once("exit", resolve));
	child.kill("SIGKILL");
	await exited;
}

describe.skipIf(!existsSync(DIST))("a process killed mid-write", () => {
	for (const delayMs of [0, 7, 23, 61]) {
		it(`leaves complete content and a resumable upload (killed after ${delayMs} ms)`, async () => {
			await killMidway(delayMs);
			const driver = createFsDriver({ rootDirectory: root });

			// The final path holds one complete version, never a mixture or a short file.
			const blob = await driver.getContent("/blob");
			expect(blob.length).toBe(BLOB_SIZE);
			expect(blob.every((b) => b === blob[0])).toBe(true);
			// Leftover temp and partial files stay hidden.
			expect(await driver.list("/")).toEqual(["/blob"]);

			// The partial file holds chunks in order; a crash mid-session may cut the last one.
			const w = await driver.writer("/up", { append: true });
			const size = w.size;
			expect(size).toBeGreaterThanOrEqual(4 * CHUNK);
			await w.commit();
			const up = await driver.getContent("/up");
			expect(up.length).toBe(size);
			for (let offset = 0; offset < up.length; offset += CHUNK) {
				const chunk = up.subarray(offset, offset + CHUNK);
				const expected = (offset / CHUNK) % 256;
				expect(chunk.every((b) => b === expected)).toBe(true);
			}
			const leftovers = (await readdir(root)).filter((name) => name.includes("~"));
			await driver.delete("/blob");
			await driver.delete("/up");
			// Only temp files of the killed putContent can remain; they never become visible.
			expect(leftovers.every((name) => name.startsWith("blob~tmp~"))).toBe(true);
		});
	}
});
