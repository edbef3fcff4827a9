// Manifest PUT by tag, then GET by tag, by concurrent clients: every manifest is new (its
// annotation differs), each tag is read back right after it is written.
import { smallBlob } from "../data.mjs";
import { getManifest, MANIFEST_TYPE, pushMonolithic, putManifest } from "../http.mjs";

const REPO = "bench/manifests";

export const manifests = {
	id: "manifests",
	title: "manifest PUT + GET by tag, 16 clients",
	unit: "req/s",
	better: "higher",
	async setup(reg) {
		// The blobs every manifest references must exist in the repository.
		const config = smallBlob("manifest-config", 512);
		const layer = smallBlob("manifest-layer", 4096);
		await pushMonolithic(reg.pool, REPO, config);
		await pushMonolithic(reg.pool, REPO, layer);
		reg.manifestRefs = { config, layer };
	},
	prepare(round, cfg) {
		return { round, count: cfg.manifests };
	},
	async run(reg, { round, count }, cfg) {
		const { config, layer } = reg.manifestRefs;
		const bodies = Array.from({ length: count }, (_, i) =>
			Buffer.from(
				JSON.stringify({
					schemaVersion: 2,
					mediaType: MANIFEST_TYPE,
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
					annotations: { "org.opencontainers.image.ref.name": `r${round}-${i}` },
				}),
			),
		);
		let next = 0;
		const worker = async () => {
			while (next < count) {
				const i = next++;
				const tag = `r${round}-${i}`;
				await putManifest(reg.manyPool, REPO, tag, bodies[i]);
				const back = await getManifest(reg.manyPool, REPO, tag);
				if (back.length !== bodies[i].length) throw new Error(`manifest ${tag} came back changed`);
			}
		};
		const t = performance.now();
		await Promise.all(Array.from({ length: cfg.clients }, worker));
		const ms = performance.now() - t;
		return { value: (2 * count) / (ms / 1000), ms };
	},
};
