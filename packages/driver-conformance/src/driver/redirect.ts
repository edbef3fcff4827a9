import { randomContent } from "./data.js";
import { driverTests, expectBytes } from "./harness.js";
import type { DriverFactory, DriverSuiteOptions, TestFunction } from "./options.js";

export function redirectTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it = driverTests(test, factory, options);

	// Distribution 29. Both branches assert: a driver that declares no redirect must return none,
	// one that declares it must serve real, fetchable URLs.
	it("redirectURL matches capabilities.redirect", async ({ expect, driver, root, options }) => {
		const path = `${root()}/blob`;
		const content = randomContent(32);
		await driver.putContent(path, content);

		const getURL = await driver.redirectURL(path, { method: "GET" });
		const headURL = await driver.redirectURL(path, { method: "HEAD" });
		if (!driver.capabilities.redirect) {
			expect(getURL, "redirect capability is false").toBeUndefined();
			expect(headURL, "redirect capability is false").toBeUndefined();
			return;
		}
		expect(typeof getURL, "redirect capability is true: GET URL").toBe("string");
		expect(typeof headURL, "redirect capability is true: HEAD URL").toBe("string");

		const get = await options.fetch(getURL as string);
		expect(get.status).toBe(200);
		expectBytes(expect, new Uint8Array(await get.arrayBuffer()), content, "GET body");

		const head = await options.fetch(headURL as string, { method: "HEAD" });
		expect(head.status).toBe(200);
		expect(head.headers.get("content-length")).toBe("32");
	});
}
