// Every workload, in the order each round runs them (later ones read what earlier ones stored).
import { get } from "./get.mjs";
import { head } from "./head.mjs";
import { manifests } from "./manifests.mjs";
import { chunked, monolithic, singlePost, streamed } from "./pushes.mjs";
import { skopeoPull, skopeoPush } from "./skopeo.mjs";
import { smallBlobs } from "./small-blobs.mjs";

export const workloads = [
	monolithic,
	singlePost,
	chunked,
	streamed,
	get,
	head,
	smallBlobs,
	manifests,
	skopeoPush,
	skopeoPull,
];
