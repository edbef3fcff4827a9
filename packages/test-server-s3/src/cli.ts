#!/usr/bin/env node
import { parseArgs } from "node:util";
import { startS3TestServer } from "./server.js";

// Start the strict S3 test server from a shell, e.g. to point a registry or the AWS CLI at it:
//   test-server-s3 --port 9000 --access-key test --secret-key testsecret --bucket registry
// Prints one JSON line with the URL once listening; SIGINT/SIGTERM stop it.
const { values } = parseArgs({
	options: {
		port: { type: "string", default: "0" },
		host: { type: "string", default: "127.0.0.1" },
		"access-key": { type: "string", default: process.env.S3_TEST_ACCESS_KEY ?? "stowage" },
		"secret-key": { type: "string", default: process.env.S3_TEST_SECRET_KEY ?? "stowage-secret" },
		region: { type: "string", default: "us-east-1" },
		bucket: { type: "string", multiple: true, default: [] },
		"min-part-size": { type: "string" },
		"max-list-parts": { type: "string" },
		verbose: { type: "boolean", default: false },
	},
});

const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const server = await startS3TestServer({
	port: Number(values.port),
	host: values.host,
	accessKeyId: values["access-key"],
	secretAccessKey: values["secret-key"],
	region: values.region,
	buckets: values.bucket,
	limits: {
		...(values["min-part-size"] ? { minPartSize: number(values["min-part-size"]) } : {}),
		...(values["max-list-parts"] ? { maxListParts: number(values["max-list-parts"]) } : {}),
	},
	...(values.verbose ? { log: (line: string) => console.error(line) } : {}),
});
console.log(JSON.stringify({ url: server.url, region: server.region, buckets: values.bucket }));
for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.on(signal, () => {
		server.close().then(() => process.exit(0));
	});
}
