import { Command, CommanderError } from "@commander-js/extra-typings";
import { benchCommand } from "./commands/bench.ts";
import { completionsCommand } from "./commands/completions.ts";
import { deadCommand } from "./commands/dead.ts";
import { purgeCommand } from "./commands/purge.ts";
import { removeCommand } from "./commands/remove.ts";
import { sendCommand } from "./commands/send.ts";
import { statusCommand } from "./commands/status.ts";
import { workCommand } from "./commands/work.ts";
import { queueName } from "./commands/parsers.ts";
import { ExitCode, TaskqError, isClosedPipe } from "./errors.ts";
import { durationText } from "./util/duration.ts";
import { VERSION } from "./version.ts";

/** The command tree; each subcommand is defined in its own file. */
export function buildProgram(): Command {
  const program = new Command("taskq")
    .description("RabbitMQ work queues done right: acks, redelivery, durability, fair dispatch")
    .version(VERSION, "-V, --version")
    .enablePositionalOptions()
    .showSuggestionAfterError();
  for (const sub of [
    sendCommand(),
    workCommand(),
    statusCommand(),
    deadCommand(),
    purgeCommand(),
    removeCommand(),
    benchCommand(),
    completionsCommand(),
  ])
    program.addCommand(sub as unknown as Command);
  for (const cmd of everyCommand(program)) {
    if (cmd !== program) cmd.version(VERSION, "-V, --version");
    // Help shows duration defaults as they are typed ("5m"), not as milliseconds.
    for (const option of cmd.options) {
      if (option.flags.includes("<duration>") && typeof option.defaultValue === "number")
        option.defaultValueDescription = durationText(option.defaultValue);
      // Every command's -q: a reserved, empty or too long name is a usage error before connecting.
      if (option.long === "--queue") option.argParser(queueName);
    }
    cmd.exitOverride().configureOutput({
      outputError: (text, write) =>
        write(
          `taskq: ${text
            .replace(/^error: /, "")
            .trim()
            .replace(/\s*\n\s*/g, " ")}\n`,
        ),
    });
  }
  return program;
}

/** A command and all its subcommands, at every depth (`dead list` too). */
function* everyCommand(cmd: Command): Generator<Command> {
  yield cmd;
  for (const sub of cmd.commands) yield* everyCommand(sub as Command);
}

/** Runs the CLI and maps errors to exit codes: user errors in one line, bugs in full. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; help shown for a missing or unknown subcommand is a usage error.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (isClosedPipe(err)) return ExitCode.closedPipe;
    if (err instanceof TaskqError) {
      process.stderr.write(`taskq: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`taskq: internal error (a bug, please report it):\n${(err as Error)?.stack ?? String(err)}\n`);
    return ExitCode.runtime;
  }
}
