// Many small blobs pushed by concurrent clients (POST, then PUT ?digest= with the 4 KiB body):
// what a registry spends per blob apart from moving bytes.
import { smallBlob } from "../data.mjs";
import { pushMonolithic } from "../http.mjs";

export const smallBlobs = {
	id: "small-blobs",
	title: "4 KiB blobs pushed by 16 clients",
	unit: "blobs/s",
	better: "higher",
	prepare(round, cfg) {
		return {
			blobs: Array.from({ length: cfg.smallBlobs }, (_, i) =>
				smallBlob(`small-${round}-${i}`, cfg.smallBlobSize),
			),
		};
	},
	async run(reg, { blobs }, cfg) {
		let next = 0;
		const worker = async () => {
			while (next < blobs.length) {
				const blob = blobs[next++];
				await pushMonolithic(reg.manyPool, "bench/small", blob);
			}
		};
		const t = performance.now();
		await Promise.all(Array.from({ length: cfg.clients }, worker));
		const ms = performance.now() - t;
		return { value: blobs.length / (ms / 1000), ms };
	},
};
