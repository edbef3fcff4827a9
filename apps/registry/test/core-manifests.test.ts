import { createHash } from "node:crypto";
import {
	ManifestBlobUnknownError,
	ManifestInvalidError,
	ManifestTooLargeError,
	parseDigest,
	parseManifest,
	Registry,
	walkRepositories,
} from "@stowage/core";
import { createMemoryDriver } from "@stowage/driver-memory";
import { describe, expect, it } from "vitest";

const OCI = "application/vnd.oci.image.manifest.v1+json";

function digestOf(content: string | Uint8Array) {
	return `sha256:${createHash("sha256").update(content).digest("hex")}`;
}

async function setup() {
	const driver = createMemoryDriver();
	const registry = new Registry({ driver });
	const repo = registry.repository("lib/app");
	const config = await repo.blobs.put(Buffer.from("{}"));
	const layer = await repo.blobs.put(Buffer.from("layer"));
	const manifest = Buffer.from(
		JSON.stringify({
			schemaVersion: 2,
			mediaType: OCI,
			config: {
				mediaType: "application/vnd.oci.image.config.v1+json",
				digest: config.digest,
				size: config.size,
			},
			layers: [
				{
					mediaType: "application/vnd.oci.image.layer.v1.tar",
					digest: layer.digest,
					size: layer.size,
				},
			],
		}),
	);
	return { driver, registry, repo, manifest, config, layer };
}

describe("ManifestStore in Distribution's layout", () => {
	it("writes blob data, revision link and tag links where Distribution does", async () => {
		const { driver, repo, manifest } = await setup();
		const result = await repo.manifests.put("v1", manifest, { contentType: OCI });
		const d = parseDigest(result.descriptor.digest);
		const root = "/docker/registry/v2";
		const text = async (p: string) => (await driver.getContent(p)).toString();
		expect(await text(`${root}/blobs/sha256/${d.hex.slice(0, 2)}/${d.hex}/data`)).toBe(
			manifest.toString(),
		);
		expect(
			await text(`${root}/repositories/lib/app/_manifests/revisions/sha256/${d.hex}/link`),
		).toBe(d.digest);
		expect(await text(`${root}/repositories/lib/app/_manifests/tags/v1/current/link`)).toBe(
			d.digest,
		);
		expect(
			await text(`${root}/repositories/lib/app/_manifests/tags/v1/index/sha256/${d.hex}/link`),
		).toBe(d.digest);
		// The manifest is not a layer of the repository.
		await expect(
			driver.stat(`${root}/repositories/lib/app/_layers/sha256/${d.hex}`),
		).rejects.toThrow();
	});

	it("reads a store Distribution wrote (schema 1 served as stored)", async () => {
		const { driver, registry } = await setup();
		const schema1 = Buffer.from(
			JSON.stringify({ schemaVersion: 1, name: "old", tag: "v1", signatures: [] }),
		);
		const d = parseDigest(digestOf(schema1));
		const root = "/docker/registry/v2";
		await driver.putContent(`${root}/blobs/sha256/${d.hex.slice(0, 2)}/${d.hex}/data`, schema1);
		await driver.putContent(
			`${root}/repositories/old/_manifests/revisions/sha256/${d.hex}/link`,
			Buffer.from(d.digest),
		);
		await driver.putContent(
			`${root}/repositories/old/_manifests/tags/v1/current/link`,
			Buffer.from(d.digest),
		);
		const got = await registry.repository("old").manifests.get("v1");
		expect(got.descriptor).toEqual({
			digest: d.digest,
			size: schema1.length,
			mediaType: "application/vnd.docker.distribution.manifest.v1+prettyjws",
		});
	});

	it("reports every missing reference, and too-large content", async () => {
		const { registry, manifest } = await setup();
		const other = registry.repository("other");
		const err = await other.manifests.put("v1", manifest).catch((e) => e);
		expect(err).toBeInstanceOf(ManifestBlobUnknownError);
		expect(err.digests).toHaveLength(2);
		const big = new Uint8Array(4 * 1024 * 1024 + 1);
		await expect(other.manifests.put("v1", big)).rejects.toBeInstanceOf(ManifestTooLargeError);
	});

	it("tags list: NAME_UNKNOWN for no repository, pagination flags", async () => {
		const { repo, registry, manifest } = await setup();
		await expect(registry.repository("nobody").tags.list()).rejects.toMatchObject({
			code: "NAME_UNKNOWN",
		});
		for (const t of ["c", "a", "b"]) await repo.manifests.put(t, manifest);
		expect(await repo.tags.list({ n: 2 })).toEqual({ tags: ["a", "b"], more: true });
		expect(await repo.tags.list({ n: 2, last: "b" })).toEqual({ tags: ["c"], more: false });
		expect(await repo.tags.lookup(digestOf(manifest))).toEqual(["a", "b", "c"]);
	});
});

describe("parseManifest", () => {
	const config = {
		mediaType: "application/vnd.oci.image.config.v1+json",
		digest: digestOf("{}"),
		size: 2,
	};

	it("skips foreign layers (with urls) in the blob references", () => {
		const parsed = parseManifest(
			Buffer.from(
				JSON.stringify({
					schemaVersion: 2,
					config,
					layers: [
						{
							mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar",
							digest: digestOf("f"),
							size: 1,
							urls: ["https://x"],
						},
						{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: digestOf("l"), size: 1 },
					],
				}),
			),
		);
		expect(parsed.mediaType).toBe(OCI);
		expect(parsed.blobs.map((b) => b.digest)).toEqual([config.digest, digestOf("l")]);
		expect(parsed.artifactType).toBe(config.mediaType);
	});

	it("requires the mediaType field in Docker formats", () => {
		expect(() =>
			parseManifest(
				Buffer.from(JSON.stringify({ schemaVersion: 2, config, layers: [] })),
				"application/vnd.docker.distribution.manifest.v2+json",
			),
		).toThrow(ManifestInvalidError);
	});

	it("rejects invalid UTF-8", () => {
		expect(() => parseManifest(Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(/UTF-8/);
	});
});

describe("catalog walk", () => {
	it("yields names in component-wise order and resumes after any name", async () => {
		const driver = createMemoryDriver();
		const registry = new Registry({ driver });
		const names = ["b", "a", "a/b", "a-b", "a/0", "a/0/x", "z/y/x", "a.b"];
		for (const name of names) await registry.repository(name).blobs.put(Buffer.from(name));
		// A directory that is not a repository holds only nested ones.
		const all: string[] = [];
		for await (const n of walkRepositories(driver, registry.layout)) all.push(n);
		expect(all).toEqual(["a", "a/0", "a/0/x", "a/b", "a-b", "a.b", "b", "z/y/x"]);
		for (let i = 0; i < all.length; i++) {
			const page = await registry.catalog({ n: 100, last: all[i] as string });
			expect(page.repositories).toEqual(all.slice(i + 1));
		}
		expect(await registry.catalog({ n: 3 })).toEqual({ repositories: all.slice(0, 3), more: true });
		expect(await registry.catalog({ n: 8 })).toEqual({ repositories: all, more: false });
		expect(await registry.catalog({ n: 2, last: "a/zzz" })).toEqual({
			repositories: ["a-b", "a.b"],
			more: true,
		});
	});
});
