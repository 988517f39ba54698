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
 * task it starts; a body starting with "block" waits until `release()`; a
 * body starting with "fail" exits 3; "exit N" exits N; "tempfail" exits 75
 * the first time and 0 after.
 */
export class TestHandler {
  readonly dir = mkdtempSync(join(tmpdir(), "taskq-handler-"));
  readonly script = join(this.dir, "handle.sh");
  readonly logFile = join(this.dir, "log");
  readonly releaseFile = join(this.dir, "release");

  constructor() {
    writeFileSync(
      this.script,
      `#!/bin/sh
body=$(cat)
echo "$WORKER|$TASKQ_MESSAGE_ID|$TASKQ_REDELIVERED|$TASKQ_ATTEMPT|$body" >> "${this.logFile}"
case "$body" in
  block*) while [ ! -f "${this.releaseFile}" ]; do sleep 0.02; done ;;
  fail*) echo "cannot do $body" >&2; exit 3 ;;
  "exit "*) exit "\${body#exit }" ;;
  tempfail*) if [ ! -f "${this.dir}/tempfailed" ]; then : > "${this.dir}/tempfailed"; exit 75; fi ;;
esac
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

  lines(): LogLine[] {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [worker = "", id = "", redelivered = "", attempt = "", ...body] = line.split("|");
        return { worker, id, redelivered: redelivered === "1", attempt: Number(attempt), body: body.join("|") };
      });
  }
}
