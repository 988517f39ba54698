import { expect, test } from "bun:test";
import { RETRYABLE_CONNECT_ERRORS } from "../../../../src/core/broker/connect-error.ts";

test.each([
  ["ECONNREFUSED", true],
  ["CONNECTION_FORCED", true],
  ["LOST", true],
  ["ACCESS_REFUSED", false],
  ["NOT_ALLOWED", false],
  ["TLS", false],
])("%s retryable: %p", (kind, retryable) => {
  expect(RETRYABLE_CONNECT_ERRORS.has(kind)).toBe(retryable);
});
