import { Writable } from "node:stream";
import { Registry } from "@stowage/core";
import { createMemoryDriver } from "@stowage/driver-memory";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { startUploadPurger } from "../src/purger.js";

function capture() {
	const lines: Record<string, unknown>[] = [];
	const stream = new Writable({
		write(chunk, _enc, done) {
			lines.push(JSON.parse(chunk.toString()));
			done();
		},
	});
	return { lines, logger: pino({ level: "info" }, stream) };
}

async function setup() {
	const driver = createMemoryDriver();
	const old = new Registry({ driver, now: () => new Date("2020-01-01T00:00:00Z") });
	const stale = await old.repository("purge/me").uploads.start();
	const registry = new Registry({ driver });
	const fresh = await registry.repository("purge/me").uploads.start();
	return { registry, stale, fresh };
}

describe("upload purger", () => {
	it("removes uploads older than the age on its schedule, and logs the run", async () => {
		const { registry, stale, fresh } = await setup();
		const { lines, logger } = capture();
		const purger = startUploadPurger(
			registry,
			{ age: 3600_000, interval: 50, dryRun: false, initialDelay: 0 },
			logger,
		);
		await new Promise((r) => setTimeout(r, 200));
		await purger.stop();
		const uploads = registry.repository("purge/me").uploads;
		await expect(uploads.status(stale.id)).rejects.toMatchObject({ code: "BLOB_UPLOAD_UNKNOWN" });
		expect((await uploads.status(fresh.id)).offset).toBe(0);
		const runs = lines.filter((l) => l.msg === "upload purge");
		expect(runs.length).toBeGreaterThan(1);
		expect(runs[0]).toMatchObject({
			removed: 1,
			errors: 0,
			dryRun: false,
			uploads: [`purge/me/${stale.id}`],
		});
	});

	it("dry run reports and removes nothing", async () => {
		const { registry, stale } = await setup();
		const { lines, logger } = capture();
		const purger = startUploadPurger(
			registry,
			{ age: 3600_000, interval: 60_000, dryRun: true, initialDelay: 60_000 },
			logger,
		);
		await purger.runOnce();
		await purger.stop();
		expect((await registry.repository("purge/me").uploads.status(stale.id)).offset).toBe(0);
		expect(lines.find((l) => l.msg === "upload purge (dry run)")).toMatchObject({
			removed: 1,
			dryRun: true,
		});
	});
});
