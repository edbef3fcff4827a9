import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, expect, inject, it } from "vitest";
import { createAzureDriver } from "../src/index.js";
import { rawContainer } from "./clients.js";
import { driverAt, uniqueRoot } from "./target.js";

const target = inject("azure");
const rootDir = uniqueRoot("redirect");
const driver = driverAt(target, rootDir);

afterAll(async () => {
	await driver.delete("/blob").catch(() => undefined);
});

it("a read-only SAS URL serves GET and HEAD, and nothing else", async () => {
	expect(driver.capabilities.redirect).toBe(true);
	const content = randomBytes(1000);
	await driver.putContent("/blob", content);
	const url = (await driver.redirectURL("/blob", { method: "GET" })) as string;
	expect(url).toContain("sig=");
	expect(url).toContain("sp=r");

	const get = await fetch(url);
	expect(get.status).toBe(200);
	expect(Buffer.from(await get.arrayBuffer()).equals(content)).toBe(true);
	const head = await fetch(url, { method: "HEAD" });
	expect(head.status).toBe(200);
	expect(head.headers.get("content-length")).toBe("1000");

	// Read-only: the same URL cannot write or delete.
	const put = await fetch(url, {
		method: "PUT",
		headers: { "x-ms-blob-type": "BlockBlob" },
		body: "overwritten",
	});
	expect(put.status).toBe(403);
	expect((await fetch(url, { method: "DELETE" })).status).toBe(403);
	expect((await driver.getContent("/blob")).equals(content)).toBe(true);
});

it("a tampered SAS URL is refused", async () => {
	await driver.putContent("/blob", Buffer.from("secret"));
	const url = new URL((await driver.redirectURL("/blob", { method: "GET" })) as string);
	// Widening the permissions invalidates the signature.
	url.searchParams.set("sp", "rw");
	expect((await fetch(url)).status).toBe(403);
	const other = new URL((await driver.redirectURL("/blob", { method: "GET" })) as string);
	other.pathname = other.pathname.replace(/blob$/, "other");
	expect((await fetch(other)).status).toBe(403);
});

it("an expired SAS URL is refused", async () => {
	await driver.putContent("/blob", Buffer.from("soon gone"));
	const url = (await driver.redirectURL("/blob", { method: "GET", expiresIn: 1 })) as string;
	expect(new URL(url).searchParams.get("se")).toBeTruthy();
	await sleep(2500);
	expect((await fetch(url)).status).toBe(403);
});

it("the default lifetime is 20 minutes, and redirectexpiry changes it", async () => {
	const lifetime = async (d: typeof driver) => {
		const url = new URL((await d.redirectURL("/blob", { method: "HEAD" })) as string);
		return (Date.parse(url.searchParams.get("se") as string) - Date.now()) / 1000;
	};
	expect(await lifetime(driver)).toBeGreaterThan(20 * 60 - 10);
	expect(await lifetime(driver)).toBeLessThanOrEqual(20 * 60);
	const short = driverAt(target, rootDir, { redirectexpiry: "5m" });
	expect(await lifetime(short)).toBeLessThanOrEqual(5 * 60);
	expect(await lifetime(short)).toBeGreaterThan(5 * 60 - 10);
});

it("a client without a key cannot sign: no redirect", async () => {
	const anonymous = new BlobServiceClient(rawContainer(target).url.replace(/\/[^/]+$/, ""));
	const d = createAzureDriver({
		containerClient: anonymous.getContainerClient(target.container),
		rootdirectory: rootDir,
	});
	expect(d.capabilities.redirect).toBe(false);
	expect(await d.redirectURL("/blob", { method: "GET" })).toBeUndefined();
});
