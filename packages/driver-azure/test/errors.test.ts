import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { RestError } from "@azure/storage-blob";
import { OperationAbortedError, PathNotFoundError, StorageDriverError } from "@stowage/core";
import { describe, expect, inject, it } from "vitest";
import { createAzureDriver, toDriverError } from "../src/index.js";
import { AZURITE_KEY } from "./azurite.js";
import { rawContainer } from "./clients.js";
import { driverAt, targetOptions, uniqueRoot } from "./target.js";

const target = inject("azure");

describe("SDK errors become driver errors once, with the SDK error as cause", () => {
	it("404 with an error code (GET) and without one (HEAD) are PathNotFoundError", async () => {
		const driver = driverAt(target, uniqueRoot("errors"));
		const get = await driver.getContent("/missing").catch((e: unknown) => e);
		expect(get).toBeInstanceOf(PathNotFoundError);
		expect((get as PathNotFoundError).path).toBe("/missing");
		expect((get as Error).cause).toBeInstanceOf(RestError);
		expect((get as Error).cause).toMatchObject({ statusCode: 404, code: "BlobNotFound" });

		const head = await driver.stat("/missing").catch((e: unknown) => e);
		expect(head).toBeInstanceOf(PathNotFoundError);
		const reader = await driver.reader("/missing", 10).catch((e: unknown) => e);
		expect(reader).toBeInstanceOf(PathNotFoundError);
		expect((reader as Error).cause).toMatchObject({ statusCode: 404 });
	});

	it("a container removed underneath the driver gives PathNotFoundError (ContainerNotFound)", async () => {
		const container = `${target.container}-gone`;
		const driver = createAzureDriver({ ...targetOptions(target), container });
		await driver.putContent("/x", Buffer.from("x"));
		await rawContainer({ ...target, container }).delete();
		const err = await driver.getContent("/x").catch((e: unknown) => e);
		expect(err).toBeInstanceOf(PathNotFoundError);
		expect((err as Error).cause).toMatchObject({ code: "ContainerNotFound" });
	});

	it.skipIf(target.kind !== "azurite")(
		"a wrong key is a StorageDriverError naming the code",
		async () => {
			const wrong = createAzureDriver({
				accountname: "devstoreaccount1",
				accountkey: Buffer.from("not the key").toString("base64"),
				serviceurl: target.serviceUrl,
				container: target.container,
				max_retries: 0,
			});
			const err = await wrong.getContent("/x").catch((e: unknown) => e);
			expect(err).toBeInstanceOf(StorageDriverError);
			expect((err as Error).message).toMatch(/^azure: getContent \/x: .*403/);
			expect((err as Error).cause).toBeInstanceOf(RestError);
		},
	);

	it("maps conditions, aborts and unknown failures", () => {
		const failed = toDriverError(
			"azure",
			"commit",
			"/p",
			new RestError("The condition specified was not met.\nRequestId:1", {
				statusCode: 412,
				code: "ConditionNotMet",
			}),
		);
		expect(failed).toBeInstanceOf(StorageDriverError);
		expect(failed.message).toBe(
			"azure: commit /p: ConditionNotMet 412: The condition specified was not met.",
		);
		const abort = Object.assign(new Error("The operation was aborted."), { name: "AbortError" });
		expect(toDriverError("azure", "stat", "/p", abort)).toBeInstanceOf(OperationAbortedError);
		const plain = toDriverError("azure", "list", "/p", new Error("socket hang up"));
		expect(plain).toBeInstanceOf(StorageDriverError);
		expect(plain.message).toContain("socket hang up");
	});

	it("transient failures are retried max_retries times, retry_delay apart", async () => {
		let requests = 0;
		const server = createServer((_req, res) => {
			requests++;
			res.writeHead(503, { "x-ms-error-code": "ServerBusy" }).end();
		});
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		const { port } = server.address() as AddressInfo;
		try {
			const driver = createAzureDriver({
				accountname: "acct",
				accountkey: AZURITE_KEY,
				serviceurl: `http://127.0.0.1:${port}/acct`,
				container: "c",
				max_retries: 2,
				retry_delay: "5ms",
			});
			const started = Date.now();
			const err = await driver.stat("/x").catch((e: unknown) => e);
			expect(err).toBeInstanceOf(StorageDriverError);
			expect((err as Error).message).toContain("503");
			// Creating the container is tried 3 times, and so would every call after it be.
			expect(requests).toBe(3);
			expect(Date.now() - started).toBeLessThan(5000);
		} finally {
			server.close();
		}
	});
});
