import { RestError } from "@azure/storage-blob";
import { StorageDriverError } from "@stowage/core";
import { describe, expect, it, vi } from "vitest";
import { discardBlob, Limiter } from "../src/blob-ops.js";
import { AzureFileWriter } from "../src/block-writer.js";
import { copyBlob } from "../src/copy.js";
import { appendAt } from "../src/tail-blob.js";

// Paths no Azure emulator takes: the service's own failure modes, played by fakes.

const rest = (statusCode: number, code?: string) =>
	new RestError(code ?? `status ${statusCode}`, { statusCode, code });

// Fakes stand in for SDK clients: only the members a case touches exist.
type Fake = any;

describe("discardBlob", () => {
	it("a blob the service will not delete (never committed) is emptied, then deleted", async () => {
		const calls: string[] = [];
		let deletes = 0;
		const blob: Fake = {
			delete: vi.fn(async (o?: { conditions?: { ifMatch?: string } }) => {
				calls.push(`delete ${o?.conditions?.ifMatch ?? ""}`.trim());
				if (deletes++ === 0) throw rest(404, "BlobNotFound");
			}),
			commitBlockList: vi.fn(async (ids: string[], o: { conditions: object }) => {
				calls.push(`commit [${ids.join()}] ${JSON.stringify(o.conditions)}`);
				return { etag: '"empty"' };
			}),
		};
		expect(await discardBlob(blob, false)).toBe(true);
		expect(calls).toEqual(["delete", 'commit [] {"ifNoneMatch":"*"}', 'delete "empty"']);
	});

	it("an upload's blob is always emptied first, so no staged block survives", async () => {
		const calls: string[] = [];
		const blob: Fake = {
			delete: async () => calls.push("delete"),
			commitBlockList: async () => {
				calls.push("commit");
				return { etag: '"e"' };
			},
		};
		expect(await discardBlob(blob, true)).toBe(true);
		expect(calls).toEqual(["commit", "delete"]);
	});
});

describe("copyBlob (async copy polled to completion)", () => {
	const source: Fake = {
		name: "root/src",
		url: "https://acct.blob.core.windows.net/c/root/src",
		getProperties: async () => ({ etag: '"s"', contentLength: 300 * 1024 * 1024 }),
		delete: vi.fn(async () => ({})),
	};
	const job = (dest: Fake, signal?: AbortSignal) => ({
		driver: "azure",
		sourcePath: "/src",
		source,
		dest,
		signer: { sign: async () => "sv=x&sig=y" },
		containerName: "c",
		syncCopyMaxSize: 256 * 1024 * 1024,
		pollIntervalMs: 1,
		signal,
	});

	it("polls a pending copy until it succeeds, then deletes the source version copied", async () => {
		const statuses = ["pending", "pending", "success"];
		const dest: Fake = {
			beginCopyFromURL: vi.fn(async () => ({
				getOperationState: () => ({ isCompleted: false, copyId: "id1" }),
			})),
			getProperties: vi.fn(async () => ({ copyId: "id1", copyStatus: statuses.shift() })),
			syncCopyFromURL: vi.fn(),
		};
		await copyBlob(job(dest));
		expect(dest.syncCopyFromURL).not.toHaveBeenCalled();
		expect(dest.beginCopyFromURL).toHaveBeenCalledWith(
			"https://acct.blob.core.windows.net/c/root/src?sv=x&sig=y",
			expect.objectContaining({ sourceConditions: { ifMatch: '"s"' } }),
		);
		expect(dest.getProperties).toHaveBeenCalledTimes(3);
		expect(source.delete).toHaveBeenCalledWith(
			expect.objectContaining({ conditions: { ifMatch: '"s"' } }),
		);
	});

	it("a failed copy is an error and the source stays", async () => {
		source.delete.mockClear();
		const dest: Fake = {
			beginCopyFromURL: async () => ({
				getOperationState: () => ({ isCompleted: false, copyId: "id2" }),
			}),
			getProperties: async () => ({
				copyId: "id2",
				copyStatus: "failed",
				copyStatusDescription: "500 InternalError",
			}),
			abortCopyFromURL: vi.fn(async () => ({})),
		};
		await expect(copyBlob(job(dest))).rejects.toThrow(/copy failed: 500 InternalError/);
		expect(source.delete).not.toHaveBeenCalled();
	});

	it("an abort while polling aborts the server-side copy", async () => {
		const controller = new AbortController();
		const dest: Fake = {
			beginCopyFromURL: async () => ({
				getOperationState: () => ({ isCompleted: false, copyId: "id3" }),
			}),
			getProperties: async () => {
				controller.abort();
				return { copyId: "id3", copyStatus: "pending" };
			},
			abortCopyFromURL: vi.fn(async () => ({})),
		};
		await expect(copyBlob(job(dest, controller.signal))).rejects.toMatchObject({
			name: "AbortError",
		});
		expect(dest.abortCopyFromURL).toHaveBeenCalledWith("id3");
	});
});

