import { randomBytes } from "node:crypto";
import type { StorageDriver } from "@stowage/core";
import { type AzureDriverOptions, createAzureDriver } from "../src/index.js";

/** Where the tests run: Azurite, or a real account certified through the environment. */
export interface AzureTarget {
	kind: "azurite" | "account";
	connectionString?: string | undefined;
	accountName?: string | undefined;
	accountKey?: string | undefined;
	serviceUrl?: string | undefined;
	container: string;
}

declare module "vitest" {
	export interface ProvidedContext {
		azure: AzureTarget;
	}
}

/**
 * A real account: STOWAGE_AZURE_CONNECTION_STRING, or STOWAGE_AZURE_ACCOUNT_NAME and
 * STOWAGE_AZURE_ACCOUNT_KEY (and optionally STOWAGE_AZURE_SERVICE_URL); the container is
 * STOWAGE_AZURE_CONTAINER (default stowage-conformance), created if missing.
 */
export function targetFromEnv(env: NodeJS.ProcessEnv): AzureTarget | undefined {
	const container = env.STOWAGE_AZURE_CONTAINER || "stowage-conformance";
	if (env.STOWAGE_AZURE_CONNECTION_STRING) {
		return { kind: "account", connectionString: env.STOWAGE_AZURE_CONNECTION_STRING, container };
	}
	if (env.STOWAGE_AZURE_ACCOUNT_NAME || env.STOWAGE_AZURE_ACCOUNT_KEY) {
		if (!env.STOWAGE_AZURE_ACCOUNT_NAME || !env.STOWAGE_AZURE_ACCOUNT_KEY) {
			throw new Error("set both STOWAGE_AZURE_ACCOUNT_NAME and STOWAGE_AZURE_ACCOUNT_KEY");
		}
		return {
			kind: "account",
			accountName: env.STOWAGE_AZURE_ACCOUNT_NAME,
			accountKey: env.STOWAGE_AZURE_ACCOUNT_KEY,
			serviceUrl: env.STOWAGE_AZURE_SERVICE_URL || undefined,
			container,
		};
	}
	return undefined;
}

/** Driver options (Distribution's keys) for the target, without a root directory. */
export function targetOptions(target: AzureTarget): AzureDriverOptions {
	return target.connectionString
		? { connectionstring: target.connectionString, container: target.container }
		: {
				accountname: target.accountName,
				accountkey: target.accountKey,
				serviceurl: target.serviceUrl,
				container: target.container,
			};
}

/** A fresh root per test: tests share one container and still see an empty `list("/")`. */
export function uniqueRoot(label = "t"): string {
	return `stowage-tests/${label}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

export function driverAt(
	target: AzureTarget,
	rootdirectory: string,
	extra: AzureDriverOptions = {},
): StorageDriver {
	return createAzureDriver({ ...targetOptions(target), rootdirectory, ...extra });
}
