import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	buildImage,
	codes,
	DOCKER_LIST,
	DOCKER_MANIFEST,
	http,
	OCI_INDEX,
	OCI_MANIFEST,
	pushBlob,
	putManifest,
	sha256,
	startServer,
	type TestServer,
} from "./helpers.js";

let server: TestServer;
let deleting: TestServer;
beforeAll(async () => {
	server = await startServer();
	deleting = await startServer({ deleteEnabled: true });
});
afterAll(async () => {
	await server.close();
	await deleting.close();
});

describe("PUT and GET manifests", () => {
	it("an OCI image manifest by tag: 201, then GET/HEAD by tag and by digest", async () => {
		const img = await buildImage(server.url, "app/web");
		const put = await putManifest(server.url, "app/web", "v1", img.bytes);
		expect(put.status).toBe(201);
		expect(put.headers.location).toBe(`/v2/app/web/manifests/${img.digest}`);
		expect(put.headers["docker-content-digest"]).toBe(img.digest);
		expect(put.headers["oci-subject"]).toBeUndefined();
		for (const ref of ["v1", img.digest]) {
			const res = await http(`${server.url}/v2/app/web/manifests/${ref}`, {
				headers: { accept: OCI_MANIFEST },
			});
			expect(res.status).toBe(200);
			expect(res.body.equals(img.bytes)).toBe(true);
			expect(res.headers["content-type"]).toBe(OCI_MANIFEST);
			expect(res.headers["docker-content-digest"]).toBe(img.digest);
			expect(res.headers.etag).toBe(`"${img.digest}"`);
			expect(res.headers["content-length"]).toBe(String(img.size));
			const head = await http(`${server.url}/v2/app/web/manifests/${ref}`, { method: "HEAD" });
			expect(head.status).toBe(200);
			expect(head.body.length).toBe(0);
			expect(head.headers["content-length"]).toBe(String(img.size));
			expect(head.headers["docker-content-digest"]).toBe(img.digest);
		}
	});

	it("If-None-Match with the digest is 304", async () => {
		const img = await buildImage(server.url, "etag/repo");
		await putManifest(server.url, "etag/repo", "latest", img.bytes);
		const res = await http(`${server.url}/v2/etag/repo/manifests/latest`, {
			headers: { "if-none-match": `"${img.digest}"` },
		});
		expect(res.status).toBe(304);
	});

	it("negotiates: a client listing other manifest types only gets 404 MANIFEST_UNKNOWN", async () => {
		const img = await buildImage(server.url, "neg/repo");
		await putManifest(server.url, "neg/repo", "latest", img.bytes);
		const url = `${server.url}/v2/neg/repo/manifests/latest`;
		const refused = await http(url, { headers: { accept: `${DOCKER_MANIFEST}, ${DOCKER_LIST}` } });
		expect(refused.status).toBe(404);
		expect(codes(refused)).toEqual(["MANIFEST_UNKNOWN"]);
		for (const accept of [
			"*/*",
			"application/json",
			`${DOCKER_MANIFEST};q=0.5, ${OCI_MANIFEST};q=0.9`,
			`${DOCKER_MANIFEST}, */*`,
		]) {
			const res = await http(url, { headers: { accept } });
			expect(res.status, accept).toBe(200);
		}
		expect((await http(url)).status).toBe(200);
	});

	it("a Docker schema 2 manifest and a manifest list", async () => {
		const amd = await buildImage(server.url, "docker/img", {
			mediaType: DOCKER_MANIFEST,
			layers: ["amd64 layer"],
		});
		const arm = await buildImage(server.url, "docker/img", {
			mediaType: DOCKER_MANIFEST,
			layers: ["arm64 layer"],
		});
		for (const img of [amd, arm]) {
			const put = await putManifest(
				server.url,
				"docker/img",
				img.digest,
				img.bytes,
				DOCKER_MANIFEST,
			);
			expect(put.status).toBe(201);
		}
		const list = Buffer.from(
			JSON.stringify({
				schemaVersion: 2,
				mediaType: DOCKER_LIST,
				manifests: [
					{
						mediaType: DOCKER_MANIFEST,
						digest: amd.digest,
						size: amd.size,
						platform: { architecture: "amd64", os: "linux" },
					},
					{
						mediaType: DOCKER_MANIFEST,
						digest: arm.digest,
						size: arm.size,
						platform: { architecture: "arm64", os: "linux" },
					},
				],
			}),
		);
		const put = await putManifest(server.url, "docker/img", "multi", list, DOCKER_LIST);
		expect(put.status).toBe(201);
		const res = await http(`${server.url}/v2/docker/img/manifests/multi`, {
			headers: { accept: DOCKER_LIST },
		});
		expect(res.headers["content-type"]).toBe(DOCKER_LIST);
		expect(res.body.equals(list)).toBe(true);
		const child = await http(`${server.url}/v2/docker/img/manifests/${amd.digest}`, {
			headers: { accept: DOCKER_MANIFEST },
		});
		expect(child.headers["content-type"]).toBe(DOCKER_MANIFEST);
	});

	it("an OCI index needs its children: MANIFEST_BLOB_UNKNOWN until they are pushed", async () => {
		const img = await buildImage(server.url, "idx/repo");
		const index = Buffer.from(
			JSON.stringify({
				schemaVersion: 2,
				mediaType: OCI_INDEX,
				manifests: [{ mediaType: OCI_MANIFEST, digest: img.digest, size: img.size }],
			}),
		);
		const early = await putManifest(server.url, "idx/repo", "latest", index, OCI_INDEX);
		expect(early.status).toBe(400);
		expect(codes(early)).toEqual(["MANIFEST_BLOB_UNKNOWN"]);
		expect(early.json().errors[0].detail).toEqual({
			digest: img.digest,
			requestId: early.headers["x-request-id"],
		});
		await putManifest(server.url, "idx/repo", img.digest, img.bytes);
		const put = await putManifest(server.url, "idx/repo", "latest", index, OCI_INDEX);
		expect(put.status).toBe(201);
	});

	it("missing config and layers are listed, one error each", async () => {
		const img = await buildImage(server.url, "missing/src");
		const res = await putManifest(server.url, "missing/dst", "v1", img.bytes);
		expect(res.status).toBe(400);
		expect(codes(res)).toEqual(Array(3).fill("MANIFEST_BLOB_UNKNOWN"));
		const listed = res.json().errors.map((e: { detail: { digest: string } }) => e.detail.digest);
		expect(listed.sort()).toEqual(
			[img.manifest.config.digest, ...img.manifest.layers.map((l) => l.digest)].sort(),
		);
	});

	it("a descriptor whose size disagrees with the blob is MANIFEST_INVALID", async () => {
		const img = await buildImage(server.url, "size/repo");
		const wrong = { ...img.manifest, config: { ...img.manifest.config, size: 1 } };
		const res = await putManifest(server.url, "size/repo", "v1", JSON.stringify(wrong));
		expect(res.status).toBe(400);
		expect(codes(res)).toEqual(["MANIFEST_INVALID"]);
	});

	it("PUT by digest checks the digest", async () => {
		const img = await buildImage(server.url, "dig/repo");
		const ok = await putManifest(server.url, "dig/repo", img.digest, img.bytes);
		expect(ok.status).toBe(201);
		const bad = await putManifest(server.url, "dig/repo", sha256("other"), img.bytes);
		expect(bad.status).toBe(400);
		expect(codes(bad)).toEqual(["DIGEST_INVALID"]);
	});

	it("PUT by digest with ?tag= tags it too (OCI-Tag)", async () => {
		const img = await buildImage(server.url, "qtag/repo");
		const res = await putManifest(server.url, "qtag/repo", `${img.digest}?tag=a&tag=b`, img.bytes);
		expect(res.status).toBe(201);
		expect(res.headers["oci-tag"]).toBe("a,b");
		const tags = await http(`${server.url}/v2/qtag/repo/tags/list`);
		expect(tags.json().tags).toEqual(["a", "b"]);
	});

	it("the media type comes from Content-Type or the mediaType field; a conflict is invalid", async () => {
		const img = await buildImage(server.url, "ct/repo");
		const untyped = { ...img.manifest } as Record<string, unknown>;
		delete untyped.mediaType;
		const cases: [string, string | undefined, number][] = [
			[JSON.stringify(img.manifest), undefined, 201],
			[JSON.stringify(img.manifest), "application/json", 201],
			[JSON.stringify(untyped), OCI_MANIFEST, 201],
			[JSON.stringify(untyped), undefined, 201],
			[JSON.stringify(img.manifest), DOCKER_MANIFEST, 400],
			[JSON.stringify(img.manifest), "text/plain", 400],
		];
		for (const [body, contentType, status] of cases) {
			const res = await http(`${server.url}/v2/ct/repo/manifests/t`, {
				method: "PUT",
				headers: contentType ? { "content-type": contentType } : {},
				body,
			});
			expect(res.status, `${contentType}`).toBe(status);
			if (status === 400) expect(codes(res)).toEqual(["MANIFEST_INVALID"]);
		}
	});

	it("malformed manifests are 400 MANIFEST_INVALID", async () => {
		const bodies = [
			"not json",
			"[]",
			JSON.stringify({ schemaVersion: 1, name: "x", tag: "y", fsLayers: [] }),
			JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST }),
			JSON.stringify({
				schemaVersion: 2,
				mediaType: OCI_MANIFEST,
				config: { mediaType: "x", digest: "bad", size: 1 },
			}),
			JSON.stringify({
				schemaVersion: 2,
				mediaType: OCI_MANIFEST,
				config: { mediaType: "x", digest: sha256("x"), size: -1 },
			}),
			JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: {} }),
			JSON.stringify({
				schemaVersion: 2,
				mediaType: DOCKER_MANIFEST.replace("v2", "v9"),
				config: {},
			}),
			JSON.stringify({
				schemaVersion: 2,
				mediaType: OCI_MANIFEST,
				config: { mediaType: "x", digest: sha256("x"), size: 1 },
				annotations: { a: 1 },
			}),
		];
		for (const body of bodies) {
			const res = await http(`${server.url}/v2/bad/repo/manifests/t`, {
				method: "PUT",
				headers: { "content-type": body.includes(OCI_INDEX) ? OCI_INDEX : "application/json" },
				body,
			});
			expect(res.status, body).toBe(400);
			expect(codes(res)).toEqual(["MANIFEST_INVALID"]);
		}
	});

	it("a manifest over 4 MiB is 413, declared or streamed", async () => {
		const big = Buffer.alloc(4 * 1024 * 1024 + 1, 32);
		const declared = await putManifest(server.url, "big/repo", "t", big);
		expect(declared.status).toBe(413);
		expect(codes(declared)).toEqual(["MANIFEST_INVALID"]);
		async function* streamed() {
			for (let i = 0; i < 5; i++) yield Buffer.alloc(1024 * 1024, 32);
		}
		const chunked = await http(`${server.url}/v2/big/repo/manifests/t`, {
			method: "PUT",
			headers: { "content-type": OCI_MANIFEST },
			body: streamed(),
		});
		expect(chunked.status).toBe(413);
		expect((await http(`${server.url}/v2/`)).status).toBe(200);
	});

	it("an invalid tag is 400 TAG_INVALID; unknown references are 404 MANIFEST_UNKNOWN", async () => {
		const img = await buildImage(server.url, "ref/repo");
		const bad = await putManifest(server.url, "ref/repo", "-bad", img.bytes);
		expect(bad.status).toBe(400);
		expect(codes(bad)).toEqual(["TAG_INVALID"]);
		const getBad = await http(`${server.url}/v2/ref/repo/manifests/${"x".repeat(129)}`);
		expect(codes(getBad)).toEqual(["TAG_INVALID"]);
		for (const ref of ["nope", sha256("nope")]) {
			const res = await http(`${server.url}/v2/ref/repo/manifests/${ref}`);
			expect(res.status).toBe(404);
			expect(codes(res)).toEqual(["MANIFEST_UNKNOWN"]);
		}
		const digest = await http(`${server.url}/v2/ref/repo/manifests/sha256:xyz`);
		expect(digest.status).toBe(400);
		expect(codes(digest)).toEqual(["DIGEST_INVALID"]);
		const repo = await http(`${server.url}/v2/no/such/repo/manifests/latest`);
		expect(repo.status).toBe(404);
	});

	it("re-tagging moves the tag", async () => {
		const one = await buildImage(server.url, "mv/repo", { layers: ["one"] });
		const two = await buildImage(server.url, "mv/repo", { layers: ["two"] });
		await putManifest(server.url, "mv/repo", "latest", one.bytes);
		await putManifest(server.url, "mv/repo", "latest", two.bytes);
		const res = await http(`${server.url}/v2/mv/repo/manifests/latest`, { method: "HEAD" });
		expect(res.headers["docker-content-digest"]).toBe(two.digest);
	});
});

