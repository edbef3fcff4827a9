// Medians and ranges per workload and registry, the ratios, the targets of issue 4, and the
// Markdown table.

export const TARGETS = {
	"push-monolithic": 2.0,
	"push-streamed": 2.0,
	"push-chunked": 2.0,
	get: 1.0,
	head: 2.0,
	"small-blobs": 1.5,
	manifests: 1.5,
};
export const RSS_LIMIT_MB = 150;

export function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	if (s.length === 0) return undefined;
	const mid = Math.floor(s.length / 2);
	return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function stats(xs) {
	const v = xs.filter((x) => typeof x === "number" && Number.isFinite(x));
	if (v.length === 0) return null;
	return { median: median(v), min: Math.min(...v), max: Math.max(...v), runs: v };
}

/** Summary of one registry's runs of one workload (null when it does not support it). */
function side(runs) {
	const done = runs.filter((r) => r !== null);
	if (done.length === 0) return null;
	const out = {
		...stats(done.map((r) => r.value)),
		peakRssMiB: Math.max(...done.map((r) => r.rssMiB)),
	};
	for (const key of ["p50", "p99", "commitMs", "commit1MiBMs", "cpuSeconds"]) {
		const s = stats(done.map((r) => r[key]));
		if (s) out[key] = s.median;
	}
	if (done[0].client) out.client = done[0].client;
	return out;
}

/** > 1 means Stowage is faster, whichever way the unit runs. */
function ratio(w, s, d) {
	if (!s || !d) return null;
	return w.better === "lower" ? d.median / s.median : s.median / d.median;
}

export function summarize({ workloads, results, limits, meta }) {
	const rows = workloads.map((w) => {
		const s = side(results[w.id].stowage);
		const d = side(results[w.id].distribution);
		const r = ratio(w, s, d);
		const target = TARGETS[w.id];
		let met;
		if (target !== undefined && r !== null) {
			met = r >= target;
			if (w.id === "head") met = met && s.p99 <= d.p99;
		}
		return {
			id: w.id,
			title: w.title,
			unit: w.unit,
			better: w.better,
			stowage: s,
			distribution: d,
			ratio: r,
			target,
			met,
		};
	});
	const stowagePeak = Math.max(...rows.map((r) => r.stowage?.peakRssMiB ?? 0));
	return {
		...meta,
		machine: {
			diskWriteMiBps: stats(limits.disk),
			sha256MiBps: stats(limits.sha256),
			loadAverage: stats(limits.load),
		},
		workloads: rows,
		rss: {
			stowagePeakMiB: stowagePeak,
			limitMB: RSS_LIMIT_MB,
			met: stowagePeak * 1.048576 < RSS_LIMIT_MB,
		},
	};
}

const fmt = (x) => {
	if (x === undefined || x === null) return "";
	if (x >= 100) return x.toFixed(0);
	if (x >= 10) return x.toFixed(1);
	return x.toFixed(2);
};
const range = (s) => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : "n/a");

function notes(row, blobSize) {
	const { stowage: s, distribution: d } = row;
	if (row.id === "head" && s && d) {
		return `p50 ${fmt(s.p50)} / ${fmt(d.p50)} ms, p99 ${fmt(s.p99)} / ${fmt(d.p99)} ms (${s.client})`;
	}
	if (row.id === "push-chunked" && s && d) {
		return `final PUT of ${blobSize / 1048576} MiB: ${fmt(s.commitMs)} / ${fmt(d.commitMs)} ms; of 1 MiB: ${fmt(s.commit1MiBMs)} / ${fmt(d.commit1MiBMs)} ms`;
	}
	if (row.id === "push-single-post" && !d) return "Distribution 2.8 opens a session instead (202)";
	return "";
}

export function markdown(summary) {
	const m = summary.machine;
	const lines = [
		`Stowage vs ${summary.distributionVersion}, fs storage, loopback, ${summary.mode === "smoke" ? "SMOKE (tiny sizes) " : ""}` +
			`median of ${summary.rounds} round${summary.rounds > 1 ? "s" : ""} (min–max), ${summary.date.slice(0, 10)}, node ${summary.node}, ${summary.cpus} CPUs`,
		"",
		`Blob ${summary.config.blobSize / 1048576} MiB; chunked: ${summary.config.chunks} PATCHes; HEAD: c=${summary.config.headConcurrency} for ${summary.config.headSeconds} s; ` +
			`${summary.config.smallBlobs} × ${summary.config.smallBlobSize / 1024} KiB blobs and ${summary.config.manifests} manifests by ${summary.config.clients} clients; image layer ${(summary.config.imageLayerSize / 1e6).toFixed(0)} MB.`,
		`Machine limits in this run: disk write + fdatasync ${range(m.diskWriteMiBps)} MiB/s, node:crypto SHA-256 ${range(m.sha256MiBps)} MiB/s; ` +
			`1-minute load average at the round boundaries ${m.loadAverage ? `${fmt(m.loadAverage.min)}–${fmt(m.loadAverage.max)}` : "n/a"} (${summary.cpus} CPUs: above ${summary.cpus} other work was competing).`,
		"Ratio: Stowage/Distribution as speed (for seconds, Distribution's time over Stowage's): above 1 Stowage is faster.",
		"Server CPU: user + system seconds of the server process (all threads) per run of the workload, median.",
		"",
		"| workload | unit | Stowage | Distribution | ratio | target | peak RSS MiB (S / D) | server CPU s (S / D) | notes |",
		"| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
	];
	for (const row of summary.workloads) {
		const target =
			row.target === undefined
				? ""
				: `≥ ${row.target.toFixed(1)}× ${row.met === undefined ? "" : row.met ? "met" : "**missed**"}`;
		const rss = `${fmt(row.stowage?.peakRssMiB)} / ${fmt(row.distribution?.peakRssMiB)}`;
		const cpu = `${fmt(row.stowage?.cpuSeconds)} / ${fmt(row.distribution?.cpuSeconds)}`;
		lines.push(
			`| ${row.id} | ${row.unit} | ${range(row.stowage)} | ${range(row.distribution)} | ${row.ratio === null ? "" : `${row.ratio.toFixed(2)}×`} | ${target} | ${rss} | ${cpu} | ${notes(row, summary.config.blobSize)} |`,
		);
	}
	lines.push(
		"",
		`Stowage peak RSS over all workloads: ${fmt(summary.rss.stowagePeakMiB)} MiB (target < ${summary.rss.limitMB} MB: ${summary.rss.met ? "met" : "**missed**"}).`,
	);
	if (summary.note) lines.push("", summary.note);
	return `${lines.join("\n")}\n`;
}
