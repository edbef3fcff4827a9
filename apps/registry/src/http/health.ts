import { randomUUID } from "node:crypto";
import { PathNotFoundError, type Registry } from "@stowage/core";
import type { FastifyInstance, FastifyReply } from "fastify";

export interface HealthOptions {
	registry: Registry;
	/** How long a check waits for the driver, in ms. */
	timeout: number;
	/** Read-only registries are only read, even by the readiness check. */
	readOnly: boolean;
}

class HealthTimeoutError extends Error {
	constructor(ms: number) {
		super(`the storage driver did not answer within ${ms} ms`);
	}
}

/**
 * `GET /healthz` (liveness): the driver answers a stat of its root.
 * `GET /readyz` (readiness): the driver stores, returns and deletes a small object under
 * `<root>/health/`, so a backend that answers but cannot write takes the replica out of rotation.
 * Both give up after the timeout, also on a driver that ignores its abort signal, and answer 503.
 */
export function registerHealthRoutes(app: FastifyInstance, options: HealthOptions): void {
	const { registry } = options;
	const probe = `${registry.layout.root}/health/${randomUUID()}`;

	const stat = async (signal: AbortSignal) => {
		try {
			await registry.driver.stat("/", { signal });
		} catch (err) {
			// An empty object store has no root entry: reachable is healthy.
			if (!(err instanceof PathNotFoundError)) throw err;
		}
	};
	const roundTrip = async (signal: AbortSignal) => {
		if (options.readOnly) return stat(signal);
		const token = Buffer.from(randomUUID());
		await registry.driver.putContent(probe, token, { signal });
		const back = await registry.driver.getContent(probe, { signal });
		await registry.driver.delete(probe, { signal });
		if (!back.equals(token)) throw new Error("the storage driver returned other bytes than stored");
	};

	const answer = async (reply: FastifyReply, check: (signal: AbortSignal) => Promise<void>) => {
		const started = Date.now();
		const controller = new AbortController();
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<never>((_, reject) => {
			timer = setTimeout(() => {
				const err = new HealthTimeoutError(options.timeout);
				controller.abort(err);
				reject(err);
			}, options.timeout);
		});
		try {
			await Promise.race([check(controller.signal), timeout]);
		} catch (err) {
			reply.log.warn({ err }, "health check failed");
			const error = err instanceof Error ? err.message : String(err);
			return reply
				.code(503)
				.header("Cache-Control", "no-store")
				.send({ status: "unhealthy", driver: registry.driver.name, error });
		} finally {
			clearTimeout(timer);
		}
		return reply
			.header("Cache-Control", "no-store")
			.send({ status: "ok", driver: registry.driver.name, ms: Date.now() - started });
	};

	app.get("/healthz", (_request, reply) => answer(reply, stat));
	app.get("/readyz", (_request, reply) => answer(reply, roundTrip));
}
