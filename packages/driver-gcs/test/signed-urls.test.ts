import { describe, expect, it } from "vitest";
import { random, sleep } from "./helpers.js";
import { freshDriver, target } from "./target.js";

describe("redirectURL: V4 signed URLs", () => {
	it("GET and HEAD URLs work when fetched for real", async () => {
		const driver = freshDriver();
		expect(driver.capabilities.redirect).toBe(true);
		const content = random(32);
		await driver.putContent("/blob/data", content);
		const get = (await driver.redirectURL("/blob/data", { method: "GET" })) as string;
		const res = await fetch(get);
		expect(res.status).toBe(200);
		expect(Buffer.from(await res.arrayBuffer()).equals(content)).toBe(true);
		const head = (await driver.redirectURL("/blob/data", { method: "HEAD" })) as string;
		const h = await fetch(head, { method: "HEAD" });
		expect(h.status).toBe(200);
		expect(h.headers.get("content-length")).toBe("32");
		expect(new URL(get).searchParams.get("X-Goog-Expires")).toBe("1200");
		await driver.delete("/blob");
	});

	it("a tampered URL, or one used with another verb, is refused", async () => {
		const driver = freshDriver();
		await driver.putContent("/t/data", random(10));
		await driver.putContent("/t/other", random(10));
		const url = new URL((await driver.redirectURL("/t/data", { method: "GET" })) as string);
		const sig = url.searchParams.get("X-Goog-Signature") as string;
		const forged = new URL(url);
		forged.searchParams.set(
			"X-Goog-Signature",
			sig.replace(/.$/, (c) => (c === "a" ? "b" : "a")),
		);
		const moved = new URL(url.href.replace("/t/data?", "/t/other?"));
		const longer = new URL(url);
		longer.searchParams.set("X-Goog-Expires", "604800");
		for (const bad of [forged, moved, longer]) {
			const res = await fetch(bad);
			expect(res.status, bad.pathname).toBe(403);
			await res.arrayBuffer();
		}
		expect((await fetch(url, { method: "HEAD" })).status).toBe(403);
		await driver.delete("/t");
	});

	it("lifetime is configurable per call and per driver; an expired URL is refused", async () => {
		const driver = freshDriver({ redirectExpiresIn: 600 });
		await driver.putContent("/e/data", random(10));
		const byDriver = new URL((await driver.redirectURL("/e/data", { method: "GET" })) as string);
		expect(byDriver.searchParams.get("X-Goog-Expires")).toBe("600");
		const short = (await driver.redirectURL("/e/data", { method: "GET", expiresIn: 1 })) as string;
		await sleep(2100);
		const res = await fetch(short);
		expect(res.status).toBe(400); // ExpiredToken, as GCS answers
		await res.arrayBuffer();
		await expect(
			driver.redirectURL("/e/data", { method: "GET", expiresIn: 8 * 86400 }),
		).rejects.toThrow(/expiresIn/);
		await driver.delete("/e");
	});

	it("without a key to sign with there is no redirect", async () => {
		const t = target();
		const driver = freshDriver({ credentials: undefined as never, keyfile: undefined as never });
		if (t.kind === "test-server") {
			expect(driver.capabilities.redirect).toBe(false);
			expect(await driver.redirectURL("/x", { method: "GET" })).toBeUndefined();
		}
		const off = freshDriver({ redirect: false });
		expect(off.capabilities.redirect).toBe(false);
	});
});
