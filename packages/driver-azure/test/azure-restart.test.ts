import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StorageDriverError } from "@stowage/core";
import { afterAll, expect, inject, it } from "vitest";
import { createAzureDriver } from "../src/index.js";
import { type Azurite, startAzurite } from "./azurite.js";

const KiB = 1024;
const target = inject("azure");
const location = mkdtempSync(join(tmpdir(), "stowage-azurite-"));
let azurite: Azurite | undefined;

afterAll(async () => {
	await azurite?.stop();
	rmSync(location, { recursive: true, force: true });
});

// Needs an emulator it can stop: against a real account this case is reported as skipped.
it.skipIf(target.kind !== "azurite")(
	"an upload survives an Azurite restart (SIGTERM) in its middle and resumes at the stored size",
	async () => {
		azurite = await startAzurite({ location });
		const { port } = azurite;
		const open = () =>
			createAzureDriver({
				connectionstring: azurite?.connectionString,
				container: "restart",
				rootdirectory: "r",
				blocksize: 256 * KiB,
				max_retries: 1,
				retry_delay: "10ms",
			});
		const path = "/uploads/data";
		const data = randomBytes(3 * 1024 * KiB + 123);

		// Session 1: blocks and a tail, closed.
		const first = await open().writer(path);
		await first.write(data.subarray(0, 700 * KiB + 5));
		await first.close();

		// Session 2 dies with the server: a write or the close fails, nothing is guessed.
		const second = await open().writer(path, { append: true });
		expect(second.size).toBe(700 * KiB + 5);
		let offset = second.size;
		let failed: unknown;
		try {
			for (; offset < 2 * 1024 * KiB; offset += 64 * KiB) {
				if (offset >= 1200 * KiB && azurite) {
					await azurite.stop();
					azurite = undefined;
				}
				await second.write(data.subarray(offset, offset + 64 * KiB));
			}
			await second.close();
		} catch (err) {
			failed = err;
		}
		expect(failed).toBeInstanceOf(StorageDriverError);
		await expect(second.close()).rejects.toThrow();

		// Restarted on the same port and directory: the staged blocks and the tail are there.
		azurite = await startAzurite({ location, port });
		const third = await open().writer(path, { append: true });
		const resumedAt = third.size;
		expect(resumedAt).toBeGreaterThanOrEqual(700 * KiB + 5);
		expect(resumedAt).toBeLessThanOrEqual(offset);
		// Whatever persisted is a whole block boundary past the first session, or that session's end.
		expect(resumedAt === 700 * KiB + 5 || resumedAt % (256 * KiB) === 0).toBe(true);
		await third.write(data.subarray(resumedAt));
		await third.commit();
		expect((await open().getContent(path)).equals(data)).toBe(true);
	},
	120_000,
);