describe("DELETE manifests", () => {
	it("is 405 UNSUPPORTED while deletes are disabled", async () => {
		const img = await buildImage(server.url, "nodel/repo");
		await putManifest(server.url, "nodel/repo", "v1", img.bytes);
		const res = await http(`${server.url}/v2/nodel/repo/manifests/v1`, { method: "DELETE" });
		expect(res.status).toBe(405);
		expect(codes(res)).toEqual(["UNSUPPORTED"]);
	});

	it("by tag removes the tag only; by digest removes the manifest and its tags", async () => {
		const base = deleting.url;
		const img = await buildImage(base, "del/repo");
		await putManifest(base, "del/repo", "v1", img.bytes);
		await putManifest(base, "del/repo", "v2", img.bytes);
		const byTag = await http(`${base}/v2/del/repo/manifests/v1`, { method: "DELETE" });
		expect(byTag.status).toBe(202);
		expect((await http(`${base}/v2/del/repo/manifests/v1`)).status).toBe(404);
		expect((await http(`${base}/v2/del/repo/manifests/${img.digest}`)).status).toBe(200);
		const again = await http(`${base}/v2/del/repo/manifests/v1`, { method: "DELETE" });
		expect(again.status).toBe(404);
		expect(codes(again)).toEqual(["MANIFEST_UNKNOWN"]);

		const byDigest = await http(`${base}/v2/del/repo/manifests/${img.digest}`, {
			method: "DELETE",
		});
		expect(byDigest.status).toBe(202);
		expect((await http(`${base}/v2/del/repo/manifests/${img.digest}`)).status).toBe(404);
		expect((await http(`${base}/v2/del/repo/manifests/v2`)).status).toBe(404);
		expect((await http(`${base}/v2/del/repo/tags/list`)).json().tags).toEqual([]);
		const gone = await http(`${base}/v2/del/repo/manifests/${img.digest}`, { method: "DELETE" });
		expect(gone.status).toBe(404);
		expect(codes(gone)).toEqual(["MANIFEST_UNKNOWN"]);
	});
});

