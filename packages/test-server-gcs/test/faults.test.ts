import { describe, expect, it } from "vitest";
import { BUCKET, rejection, statusOf, uniqueName, useServer } from "./helpers.js";

const f = useServer();

describe("fault injection", () => {
	it("answers the next N requests of an operation with an injected status", async () => {
		const file = f.storage.bucket(BUCKET).file(uniqueName("fault"));
		await file.save("x", { resumable: false });
		f.server.faults.inject({ op: "objects.get", status: 503, times: 2 });
		expect(statusOf(await rejection(file.getMetadata()))).toBe(503);
		expect(statusOf(await rejection(file.getMetadata()))).toBe(503);
		expect((await file.getMetadata())[0].size).toBe("1");
		f.server.faults.inject({ op: "*", status: 429 });
		const err = await rejection(file.download());
		expect(statusOf(err)).toBe(429);
		expect(f.server.faults.pending).toBe(0);
		expect(f.server.faults.fired.slice(-1)[0]).toMatchObject({ op: "objects.media" });
	});

	it("resets the connection, or does the work and drops the answer", async () => {
		const file = f.storage.bucket(BUCKET).file(uniqueName("reset"));
		f.server.faults.inject({ op: "objects.insert", reset: true });
		const err = (await rejection(file.save("x", { resumable: false }))) as Error;
		expect(String(err.message)).toMatch(/socket hang up|ECONNRESET|other side closed/i);
		expect((await file.exists())[0]).toBe(false);

		f.server.faults.inject({ op: "objects.insert", loseResponse: true });
		await rejection(file.save("y", { resumable: false }));
		// The client saw a failure, but the object was written.
		expect((await file.download())[0].toString()).toBe("y");
	});

	it("can be armed over HTTP, for a server in another process", async () => {
		const arm = await fetch(`${f.server.url}/_testserver/faults`, {
			method: "POST",
			body: JSON.stringify({ op: "objects.list", status: 500 }),
		});
		expect(arm.status).toBe(204);
		expect(statusOf(await rejection(f.storage.bucket(BUCKET).getFiles()))).toBe(500);
		const log = (await (await fetch(`${f.server.url}/_testserver/requests`)).json()) as {
			op: string;
			status: number;
		}[];
		expect(log.some((r) => r.op === "objects.list" && r.status === 500)).toBe(true);
		const bad = await fetch(`${f.server.url}/_testserver/faults`, { method: "POST", body: "{}" });
		expect(bad.status).toBe(400);
		await bad.arrayBuffer();
	});
});
