export { createFsDriver, FsDriver, type FsDriverOptions } from "./fs-driver.js";
