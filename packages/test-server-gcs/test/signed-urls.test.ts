import { createHash, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BUCKET, bytes, SIGNER, uniqueName, useServer } from "./helpers.js";

const f = useServer();

async function storeObject(size = 1000): Promise<{ name: string; data: Buffer }> {
	const name = `${uniqueName("signed")}/a b+c.bin`;
	const data = bytes(size);
	await f.storage.bucket(BUCKET).file(name).save(data, { resumable: false });
	return { name, data };
}

async function sdkUrl(name: string, expires = Date.now() + 60_000): Promise<string> {
	const [url] = await f.storage
		.bucket(BUCKET)
		.file(name)
		.getSignedUrl({ version: "v4", action: "read", expires });
	return url;
}

async function xmlCode(res: Response): Promise<string | undefined> {
	return /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1];
}

describe("V4 signed URLs", () => {
	it("a URL signed by the official SDK serves the object, ranges included", async () => {
		const { name, data } = await storeObject();
		const url = await sdkUrl(name);
		expect(url.startsWith(`${f.server.url}/${BUCKET}/`)).toBe(true);
		const res = await fetch(url);
		expect(res.status).toBe(200);
		expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
		const part = await fetch(url, { headers: { range: "bytes=10-19" } });
		expect(part.status).toBe(206);
		expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(10, 20))).toBe(true);
	});

	it("a tampered URL is refused with 403 SignatureDoesNotMatch", async () => {
		const { name } = await storeObject();
		const other = await storeObject();
		const url = new URL(await sdkUrl(name));
		const sig = url.searchParams.get("X-Goog-Signature") as string;
		const flipped = new URL(url);
		flipped.searchParams.set(
			"X-Goog-Signature",
			`${sig.slice(0, -1)}${sig.endsWith("0") ? "1" : "0"}`,
		);
		const longer = new URL(url);
		longer.searchParams.set("X-Goog-Expires", "3600");
		const elsewhere = new URL(url);
		elsewhere.pathname = `/${BUCKET}/${other.name.split("/").map(encodeURIComponent).join("/")}`;
		const extra = new URL(url);
		extra.searchParams.set("generation", "1");
		for (const bad of [flipped, longer, elsewhere, extra]) {
			const res = await fetch(bad);
			expect(res.status, bad.href).toBe(403);
			expect(await xmlCode(res)).toBe("SignatureDoesNotMatch");
		}
		// The verb is signed: a GET URL does not work for HEAD.
		const head = await fetch(url, { method: "HEAD" });
		expect(head.status).toBe(403);
	});

	it("an expired URL is refused with 400 ExpiredToken, as on GCS", async () => {
		const { name } = await storeObject();
		const url = await sdkUrl(name, Date.now() + 1000);
		await new Promise((r) => setTimeout(r, 2100));
		const res = await fetch(url);
		expect(res.status).toBe(400);
		expect(await xmlCode(res)).toBe("ExpiredToken");
	});

	it("unsigned, unknown signers and malformed parameters are refused", async () => {
		const { name } = await storeObject();
		const path = `${f.server.url}/${BUCKET}/${name.split("/").map(encodeURIComponent).join("/")}`;
		const anon = await fetch(path);
		expect(anon.status).toBe(403);
		expect(await xmlCode(anon)).toBe("AccessDenied");

		const url = new URL(await sdkUrl(name));
		const stranger = new URL(url);
		stranger.searchParams.set(
			"X-Goog-Credential",
			(url.searchParams.get("X-Goog-Credential") as string).replace(SIGNER, "someone@else.com"),
		);
		expect((await fetch(stranger)).status).toBe(403);

		const tooLong = new URL(url);
		tooLong.searchParams.set("X-Goog-Expires", String(8 * 24 * 3600));
		const r = await fetch(tooLong);
		expect(r.status).toBe(400);
		expect(await xmlCode(r)).toBe("MalformedSecurityHeader");
	});

	it("a HEAD-signed URL (signed here from Google's algorithm) answers HEAD with the length", async () => {
		const { name, data } = await storeObject(32);
		const url = manualSign("HEAD", name);
		const head = await fetch(url, { method: "HEAD" });
		expect(head.status).toBe(200);
		expect(head.headers.get("content-length")).toBe(String(data.length));
		expect((await fetch(url)).status).toBe(403);
	});

	it("a signed URL for a missing object is 404 NoSuchKey", async () => {
		const url = await sdkUrl(`${uniqueName("missing")}/x`);
		const res = await fetch(url);
		expect(res.status).toBe(404);
		expect(await xmlCode(res)).toBe("NoSuchKey");
	});
});

function manualSign(method: string, name: string): string {
	const host = new URL(f.server.url);
	const now = new Date()
		.toISOString()
		.replace(/[-:]/g, "")
		.replace(/\.\d{3}/, "");
	const scope = `${now.slice(0, 8)}/auto/storage/goog4_request`;
	const enc = (s: string) =>
		encodeURIComponent(s).replace(
			/[!'()*]/g,
			(c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
		);
	const path = `/${BUCKET}/${name.split("/").map(enc).join("/")}`;
	const query = [
		["X-Goog-Algorithm", "GOOG4-RSA-SHA256"],
		["X-Goog-Credential", `${SIGNER}/${scope}`],
		["X-Goog-Date", now],
		["X-Goog-Expires", "600"],
		["X-Goog-SignedHeaders", "host"],
	]
		.map(([k, v]) => `${enc(k as string)}=${enc(v as string)}`)
		.sort()
		.join("&");
	const canonical = [
		method,
		path,
		query,
		`host:${host.hostname}\n`,
		"host",
		"UNSIGNED-PAYLOAD",
	].join("\n");
	const toSign = [
		"GOOG4-RSA-SHA256",
		now,
		scope,
		createHash("sha256").update(canonical).digest("hex"),
	].join("\n");
	const signature = sign("sha256", Buffer.from(toSign), f.privateKey).toString("hex");
	return `${f.server.url}${path}?${query}&X-Goog-Signature=${signature}`;
}
