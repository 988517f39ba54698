import { describe, expect, test } from "bun:test";
import type { MessageProperties } from "amqplib";
import { sameTask } from "../../../../src/core/admin/dead-peek.ts";
import { nackIsFree, rabbitVersion } from "../../../../src/core/admin/peek-mode.ts";
import type { Broker } from "../../../../src/core/broker/connection.ts";

const broker = (serverProperties: Record<string, unknown>) =>
  ({ model: { connection: { serverProperties } } }) as unknown as Broker;

describe("which brokers leave a nacked task's delivery count alone (RabbitMQ 4.3 on)", () => {
  test.each<[Record<string, unknown>, [number, number] | undefined, boolean]>([
    [{ product: "RabbitMQ", version: "3.10.8" }, [3, 10], false],
    [{ product: "RabbitMQ", version: "3.13.7" }, [3, 13], false],
    [{ product: "RabbitMQ", version: "4.0.5" }, [4, 0], false],
    [{ product: "RabbitMQ", version: "4.2.1" }, [4, 2], false],
    [{ product: "RabbitMQ", version: "4.3.6" }, [4, 3], true],
    [{ product: "RabbitMQ", version: "4.10.0" }, [4, 10], true],
    [{ product: "RabbitMQ", version: "5.0.0-beta.1" }, [5, 0], true],
    [{ product: "LavinMQ", version: "2.1.0" }, undefined, false],
    [{ product: "RabbitMQ" }, undefined, false],
    [{}, undefined, false],
  ])("%o: version %o, nack free: %p", (props, version, free) => {
    expect(rabbitVersion(broker(props))).toEqual(version);
    expect(nackIsFree(broker(props))).toBe(free);
  });
});

describe("sameTask: a moved dead task is published as it was", () => {
  const address = { address: { user: "guest" } } as unknown as Pick<Broker, "address">;
  const props = (extra: Partial<MessageProperties>): MessageProperties =>
    ({
      contentType: undefined,
      contentEncoding: undefined,
      headers: undefined,
      deliveryMode: 2,
      priority: undefined,
      correlationId: undefined,
      replyTo: undefined,
      expiration: undefined,
      messageId: "m-1",
      timestamp: undefined,
      type: undefined,
      userId: undefined,
      appId: undefined,
      clusterId: undefined,
      ...extra,
    }) as MessageProperties;

  test.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      "properties kept, unset ones and the delivery mode left out",
      { contentType: "text/plain", timestamp: 1_767_323_045, appId: "app" },
      { messageId: "m-1", contentType: "text/plain", timestamp: 1_767_323_045, appId: "app" },
    ],
    [
      "the task's headers kept, the delivery's own counts dropped",
      {
        headers: { "x-taskq-reason": "boom", "x-death": [{ count: 1 }], "x-delivery-count": 3, "x-acquired-count": 4 },
      },
      { messageId: "m-1", headers: { "x-taskq-reason": "boom", "x-death": [{ count: 1 }] } },
    ],
    ["no headers left: none sent", { headers: { "x-delivery-count": 0 } }, { messageId: "m-1" }],
    ["this login's user id kept", { userId: "guest" }, { messageId: "m-1", userId: "guest" }],
    ["another user's id left out (the broker would refuse the publish)", { userId: "alice" }, { messageId: "m-1" }],
  ])("%s", (_name, extra, expected) => {
    expect(sameTask(props(extra as Partial<MessageProperties>), address)).toEqual(expected);
  });
});
