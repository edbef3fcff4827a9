/**
 * "Install only the driver you need": `pnpm deploy` produces a self-contained folder of the
 * server. With the dependencies the server declares it holds the filesystem and memory drivers
 * and no cloud SDK; it starts, takes a push, and names the package a cloud driver would need.
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage, http, putManifest } from "./helpers.js";
import { inCI } from "./support/ci.js";

const run = promisify(execFile);
const WORKSPACE = resolve(import.meta.dirname, "../../..");
const hasPnpm = spawnSync("pnpm", ["--version"]).status === 0;
if (!hasPnpm && !inCI) console.warn("\n*** deploy test SKIPPED: pnpm is not on PATH ***\n");

async function freePort(): Promise<number> {
	return new Promise((done) => {
		const s = createServer().listen(0, "127.0.0.1", () => {
			const port = (s.address() as { port: number }).port;
			s.close(() => done(port));
		});
	});
}

describe.skipIf(!hasPnpm && !inCI)("a deployable folder with the filesystem driver only", () => {
	let dir: string;
	let out: string;

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "stowage-deploy-"));
		out = join(dir, "app");
		// --legacy: copy workspace packages as they are, without injected-workspace settings.
		await run("pnpm", ["--filter", "@stowage/registry", "deploy", "--prod", "--legacy", out], {
			cwd: WORKSPACE,
			timeout: 120_000,
		});
	}, 180_000);
	afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

	it("contains the server and its drivers, and no cloud SDK", () => {
		expect(existsSync(join(out, "dist", "cli.js"))).toBe(true);
		const stowage = readdirSync(join(out, "node_modules", "@stowage"));
		expect(stowage).toEqual(expect.arrayContaining(["core", "driver-fs"]));
		for (const cloud of ["driver-s3", "driver-azure", "driver-gcs"])
			expect(stowage).not.toContain(cloud);
		const store = readdirSync(join(out, "node_modules", ".pnpm"));
		const sdks = store.filter((p) =>
			/^(@aws-sdk|@smithy|@azure|@google-cloud|google-auth)/.test(p),
		);
		expect(sdks).toEqual([]);
	});

	it("starts, takes a push and serves it back", async () => {
		const port = await freePort();
		const child = spawn(
			process.execPath,
			[
				join(out, "dist", "cli.js"),
				"serve",
				"--addr",
				`127.0.0.1:${port}`,
				"--root",
				join(dir, "data"),
			],
			{ cwd: dir, env: { PATH: process.env.PATH ?? "" } },
		);
		const exited = new Promise((r) => child.on("exit", r));
		try {
			const url = `http://127.0.0.1:${port}`;
			let up = false;
			for (let i = 0; i < 100 && !up; i++) {
				await new Promise((r) => setTimeout(r, 50));
				up = (await fetch(`${url}/v2/`).catch(() => undefined))?.status === 200;
			}
			expect(up).toBe(true);
			const img = await buildImage(url, "deployed/app");
			expect((await putManifest(url, "deployed/app", "v1", img.bytes)).status).toBe(201);
			const got = await http(`${url}/v2/deployed/app/manifests/v1`);
			expect(got.headers["docker-content-digest"]).toBe(img.digest);
		} finally {
			child.kill("SIGTERM");
			await exited;
		}
	});

	it("asks for the package of a driver it does not have", () => {
		const r = spawnSync(process.execPath, [join(out, "dist", "cli.js"), "serve"], {
			cwd: dir,
			env: {
				PATH: process.env.PATH ?? "",
				REGISTRY_STORAGE: "s3",
				REGISTRY_STORAGE_S3_BUCKET: "b",
			},
			encoding: "utf8",
		});
		expect(r.status).toBe(1);
		expect(r.stderr).toMatch(/needs the package @stowage\/driver-s3/);
	});
});
