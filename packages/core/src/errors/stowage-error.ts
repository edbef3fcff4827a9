/**
 * Base class of every error Stowage throws on purpose. `code` is stable and is what callers
 * (the HTTP layer above all) switch on; the message is for humans and may change.
 */
export abstract class StowageError extends Error {
	abstract readonly code: string;

	constructor(message: string, options?: { cause?: unknown }) {
		super(message, options);
		this.name = new.target.name;
	}
}

export function isStowageError(err: unknown): err is StowageError {
	return err instanceof StowageError;
}
