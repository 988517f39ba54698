import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { deleteQueues, readyCount, uniqueQueue } from "../support/broker.ts";
import { versionBroker } from "../support/versions.ts";
import { TASKQ_BIN } from "../support/taskq.ts";
import { Terminal } from "../support/tmux.ts";

const terminals: Terminal[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const t of terminals) await t.close();
  for (const clean of cleanups) await clean();
});

// The tutorial's scenario on each RabbitMQ version taskq supports (test/support/versions.ts).
for (const version of ["4.3", "4.0", "3.10"] as const) {
  describe(`the tutorial on RabbitMQ ${version}`, () => {
    const broker = versionBroker(version);
    beforeAll(() => broker.up(), 240_000);
    test(
      "two workers share the sender's tasks; Ctrl+C finishes the task; Ctrl+C twice hands it to the other worker",
      () => tutorial(broker.url),
      120_000,
    );
  });
}

/** The README's three-terminal scenario, typed into real terminals, against the broker at `url`. */
async function tutorial(url: string): Promise<void> {
  if (!(await Terminal.available())) throw new Error("tmux is needed for this test (scripts/test installs it)");
  const queue = uniqueQueue("tutorial");
  cleanups.unshift(() => deleteQueues([queue], url));
  const env = { TASKQ_URL: url };
  const [w1, w2, sender] = [new Terminal(), new Terminal(), new Terminal()];
  terminals.push(w1, w2, sender);
  // Each '.' is 200 ms of work here (the tutorial uses a second).
  await w1.start(`${TASKQ_BIN} work -q ${queue} --dot-ms 200`, env);
  await w1.waitFor(/Waiting for tasks/);
  await w2.start(`${TASKQ_BIN} work -q ${queue} --dot-ms 200`, env);
  await w2.waitFor(/Waiting for tasks/);

  await sender.start(
    `${TASKQ_BIN} send -q ${queue} 'First message.' 'Second message..' 'Third message...' 'Fourth message....'`,
    env,
  );
  await sender.waitFor(/\[exit 0\]/);
  expect(await sender.screen()).toContain("sent 4 task(s)");
  const both = async () => `${await w1.screen()}\n${await w2.screen()}`;
  const deadline = Date.now() + 20_000;
  while (((await both()).match(/\[x\] Done/g) ?? []).length < 4) {
    if (Date.now() > deadline) throw new Error(`not all done:\n${await both()}`);
    await Bun.sleep(100);
  }
  // Handed out in turn: each worker did two of them.
  const one = await w1.screen();
  const two = await w2.screen();
  expect((one.match(/\[x\] Received/g) ?? []).length).toBe(2);
  expect((two.match(/\[x\] Received/g) ?? []).length).toBe(2);

  // Ctrl+C once while worker 1 works: it finishes that task, acks it and exits 0.
  await sender.close();
  const sender2 = new Terminal();
  terminals.push(sender2);
  await sender2.start(`${TASKQ_BIN} send -q ${queue} 'Long one..........' 'Long two..........'`, env);
  await w1.waitFor(/Received 'Long (one|two)\.+'[\s\S]*$/);
  await w1.keys("C-c");
  const after = await w1.waitFor(/\[exit \d+\]/, 15_000);
  expect(after).toMatch(
    /Received 'Long (one|two)\.+'\s*\n\^C \[\*\] Stopping: finishing the task[^\n]*\n \[x\] Done\n \[\*\] Stopped \(signal\): \d+ done, 0 retried, 0 dead, 0 handed back in [\d.]+m?s\n\[exit 0\]/,
  );
  expect(after).toContain("[exit 0]");
  await w2.waitFor(/Received 'Long (one|two)[\s\S]*Done[\s\S]*$/, 15_000);

  // Ctrl+C twice while worker 2 works: it quits at once and the task goes back
  // to the broker — here to a worker started again in terminal 1.
  const w3 = new Terminal();
  terminals.push(w3);
  const sender3 = new Terminal();
  terminals.push(sender3);
  await sender3.start(`${TASKQ_BIN} send -q ${queue} 'Interrupted task..........'`, env);
  await w2.waitFor(/Received 'Interrupted task/);
  await w2.keys("C-c");
  await w2.waitFor(/Stopping/);
  await w2.keys("C-c");
  expect(await w2.waitFor(/\[exit \d+\]/)).toContain("[exit 130]");
  await w3.start(`${TASKQ_BIN} work -q ${queue} --dot-ms 20`, env);
  await w3.waitFor(/Received 'Interrupted task\.+'[\s\S]*Done/);
  expect(await readyCount(queue, url)).toBe(0);
}