describe("referrers", () => {
	it("a manifest with a subject gets OCI-Subject and is listed, filterable by artifactType", async () => {
		const base = deleting.url;
		const subject = await buildImage(base, "ref/app");
		// Referrers may arrive before their subject.
		const sbom = await buildImage(base, "ref/app", {
			layers: ["sbom"],
			artifactType: "application/spdx+json",
			subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
			annotations: { "org.example.kind": "sbom" },
		});
		const sig = await buildImage(base, "ref/app", {
			layers: ["signature"],
			configMediaType: "application/vnd.example.signature",
			subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
		});
		for (const m of [sbom, sig]) {
			const put = await putManifest(base, "ref/app", m.digest, m.bytes);
			expect(put.status).toBe(201);
			expect(put.headers["oci-subject"]).toBe(subject.digest);
		}
		const url = `${base}/v2/ref/app/referrers/${subject.digest}`;
		const all = await http(url);
		expect(all.status).toBe(200);
		expect(all.headers["content-type"]).toBe(OCI_INDEX);
		expect(all.headers["oci-filters-applied"]).toBeUndefined();
		const index = all.json();
		expect(index).toMatchObject({ schemaVersion: 2, mediaType: OCI_INDEX });
		expect(index.manifests).toHaveLength(2);
		expect(index.manifests).toContainEqual({
			mediaType: OCI_MANIFEST,
			digest: sbom.digest,
			size: sbom.size,
			artifactType: "application/spdx+json",
			annotations: { "org.example.kind": "sbom" },
		});
		// Without artifactType, an image manifest reports its config's media type.
		expect(index.manifests).toContainEqual({
			mediaType: OCI_MANIFEST,
			digest: sig.digest,
			size: sig.size,
			artifactType: "application/vnd.example.signature",
		});
		const filtered = await http(`${url}?artifactType=application/spdx%2Bjson`);
		expect(filtered.headers["oci-filters-applied"]).toBe("artifactType");
		expect(filtered.json().manifests.map((m: { digest: string }) => m.digest)).toEqual([
			sbom.digest,
		]);

		await putManifest(base, "ref/app", "v1", subject.bytes);
		expect((await http(url)).json().manifests).toHaveLength(2);

		// A deleted referrer leaves the list.
		await http(`${base}/v2/ref/app/manifests/${sbom.digest}`, { method: "DELETE" });
		const after = (await http(url)).json().manifests.map((m: { digest: string }) => m.digest);
		expect(after).toEqual([sig.digest]);
	});

	it("a subject nothing refers to has an empty index; a bad digest is 400", async () => {
		const res = await http(`${server.url}/v2/none/repo/referrers/${sha256("nothing")}`);
		expect(res.status).toBe(200);
		expect(res.json()).toEqual({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
		const bad = await http(`${server.url}/v2/none/repo/referrers/latest`);
		expect(bad.status).toBe(400);
		expect(codes(bad)).toEqual(["DIGEST_INVALID"]);
	});
});

describe("tags list", () => {
	beforeAll(async () => {
		const img = await buildImage(server.url, "tags/repo");
		for (const tag of ["v2", "v10", "latest", "A", "v1", "_x"]) {
			await putManifest(server.url, "tags/repo", tag, img.bytes);
		}
	});

	it("lists tags in lexical order", async () => {
		const res = await http(`${server.url}/v2/tags/repo/tags/list`);
		expect(res.status).toBe(200);
		expect(res.json()).toEqual({
			name: "tags/repo",
			tags: ["A", "_x", "latest", "v1", "v10", "v2"],
		});
		expect(res.headers.link).toBeUndefined();
	});

	it("paginates with n and last, with a Link header to the next page", async () => {
		const first = await http(`${server.url}/v2/tags/repo/tags/list?n=2`);
		expect(first.json().tags).toEqual(["A", "_x"]);
		expect(first.headers.link).toBe('</v2/tags/repo/tags/list?n=2&last=_x>; rel="next"');
		const second = await http(`${server.url}/v2/tags/repo/tags/list?n=2&last=_x`);
		expect(second.json().tags).toEqual(["latest", "v1"]);
		const third = await http(`${server.url}/v2/tags/repo/tags/list?n=2&last=v1`);
		expect(third.json().tags).toEqual(["v10", "v2"]);
		expect(third.headers.link).toBeUndefined();
		const past = await http(`${server.url}/v2/tags/repo/tags/list?last=v2`);
		expect(past.json().tags).toEqual([]);
		const zero = await http(`${server.url}/v2/tags/repo/tags/list?n=0`);
		expect(zero.json().tags).toEqual([]);
	});

	it("an unknown repository is 404 NAME_UNKNOWN; a bad n is 400 PAGINATION_NUMBER_INVALID", async () => {
		const res = await http(`${server.url}/v2/no/such/tags/list`);
		expect(res.status).toBe(404);
		expect(codes(res)).toEqual(["NAME_UNKNOWN"]);
		for (const n of ["-1", "abc", "1.5"]) {
			const bad = await http(`${server.url}/v2/tags/repo/tags/list?n=${n}`);
			expect(bad.status, n).toBe(400);
			expect(codes(bad)).toEqual(["PAGINATION_NUMBER_INVALID"]);
		}
	});

	it("a repository with blobs but no tags has an empty list", async () => {
		await pushBlob(server.url, "untagged/repo", "blob");
		const res = await http(`${server.url}/v2/untagged/repo/tags/list`);
		expect(res.status).toBe(200);
		expect(res.json()).toEqual({ name: "untagged/repo", tags: [] });
	});
});

describe("catalog", () => {
	it("lists repositories in order, paginated with Link", async () => {
		const s = await startServer({ catalogMaxEntries: 3 });
		try {
			for (const name of ["b", "a", "a/b", "a-b", "a/0", "c/d/e"])
				await pushBlob(s.url, name, name);
			await http(`${s.url}/v2/u/blobs/uploads/`, { method: "POST" });
			const all: string[] = [];
			let url = `${s.url}/v2/_catalog?n=2`;
			for (;;) {
				const res = await http(url);
				expect(res.status).toBe(200);
				all.push(...res.json().repositories);
				if (!res.headers.link) break;
				const next = /^<([^>]+)>; rel="next"$/.exec(res.headers.link)?.[1];
				url = `${s.url}${next}`;
			}
			expect(all).toEqual(["a", "a/0", "a/b", "a-b", "b", "c/d/e", "u"]);
			// No n: the configured maximum page, with a Link onward.
			const first = await http(`${s.url}/v2/_catalog`);
			expect(first.json().repositories).toEqual(["a", "a/0", "a/b"]);
			expect(first.headers.link).toBe('</v2/_catalog?n=3&last=a%2Fb>; rel="next"');
			const capped = await http(`${s.url}/v2/_catalog?n=100`);
			expect(capped.json().repositories).toHaveLength(3);
			const bad = await http(`${s.url}/v2/_catalog?n=x`);
			expect(codes(bad)).toEqual(["PAGINATION_NUMBER_INVALID"]);
		} finally {
			await s.close();
		}
	});

	it("an empty registry has an empty catalog", async () => {
		const s = await startServer();
		try {
			expect((await http(`${s.url}/v2/_catalog`)).json()).toEqual({ repositories: [] });
		} finally {
			await s.close();
		}
	});
});
