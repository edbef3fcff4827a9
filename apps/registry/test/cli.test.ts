/** The `stowage` CLI as users run it: the built dist/cli.js in a child process. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http, sha256 } from "./helpers.js";

const CLI = resolve(import.meta.dirname, "../dist/cli.js");
let dir: string;

beforeAll(async () => {
	if (!existsSync(CLI))
		throw new Error(`${CLI} is missing: build first (pnpm --filter @stowage/registry build)`);
	dir = await mkdtemp(join(tmpdir(), "stowage-cli-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function freePort(): Promise<number> {
	return new Promise((done) => {
		const s = createServer().listen(0, "127.0.0.1", () => {
			const port = (s.address() as { port: number }).port;
			s.close(() => done(port));
		});
	});
}

function cli(args: string[], env: Record<string, string> = {}, cwd = dir) {
	return spawnSync(process.execPath, [CLI, ...args], {
		cwd,
		env: { PATH: process.env.PATH ?? "", ...env },
		encoding: "utf8",
		timeout: 20_000,
	});
}

interface Running {
	child: ChildProcess;
	url: string;
	output: () => string;
	exited: Promise<number | null>;
}

async function start(
	args: string[],
	port: number,
	env: Record<string, string> = {},
): Promise<Running> {
	const child = spawn(process.execPath, [CLI, "serve", ...args], {
		cwd: dir,
		env: { PATH: process.env.PATH ?? "", ...env },
	});
	let out = "";
	child.stdout.on("data", (c) => {
		out += c;
	});
	child.stderr.on("data", (c) => {
		out += c;
	});
	const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
	const url = `http://127.0.0.1:${port}`;
	for (let i = 0; i < 100; i++) {
		if (out.includes("stowage registry listening"))
			return { child, url, output: () => out, exited };
		if (child.exitCode !== null) break;
		await new Promise((r) => setTimeout(r, 50));
	}
	child.kill("SIGKILL");
	throw new Error(`server did not start:\n${out}`);
}

describe("stowage CLI", () => {
	it("--help prints the usage", () => {
		const r = cli(["--help"]);
		expect(r.status).toBe(0);
		expect(r.stdout).toMatch(/usage: stowage <command>/);
	});

	it("an unknown command or flag exits 2 with the usage", () => {
		expect(cli(["frobnicate"]).status).toBe(2);
		const r = cli(["serve", "--nope"]);
		expect(r.status).toBe(2);
		expect(r.stderr).toMatch(/--nope/);
	});

	it("an unknown config key stops start-up with one line naming it", async () => {
		const path = join(dir, "bad.yml");
		await writeFile(path, "storage:\n  delete:\n    enabeld: true\n");
		const r = cli(["serve", path]);
		expect(r.status).toBe(1);
		expect(r.stderr.trim()).toBe("stowage: unknown configuration key storage.delete.enabeld");
	});

	it("a bad value from the environment names the key", () => {
		const r = cli(["serve"], { REGISTRY_HTTP_ADDR: "nowhere" });
		expect(r.status).toBe(1);
		expect(r.stderr).toMatch(/http\.addr: expected host:port, got "nowhere"/);
	});

	it("serves with a config file, logs JSON access lines and stops on SIGTERM", async () => {
		const port = await freePort();
		const path = join(dir, "config.yml");
		await writeFile(
			path,
			`version: 0.1\nlog:\n  level: info\nhttp:\n  addr: 127.0.0.1:${port}\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "store")}\n`,
		);
		const s = await start([path], port);
		const res = await http(`${s.url}/v2/`);
		expect(res.status).toBe(200);
		s.child.kill("SIGTERM");
		expect(await s.exited).toBe(0);
		const lines = s
			.output()
			.split("\n")
			.filter((l) => l.startsWith("{"))
			.map((l) => JSON.parse(l));
		const access = lines.find((l) => l.msg === "request completed");
		expect(access).toMatchObject({ method: "GET", path: "/v2/", status: 200 });
		expect(access.reqId).toBe(res.headers["x-request-id"]);
		expect(typeof access.durationMs).toBe("number");
		expect(typeof access.bytesOut).toBe("number");
		expect(lines.some((l) => l.msg === "stopped")).toBe(true);
		expect(existsSync(join(dir, "store"))).toBe(true);
	});

	it("SIGTERM lets an in-flight upload finish; the store stays resumable", async () => {
		const port = await freePort();
		const root = join(dir, "graceful");
		const s = await start(["--addr", `127.0.0.1:${port}`, "--root", root], port);
		const post = await http(`${s.url}/v2/g/blobs/uploads/`, { method: "POST" });
		const location = post.headers.location as string;
		let release: () => void = () => undefined;
		const gate = new Promise<void>((r) => {
			release = r;
		});
		async function* slow() {
			yield Buffer.from("first ");
			await gate;
			yield Buffer.from("second");
		}
		const patch = http(`${s.url}${location}`, { method: "PATCH", body: slow() });
		await new Promise((r) => setTimeout(r, 200));
		s.child.kill("SIGTERM");
		await new Promise((r) => setTimeout(r, 200));
		release();
		expect((await patch).status).toBe(202);
		expect(await s.exited).toBe(0);

		// Another process on the same store continues the upload.
		const again = await start(["--addr", `127.0.0.1:${port}`, "--root", root], port);
		try {
			const status = await http(`${again.url}${location}`);
			expect(status.headers.range).toBe("0-11");
			const put = await http(`${again.url}${location}?digest=${sha256("first second")}`, {
				method: "PUT",
			});
			expect(put.status).toBe(201);
		} finally {
			again.child.kill("SIGTERM");
			await again.exited;
		}
	});

	it("with no config at all: filesystem under ./data on 127.0.0.1:5000", async () => {
		const cwd = await mkdtemp(join(tmpdir(), "stowage-default-"));
		const probe = await fetch("http://127.0.0.1:5000/v2/").catch(() => undefined);
		if (probe) {
			console.warn("port 5000 is in use here: the default-address check is skipped");
			return;
		}
		const child = spawn(process.execPath, [CLI, "serve"], {
			cwd,
			env: { PATH: process.env.PATH ?? "" },
		});
		try {
			let ok = false;
			for (let i = 0; i < 100 && !ok; i++) {
				await new Promise((r) => setTimeout(r, 50));
				ok = (await fetch("http://127.0.0.1:5000/v2/").catch(() => undefined))?.status === 200;
			}
			expect(ok).toBe(true);
			expect(existsSync(join(cwd, "data"))).toBe(true);
		} finally {
			child.kill("SIGTERM");
			await new Promise((r) => child.on("exit", r));
			await rm(cwd, { recursive: true, force: true });
		}
	});

	it("purge-uploads removes abandoned uploads (and only reports them with --dry-run)", async () => {
		const port = await freePort();
		const root = join(dir, "purge");
		const s = await start(["--addr", `127.0.0.1:${port}`, "--root", root], port);
		await http(`${s.url}/v2/p/blobs/uploads/`, { method: "POST" });
		s.child.kill("SIGTERM");
		await s.exited;
		const dry = cli(["purge-uploads", "--root", root, "--older-than", "0s", "--dry-run"]);
		expect(dry.status).toBe(0);
		expect(dry.stdout).toMatch(/"removed":1/);
		const real = cli(["purge-uploads", "--root", root, "--older-than", "0s"]);
		expect(real.stdout).toMatch(/"removed":1/);
		const after = cli(["purge-uploads", "--root", root, "--older-than", "0s"]);
		expect(after.stdout).toMatch(/"removed":0/);
	});
});
