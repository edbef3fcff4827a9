export { LockLostError, LockServiceError } from "./errors.js";
export { RedisLocker, type RedisLockerOptions } from "./redis-locker.js";
