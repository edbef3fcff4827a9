// GET of the blob the streamed push stored in the same round, with the bytes counted and dropped:
// the registry's read path, not the client's disk.
import { MiB } from "../data.mjs";
import { getBlob } from "../http.mjs";

export const get = {
	id: "get",
	title: "GET of the blob to nowhere",
	unit: "MiB/s",
	better: "higher",
	prepare(_round, _cfg, roundState) {
		const blob = roundState["push-streamed"]?.blob;
		if (!blob) throw new Error("the GET workload reads the blob of push-streamed");
		return { blob };
	},
	async run(reg, { blob }) {
		const t = performance.now();
		await getBlob(reg.pool, "bench/streamed", blob);
		const ms = performance.now() - t;
		return { value: blob.size / MiB / (ms / 1000), ms };
	},
	cleanup: (reg, { blob }) => reg.dropBlob(blob.digest),
};
