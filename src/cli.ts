#!/usr/bin/env bun
/**
 * The entry point: `taskq --version` answers before anything else is loaded
 * (the command tree alone, commander included, costs more start-up than the
 * rest of the process); everything else loads the program, and each command
 * loads the AMQP code only when it runs.
 */
import { VERSION } from "./version.ts";

/** Lets piped output (e.g. `work --json` lines) reach the reader before exit. */
async function drained(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength > 0) await new Promise((resolve) => stream.once("drain", resolve));
}

async function run(argv: string[]): Promise<never> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    // console.log, not process.stdout: the first touch of process.stdout builds Node's stream
    // stack, about half of this whole process (17 vs 35 ms here, side by side).
    console.log(VERSION);
    process.exit(0);
  }
  // A reader that went away mid-stream (`taskq status --watch | head -1`) ends the process
  // quietly, as SIGPIPE would, wherever the failed write was.
  const closedPipe = (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(141);
    process.stderr.write(`taskq: internal error (a bug, please report it):\n${err.stack ?? String(err)}\n`);
    process.exit(1);
  };
  process.stdout.on("error", closedPipe);
  process.on("uncaughtException", closedPipe);
  const { main } = await import("./program.ts");
  const code = await main(argv);
  await Promise.race([Promise.all([drained(process.stdout), drained(process.stderr)]), Bun.sleep(2000)]);
  process.exit(code);
}

// No top-level await: the binary is compiled to bytecode (scripts/build), which needs none.
if (import.meta.main) void run(process.argv.slice(2));
