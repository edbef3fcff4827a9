import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { limitStream } from "../src/index.js";

async function collect(stream: Readable): Promise<Buffer> {
	const parts: Buffer[] = [];
	for await (const c of stream) parts.push(c as Buffer);
	return Buffer.concat(parts);
}

describe("limitStream", () => {
	it("yields exactly the first n bytes across chunk boundaries and releases the source", async () => {
		const source = Readable.from([Buffer.from("abc"), Buffer.from("defg"), Buffer.from("hij")]);
		const out = await collect(limitStream(source, 5));
		expect(out.toString()).toBe("abcde");
		await new Promise((r) => setImmediate(r));
		expect(source.destroyed).toBe(true);
	});

	it("ends early when the source is shorter, and handles zero", async () => {
		expect((await collect(limitStream(Readable.from([Buffer.from("ab")]), 10))).toString()).toBe(
			"ab",
		);
		expect((await collect(limitStream(Readable.from([Buffer.from("ab")]), 0))).length).toBe(0);
	});

	it("passes source errors on", async () => {
		const source = new Readable({
			read() {
				this.destroy(new Error("backend failed"));
			},
		});
		await expect(collect(limitStream(source, 10))).rejects.toThrow("backend failed");
	});
});
