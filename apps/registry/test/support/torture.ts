/**
 * The crash torture: clients push images through one registry process while a killer SIGKILLs
 * it at chosen moments (during a PATCH, a commit, a manifest PUT) and starts it again. Clients
 * resume from the Range the registry reports. At the end every acknowledged image and blob is
 * pulled and checked, and every blob on disk is re-hashed against its address.
 */
import { spawnSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import {
	type ClientStats,
	imageManifest,
	newStats,
	OciClient,
	type Phase,
	sha256,
} from "./oci-client.js";
import { CLI, type Replica, startReplica } from "./replicas.js";
import { inspectStore } from "./store-check.js";

export interface TortureOptions {
	dir: string;
	kills: number;
	clients: number;
	/** Largest layer, in bytes. */
	maxLayer: number;
	log?: (line: string) => void;
}

export interface TortureResult {
	kills: number;
	/** Kills that landed while a request of that phase was in flight. */
	killsDuring: Record<"patch" | "commit" | "manifest", number>;
	images: number;
	blobs: number;
	bytesPushed: number;
	/** Bytes pulled back through the registry and re-hashed from the disk. */
	bytesVerified: number;
	storeBlobs: number;
	/** Uploads the killed requests left behind, all removed by purge-uploads. */
	leftoverUploads: number;
	/** Hidden temp files that killed writes left (never visible through the driver). */
	leftoverTempFiles: number;
	/** Blob directories without data (a write killed before its rename; never visible). */
	leftoverBlobDirs: number;
	/** A few of those, to see what they are. */
	leftoverSamples: string[];
	stats: ClientStats;
	durationMs: number;
	/** Everything that went wrong; empty when the run proved what it should. */
	failures: string[];
}

interface Acked {
	repo: string;
	digest: string;
	data: Buffer;
}

interface AckedImage {
	repo: string;
	tag: string;
	digest: string;
	blobs: Acked[];
}

const TARGETS = ["patch", "commit", "manifest"] as const;

export async function runTorture(options: TortureOptions): Promise<TortureResult> {
	const started = Date.now();
	const log = options.log ?? (() => undefined);
	const root = join(options.dir, "store");
	const replica = await startReplica({ dir: options.dir, root, drainTimeout: "1s" });
	const failures: string[] = [];
	const stats = newStats();
	const inFlight = new Map<Phase, number>();
	const ackedBlobs: Acked[] = [];
	const ackedImages: AckedImage[] = [];
	// One layer every client pushes now and then: commits of one digest from many uploads.
	const shared = randomBytes(Math.min(options.maxLayer, 700_000));
	let stopping = false;

	const recover = async () => {
		const deadline = Date.now() + 60_000;
		while (Date.now() < deadline) {
			if (replica.running()) {
				try {
					const res = await request(`${replica.url}/v2/`, { headersTimeout: 2000 });
					await res.body.dump();
					if (res.statusCode === 200) return;
				} catch {
					// still down
				}
			}
			await sleep(20);
		}
		throw new Error("the registry did not come back within 60 s");
	};

	const client = (_n: number) =>
		new OciClient({
			base: () => replica.url,
			retries: 100,
			recover,
			stats,
			trickle: 64 * 1024,
			onPhase: (phase, active) =>
				inFlight.set(phase, (inFlight.get(phase) ?? 0) + (active ? 1 : -1)),
		});

	const pusher = async (n: number) => {
		const c = client(n);
		for (let image = 0; !stopping; image++) {
			const repo = n % 2 === 0 ? `torture/c${n}` : "torture/shared";
			const config = Buffer.from(JSON.stringify({ client: n, image, nonce: randomInt(1e9) }));
			const layers = Array.from({ length: randomInt(1, 4) }, () =>
				randomInt(4) === 0 ? shared : randomBytes(randomInt(1024, options.maxLayer)),
			);
			const blobs: Acked[] = [];
			for (const data of [config, ...layers]) {
				const small = data.length < 256 * 1024;
				const digest = await c.pushBlob(repo, data, {
					monolithic: small && randomInt(3) === 0,
					chunks: [randomInt(64 * 1024, 1024 * 1024)],
					lastInPut: randomInt(2) === 0 ? randomInt(0, Math.min(data.length, 100_000)) : 0,
				});
				const acked = { repo, digest, data };
				blobs.push(acked);
				ackedBlobs.push(acked);
			}
			const manifest = imageManifest(config, layers);
			const tag = `c${n}-i${image}`;
			await c.pushManifest(repo, tag, manifest.bytes, manifest.mediaType);
			ackedImages.push({ repo, tag, digest: manifest.digest, blobs });
		}
	};

	const killsDuring = { patch: 0, commit: 0, manifest: 0 };
	const killer = async () => {
		for (let k = 0; k < options.kills; k++) {
			const target = TARGETS[k % TARGETS.length] as (typeof TARGETS)[number];
			const deadline = Date.now() + 3000;
			while ((inFlight.get(target) ?? 0) <= 0 && Date.now() < deadline) await sleep(1);
			// Somewhere inside the request: a commit takes milliseconds, a PATCH longer.
			await sleep(randomInt(0, target === "patch" ? 25 : 6));
			for (const phase of TARGETS) if ((inFlight.get(phase) ?? 0) > 0) killsDuring[phase]++;
			await replica.stop("SIGKILL");
			await sleep(randomInt(0, 40));
			await replica.start();
			log(`kill ${k + 1}/${options.kills} (aimed at ${target})`);
			await sleep(randomInt(30, 250));
		}
	};

	const pushers = Array.from({ length: options.clients }, (_, n) =>
		pusher(n).catch((err: Error) => {
			failures.push(`client ${n}: ${err.message}`);
		}),
	);
	try {
		await killer();
	} finally {
		stopping = true;
		await Promise.all(pushers);
	}

	// Everything a 201 acknowledged is there, byte for byte.
	const check = new OciClient({ base: () => replica.url });
	let bytesVerified = 0;
	for (const image of ackedImages) {
		for (const reference of [image.tag, image.digest]) {
			const res = await check.getManifest(image.repo, reference).catch((e: Error) => e);
			if (res instanceof Error) failures.push(`${image.repo}:${reference}: ${res.message}`);
			else if (sha256(res.body) !== image.digest) {
				failures.push(`${image.repo}:${reference} pulls ${sha256(res.body)}`);
			}
		}
	}
	for (const blob of ackedBlobs) {
		const back = await check.getBlob(blob.repo, blob.digest).catch((e: Error) => e);
		if (back instanceof Error) failures.push(`${blob.repo}@${blob.digest}: ${back.message}`);
		else if (!back.equals(blob.data)) failures.push(`${blob.repo}@${blob.digest}: wrong bytes`);
		else bytesVerified += back.length;
	}

	// No blob at its content address has wrong bytes; no link names a blob that is not there.
	const before = await inspectStore(root);
	bytesVerified += before.bytes;
	for (const c of before.corrupt) failures.push(`corrupt blob ${c}`);
	for (const l of before.badLinks) failures.push(`link to a missing or wrong blob: ${l}`);

	// Uploads the kills orphaned are what purge is for.
	const purge = spawnSync(
		process.execPath,
		[CLI, "purge-uploads", replica.configPath, "--older-than", "0s"],
		{
			encoding: "utf8",
			timeout: 60_000,
		},
	);
	if (purge.status !== 0) failures.push(`purge-uploads failed: ${purge.stdout}${purge.stderr}`);
	const after = await inspectStore(root);
	if (after.uploads.length > 0) {
		const { readdirSync } = await import("node:fs");
		const listing = after.uploads.map(
			(u) => `${u}: ${readdirSync(u, { recursive: true }).join(" ")}`,
		);
		failures.push(`uploads left after purge:\n${listing.join("\n")}\n${purge.stdout}`);
	}
	await stopReplica(replica, failures);

	return {
		kills: options.kills,
		killsDuring,
		images: ackedImages.length,
		blobs: ackedBlobs.length,
		bytesPushed: ackedBlobs.reduce((n, b) => n + b.data.length, 0),
		bytesVerified,
		storeBlobs: before.blobs,
		leftoverUploads: before.uploads.length,
		leftoverTempFiles: before.hidden.length,
		leftoverBlobDirs: before.emptyBlobDirs.length,
		leftoverSamples: [...before.hidden, ...before.emptyBlobDirs]
			.slice(0, 6)
			.map((p) => p.slice(root.length)),
		stats,
		durationMs: Date.now() - started,
		failures,
	};
}

async function stopReplica(replica: Replica, failures: string[]) {
	const code = await replica.stop("SIGTERM");
	if (code !== 0)
		failures.push(`the registry exited with ${code} on SIGTERM:\n${replica.output()}`);
}
