import { StorageDriverError } from "@stowage/core";
import { describe, expect, it } from "vitest";
import { decodeBlockId, encodeBlockId } from "../src/block-ids.js";
import {
	NO_BASE,
	resolveUpload,
	tailBytes,
	tailMetadata,
	type UploadSnapshot,
} from "../src/upload-state.js";

const up = "0123abcd";
const id = (seq: number, session = "ffff0000", upload = up) =>
	encodeBlockId({ upload, seq, session });
const block = (seq: number, size = 10, session?: string, upload?: string) => ({
	name: id(seq, session, upload),
	size,
});
const tail = (meta: { base?: string; start?: number; blocks: number }, size = 5) => ({
	etag: '"tail"',
	size,
	appends: 1,
	metadata: tailMetadata({
		upload: up,
		base: meta.base ?? NO_BASE,
		start: meta.start ?? 0,
		blocks: meta.blocks,
	}),
});
const resolve = (snap: Partial<UploadSnapshot>) =>
	resolveUpload("azure", "/p", { committedBlocks: [], uncommittedBlocks: [], ...snap });

describe("block ids", () => {
	it("round-trip, have one length, and sort by position whatever the listing order", () => {
		const ids = [0, 1, 9, 10, 49_999].map((seq) => id(seq));
		expect(new Set(ids.map((i) => i.length))).toEqual(new Set([44]));
		expect(ids.map((i) => decodeBlockId(i)?.seq)).toEqual([0, 1, 9, 10, 49_999]);
		expect(decodeBlockId(ids[0] as string)).toEqual({ upload: up, seq: 0, session: "ffff0000" });
		expect(decodeBlockId(Buffer.from("block-0001").toString("base64"))).toBeUndefined();
	});
});

describe("resolveUpload", () => {
	it("orders staged blocks by their ids, not by the listing", () => {
		const s = resolve({
			uncommittedBlocks: [block(2, 3), block(0, 1), block(1, 2)],
			tail: tail({ blocks: 3 }, 4),
		});
		expect(s.blocks.map((b) => b.size)).toEqual([1, 2, 3]);
		expect(tailBytes(s)).toBe(4);
		expect(s.upload).toBe(up);
	});

	it("ignores blocks of another upload of the path and foreign ids", () => {
		const s = resolve({
			uncommittedBlocks: [
				block(0, 7, undefined, "99999999"),
				block(0, 1),
				{ name: Buffer.from("x").toString("base64"), size: 3 },
			],
			tail: tail({ blocks: 1 }, 0),
		});
		expect(s.blocks.map((b) => b.size)).toEqual([1]);
		expect(s.hasUncommitted).toBe(true);
	});

	it("drops tail bytes once a block was staged after them", () => {
		const s = resolve({ uncommittedBlocks: [block(0), block(1)], tail: tail({ blocks: 1 }, 5) });
		expect(s.blocks.length).toBe(2);
		expect(tailBytes(s)).toBe(0);
	});

	it("reports two blocks at one position and a missing position", () => {
		expect(() =>
			resolve({
				uncommittedBlocks: [block(0), block(0, 10, "eeee0000")],
				tail: tail({ blocks: 0 }),
			}),
		).toThrow(/two writers staged block 0/);
		expect(() =>
			resolve({ uncommittedBlocks: [block(0), block(2)], tail: tail({ blocks: 2 }) }),
		).toThrow(/block 1 is missing/);
	});

	it("a tail blob for another base is stale: no upload in progress", () => {
		const s = resolve({
			committed: { etag: '"new"', size: 0 },
			uncommittedBlocks: [block(0)],
			tail: tail({ base: '"old"', blocks: 1 }),
		});
		expect(s.blocks).toEqual([]);
		expect(s.upload).not.toBe(up);
		expect(s.tail?.owned).toBe(false);
		expect(s.base).toBe('"new"');
	});

	it("continues committed blocks written by the driver, after them its own", () => {
		const committed = [block(0, 4, "aaaa0000", "11111111"), block(1, 6, "aaaa0000", "11111111")];
		const fresh = resolve({ committed: { etag: '"c"', size: 10 }, committedBlocks: committed });
		expect(fresh.start).toBe(2);
		expect(fresh.blocks.map((b) => b.size)).toEqual([4, 6]);
		const continued = resolve({
			committed: { etag: '"c"', size: 10 },
			committedBlocks: committed,
			uncommittedBlocks: [block(2, 8)],
			tail: tail({ base: '"c"', start: 2, blocks: 3 }, 1),
		});
		expect(continued.blocks.map((b) => b.size)).toEqual([4, 6, 8]);
		expect(tailBytes(continued)).toBe(1);
	});

	it("a new upload over committed content starts at zero", () => {
		const s = resolve({
			committed: { etag: '"c"', size: 10 },
			committedBlocks: [block(0, 10, "aaaa0000", "11111111")],
			uncommittedBlocks: [block(0, 3)],
			tail: tail({ base: '"c"', start: 0, blocks: 1 }, 2),
		});
		expect(s.blocks.map((b) => b.size)).toEqual([3]);
		expect(tailBytes(s)).toBe(2);
		expect(s.base).toBe('"c"');
	});

	it("an empty committed file is appended to; putContent's content is not", () => {
		expect(resolve({ committed: { etag: '"e"', size: 0 } }).blocks).toEqual([]);
		expect(() => resolve({ committed: { etag: '"p"', size: 3 } })).toThrow(StorageDriverError);
		expect(() => resolve({ committed: { etag: '"p"', size: 3 } })).toThrow(/not written/);
	});

	it("a malformed tail blob counts as stale", () => {
		const s = resolve({
			uncommittedBlocks: [block(0)],
			tail: { etag: '"t"', size: 3, appends: 1, metadata: { stowageupload: "zz" } },
		});
		expect(s.blocks).toEqual([]);
		expect(s.tail).toMatchObject({ owned: false, etag: '"t"' });
	});
});
