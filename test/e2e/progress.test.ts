import { afterAll, describe, expect, test } from "bun:test";
import { BROKER_URL, deleteQueues, uniqueQueue } from "../support/broker.ts";
import { TASKQ_BIN, runTaskq } from "../support/taskq.ts";
import { Terminal } from "../support/tmux.ts";

const queues: string[] = [];
const terminals: Terminal[] = [];
afterAll(async () => {
  for (const t of terminals) await t.close();
  await deleteQueues(queues);
});

describe("progress bars: in a terminal only", () => {
  test("a person in a terminal sees a progress bar while tasks go out, then the summary", async () => {
    if (!(await Terminal.available())) throw new Error("tmux is needed for this test (scripts/test installs it)");
    const queue = uniqueQueue("progress");
    queues.push(queue);
    const term = new Terminal();
    terminals.push(term);
    // A small window keeps the send going long enough to be seen.
    await term.start(`${TASKQ_BIN} send -q ${queue} --count 60000 --window 16`, {
      TASKQ_URL: BROKER_URL,
      NO_COLOR: "1",
    });
    const during = await term.waitFor(/send \[[#-]+\] \d+% \| \d+\/60000 \| \d+\/s \| ETA/);
    expect(during).toMatch(/send \[#*-+\]/);
    const withEscapes = await term.screen(true);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: an ANSI colour code starts with ESC, the character looked for
    expect(withEscapes).not.toMatch(/\x1b\[(3\d|9\d|4\d)(;\d+)*m/); // NO_COLOR: no colour codes
    const after = await term.waitFor(/\[exit \d+\]/, 120_000);
    expect(after).toContain("sent 60000 task(s)");
    expect(after).toContain("[exit 0]");
    expect(after).not.toMatch(/send \[[#-]+\]/); // the bar is cleared when done
  }, 150_000);

  test("bench shows a bar of the tasks done in the round, then the table", async () => {
    const term = new Terminal();
    terminals.push(term);
    await term.start(`${TASKQ_BIN} bench --tasks 1000 --workers 2 --work 5ms --prefetch 1`, { TASKQ_URL: BROKER_URL });
    await term.waitFor(/tasks done \[[#-]+\] \d+% \| \d+\/1000/);
    const after = await term.waitFor(/\[exit \d+\]/, 60_000);
    expect(after).toContain("[exit 0]");
    expect(after).toMatch(/throughput \(tasks\/s\)/);
    expect(after).not.toMatch(/tasks done \[[#-]+\]/);
  }, 90_000);

  test.each([
    ["piped", []],
    ["--json", ["--json"]],
    ["--quiet", ["--quiet"]],
  ])("%s: no bar on stderr", async (_label, flags) => {
    const queue = uniqueQueue("progress-pipe");
    queues.push(queue);
    const r = await runTaskq(["send", "-q", queue, "--count", "2000", ...flags]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    if (flags.includes("--quiet")) expect(r.stdout).toBe("");
  });
});
