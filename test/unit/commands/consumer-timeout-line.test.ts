import { expect, test } from "bun:test";
import { consumerTimeoutLine } from "../../../src/commands/work-report.ts";

test.each<[number | undefined, string]>([
  [5000, "unacked after its consumer_timeout (5.00s)"],
  [undefined, "unacked after its consumer timeout:"],
])("the one line about the broker's consumer timeout (its value: %p)", (timeoutMs, says) => {
  const line = consumerTimeoutLine({
    type: "consumer-timeout",
    queue: "q",
    tasks: 2,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    hint: "raise consumer_timeout in rabbitmq.conf above the longest task",
  });
  expect(line).toStartWith(" [!] the broker took back 2 running task(s) from 'q' ");
  expect(line).toContain(says);
  expect(line).toEndWith("; to stop this, raise consumer_timeout in rabbitmq.conf above the longest task");
  expect(line).not.toContain("\n");
});
