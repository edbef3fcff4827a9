// The 1 GiB pushes: each round makes one new blob per workload and pushes the same bytes to both
// registries; the blob's data file is removed again after the round (outside the timing) so the
// disk and the page cache do not fill up over the run.
import { MiB, makeBlob } from "../data.mjs";
import { pushChunked, pushMonolithic, pushSinglePost, pushStreamed } from "../http.mjs";

const mibps = (bytes, ms) => bytes / MiB / (ms / 1000);

function pushWorkload(id, title, push) {
	return {
		id,
		title,
		unit: "MiB/s",
		better: "higher",
		prepare(round, cfg) {
			const blob = makeBlob(`${id}-${round}`, cfg.blobSize);
			void blob.digest; // hashed here, not on the clock
			return { blob };
		},
		async run(reg, state, cfg) {
			const t = performance.now();
			const extra = await push(reg, state.blob, cfg);
			if (extra === null) return null;
			const ms = performance.now() - t;
			return { value: mibps(state.blob.size, ms), ms, ...extra };
		},
		cleanup: (reg, state) => reg.dropBlob(state.blob.digest),
	};
}

export const monolithic = pushWorkload(
	"push-monolithic",
	"monolithic push (POST + PUT ?digest= with the body)",
	async (reg, blob) => {
		await pushMonolithic(reg.pool, "bench/monolithic", blob);
		return {};
	},
);

export const singlePost = pushWorkload(
	"push-single-post",
	"single-request push (POST ?digest= with the body)",
	async (reg, blob) => {
		// Distribution 2.8 answers POST ?digest= with a session (202) and ignores the body.
		if (!reg.singlePost) return null;
		await pushSinglePost(reg.pool, "bench/single", blob);
		return {};
	},
);

const chunkedPush = pushWorkload(
	"push-chunked",
	"chunked push (64 PATCHes with Content-Range, then PUT)",
	async (reg, blob, cfg) => ({
		commitMs: await pushChunked(reg.pool, "bench/chunked", blob, cfg.chunks),
	}),
);

export const chunked = {
	...chunkedPush,
	// Then the final PUT of a 1 MiB upload, off the clock: commit latency should not grow with size.
	async run(reg, state, cfg) {
		const result = await chunkedPush.run(reg, state, cfg);
		state.small ??= makeBlob(`${state.blob.label}-1MiB`, MiB);
		result.commit1MiBMs = await pushChunked(reg.pool, "bench/chunked", state.small, 1);
		return result;
	},
	cleanup(reg, state) {
		reg.dropBlob(state.blob.digest);
		reg.dropBlob(state.small.digest);
	},
};

export const streamed = {
	...pushWorkload(
		"push-streamed",
		"streamed push (one PATCH, Transfer-Encoding: chunked)",
		async (reg, blob) => {
			await pushStreamed(reg.pool, "bench/streamed", blob);
			return {};
		},
	),
	// The GET workload that follows reads this blob back, then drops it.
	cleanup: undefined,
};
