// Builds the N-API addon (native/) into build/sha_state.node.
//
// A failed native build must not fail the package build: the runtime falls back to hash-wasm
// (about 5x slower). So failures print a loud warning and exit 0 — unless
// STOWAGE_REQUIRE_NATIVE_HASH=1 (CI), where a silently slow fallback is not acceptable.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const nativeDir = join(pkgDir, "native");
const outFile = join(pkgDir, "build", "sha_state.node");
const required = process.env.STOWAGE_REQUIRE_NATIVE_HASH === "1";

function fail(reason, details = "") {
	const bar = "!".repeat(78);
	console.error(
		[
			"",
			bar,
			"!! @stowage/sha-state: NATIVE ADDON NOT BUILT",
			`!! ${reason}`,
			"!! Hashing will fall back to hash-wasm (WebAssembly), roughly 5x slower.",
			"!! Set STOWAGE_REQUIRE_NATIVE_HASH=1 to make this an error.",
			bar,
			details.trim(),
			"",
		].join("\n"),
	);
	process.exit(required ? 1 : 0);
}

// node-gyp downloads headers unless told where they are, and there is no network here.
// A Node install keeps them in <prefix>/include/node (e.g. /usr for /usr/bin/node).
function findNodeDir() {
	const candidates = [
		process.env.npm_config_nodedir,
		process.env.NODEDIR,
		resolve(dirname(process.execPath), ".."),
	];
	for (const dir of candidates) {
		if (dir && existsSync(join(dir, "include", "node", "node_api.h"))) return dir;
	}
	const npm = spawnSync("npm", ["config", "get", "nodedir"], { encoding: "utf8", timeout: 30_000 });
	const fromNpm = npm.status === 0 ? npm.stdout.trim() : "";
	if (
		fromNpm &&
		fromNpm !== "undefined" &&
		existsSync(join(fromNpm, "include", "node", "node_api.h"))
	)
		return fromNpm;
	return undefined;
}

// Never leave a stale addon behind: the runtime must reflect this build's outcome.
rmSync(outFile, { force: true });

if (process.env.STOWAGE_SKIP_NATIVE_BUILD === "1") fail("STOWAGE_SKIP_NATIVE_BUILD=1 is set.");

const nodeDir = findNodeDir();
if (!nodeDir) {
	fail(
		`No Node headers (include/node/node_api.h) found next to ${process.execPath}, in $npm_config_nodedir or in 'npm config get nodedir'.`,
	);
}

let nodeGyp;
try {
	nodeGyp = createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js");
} catch (err) {
	fail("node-gyp is not installed.", String(err));
}

const gyp = spawnSync(
	process.execPath,
	[nodeGyp, "rebuild", `--nodedir=${nodeDir}`, "--loglevel=warn"],
	{ cwd: nativeDir, encoding: "utf8", timeout: 300_000 },
);
const log = `${gyp.stdout ?? ""}\n${gyp.stderr ?? ""}`;
if (gyp.error || gyp.status !== 0) {
	fail(`node-gyp rebuild failed (${gyp.error?.message ?? `exit ${gyp.status}`}).`, log);
}

const built = join(nativeDir, "build", "Release", "sha_state.node");
mkdirSync(dirname(outFile), { recursive: true });
copyFileSync(built, outFile);

// Prove the addon loads and hashes correctly in this Node before declaring success: it resolves
// OpenSSL symbols from the running node binary, which a build alone does not exercise.
const check = spawnSync(
	process.execPath,
	[
		"-e",
		`const a = require(${JSON.stringify(outFile)});
const ctx = new Uint8Array(new BigUint64Array(a.sha256CtxSize / 8).buffer);
a.sha256Init(ctx); a.sha256Update(ctx, Buffer.from("abc"));
const out = Buffer.alloc(32); a.sha256Digest(ctx, out);
const want = require("node:crypto").createHash("sha256").update("abc").digest("hex");
if (out.toString("hex") !== want) throw new Error("wrong digest " + out.toString("hex"));`,
	],
	{ encoding: "utf8", timeout: 60_000 },
);
if (check.status !== 0) {
	rmSync(outFile, { force: true });
	fail("The built addon does not load or hashes wrongly.", `${check.stdout}\n${check.stderr}`);
}
console.log(`@stowage/sha-state: native addon built (${outFile}, headers from ${nodeDir})`);