describe("retried requests whose first attempt landed", () => {
	it("an append whose condition fails because it already landed is verified by content", async () => {
		const data = Buffer.from("hello");
		const tail: Fake = {
			appendBlock: async () => {
				throw rest(412, "AppendPositionConditionNotMet");
			},
			getProperties: async () => ({
				contentLength: 15,
				etag: '"after"',
				blobCommittedBlockCount: 3,
			}),
			downloadToBuffer: async (offset: number, count: number) => {
				expect([offset, count]).toEqual([10, 5]);
				return Buffer.from("hello");
			},
		};
		expect(await appendAt("azure", "/p", tail, data, 10, '"before"', undefined)).toEqual({
			etag: '"after"',
			appends: 3,
		});
		const other: Fake = { ...tail, downloadToBuffer: async () => Buffer.from("HELLO") };
		await expect(appendAt("azure", "/p", other, data, 10, '"before"', undefined)).rejects.toThrow(
			/changed by another writer/,
		);
	});

	it("a commit whose condition fails because it already landed succeeds", async () => {
		let committed: string[] = [];
		const blob: Fake = {
			stageBlock: async () => ({}),
			commitBlockList: async (ids: string[]) => {
				committed = ids;
				throw rest(412, "ConditionNotMet");
			},
			getBlockList: async () => ({ committedBlocks: committed.map((name) => ({ name, size: 1 })) }),
		};
		const writer = new AzureFileWriter(
			{
				driver: "azure",
				path: "/p",
				blob,
				tail: {} as Fake,
				blockSize: 65536,
				signal: undefined,
				fresh: false,
			},
			{
				upload: "01234567",
				base: undefined,
				start: 0,
				blocks: [],
				tail: undefined,
				hasUncommitted: false,
			},
		);
		await writer.write(Buffer.from("x"));
		await writer.commit();
		expect(committed.length).toBe(1);

		const lost: Fake = { ...blob, getBlockList: async () => ({ committedBlocks: [] }) };
		const other = new AzureFileWriter(
			{
				driver: "azure",
				path: "/p",
				blob: lost,
				tail: {} as Fake,
				blockSize: 65536,
				signal: undefined,
				fresh: false,
			},
			{
				upload: "01234567",
				base: '"b"',
				start: 0,
				blocks: [],
				tail: undefined,
				hasUncommitted: false,
			},
		);
		await other.write(Buffer.from("x"));
		await expect(other.commit()).rejects.toBeInstanceOf(StorageDriverError);
	});
});

describe("Limiter", () => {
	it("runs at most `limit` tasks at once and reports the first failure after all settle", async () => {
		const limiter = new Limiter(2);
		let active = 0;
		let peak = 0;
		const finished: number[] = [];
		const task = (i: number) => async () => {
			peak = Math.max(peak, ++active);
			await new Promise((r) => setTimeout(r, 5));
			active--;
			if (i === 3) throw new Error("task 3");
			finished.push(i);
		};
		for (let i = 0; i < 6; i++) await limiter.run(task(i)).catch(() => undefined);
		await expect(limiter.drain()).rejects.toThrow("task 3");
		expect(peak).toBe(2);
		expect(active).toBe(0);
	});
});
