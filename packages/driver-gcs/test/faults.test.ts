import {
	OperationAbortedError,
	PathNotFoundError,
	type StorageDriver,
	StorageDriverError,
} from "@stowage/core";
import type { FaultRule, Operation } from "@stowage/test-server-gcs";
import { describe, expect, it } from "vitest";
import { KiB, ownServer, random, readAll, watchUnhandled } from "./helpers.js";

const own = ownServer();
watchUnhandled();
const CHUNK = 256 * KiB;

/** A workload touching every kind of request the driver makes. */
async function workload(driver: StorageDriver): Promise<void> {
	const data = random(3 * CHUNK + 100);
	const w = await driver.writer("/w/upload");
	await w.write(data.subarray(0, CHUNK + 7));
	await w.close();
	const w2 = await driver.writer("/w/upload", { append: true });
	expect(w2.size).toBe(CHUNK + 7);
	await w2.write(data.subarray(CHUNK + 7));
	await w2.commit();
	await driver.move("/w/upload", "/w/blob");
	await driver.putContent("/w/small", Buffer.from("small"));
	expect((await driver.stat("/w/blob")).size).toBe(data.length);
	expect(await driver.list("/w")).toEqual(["/w/blob", "/w/small"]);
	expect((await readAll(await driver.reader("/w/blob", 5))).equals(data.subarray(5))).toBe(true);
	expect((await driver.getContent("/w/small")).toString()).toBe("small");
	await driver.delete("/w");
	await expect(driver.list("/w")).rejects.toBeInstanceOf(PathNotFoundError);
}

const OPS: Operation[] = [
	"objects.get",
	"objects.list",
	"objects.media",
	"objects.insert",
	"objects.delete",
	"objects.compose",
	"objects.rewrite",
	"resumable.start",
	"resumable.put",
];

describe("transient failures are retried", () => {
	for (const fault of [{ status: 429 }, { status: 503 }, { reset: true }] as Omit<
		FaultRule,
		"op"
	>[]) {
		const label = fault.reset ? "connection resets" : `${fault.status} answers`;
		it(`survives ${label} on every kind of request`, async () => {
			const driver = own.driver({ chunksize: CHUNK });
			for (const op of OPS) {
				const before = own.server.faults.fired.length;
				own.server.faults.inject({ op, times: 2, ...fault });
				await workload(driver);
				expect(own.server.faults.fired.length - before, `${op}: both faults fired`).toBe(2);
			}
			expect(own.server.faults.pending).toBe(0);
		}, 60_000);
	}

	it("survives answers lost after the server did the work (conditional retries)", async () => {
		const driver = own.driver({ chunksize: CHUNK });
		for (const op of OPS) {
			const before = own.server.faults.fired.length;
			own.server.faults.inject({ op, loseResponse: true });
			await workload(driver);
			expect(own.server.faults.fired.length - before, `${op}: the fault fired`).toBe(1);
		}
	}, 60_000);

	it("resends what a session did not keep (a 308 with a shorter Range)", async () => {
		const driver = own.driver({ chunksize: 4 * CHUNK });
		own.server.faults.inject({ op: "resumable.put", keep: CHUNK, times: 3 });
		const data = random(10 * CHUNK + 3);
		const w = await driver.writer("/k/data");
		await w.write(data);
		await w.commit();
		expect((await driver.getContent("/k/data")).equals(data)).toBe(true);
		expect(own.server.faults.pending).toBe(0);
		await driver.delete("/k");
	});

	it("compaction and part uploads survive lost answers too", async () => {
		const driver = own.driver();
		const data = random(40 * 32);
		for (let i = 0; i < 40; i++) {
			if (i === 31) own.server.faults.inject({ op: "objects.compose", loseResponse: true });
			if (i % 7 === 3) own.server.faults.inject({ op: "objects.insert", loseResponse: true });
			const w = await driver.writer("/c/data", { append: i > 0 });
			await w.write(data.subarray(32 * i, 32 * (i + 1)));
			if (i === 39) await w.commit();
			else await w.close();
		}
		expect((await driver.getContent("/c/data")).equals(data)).toBe(true);
		await driver.delete("/c");
	});
});

describe("failures that stay failures", () => {
	it("gives up after the attempts, with a typed error naming the driver and the cause", async () => {
		const driver = own.driver();
		await driver.putContent("/g/file", Buffer.from("x"));
		own.server.faults.inject({ op: "objects.get", status: 503, times: 6 });
		const err = await driver.stat("/g/file").then(
			() => undefined,
			(e: unknown) => e,
		);
		expect(err).toBeInstanceOf(StorageDriverError);
		expect((err as Error).message).toContain("gcs");
		expect(((err as Error).cause as { code?: unknown }).code).toBe(503);
		expect(own.server.faults.pending).toBe(0);
		await driver.delete("/g");
	});

	it("a 404 is PathNotFoundError with the backend error as cause", async () => {
		const driver = own.driver();
		const err = (await driver.reader("/nothing/here").then(
			() => undefined,
			(e: unknown) => e,
		)) as PathNotFoundError;
		expect(err).toBeInstanceOf(PathNotFoundError);
		expect(err.path).toBe("/nothing/here");
		expect((err.cause as { code?: unknown }).code).toBe(404);
	});

	it("client errors are not retried", async () => {
		const driver = own.driver();
		own.server.faults.inject({ op: "objects.list", status: 400 });
		const before = own.server.requests.length;
		await expect(driver.list("/")).rejects.toBeInstanceOf(StorageDriverError);
		expect(own.server.requests.slice(before).filter((r) => r.op === "objects.list").length).toBe(1);
	});

	it("an abort in the middle of an upload rejects without leaving unhandled errors", async () => {
		const driver = own.driver({ chunksize: CHUNK });
		const controller = new AbortController();
		const w = await driver.writer("/a/data", { signal: controller.signal });
		const pending = w.write(random(8 * CHUNK));
		setTimeout(() => controller.abort(), 1);
		await expect(pending).rejects.toBeInstanceOf(OperationAbortedError);
		await driver.delete("/a").catch(() => {});
	});
});
