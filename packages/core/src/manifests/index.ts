export * from "./catalog.js";
export * from "./manifest-store.js";
export * from "./media-types.js";
export * from "./parse.js";
export * from "./referrers.js";
export * from "./tag-store.js";
