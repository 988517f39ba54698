import { expect, test } from "bun:test";
import { uniqueQueue } from "../support/broker.ts";
import { TASKQ_BIN } from "../support/taskq.ts";

// `taskq status --watch | head -1`: the reader goes away after one line. taskq ends quietly, as a
// process killed by SIGPIPE would (141), never with a stack trace.
test.each([
  ["a table line per sample", []],
  ["JSON lines", ["--json"]],
])(
  "status --watch into a pipe that closes (%s): exit 141, nothing on stderr but taskq's own lines",
  async (_, extra) => {
    const queue = uniqueQueue("closed-pipe");
    const proc = Bun.spawn(
      [
        "bash",
        "-c",
        `"$0" status -q "$1" --watch 100ms --no-management ${extra.join(" ")} | head -1; echo "status=\${PIPESTATUS[0]}" >&2`,
        TASKQ_BIN,
        queue,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [out, err] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(out).toContain(queue);
    expect(err).not.toMatch(/EPIPE|internal error|at /);
    expect(err).toContain("status=141");
  },
  30_000,
);
