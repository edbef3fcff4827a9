import type { StorageDriver } from "@stowage/core";
import { ConfigError, type DriverName } from "./config.js";

/** Each driver lives in its own package, so a deployment installs only the one it uses. */
export const DRIVER_PACKAGES: Record<DriverName, string> = {
	filesystem: "@stowage/driver-fs",
	inmemory: "@stowage/driver-memory",
	s3: "@stowage/driver-s3",
	azure: "@stowage/driver-azure",
	gcs: "@stowage/driver-gcs",
};

/** Factory export names tried in order: a generic one, then the package's own. */
const FACTORIES: Record<DriverName, string[]> = {
	filesystem: ["createDriver", "createFsDriver"],
	inmemory: ["createDriver", "createMemoryDriver"],
	s3: ["createDriver", "createS3Driver"],
	azure: ["createDriver", "createAzureDriver"],
	gcs: ["createDriver", "createGcsDriver"],
};

type Factory = (options: Record<string, unknown>) => StorageDriver | Promise<StorageDriver>;

/**
 * Import the driver package by name and build the driver from the `storage.<name>` parameters.
 * Cloud drivers get Distribution's parameter names as they are; the filesystem driver's one key
 * is translated. A package that is not installed is one line naming what to add.
 */
export async function loadDriver(
	name: DriverName,
	params: Record<string, unknown>,
	importer: (specifier: string) => Promise<unknown> = (s) => import(s),
): Promise<StorageDriver> {
	const pkg = DRIVER_PACKAGES[name];
	let mod: Record<string, unknown>;
	try {
		mod = (await importer(pkg)) as Record<string, unknown>;
	} catch (err) {
		if (isMissingPackage(err, pkg)) {
			throw new ConfigError(
				`storage driver "${name}" needs the package ${pkg}, which is not installed: add it (pnpm add ${pkg})`,
			);
		}
		throw err;
	}
	const factoryName = FACTORIES[name].find((f) => typeof mod[f] === "function");
	if (!factoryName) {
		throw new ConfigError(
			`package ${pkg} exports no driver factory (${FACTORIES[name].join(", ")})`,
		);
	}
	const factory = mod[factoryName] as Factory;
	const options =
		name === "filesystem" && factoryName === "createFsDriver"
			? { rootDirectory: params.rootdirectory }
			: params;
	try {
		return await factory(options);
	} catch (err) {
		throw new ConfigError(`storage.${name}: ${(err as Error).message}`);
	}
}

export function isMissingPackage(err: unknown, pkg: string): boolean {
	const e = err as { code?: string; message?: string } | null;
	return (
		(e?.code === "ERR_MODULE_NOT_FOUND" || e?.code === "MODULE_NOT_FOUND") &&
		(e.message ?? "").includes(pkg)
	);
}
