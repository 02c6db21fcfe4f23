/**
 * Jest runs each test file in its own VM context, so errors node's core creates (a socket hang up,
 * ECONNRESET, ECONNREFUSED) come from another realm and fail `instanceof Error` inside the sandbox,
 * where the AWS SDK and the functions run. In Lambda there is one realm: the SDK sees such an error
 * as an Error, retries it and reports its code. Without this, the SDK wraps it in a plain
 * "AWS SDK error wrapper" error with no code, and fault-injection tests would measure jest, not the
 * product (https://github.com/jestjs/jest/issues/2549). Only `instanceof Error` itself changes;
 * subclasses keep their own check.
 */
import { types } from 'node:util';

const sandboxError = Error;
const ordinary = Function.prototype[Symbol.hasInstance];
Object.defineProperty(sandboxError, Symbol.hasInstance, {
  value(this: unknown, value: unknown): boolean {
    return ordinary.call(this, value) || (this === sandboxError && types.isNativeError(value));
  },
});
