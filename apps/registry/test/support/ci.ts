/** Under CI (CI set and not "false") a missing tool or service fails its suite instead of skipping. */
export const inCI = Boolean(process.env.CI) && process.env.CI !== "false";
