import type { FileInfo } from "@stowage/core";
import { expect, it } from "vitest";
import { rawNames } from "./helpers.js";
import { freshDriver } from "./target.js";

it("list, walk and delete page through more than 1000 objects", async () => {
	const driver = freshDriver();
	const names = Array.from({ length: 1030 }, (_, i) => `f${String(i).padStart(4, "0")}`);
	for (let i = 0; i < names.length; i += 50) {
		await Promise.all(
			names.slice(i, i + 50).map((n) => driver.putContent(`/big/${n}`, Buffer.from(n))),
		);
	}
	await driver.putContent("/big-sibling/keep", Buffer.from("keep"));
	const w = await driver.writer("/big/f0000/upload"); // hidden parts below a file's name
	await w.write(Buffer.from("x"));
	await w.close();

	const listed = await driver.list("/big");
	expect(listed, "a name that is a file and a directory is listed once").toEqual(
		names.map((n) => `/big/${n}`),
	);

	const seen: FileInfo[] = [];
	await driver.walk("/big", (info) => {
		seen.push(info);
		return undefined;
	});
	expect(seen.filter((i) => !i.isDir).length).toBe(1030);
	expect(seen.filter((i) => i.isDir).map((i) => i.path)).toEqual(["/big/f0000"]);

	// startAfter skips ahead; everything after the hint is still visited.
	const after: string[] = [];
	await driver.walk(
		"/big",
		(info) => {
			after.push(info.path);
			return undefined;
		},
		{ startAfter: "/big/f1020" },
	);
	expect(after).toEqual(names.slice(1020).map((n) => `/big/${n}`));

	await driver.delete("/big");
	expect(await driver.list("/")).toEqual(["/big-sibling"]);
	expect(await rawNames(driver)).toEqual(["big-sibling/keep"]);
	await driver.delete("/big-sibling");
}, 120_000);
