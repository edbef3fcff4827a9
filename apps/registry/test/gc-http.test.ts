/**
 * After a collection the API never claims what is gone: Distribution's cached descriptors made a
 * HEAD answer 200 ("layer already exists") for deleted bytes, and pulls failed. Stowage keeps no
 * descriptor cache; every HEAD stats the bytes.
 */
import { describe, expect, it } from "vitest";
import { STORES } from "./gc-fixtures.js";
import { buildImage, http, pushBlob, putManifest, startServer } from "./helpers.js";

describe.each(STORES)("HEAD after garbage collection on $name", ({ create }) => {
	it("is 404 for collected blobs and manifests, and a push brings them back", async () => {
		const store = await create();
		const s = await startServer({ driver: store.driver, deleteEnabled: true });
		try {
			const image = await buildImage(s.url, "app", { layers: ["only layer"] });
			expect((await putManifest(s.url, "app", "v1", image.bytes)).status).toBe(201);
			const layer = image.manifest.layers[0]?.digest as string;
			const head = (path: string) => http(`${s.url}/v2/app/${path}`, { method: "HEAD" });
			expect((await head(`blobs/${layer}`)).status).toBe(200);

			expect(
				(await http(`${s.url}/v2/app/manifests/${image.digest}`, { method: "DELETE" })).status,
			).toBe(202);
			await new Promise((r) => setTimeout(r, 5));
			const result = await s.registry.garbageCollect({ gracePeriod: 0 });
			expect(result.blobsDeleted).toBe(3);

			expect((await head(`blobs/${layer}`)).status).toBe(404);
			expect((await http(`${s.url}/v2/app/blobs/${layer}`)).status).toBe(404);
			expect((await head(`manifests/${image.digest}`)).status).toBe(404);
			// A mount from the repository is refused (a session instead), so the client uploads.
			const mount = await http(`${s.url}/v2/other/blobs/uploads/?mount=${layer}&from=app`, {
				method: "POST",
			});
			expect(mount.status).toBe(202);

			await pushBlob(s.url, "app", "only layer");
			expect((await head(`blobs/${layer}`)).status).toBe(200);
		} finally {
			await s.close();
			await store.dispose();
		}
	});
});
