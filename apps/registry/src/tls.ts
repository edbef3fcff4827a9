import { readFileSync } from "node:fs";
import type { Server as HttpsServer, ServerOptions } from "node:https";
import type { TLSSocket } from "node:tls";
import { ConfigError } from "./config.js";
import type { TlsSettings } from "./security-config.js";

/**
 * `http.tls`: serve HTTPS, and with `clientcas` ask for client certificates (mTLS). Distribution's
 * `require-and-verify-client-cert` is the default; `verify-client-cert-if-given` lets clients
 * without a certificate in but still refuses one that does not verify.
 */
export interface HttpsOptions extends ServerOptions {
	/** Drop connections that presented a certificate which did not verify. */
	rejectUnverifiedCertificates?: boolean;
}

export function httpsOptions(settings: TlsSettings): HttpsOptions {
	const read = (key: string, path: string) => {
		try {
			return readFileSync(path);
		} catch (err) {
			throw new ConfigError(`${key}: cannot read ${path}: ${(err as Error).message}`);
		}
	};
	const options: HttpsOptions = {
		cert: read("http.tls.certificate", settings.certificate),
		key: read("http.tls.key", settings.key),
		minVersion: settings.minimumTls,
	};
	if (settings.clientCAs.length > 0) {
		const required = settings.clientAuth === "require-and-verify-client-cert";
		options.ca = settings.clientCAs.map((path) => read("http.tls.clientcas", path));
		options.requestCert = true;
		options.rejectUnauthorized = required;
		options.rejectUnverifiedCertificates = !required;
	}
	return options;
}

/**
 * With `verify-client-cert-if-given` OpenSSL lets every certificate through; a connection whose
 * certificate did not verify is closed here before it can send a request.
 */
export function guardClientCertificates(server: HttpsServer, options: HttpsOptions): void {
	if (!options.rejectUnverifiedCertificates) return;
	server.on("secureConnection", (socket: TLSSocket) => {
		const presented = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
		if (presented && !socket.authorized) socket.destroy();
	});
}
