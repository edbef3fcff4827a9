import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startAzurite } from "./azurite.js";
import { type AzureTarget, targetFromEnv } from "./target.js";

/**
 * One backend for the whole run: the Azure account named by the STOWAGE_AZURE_* variables when
 * set (see README), otherwise a fresh Azurite on a free loopback port, stopped at teardown.
 * Azurite failing to start fails the run: there is no silent skip.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
	const account = targetFromEnv(process.env);
	if (account) {
		project.provide("azure", account);
		return;
	}
	// On disk rather than in memory: Azurite's in-memory store keeps what the large cases wrote
	// (GBs of RSS); a temporary directory is removed at the end.
	const location = mkdtempSync(join(tmpdir(), "stowage-azurite-"));
	let azurite: Awaited<ReturnType<typeof startAzurite>>;
	try {
		azurite = await startAzurite({ location });
	} catch (err) {
		rmSync(location, { recursive: true, force: true });
		const ci = process.env.CI === "true" ? " (CI)" : "";
		throw new Error(
			`\n\n*** @stowage/driver-azure${ci}: the Azure tests need Azurite and it could not be started ***\n${(err as Error).message}\n`,
		);
	}
	const target: AzureTarget = {
		kind: "azurite",
		connectionString: azurite.connectionString,
		serviceUrl: azurite.serviceUrl,
		container: `stowage-test-${randomBytes(4).toString("hex")}`,
	};
	project.provide("azure", target);
	return async () => {
		await azurite.stop();
		rmSync(location, { recursive: true, force: true });
	};
}
