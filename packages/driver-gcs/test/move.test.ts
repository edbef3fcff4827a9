import { PathNotFoundError } from "@stowage/core";
import { expect, it } from "vitest";
import { MiB, ownServer, random, readAll } from "./helpers.js";

// GCS may need several rewrite calls for one object; this server needs one per MiB.
const own = ownServer({ maxBytesRewrittenPerCall: MiB });

it("a large move loops on rewrite tokens, then deletes only the generation it copied", async () => {
	const driver = own.driver({ chunksize: 4 * MiB });
	const data = random(24 * MiB + 5);
	const w = await driver.writer("/m/upload");
	await w.write(data);
	await w.commit();
	const before = own.server.requests.length;
	await driver.move("/m/upload", "/m/blob");
	const rewrites = own.server.requests.slice(before).filter((r) => r.op === "objects.rewrite");
	expect(rewrites.length).toBe(25);
	expect(rewrites.slice(1).every((r) => r.path.includes("rewriteToken="))).toBe(true);
	expect((await readAll(await driver.reader("/m/blob"))).equals(data)).toBe(true);
	await expect(driver.stat("/m/upload")).rejects.toBeInstanceOf(PathNotFoundError);
	await driver.delete("/m");
}, 60_000);

it("moving a missing path or a directory is PathNotFoundError for the source", async () => {
	const driver = own.driver();
	await driver.putContent("/d/dir/file", Buffer.from("x"));
	for (const source of ["/d/missing", "/d/dir"]) {
		const err = await driver.move(source, "/d/target").then(
			() => undefined,
			(e: unknown) => e,
		);
		expect(err).toBeInstanceOf(PathNotFoundError);
		expect((err as PathNotFoundError).path).toBe(source);
	}
	expect(await driver.list("/d")).toEqual(["/d/dir"]);
	await driver.delete("/d");
});
