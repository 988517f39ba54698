import { describe, expect, test } from "bun:test";
import type { ConsumeMessage } from "amqplib";
import { ATTEMPT_HEADER, REDELIVERIES_HEADER } from "../../../src/core/headers.ts";
import { taskFromMessage } from "../../../src/core/task.ts";

function message(options: {
  redelivered?: boolean;
  headers?: Record<string, unknown>;
  messageId?: string;
  body?: string;
}): ConsumeMessage {
  return {
    content: Buffer.from(options.body ?? "hello"),
    fields: {
      deliveryTag: 1,
      redelivered: options.redelivered ?? false,
      exchange: "",
      routingKey: "task_queue",
      consumerTag: "ctag-1",
    },
    properties: {
      contentType: undefined,
      contentEncoding: undefined,
      headers: options.headers,
      deliveryMode: 2,
      priority: undefined,
      correlationId: undefined,
      replyTo: undefined,
      expiration: undefined,
      messageId: options.messageId,
      timestamp: undefined,
      type: undefined,
      userId: undefined,
      appId: undefined,
      clusterId: undefined,
    },
  };
}

describe("taskFromMessage attempt", () => {
  test.each<[string, boolean, Record<string, unknown> | undefined, number]>([
    ["no headers, first delivery", false, undefined, 1],
    ["empty headers, first delivery", false, {}, 1],
    ["redelivered, no headers", true, undefined, 2],
    ["redelivered, empty headers", true, {}, 2],
    ["x-taskq-attempt 3", false, { [ATTEMPT_HEADER]: 3 }, 3],
    ["x-taskq-attempt 3, redelivered", true, { [ATTEMPT_HEADER]: 3 }, 4],
    ["x-delivery-count 2", false, { "x-delivery-count": 2 }, 3],
    ["x-delivery-count 2 wins over the redelivered flag", true, { "x-delivery-count": 2 }, 3],
    ["x-delivery-count 1 on top of x-taskq-attempt 3", true, { [ATTEMPT_HEADER]: 3, "x-delivery-count": 1 }, 4],
    ["x-taskq-attempt as a string", false, { [ATTEMPT_HEADER]: "2" }, 2],
    ["x-taskq-attempt as a bigint", false, { [ATTEMPT_HEADER]: 5n }, 5],
    ["x-delivery-count as a bigint", false, { "x-delivery-count": 4n }, 5],
    ["negative x-taskq-attempt is ignored", false, { [ATTEMPT_HEADER]: -1 }, 1],
    ["fractional x-taskq-attempt is ignored", false, { [ATTEMPT_HEADER]: 1.5 }, 1],
    ["non-numeric x-taskq-attempt is ignored", true, { [ATTEMPT_HEADER]: "abc" }, 2],
    ["blank x-taskq-attempt is ignored", false, { [ATTEMPT_HEADER]: "" }, 1],
    ["boolean x-delivery-count is ignored", true, { "x-delivery-count": true }, 2],
    ["unrelated headers are ignored", false, { "x-first-death-queue": "q", retries: 9 }, 1],
    // RabbitMQ 4.3: x-acquired-count counts every return, x-delivery-count only failed deliveries.
    ["4.3: returned, none failed (a consumer switch, a requeue)", true, { "x-acquired-count": 2 }, 1],
    ["4.3: a failed delivery", true, { "x-acquired-count": 2, "x-delivery-count": 1 }, 2],
  ])("%s -> attempt %p", (_name, redelivered, headers, attempt) => {
    expect(taskFromMessage("q", message({ redelivered, ...(headers ? { headers } : {}) })).attempt).toBe(attempt);
  });
});

describe("taskFromMessage redeliveries and redelivered", () => {
  test.each<[string, boolean, Record<string, unknown> | undefined, number, boolean]>([
    ["a first delivery", false, undefined, 0, false],
    ["classic: the flag", true, undefined, 1, true],
    ["quorum 3.10: x-delivery-count 2", true, { "x-delivery-count": 2 }, 2, true],
    ["4.3: a switch's return counts nothing", true, { "x-acquired-count": 1 }, 0, true],
    ["taskq's copy of a return: its count, and it may have run", false, { [REDELIVERIES_HEADER]: 2 }, 2, true],
    ["that copy back again", true, { [REDELIVERIES_HEADER]: 2 }, 3, true],
    ["a count of 0 says nothing", false, { [REDELIVERIES_HEADER]: 0 }, 0, false],
    ["a count that is not one is ignored", false, { [REDELIVERIES_HEADER]: "x" }, 0, false],
  ])("%s -> %p redeliveries", (_name, redelivered, headers, redeliveries, flagged) => {
    const task = taskFromMessage("q", message({ redelivered, ...(headers ? { headers } : {}) }));
    expect(task.redeliveries).toBe(redeliveries);
    expect(task.redelivered).toBe(flagged);
  });
});

describe("taskFromMessage fields", () => {
  test("copies body, queue, id, redelivered flag and headers", () => {
    const msg = message({
      redelivered: true,
      headers: { [ATTEMPT_HEADER]: 2, trace: "abc" },
      messageId: "m-1",
      body: "do it...",
    });
    const task = taskFromMessage("work", msg);
    expect(task.body.toString()).toBe("do it...");
    expect(task.queue).toBe("work");
    expect(task.messageId).toBe("m-1");
    expect(task.redelivered).toBe(true);
    expect(task.headers).toEqual({ [ATTEMPT_HEADER]: 2, trace: "abc" });
    expect(task.properties).toBe(msg.properties);
  });

  test("missing headers become an empty object and a missing id stays undefined", () => {
    const task = taskFromMessage("work", message({}));
    expect(task.headers).toEqual({});
    expect(task.messageId).toBeUndefined();
  });

  test("the attempt header name is x-taskq-attempt", () => {
    expect(ATTEMPT_HEADER).toBe("x-taskq-attempt");
  });
});
