import { expect, it } from "vitest";
import { KiB, ownServer, random, sleep, watchUnhandled } from "./helpers.js";

const own = ownServer();
const short = ownServer({ sessionTtlMs: 300, expiredSessionStatus: 404 });
watchUnhandled();
const CHUNK = 256 * KiB;

it("an expired session fails its writer; the upload resumes at its last durable part", async () => {
	const root = `/expiry/${random(6).toString("hex")}`;
	const driver = own.driver({ chunksize: CHUNK, rootdirectory: root });
	const data = random(6 * CHUNK + 11);
	const w1 = await driver.writer("/x/data");
	await w1.write(data.subarray(0, CHUNK + 5));
	await w1.close();

	// Another process picks the upload up.
	const w2 = await own.driver({ chunksize: CHUNK, rootdirectory: root }).writer("/x/data", {
		append: true,
	});
	await w2.write(data.subarray(CHUNK + 5, 3 * CHUNK + 5)); // two chunks into the session
	own.server.faults.expireAllSessions(); // a week passes
	await expect(w2.write(data.subarray(3 * CHUNK + 5, 4 * CHUNK + 5))).rejects.toThrow(/session/);
	await expect(w2.close()).rejects.toThrow(/resumes at 262149/);

	const w3 = await driver.writer("/x/data", { append: true });
	expect(w3.size, "the bytes of the lost session are not counted").toBe(CHUNK + 5);
	await w3.write(data.subarray(CHUNK + 5));
	await w3.commit();
	expect((await driver.getContent("/x/data")).equals(data)).toBe(true);
	await driver.delete("/x");
});

it("a session that expires before close (404 from this server) is no different", async () => {
	const driver = short.driver({ chunksize: CHUNK });
	const data = random(2 * CHUNK + 1);
	const w1 = await driver.writer("/y/data");
	await w1.write(data.subarray(0, CHUNK + 1)); // one chunk into the session
	await sleep(400);
	await expect(w1.close()).rejects.toThrow(/session lost \(HTTP 404\)/);
	await expect(driver.writer("/y/data", { append: true })).rejects.toThrow(/not found/);
	const w2 = await driver.writer("/y/data");
	await w2.write(data);
	await w2.commit();
	expect((await driver.getContent("/y/data")).equals(data)).toBe(true);
	await driver.delete("/y");
});
