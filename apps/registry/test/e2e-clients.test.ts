/**
 * End-to-end: real container clients from Debian (skopeo, podman, umoci) against a running
 * Stowage on the filesystem driver. Run alone with `pnpm --filter @stowage/registry test:e2e`.
 * Under CI a missing client fails the suite; elsewhere the suite is skipped with a message.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { type RunningServer, serve } from "../src/serve.js";
import { inCI } from "./support/ci.js";
import { buildLayoutImage } from "./support/images.js";

const run = promisify(execFile);
const CLIENTS = ["skopeo", "podman", "umoci"] as const;
const missing = CLIENTS.filter((c) => spawnSync(c, ["--version"]).status !== 0);

if (missing.length > 0 && !inCI) {
	console.warn(
		`\n*** e2e client tests SKIPPED: ${missing.join(", ")} not installed ` +
			"(apt-get install -y skopeo podman umoci) ***\n",
	);
}

describe("container clients are installed", () => {
	it.runIf(inCI)("skopeo, podman and umoci are on PATH (required under CI)", () => {
		expect(missing, `missing clients: ${missing.join(", ")}`).toEqual([]);
	});
});

interface Index {
	manifests: { digest: string; mediaType: string; annotations?: Record<string, string> }[];
}

describe.skipIf(missing.length > 0)("real clients against Stowage", () => {
	let dir: string;
	let server: RunningServer;
	let host: string;
	let imageDigest: string;

	async function sh(cmd: string, args: string[], cwd = dir): Promise<string> {
		try {
			const { stdout } = await run(cmd, args, { cwd, timeout: 120_000, maxBuffer: 16 << 20 });
			return stdout;
		} catch (err) {
			const e = err as { stderr?: string; message: string };
			throw new Error(`${cmd} ${args.join(" ")} failed: ${e.stderr || e.message}`);
		}
	}
	const skopeo = (...args: string[]) => sh("skopeo", args);
	const podmanBase = (root: string) => [
		"--storage-driver",
		"vfs",
		"--root",
		join(dir, root, "root"),
		"--runroot",
		join(dir, root, "run"),
		"--cgroup-manager",
		"cgroupfs",
		"--events-backend",
		"none",
	];
	const podman = (root: string, ...args: string[]) => sh("podman", [...podmanBase(root), ...args]);
	const readIndex = async (layout: string): Promise<Index> =>
		JSON.parse(await readFile(join(dir, layout, "index.json"), "utf8"));
	const refDigest = async (layout: string, ref: string) =>
		(await readIndex(layout)).manifests.find(
			(m) => m.annotations?.["org.opencontainers.image.ref.name"] === ref,
		)?.digest;

	/** A two-layer image for one architecture, built offline with umoci. */
	const buildImage = (tag: string, arch: string) =>
		buildLayoutImage(dir, join(dir, "L"), tag, arch);

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "stowage-e2e-"));
		const config = loadConfig(
			undefined,
			{},
			{
				addr: "127.0.0.1:0",
				root: join(dir, "registry"),
				deleteEnabled: true,
				logLevel: "warn",
			},
		);
		server = await serve(config);
		host = server.address;
		await sh("umoci", ["init", "--layout", "L"]);
		await buildImage("latest", "amd64");
		imageDigest = (await refDigest("L", "latest")) as string;
		expect(imageDigest).toMatch(/^sha256:/);
	}, 120_000);

	afterAll(async () => {
		await server?.close();
		if (dir) await rm(dir, { recursive: true, force: true });
	});

	it("skopeo copies an OCI layout in, inspects it and copies it back out unchanged", async () => {
		await skopeo("copy", "--dest-tls-verify=false", "oci:L:latest", `docker://${host}/e2e/img:v1`);
		const inspect = JSON.parse(
			await skopeo("inspect", "--tls-verify=false", `docker://${host}/e2e/img:v1`),
		);
		expect(inspect.Digest).toBe(imageDigest);
		expect(inspect.Architecture).toBe("amd64");
		expect(inspect.Layers).toHaveLength(2);
		const raw = await skopeo(
			"inspect",
			"--raw",
			"--tls-verify=false",
			`docker://${host}/e2e/img:v1`,
		);
		expect(`sha256:${createHash("sha256").update(raw).digest("hex")}`).toBe(imageDigest);

		await skopeo("copy", "--src-tls-verify=false", `docker://${host}/e2e/img:v1`, "oci:L2:v1");
		expect(await refDigest("L2", "v1")).toBe(imageDigest);

		const tags = JSON.parse(
			await skopeo("list-tags", "--tls-verify=false", `docker://${host}/e2e/img`),
		);
		expect(tags.Tags).toEqual(["v1"]);
	}, 120_000);

	it("skopeo copies between repositories (cross-repository mount) and deletes", async () => {
		await skopeo(
			"copy",
			"--src-tls-verify=false",
			"--dest-tls-verify=false",
			`docker://${host}/e2e/img:v1`,
			`docker://${host}/e2e/copy:v1`,
		);
		const inspect = JSON.parse(
			await skopeo("inspect", "--tls-verify=false", `docker://${host}/e2e/copy:v1`),
		);
		expect(inspect.Digest).toBe(imageDigest);
		await skopeo("delete", "--tls-verify=false", `docker://${host}/e2e/copy@${imageDigest}`);
		await expect(
			skopeo("inspect", "--tls-verify=false", `docker://${host}/e2e/copy:v1`),
		).rejects.toThrow();
	}, 120_000);

	it("podman pulls, pushes (chunked uploads) and pulls back with vfs storage", async () => {
		await skopeo("copy", "--dest-tls-verify=false", "oci:L:latest", `docker://${host}/e2e/img:v1`);
		await podman("a", "pull", "--tls-verify=false", `${host}/e2e/img:v1`);
		const id = (
			await podman("a", "image", "inspect", "--format", "{{.Id}}", `${host}/e2e/img:v1`)
		).trim();
		const digestFile = join(dir, "pushed.digest");
		await podman(
			"a",
			"push",
			"--tls-verify=false",
			"--digestfile",
			digestFile,
			`${host}/e2e/img:v1`,
			`docker://${host}/e2e/podman:v1`,
		);
		const pushed = (await readFile(digestFile, "utf8")).trim();
		const inspect = JSON.parse(
			await skopeo("inspect", "--tls-verify=false", `docker://${host}/e2e/podman:v1`),
		);
		expect(inspect.Digest).toBe(pushed);

		await podman("b", "pull", "--tls-verify=false", `${host}/e2e/podman:v1`);
		const pulled = (
			await podman("b", "image", "inspect", "--format", "{{.Id}}", `${host}/e2e/podman:v1`)
		).trim();
		expect(pulled).toBe(id);
	}, 180_000);

	it("skopeo copy --all pushes and pulls a multi-architecture index", async () => {
		await buildImage("arm64", "arm64");
		const amd = (await readIndex("L")).manifests.find((m) => m.digest === imageDigest);
		const armDigest = (await refDigest("L", "arm64")) as string;
		const blobSize = async (d: string) =>
			(await readFile(join(dir, "L", "blobs", "sha256", d.slice(7)))).length;
		const index = Buffer.from(
			JSON.stringify({
				schemaVersion: 2,
				mediaType: "application/vnd.oci.image.index.v1+json",
				manifests: [
					{
						mediaType: amd?.mediaType,
						digest: imageDigest,
						size: await blobSize(imageDigest),
						platform: { architecture: "amd64", os: "linux" },
					},
					{
						mediaType: amd?.mediaType,
						digest: armDigest,
						size: await blobSize(armDigest),
						platform: { architecture: "arm64", os: "linux" },
					},
				],
			}),
		);
		const indexDigest = `sha256:${createHash("sha256").update(index).digest("hex")}`;
		await writeFile(join(dir, "L", "blobs", "sha256", indexDigest.slice(7)), index);
		const layout = await readIndex("L");
		layout.manifests.push({
			mediaType: "application/vnd.oci.image.index.v1+json",
			digest: indexDigest,
			size: index.length,
			annotations: { "org.opencontainers.image.ref.name": "multi" },
		} as Index["manifests"][number]);
		await writeFile(join(dir, "L", "index.json"), JSON.stringify(layout));

		await skopeo(
			"copy",
			"--all",
			"--dest-tls-verify=false",
			"oci:L:multi",
			`docker://${host}/e2e/multi:latest`,
		);
		const raw = JSON.parse(
			await skopeo("inspect", "--raw", "--tls-verify=false", `docker://${host}/e2e/multi:latest`),
		);
		expect(raw.manifests.map((m: { digest: string }) => m.digest)).toEqual([
			imageDigest,
			armDigest,
		]);
		const arm = JSON.parse(
			await skopeo(
				"inspect",
				"--override-arch",
				"arm64",
				"--tls-verify=false",
				`docker://${host}/e2e/multi:latest`,
			),
		);
		// skopeo reports the index's digest and the chosen instance's configuration.
		expect(arm.Digest).toBe(indexDigest);
		expect(arm.Architecture).toBe("arm64");
		const armManifest = JSON.parse(
			await skopeo(
				"inspect",
				"--raw",
				"--tls-verify=false",
				`docker://${host}/e2e/multi@${armDigest}`,
			),
		);
		expect(arm.Layers).toEqual(armManifest.layers.map((l: { digest: string }) => l.digest));

		await skopeo(
			"copy",
			"--all",
			"--src-tls-verify=false",
			`docker://${host}/e2e/multi:latest`,
			"oci:L3:multi",
		);
		expect(await refDigest("L3", "multi")).toBe(indexDigest);
	}, 180_000);
});
