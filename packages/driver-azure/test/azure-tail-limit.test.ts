import { randomBytes } from "node:crypto";
import { expect, inject, it, vi } from "vitest";
import { rawContainer } from "./clients.js";
import { driverAt, uniqueRoot } from "./target.js";

// Azure allows 50,000 appends per append blob and the driver folds its tail into a block after
// 10,000; three keeps this test short while running the same code path.
vi.mock("../src/tail-blob.js", async (importOriginal) => ({
	...(await importOriginal<typeof import("../src/tail-blob.js")>()),
	TAIL_MAX_APPENDS: 3,
}));

const target = inject("azure");

it("a tail blob that reaches its append limit is folded into a block", async () => {
	const rootDir = uniqueRoot("tail-limit");
	const open = () => driverAt(target, rootDir);
	const path = "/upload/data";
	const content = randomBytes(10 * 10);
	for (let i = 0; i < 10; i++) {
		const writer = await open().writer(path, { append: i > 0 });
		expect(writer.size).toBe(i * 10);
		await writer.write(content.subarray(i * 10, (i + 1) * 10));
		if (i < 9) await writer.close();
		else await writer.commit();
	}
	expect((await open().getContent(path)).equals(content)).toBe(true);
	const raw = rawContainer(target);
	const list = await raw.getBlockBlobClient(`${rootDir}${path}`).getBlockList("committed");
	// Sessions 1-3 append; the 4th folds tail + its bytes into a block (40), and so on.
	expect((list.committedBlocks ?? []).map((b) => b.size)).toEqual([40, 40, 20]);
	await open().delete("/upload");
});
