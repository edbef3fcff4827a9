import { checkedDriver, type StorageDriver } from "@stowage/core";
import { AzureDriver } from "./azure-driver.js";
import { planClients } from "./clients.js";
import { type AzureDriverOptions, resolveOptions } from "./options.js";

export { AzureDriver } from "./azure-driver.js";
export { toDriverError } from "./azure-errors.js";
export type { CredentialKind } from "./clients.js";
export {
	AzureConfigError,
	type AzureCredentialsType,
	type AzureDriverOptions,
	DEFAULT_BLOCK_SIZE,
	MIN_BLOCK_SIZE,
	parseDuration,
} from "./options.js";

/**
 * Build the Azure Blob driver from Distribution's `storage.azure` parameters (see options.ts).
 * Configuration errors are thrown here; the container is created on first use, if missing.
 */
export function createAzureDriver(options: AzureDriverOptions): StorageDriver {
	const resolved = resolveOptions(options);
	return checkedDriver(new AzureDriver(resolved, planClients(options, resolved)));
}

/** The generic factory name the registry app looks for. */
export const createDriver = createAzureDriver;
