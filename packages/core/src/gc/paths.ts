import type { ParsedDigest } from "../digest.js";
import type { Layout } from "../layout.js";

/**
 * Where the collection protocol keeps its state (see fence.ts), beside Distribution's layout and
 * outside `blobs/`, whose directories keep holding exactly one `data` file:
 *
 *   gc/collections/<run-id>                one marker per collection in progress
 *   gc/claims/<alg>/<xx>/<hex>             touched by writers that make the blob reachable
 *   gc/tombstones/<alg>/<xx>/<hex>         a collector's tombstone while it deletes
 */
export class GcPaths {
	constructor(readonly layout: Layout) {}

	get root(): string {
		return `${this.layout.root}/gc`;
	}
	get collections(): string {
		return `${this.root}/collections`;
	}
	collection(runId: string): string {
		return `${this.collections}/${runId}`;
	}
	get claims(): string {
		return `${this.root}/claims`;
	}
	claim(d: ParsedDigest): string {
		return `${this.claims}/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}`;
	}
	get tombstones(): string {
		return `${this.root}/tombstones`;
	}
	tombstone(d: ParsedDigest): string {
		return `${this.tombstones}/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}`;
	}
}
