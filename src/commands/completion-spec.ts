import type { CommandUnknownOpts } from "@commander-js/extra-typings";

// The command tree as the completion scripts see it: read off commander, so the scripts cannot drift from the CLI.

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** Values an option takes where commander cannot see them (parsers.ts `queueType` checks them but lists none). */
const OPTION_VALUES: Record<string, readonly string[]> = { "--queue-type": ["classic", "quorum"] };
/** Values a positional argument takes, by argument name. */
const ARGUMENT_VALUES: Record<string, readonly string[]> = { shell: SHELLS };

/** What an option is followed by: nothing, a free value, a file, or one of some words. */
type Takes = "nothing" | "value" | "path" | readonly string[];

export interface FlagSpec {
  short?: string;
  long?: string;
  description: string;
  /** The value's name in the help, e.g. `duration`. */
  placeholder?: string;
  takes: Takes;
}

/** One command as the completion scripts see it, read off the commander tree. */
export interface CommandSpec {
  path: string[];
  description: string;
  flags: FlagSpec[];
  commands: CommandSpec[];
  args: { name: string; variadic: boolean; required: boolean; values: readonly string[] }[];
}

export function specOf(cmd: CommandUnknownOpts, path: string[], siblings: string[]): CommandSpec {
  const help = cmd.createHelp();
  const flags = help.visibleOptions(cmd).map((opt): FlagSpec => {
    const placeholder = /[<[]([^>\]]+)[>\]]/.exec(opt.flags)?.[1];
    const choices = opt.argChoices ?? (opt.long !== undefined ? OPTION_VALUES[opt.long] : undefined);
    // `<path>` in the flags (--file, --ca, --report) means a file name.
    const takes: Takes =
      placeholder === undefined
        ? "nothing"
        : choices !== undefined
          ? choices
          : placeholder === "path"
            ? "path"
            : "value";
    const spec: FlagSpec = { description: opt.description, takes };
    if (opt.short !== undefined) spec.short = opt.short;
    if (opt.long !== undefined) spec.long = opt.long;
    if (placeholder !== undefined) spec.placeholder = placeholder;
    return spec;
  });
  const subs = help.visibleCommands(cmd);
  const subNames = subs.map((sub) => sub.name()).filter((name) => name !== "help");
  // The implicit `help` command takes the name of a sibling command.
  const args =
    path.at(-1) === "help" && cmd.registeredArguments.length <= 1
      ? [{ name: "command", variadic: false, required: false, values: siblings }]
      : cmd.registeredArguments.map((arg) => ({
          name: arg.name(),
          variadic: arg.variadic,
          required: arg.required,
          values: arg.argChoices ?? ARGUMENT_VALUES[arg.name()] ?? [],
        }));
  return {
    path,
    description: cmd.description(),
    flags,
    args,
    commands: subs.map((sub) => specOf(sub, [...path, sub.name()], subNames)),
  };
}

export const all = (spec: CommandSpec): CommandSpec[] => [spec, ...spec.commands.flatMap(all)];
export const key = (spec: CommandSpec): string => spec.path.join("_").replace(/[^A-Za-z0-9_]/g, "_");
export const flagNames = (flag: FlagSpec): string[] =>
  [flag.short, flag.long].filter((n): n is string => n !== undefined);
/** `work -- COMMAND ARGS`: the rest of the line is a command of its own. */
export const runsCommand = (spec: CommandSpec): boolean =>
  spec.path.at(-1) !== "help" && spec.args.some((a) => a.variadic && a.name === "command");
