import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { startS3TestServer } from "@stowage/test-server-s3";
import type { TestProject } from "vitest/node";
import { endpointFromEnv, type S3Target, targetClient } from "./targets.js";

const BUCKET = "stowage-conformance";

/**
 * Start the strict test server (in this process) and s3rver (a child process) on loopback, or
 * use the endpoint the STOWAGE_S3_* variables name. A server that cannot start fails the run:
 * the suites must never pass by not running.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	const external = endpointFromEnv();
	if (external) {
		project.provide("s3Targets", [external]);
		project.provide(
			"s3TargetNote",
			`STOWAGE_S3_ENDPOINT=${external.endpoint} was given: testing that endpoint only`,
		);
		return async () => {};
	}
	const strict = await startS3TestServer({
		accessKeyId: "stowage-conformance",
		secretAccessKey: "stowage-conformance-secret",
		buckets: [BUCKET],
	});
	let s3rver: Awaited<ReturnType<typeof startS3rver>>;
	try {
		s3rver = await startS3rver();
	} catch (err) {
		await strict.close();
		throw new Error(`s3rver could not be started: ${(err as Error).message}`, { cause: err });
	}
	const targets: S3Target[] = [
		{
			name: "strict",
			endpoint: strict.url,
			region: strict.region,
			bucket: BUCKET,
			accessKeyId: "stowage-conformance",
			secretAccessKey: "stowage-conformance-secret",
			forcePathStyle: true,
		},
		{
			name: "s3rver",
			endpoint: s3rver.url,
			region: "us-east-1",
			bucket: BUCKET,
			accessKeyId: "S3RVER",
			secretAccessKey: "S3RVER",
			forcePathStyle: true,
		},
	];
	const admin = targetClient(targets[1] as S3Target);
	await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
	admin.destroy();
	project.provide("s3Targets", targets);
	project.provide("s3TargetNote", "");
	return async () => {
		await strict.close();
		await s3rver.stop();
	};
}

/**
 * s3rver (the @20minutes fork) from its lib/cli.js: it has no bin. It needs the legacy OpenSSL
 * provider (paginated listings fail without it) and --allow-mismatched-signatures (it rejects
 * the SDK's bucket-level signatures otherwise).
 */
async function startS3rver(): Promise<{ url: string; stop: () => Promise<void> }> {
	const require = createRequire(import.meta.url);
	const cli = join(require.resolve("@20minutes/s3rver/package.json"), "..", "lib", "cli.js");
	const dir = mkdtempSync(join(tmpdir(), "stowage-s3rver-"));
	const script = `require(${JSON.stringify(cli)}).parseAsync(process.argv).catch((e) => { console.error(e); process.exit(1); });`;
	const child = spawn(
		process.execPath,
		[
			"-e",
			script,
			"s3rver",
			"-d",
			dir,
			"-a",
			"127.0.0.1",
			"-p",
			"0",
			"--silent",
			"--allow-mismatched-signatures",
		],
		{
			env: {
				...process.env,
				NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --openssl-legacy-provider`.trim(),
			},
			stdio: ["ignore", "pipe", "pipe"],
		},
	);
	let output = "";
	const url = await new Promise<string>((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error(`no "listening" line within 15 s; output: ${output}`)),
			15_000,
		);
		const onData = (d: Buffer) => {
			output += d.toString();
			const m = /listening on ([\d.]+):(\d+)/.exec(output);
			if (m) {
				clearTimeout(timer);
				resolve(`http://${m[1]}:${m[2]}`);
			}
		};
		child.stdout.on("data", onData);
		child.stderr.on("data", onData);
		child.once("exit", (code) => {
			clearTimeout(timer);
			reject(new Error(`exited with ${code}; output: ${output}`));
		});
	});
	return {
		url,
		stop: async () => {
			if (child.exitCode === null) {
				const exited = new Promise((r) => child.once("exit", r));
				child.kill("SIGTERM");
				const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
				await exited;
				clearTimeout(timer);
			}
			rmSync(dir, { recursive: true, force: true });
		},
	};
}
