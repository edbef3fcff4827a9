/**
 * Compare-and-act scripts: a holder renews or deletes the key only while it still holds its own
 * token, so a holder whose lease ran out can never extend or free the next holder's lock.
 */
export const RENEW = `if redis.call("get", KEYS[1]) == ARGV[1] then
	return redis.call("pexpire", KEYS[1], ARGV[2])
end
return 0`;

export const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then
	return redis.call("del", KEYS[1])
end
return 0`;
