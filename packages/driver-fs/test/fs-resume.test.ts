import { createHash, randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFsDriver } from "../src/index.js";
import { hostTree, readAll, scratch } from "./helpers.js";

let root: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
	({ dir: root, cleanup } = await scratch());
});

afterEach(async () => {
	await cleanup();
});

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("resume across driver instances", () => {
	for (const chunkSize of [32, 3 * 1024 * 1024]) {
		it(`continues an upload in another instance (${chunkSize}-byte chunks)`, async () => {
			// Two processes sharing a root: nothing but the files carries state between them.
			const a = createFsDriver({ rootDirectory: root });
			const b = createFsDriver({ rootDirectory: root });
			const chunks = [randomBytes(chunkSize), randomBytes(chunkSize), randomBytes(chunkSize)];

			const w1 = await a.writer("/repo/_uploads/u1/data");
			await w1.write(chunks[0] as Buffer);
			expect(w1.size).toBe(chunkSize);
			await w1.close();

			const w2 = await b.writer("/repo/_uploads/u1/data", { append: true });
			expect(w2.size).toBe(chunkSize);
			await w2.write(chunks[1] as Buffer);
			await w2.close();

			const w3 = await a.writer("/repo/_uploads/u1/data", { append: true });
			expect(w3.size).toBe(2 * chunkSize);
			await w3.write(chunks[2] as Buffer);
			expect(w3.size).toBe(3 * chunkSize);
			await w3.commit();

			const expected = Buffer.concat(chunks);
			const read = await readAll(await b.reader("/repo/_uploads/u1/data"));
			expect(sha(read)).toBe(sha(expected));
			expect((await b.stat("/repo/_uploads/u1/data")).size).toBe(3 * chunkSize);
			await b.delete("/repo");
			expect(await hostTree(root)).toEqual([]);
		});
	}

	it("resumes a zero-byte session", async () => {
		const a = createFsDriver({ rootDirectory: root });
		const w = await a.writer("/z");
		await w.close();
		const b = createFsDriver({ rootDirectory: root });
		const resumed = await b.writer("/z", { append: true });
		expect(resumed.size).toBe(0);
		await resumed.commit();
		expect((await b.getContent("/z")).length).toBe(0);
	});
});
