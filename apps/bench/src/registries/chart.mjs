// The ratios as a bar chart, written as SVG by hand (no plotting dependency): one bar per
// workload, a line at 1× (parity), a tick at each target.
const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function chart(summary) {
	const rows = summary.workloads.filter((r) => r.ratio !== null);
	const labelW = 170;
	const barW = 460;
	const rowH = 26;
	const top = 46;
	const width = labelW + barW + 70;
	const height = top + rows.length * rowH + 34;
	const max = Math.max(
		3,
		...rows.map((r) => Math.ceil(r.ratio)),
		...rows.map((r) => r.target ?? 0),
	);
	const x = (v) => labelW + (Math.min(v, max) / max) * barW;
	const out = [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
		`<rect width="100%" height="100%" fill="#fff"/>`,
		`<text x="10" y="18" font-size="14" font-weight="bold">Stowage / ${esc(summary.distributionVersion)}: speed ratio (above 1× Stowage is faster)</text>`,
		`<text x="10" y="34" fill="#555">${esc(`${summary.date.slice(0, 10)}, median of ${summary.rounds}, ${summary.mode}; red ticks: targets (green met, orange missed)`)}</text>`,
	];
	for (let v = 0; v <= max; v += max > 6 ? 2 : 1) {
		out.push(
			`<line x1="${x(v)}" y1="${top - 4}" x2="${x(v)}" y2="${top + rows.length * rowH}" stroke="${v === 1 ? "#333" : "#ddd"}" stroke-width="${v === 1 ? 1.5 : 1}"/>`,
			`<text x="${x(v)}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#555">${v}×</text>`,
		);
	}
	rows.forEach((r, i) => {
		const y = top + i * rowH;
		const color = r.met === undefined ? "#7a8ca3" : r.met ? "#3a9a5b" : "#d9822b";
		out.push(
			`<text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(r.id)}</text>`,
			`<rect x="${labelW}" y="${y + 5}" width="${Math.max(1, x(r.ratio) - labelW)}" height="${rowH - 10}" fill="${color}"/>`,
			`<text x="${x(r.ratio) + 4}" y="${y + 17}">${r.ratio.toFixed(2)}×</text>`,
		);
		if (r.target !== undefined) {
			out.push(
				`<line x1="${x(r.target)}" y1="${y + 2}" x2="${x(r.target)}" y2="${y + rowH - 2}" stroke="#b00" stroke-width="2"/>`,
			);
		}
	});
	out.push("</svg>");
	return `${out.join("\n")}\n`;
}
