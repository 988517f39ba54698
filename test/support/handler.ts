import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface LogLine {
  worker: string;
  id: string;
  redelivered: boolean;
  attempt: number;
  body: string;
}

/**
 * A handler command for `taskq work -- ...` that tests can steer: it logs every
 * task it starts (`lines()`), and every task it runs to its end, exit 0
 * (`finished()`); a body starting with "block" waits until `release()`; a
 * body starting with "fail" exits 3; "exit N" exits N (not logged as finished);
 * "tempfail" exits 75 the first time and 0 after.
 */
export class TestHandler {
  readonly dir = mkdtempSync(join(tmpdir(), "taskq-handler-"));
  readonly script = join(this.dir, "handle.sh");
  readonly logFile = join(this.dir, "log");
  readonly finishedFile = join(this.dir, "finished");
  readonly releaseFile = join(this.dir, "release");

  constructor() {
    writeFileSync(
      this.script,
      `#!/bin/sh
body=$(cat)
line="$WORKER|$TASKQ_MESSAGE_ID|$TASKQ_REDELIVERED|$TASKQ_ATTEMPT|$body"
echo "$line" >> "${this.logFile}"
case "$body" in
  block*) while [ ! -f "${this.releaseFile}" ]; do sleep 0.02; done ;;
  fail*) echo "cannot do $body" >&2; exit 3 ;;
  "exit "*) exit "\${body#exit }" ;;
  tempfail*) if [ ! -f "${this.dir}/tempfailed" ]; then : > "${this.dir}/tempfailed"; exit 75; fi ;;
esac
echo "$line" >> "${this.finishedFile}"
exit 0
`,
    );
    chmodSync(this.script, 0o755);
  }

  /** argv for `taskq work`, after the flags. */
  get command(): string[] {
    return ["--", this.script];
  }

  release(): void {
    writeFileSync(this.releaseFile, "");
  }

  get released(): boolean {
    return existsSync(this.releaseFile);
  }

  /** Every task started, in order. */
  lines(): LogLine[] {
    return readLog(this.logFile);
  }

  /** Every task run to its end (exit 0), in order. */
  finished(): LogLine[] {
    return readLog(this.finishedFile);
  }
}

function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [worker = "", id = "", redelivered = "", attempt = "", ...body] = line.split("|");
      return { worker, id, redelivered: redelivered === "1", attempt: Number(attempt), body: body.join("|") };
    });
}
