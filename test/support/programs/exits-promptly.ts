// A library user's program: sends, works, stops, hands back; then prints "finished" and returns.
// Nothing taskq started may keep the process alive after that (the test times its exit).
import { send, work } from "taskq";

const url = process.env.TASKQ_TEST_URL as string;
const queue = process.env.TASKQ_TEST_QUEUE as string;
await send({ url, queue, tasks: ["a", "b", "c"] });
const worker = await work({ url, queue, maxTasks: 3 }, async () => {});
await worker.done;
await worker.handedBack(60_000); // nothing in flight: it must not hold the process for 60 s
console.log("finished");
