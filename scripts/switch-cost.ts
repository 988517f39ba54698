// What a change of prefetch costs on a quorum queue, the way `--prefetch auto` makes it there
// (src/core/worker/consumer.ts): basic.qos, basic.consume, then basic.cancel of the old consumer,
// on one channel, 100 times while the channel consumes and acks at full speed. Prints the
// switch's time (median, max), deliveries that reached a consumer after its cancel-ok (amqplib
// would throw on them: counted here instead), and that every task arrived exactly once.
//   bun scripts/switch-cost.ts [URL]     (default amqp://guest:guest@127.0.0.1:5672)
import amqp from "amqplib";

const url = process.argv[2] ?? "amqp://guest:guest@127.0.0.1:5672";
const queue = `taskq-switch-cost-${process.pid}`;
const N = 20_000;
const conn = await amqp.connect(url);
const pub = await conn.createConfirmChannel();
await pub.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
for (let i = 0; i < N; i++) pub.sendToQueue(queue, Buffer.from(String(i)), { persistent: true });
await pub.waitForConfirms();

type Internal = amqp.Channel & {
  consumers: Map<string, unknown>;
  dispatchMessage: (fields: { consumerTag: string }, msg: amqp.ConsumeMessage) => void;
};
const ch = (await conn.createChannel()) as Internal;
const seen = new Map<string, number>();
let late = 0;
const onMessage = (msg: amqp.ConsumeMessage | null) => {
  if (!msg) return;
  const body = msg.content.toString();
  seen.set(body, (seen.get(body) ?? 0) + 1);
  ch.ack(msg);
};
const dispatch = ch.dispatchMessage.bind(ch);
ch.dispatchMessage = (fields, msg) => {
  if (ch.consumers.has(fields.consumerTag)) return dispatch(fields, msg);
  late++;
  onMessage(msg);
};

let tag = "switch-0";
await ch.prefetch(3);
await ch.consume(queue, onMessage, { consumerTag: tag });
const costs: number[] = [];
for (let i = 1; i <= 100; i++) {
  await Bun.sleep(10);
  const start = performance.now();
  await ch.prefetch(2 + (i % 3));
  const next = `switch-${i}`;
  await ch.consume(queue, onMessage, { consumerTag: next });
  await ch.cancel(tag);
  costs.push(performance.now() - start);
  tag = next;
}
await ch.cancel(tag);
await Bun.sleep(1000);
costs.sort((a, b) => a - b);
const ready = (await pub.checkQueue(queue)).messageCount;
const twice = [...seen.values()].filter((n) => n > 1).length;
console.log(
  `switch: median ${costs[50]?.toFixed(2)} ms, max ${costs[99]?.toFixed(2)} ms; late deliveries ${late}; done ${seen.size} + ready ${ready} = ${seen.size + ready} of ${N}, twice ${twice}`,
);
await pub.deleteQueue(queue);
await conn.close();
