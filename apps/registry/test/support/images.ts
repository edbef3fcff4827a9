export { inCI } from "./ci.js";

/**
 * Images for the client tests, built offline with umoci in an OCI layout, and the container tools
 * run as child processes with their stderr in the error when they fail.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The tools of `names` that do not answer `--version`. */
export function missingTools(names: readonly string[]): string[] {
	return names.filter((c) => spawnSync(c, ["--version"]).status !== 0);
}

export async function tool(cmd: string, args: string[], cwd: string): Promise<string> {
	try {
		const { stdout } = await run(cmd, args, { cwd, timeout: 120_000, maxBuffer: 16 << 20 });
		return stdout;
	} catch (err) {
		const e = err as { stderr?: string; message: string };
		throw new Error(`${cmd} ${args.join(" ")} failed: ${e.stderr || e.message}`);
	}
}

export interface LayoutIndex {
	manifests: { digest: string; mediaType: string; annotations?: Record<string, string> }[];
}

export async function readLayoutIndex(layout: string): Promise<LayoutIndex> {
	return JSON.parse(await readFile(join(layout, "index.json"), "utf8"));
}

/** The manifest digest tagged `ref` in an OCI layout. */
export async function layoutRefDigest(layout: string, ref: string): Promise<string | undefined> {
	return (await readLayoutIndex(layout)).manifests.find(
		(m) => m.annotations?.["org.opencontainers.image.ref.name"] === ref,
	)?.digest;
}

/** A blob of an OCI layout, by digest. */
export function layoutBlob(layout: string, digest: string): Promise<Buffer> {
	return readFile(join(layout, "blobs", "sha256", digest.replace(/^sha256:/, "")));
}

/** Add one layer holding `files` (paths relative to the root) to the image `<layout>:<tag>`. */
export async function addLayer(
	work: string,
	image: string,
	files: Record<string, string | Uint8Array>,
): Promise<void> {
	const bundle = join(
		work,
		`bundle-${createHash("sha256").update(image).digest("hex").slice(0, 8)}`,
	);
	await tool("umoci", ["unpack", "--rootless", "--image", image, bundle], work);
	for (const [path, content] of Object.entries(files)) {
		await mkdir(dirname(join(bundle, "rootfs", path)), { recursive: true });
		await writeFile(join(bundle, "rootfs", path), content);
	}
	await tool("umoci", ["repack", "--image", image, bundle], work);
	await rm(bundle, { recursive: true, force: true });
}

/**
 * A two-layer image for one architecture as `<layout>:<tag>` (the layout is created when
 * missing); `work` holds the unpacked bundles meanwhile. Both layers' content depends on the
 * architecture, so images of different architectures share no layer.
 */
export async function buildLayoutImage(
	work: string,
	layout: string,
	tag: string,
	arch: string,
): Promise<void> {
	const umoci = (...args: string[]) => tool("umoci", args, work);
	try {
		await readLayoutIndex(layout);
	} catch {
		await umoci("init", "--layout", layout);
	}
	const image = `${layout}:${tag}`;
	await umoci("new", "--image", image);
	await addLayer(work, image, { "hello.txt": `hello from ${arch}\n` });
	await addLayer(work, image, {
		"data/random.bin": createHash("sha512").update(arch).digest(),
	});
	await umoci(
		"config",
		"--image",
		image,
		"--os",
		"linux",
		"--architecture",
		arch,
		"--config.cmd",
		"/hello",
	);
}
