/**
 * End-to-end on each cloud driver: the built CLI (`node dist/cli.js serve config.yml`, the
 * driver package loaded by name from a Distribution-style `storage.<driver>` section) over
 * Azurite, the GCS test server, the strict S3 test server and s3rver, with skopeo pushing and
 * pulling an image built offline by umoci. Under CI a missing client fails the suite; elsewhere
 * the suite is skipped with a message. A backend that cannot start always fails.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	type CloudBackend,
	type RegistryProcess,
	startAzurite,
	startGcs,
	startRegistry,
	startS3rver,
	startStrictS3,
} from "./support/cloud.js";
import {
	addLayer,
	buildLayoutImage,
	inCI,
	layoutBlob,
	layoutRefDigest,
	missingTools,
	tool,
} from "./support/images.js";

const missing = missingTools(["skopeo", "umoci"]);
if (missing.length > 0 && !inCI) {
	console.warn(
		`\n*** cloud e2e tests SKIPPED: ${missing.join(", ")} not installed ` +
			"(apt-get install -y skopeo umoci) ***\n",
	);
}

describe("clients of the cloud e2e tests are installed", () => {
	it.runIf(inCI)("skopeo and umoci are on PATH (required under CI)", () => {
		expect(missing, `missing clients: ${missing.join(", ")}`).toEqual([]);
	});
});

interface Case {
	repo: string;
	start: (dir: string) => Promise<CloudBackend>;
	/** Extra `skopeo inspect` flags. */
	inspect?: string[];
}

const BACKENDS: [string, Case][] = [
	["azure on Azurite", { repo: "e2e/azure", start: startAzurite }],
	["gcs on the GCS test server", { repo: "e2e/gcs", start: startGcs }],
	["s3 on the strict S3 test server", { repo: "e2e/s3-strict", start: startStrictS3 }],
	[
		"s3 on s3rver",
		{
			repo: "e2e/s3rver",
			start: startS3rver,
			// s3rver's delimiter listing omits keys two levels below the prefix (a known bug, see
			// driver-s3's conformance-s3rver.test.ts), and a tag is `tags/<tag>/current/link`:
			// tags/list answers 404 there, so inspect without listing tags.
			inspect: ["--no-tags"],
		},
	],
];

const sha256 = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe.skipIf(missing.length > 0 && !inCI)(
	"skopeo through `stowage serve` on cloud drivers",
	() => {
		let work: string;
		let layout: string;
		let imageDigest: string;
		let layers: string[];

		beforeAll(async () => {
			work = await mkdtemp(join(tmpdir(), "stowage-e2e-cloud-"));
			layout = join(work, "layout");
			await buildLayoutImage(work, layout, "latest", "amd64");
			// Incompressible, and over the chunk sizes of the configs (5 MiB on the strict S3 server,
			// 1 MiB on GCS and Azure): uploads of several parts, and a redirect of a sizeable object.
			await addLayer(work, `${layout}:latest`, { "data/big.bin": randomBytes(6 * 1024 * 1024) });
			imageDigest = (await layoutRefDigest(layout, "latest")) as string;
			expect(imageDigest).toMatch(/^sha256:/);
			const manifest = JSON.parse((await layoutBlob(layout, imageDigest)).toString("utf8"));
			layers = manifest.layers.map((l: { digest: string }) => l.digest);
			expect(layers).toHaveLength(3);
		}, 60_000);

		afterAll(async () => {
			if (work) await rm(work, { recursive: true, force: true });
		});

		describe.each(BACKENDS)("%s", (_label, { repo, start, inspect = [] }) => {
			let backend: CloudBackend | undefined;
			let registry: RegistryProcess | undefined;
			const skopeo = (...args: string[]) => tool("skopeo", args, work);
			const ref = () => `docker://${new URL((registry as RegistryProcess).url).host}/${repo}:v1`;

			beforeAll(async () => {
				backend = await start(work);
				registry = await startRegistry(join(work, "config"), backend);
			}, 60_000);

			afterAll(async () => {
				try {
					await registry?.stop();
				} finally {
					await backend?.stop();
				}
			});

			it("skopeo pushes the image, inspects it and pulls it back unchanged", async () => {
				try {
					await skopeo("copy", "--dest-tls-verify=false", `oci:${layout}:latest`, ref());
					const info = JSON.parse(await skopeo("inspect", ...inspect, "--tls-verify=false", ref()));
					expect(info.Digest).toBe(imageDigest);
					expect(info.Layers).toEqual(layers);
					if (!inspect.includes("--no-tags")) expect(info.RepoTags).toEqual(["v1"]);
					const out = join(work, `out-${repo.replace("/", "-")}`);
					await skopeo("copy", "--src-tls-verify=false", ref(), `oci:${out}:v1`);
					expect(await layoutRefDigest(out, "v1")).toBe(imageDigest);
					for (const digest of layers) {
						expect((await layoutBlob(out, digest)).equals(await layoutBlob(layout, digest))).toBe(
							true,
						);
					}
				} catch (err) {
					throw new Error(`${(err as Error).message}\nregistry output:\n${registry?.output()}`);
				}
			}, 60_000);

			it("a blob GET is a 307 to the backend, which serves the same bytes", async () => {
				const { url } = registry as RegistryProcess;
				const digest = layers[2] as string;
				const res = await request(`${url}/v2/${repo}/blobs/${digest}`);
				await res.body.dump();
				expect(res.statusCode).toBe(307);
				const location = new URL(res.headers.location as string);
				expect(location.origin).toBe(backend?.origin);
				const direct = await fetch(location);
				expect(direct.status).toBe(200);
				const bytes = Buffer.from(await direct.arrayBuffer());
				expect(sha256(bytes)).toBe(digest);
				expect(bytes.equals(await layoutBlob(layout, digest))).toBe(true);
			});
		});
	},
);
