export { createMemoryDriver, MemoryDriver, type MemoryDriverOptions } from "./memory-driver.js";
