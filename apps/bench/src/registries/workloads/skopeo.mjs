// A whole image pushed and pulled with skopeo: one layer of random bytes (gzip-compressed tar,
// ~50 MB) plus config and manifest, written as an OCI layout without any image tooling. Each
// round builds a new layer so no push finds its blobs already there.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const sha256 = (b) => createHash("sha256").update(b).digest("hex");

/** A ustar archive holding one regular file. */
function tarOf(name, data) {
	const header = Buffer.alloc(512);
	const field = (offset, length, value) =>
		header.write(value.padEnd(length, "\0"), offset, "latin1");
	const octal = (n, width) => `${n.toString(8).padStart(width - 1, "0")}\0`;
	field(0, 100, name);
	field(100, 8, octal(0o644, 8));
	field(108, 8, octal(0, 8));
	field(116, 8, octal(0, 8));
	field(124, 12, octal(data.length, 12));
	field(136, 12, octal(Math.floor(Date.now() / 1000), 12));
	field(148, 8, "        ");
	field(156, 1, "0");
	field(257, 6, "ustar\0");
	field(263, 2, "00");
	let sum = 0;
	for (const b of header) sum += b;
	field(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
	const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
	return Buffer.concat([header, data, pad, Buffer.alloc(1024)]);
}

/** An OCI image layout at `dir` with tag `latest`: one layer of `size` random bytes. */
export function buildImage(dir, size) {
	const blobs = join(dir, "blobs", "sha256");
	mkdirSync(blobs, { recursive: true });
	const put = (bytes) => {
		const hex = sha256(bytes);
		writeFileSync(join(blobs, hex), bytes);
		return { digest: `sha256:${hex}`, size: bytes.length };
	};
	const tar = tarOf("bench/payload.bin", randomBytes(size));
	const layer = put(gzipSync(tar, { level: 1 }));
	const config = put(
		Buffer.from(
			JSON.stringify({
				architecture: "amd64",
				os: "linux",
				config: {},
				rootfs: { type: "layers", diff_ids: [`sha256:${sha256(tar)}`] },
			}),
		),
	);
	const manifest = put(
		Buffer.from(
			JSON.stringify({
				schemaVersion: 2,
				mediaType: "application/vnd.oci.image.manifest.v1+json",
				config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
				layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
			}),
		),
	);
	writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
	writeFileSync(
		join(dir, "index.json"),
		JSON.stringify({
			schemaVersion: 2,
			manifests: [
				{
					mediaType: "application/vnd.oci.image.manifest.v1+json",
					...manifest,
					annotations: { "org.opencontainers.image.ref.name": "latest" },
				},
			],
		}),
	);
	return { layer, config, manifest };
}

function skopeo(args) {
	return new Promise((resolve, reject) => {
		execFile("skopeo", ["--insecure-policy", ...args], { timeout: 300_000 }, (err, _o, stderr) => {
			if (err) reject(new Error(`skopeo ${args.join(" ")}: ${stderr || err.message}`));
			else resolve();
		});
	});
}

const ref = (reg, round) => `docker://${new URL(reg.base).host}/bench/image:r${round}`;

export const skopeoPush = {
	id: "skopeo-push",
	title: "skopeo push of an image (one ~50 MB layer)",
	unit: "s",
	better: "lower",
	prepare(round, cfg, _roundState, root) {
		const dir = mkdtempSync(join(root, "image-"));
		const image = buildImage(dir, cfg.imageLayerSize);
		return { round, dir, image };
	},
	async run(reg, { round, dir }) {
		const t = performance.now();
		await skopeo(["copy", "--dest-tls-verify=false", `oci:${dir}:latest`, ref(reg, round)]);
		return { value: (performance.now() - t) / 1000 };
	},
	finish: ({ dir }) => rmSync(dir, { recursive: true, force: true }),
};

export const skopeoPull = {
	id: "skopeo-pull",
	title: "skopeo pull of that image",
	unit: "s",
	better: "lower",
	prepare(_round, _cfg, roundState, root) {
		const pushed = roundState["skopeo-push"];
		if (!pushed) throw new Error("the skopeo pull reads the image of skopeo-push");
		return { round: pushed.round, image: pushed.image, root };
	},
	async run(reg, { round, image, root }) {
		const out = mkdtempSync(join(root, "pulled-"));
		try {
			const t = performance.now();
			await skopeo(["copy", "--src-tls-verify=false", ref(reg, round), `oci:${out}:latest`]);
			const seconds = (performance.now() - t) / 1000;
			const got = readdirSync(join(out, "blobs", "sha256"));
			if (!got.includes(image.layer.digest.slice(7)))
				throw new Error("the pulled image lacks its layer");
			return { value: seconds };
		} finally {
			rmSync(out, { recursive: true, force: true });
		}
	},
	cleanup: async (reg, { image }) => reg.dropBlob(image.layer.digest),
};
