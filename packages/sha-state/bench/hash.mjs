// Throughput of node:crypto, the native addon and hash-wasm on 1 GiB in 1 MiB updates, plus the
// cost of save() and of resuming from a saved state. Needs the package built (dist/, build/).
// Usage: pnpm --filter @stowage/sha-state bench   (BENCH_MIB=256 for a shorter run)
import { createHash as nodeCreateHash, randomBytes } from "node:crypto";
import { loadAddon, nativeFactory } from "../dist/native.js";
import { loadWasm } from "../dist/wasm.js";

const totalMiB = Number(process.env.BENCH_MIB ?? 1024);
const chunk = randomBytes(1024 * 1024);

const addon = loadAddon();
const backends = { "node:crypto": undefined };
if ("ops" in addon) backends.native = nativeFactory(addon.ops);
else console.warn(`native addon unavailable (${addon.error.message}); skipping it`);
backends.wasm = await loadWasm();

function throughput(make) {
	const h = make();
	const start = process.hrtime.bigint();
	for (let i = 0; i < totalMiB; i++) h.update(chunk);
	const digest = h.digest();
	const seconds = Number(process.hrtime.bigint() - start) / 1e9;
	return { mibs: totalMiB / seconds, digest };
}

function perCall(iterations, fn) {
	fn(); // warm up
	const start = process.hrtime.bigint();
	for (let i = 0; i < iterations; i++) fn();
	return Number(process.hrtime.bigint() - start) / iterations / 1000; // µs
}

const rows = [];
for (const alg of ["sha256", "sha512"]) {
	let expected;
	for (const [name, factory] of Object.entries(backends)) {
		const make = factory
			? () => factory(alg)
			: () => {
					const h = nodeCreateHash(alg);
					return { update: (d) => h.update(d), digest: () => h.digest("hex") };
				};
		const { mibs, digest } = throughput(make);
		expected ??= digest;
		if (digest !== expected) throw new Error(`${name} ${alg} digest mismatch`);
		const row = { alg, backend: name, "MiB/s": Math.round(mibs) };
		if (factory) {
			const h = factory(alg);
			h.update(chunk.subarray(0, 1000));
			const state = h.save();
			row["save() µs"] = perCall(100_000, () => h.save()).toFixed(2);
			row["resume µs"] = perCall(100_000, () => factory(alg, state)).toFixed(2);
			// The upload pattern: resume, one 1 MiB chunk, save.
			row["resume+1MiB+save ms"] = (
				perCall(50, () => {
					const r = factory(alg, state);
					r.update(chunk);
					r.save();
				}) / 1000
			).toFixed(3);
		}
		rows.push(row);
	}
}
console.log(
	`${totalMiB} MiB in 1 MiB updates, Node ${process.version}, OpenSSL ${process.versions.openssl}`,
);
console.table(rows);
