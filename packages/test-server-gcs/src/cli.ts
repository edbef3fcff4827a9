#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startGcsTestServer } from "./server.js";
import type { ServiceAccountKey } from "./signed-urls.js";

const USAGE = `test-server-gcs [options]
  --port <n>                 listen port (default 4443; 0 for any)
  --host <addr>              listen address (default 127.0.0.1)
  --dir <path>               data directory (default: a temp directory, removed on exit)
  --bucket <name>            a bucket to create at start (repeatable)
  --keyfile <path>           a service-account JSON key whose signed URLs to honour (repeatable)
  --session-ttl-ms <n>       resumable session lifetime (default 7 days)
  --max-rewrite-bytes <n>    bytes copied per rewrite call (default: all)
Prints the endpoint URL (the SDK's apiEndpoint) on stdout, then serves until SIGINT/SIGTERM.`;

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			port: { type: "string", default: "4443" },
			host: { type: "string", default: "127.0.0.1" },
			dir: { type: "string" },
			bucket: { type: "string", multiple: true, default: [] },
			keyfile: { type: "string", multiple: true, default: [] },
			"session-ttl-ms": { type: "string" },
			"max-rewrite-bytes": { type: "string" },
			help: { type: "boolean", short: "h" },
		},
	});
	if (values.help) {
		console.log(USAGE);
		return;
	}
	const serviceAccounts: ServiceAccountKey[] = values.keyfile.map((path) => {
		const json = JSON.parse(readFileSync(path, "utf8")) as {
			client_email: string;
			private_key: string;
		};
		return { client_email: json.client_email, key: json.private_key };
	});
	const server = await startGcsTestServer({
		port: Number(values.port),
		host: values.host,
		buckets: values.bucket,
		serviceAccounts,
		...(values.dir !== undefined && { dir: values.dir }),
		...(values["session-ttl-ms"] !== undefined && {
			sessionTtlMs: Number(values["session-ttl-ms"]),
		}),
		...(values["max-rewrite-bytes"] !== undefined && {
			maxBytesRewrittenPerCall: Number(values["max-rewrite-bytes"]),
		}),
	});
	console.log(server.url);
	const stop = () => {
		server.close().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.on("SIGINT", stop);
	process.on("SIGTERM", stop);
}

main().catch((err: unknown) => {
	console.error(err instanceof Error ? err.message : err);
	process.exit(1);
});
