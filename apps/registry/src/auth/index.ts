import type { Logger } from "pino";
import type { AuthSettings } from "../security-config.js";
import type { AccessController } from "./controller.js";
import { type AccessGate, createGate } from "./gate.js";
import { HtpasswdController } from "./htpasswd.js";
import { TokenController } from "./token.js";

/** The gate for the configured `auth` section; reads the htpasswd file or the token keys now. */
export async function createAccessGate(
	settings: AuthSettings,
	logger: Logger,
): Promise<AccessGate> {
	const log = logger.child({ component: "auth" });
	let controller: AccessController;
	if (settings.htpasswd) {
		const htpasswd = new HtpasswdController(settings.htpasswd, log);
		await htpasswd.load();
		controller = htpasswd;
	} else if (settings.token) {
		controller = await TokenController.create(settings.token);
	} else {
		throw new Error("auth: no access controller configured");
	}
	return createGate(controller, { failures: settings.failures, window: settings.window });
}
