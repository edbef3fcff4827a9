import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import type { TestProject } from "vitest/node";
import type { GcsTarget } from "./target.js";

const BUCKET = "stowage-test";
const SIGNER = "stowage-tests@stowage-test.iam.gserviceaccount.com";

/**
 * Provide the GCS target to every test file. With STOWAGE_GCS_BUCKET set, a real bucket
 * (credentials from STOWAGE_GCS_KEYFILE, optional STOWAGE_GCS_ENDPOINT and STOWAGE_GCS_PROJECT);
 * otherwise the strict test server on loopback, with a throwaway RSA key for signed URLs. If the
 * server cannot start, the run fails here: nothing is skipped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	const bucket = process.env.STOWAGE_GCS_BUCKET;
	if (bucket) {
		const keyfile = process.env.STOWAGE_GCS_KEYFILE;
		const key = keyfile
			? (JSON.parse(readFileSync(keyfile, "utf8")) as { project_id?: string })
			: undefined;
		const t: GcsTarget = {
			kind: "bucket",
			bucket,
			projectId: process.env.STOWAGE_GCS_PROJECT ?? key?.project_id ?? "stowage",
			...(keyfile && { keyfile }),
			...(process.env.STOWAGE_GCS_ENDPOINT && { apiEndpoint: process.env.STOWAGE_GCS_ENDPOINT }),
		};
		project.provide("gcs", t);
		return async () => {};
	}

	let mod: typeof import("@stowage/test-server-gcs");
	try {
		mod = await import("@stowage/test-server-gcs");
	} catch (err) {
		throw new Error(
			"cannot load @stowage/test-server-gcs: build it first (pnpm --filter @stowage/test-server-gcs build)",
			{ cause: err },
		);
	}
	const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
	const server = await mod.startGcsTestServer({
		buckets: [BUCKET],
		serviceAccounts: [{ client_email: SIGNER, key: publicKey }],
		// Large moves take several rewrite calls, as across storage classes on GCS.
		maxBytesRewrittenPerCall: 8 * 1024 * 1024,
	});
	project.provide("gcs", {
		kind: "test-server",
		bucket: BUCKET,
		apiEndpoint: server.url,
		projectId: "stowage-test",
		credentials: {
			client_email: SIGNER,
			private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
		},
	});
	return async () => {
		const unknown = [...server.unknownRoutes];
		await server.close();
		if (unknown.length > 0) {
			throw new Error(`the GCS test server answered 501 to unknown routes:\n${unknown.join("\n")}`);
		}
	};
}
