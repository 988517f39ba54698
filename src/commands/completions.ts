import { Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { usageError } from "../errors.ts";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** Values an option takes where commander cannot see them (parsers.ts `queueType` checks them but lists none). */
const OPTION_VALUES: Record<string, readonly string[]> = { "--queue-type": ["classic", "quorum"] };
/** Values a positional argument takes, by argument name. */
const ARGUMENT_VALUES: Record<string, readonly string[]> = { shell: SHELLS };

/** What an option is followed by: nothing, a free value, a file, or one of some words. */
type Takes = "nothing" | "value" | "path" | readonly string[];

interface FlagSpec {
  short?: string;
  long?: string;
  description: string;
  /** The value's name in the help, e.g. `duration`. */
  placeholder?: string;
  takes: Takes;
}

/** One command as the completion scripts see it, read off the commander tree. */
interface CommandSpec {
  path: string[];
  description: string;
  flags: FlagSpec[];
  commands: CommandSpec[];
  args: { name: string; variadic: boolean; required: boolean; values: readonly string[] }[];
}

function specOf(cmd: CommandUnknownOpts, path: string[], siblings: string[]): CommandSpec {
  const help = cmd.createHelp();
  const flags = help.visibleOptions(cmd).map((opt): FlagSpec => {
    const placeholder = /[<[]([^>\]]+)[>\]]/.exec(opt.flags)?.[1];
    const choices = opt.argChoices ?? (opt.long !== undefined ? OPTION_VALUES[opt.long] : undefined);
    // `<path>` in the flags (--file, --ca, --report) means a file name.
    const takes: Takes = placeholder === undefined ? "nothing" : choices !== undefined ? choices : placeholder === "path" ? "path" : "value";
    const spec: FlagSpec = { description: opt.description, takes };
    if (opt.short !== undefined) spec.short = opt.short;
    if (opt.long !== undefined) spec.long = opt.long;
    if (placeholder !== undefined) spec.placeholder = placeholder;
    return spec;
  });
  const subs = help.visibleCommands(cmd);
  const subNames = subs.map((sub) => sub.name()).filter((name) => name !== "help");
  // The implicit `help` command takes the name of a sibling command.
  const args = path.at(-1) === "help" && cmd.registeredArguments.length <= 1
    ? [{ name: "command", variadic: false, required: false, values: siblings }]
    : cmd.registeredArguments.map((arg) => ({ name: arg.name(), variadic: arg.variadic, required: arg.required, values: arg.argChoices ?? ARGUMENT_VALUES[arg.name()] ?? [] }));
  return { path, description: cmd.description(), flags, args, commands: subs.map((sub) => specOf(sub, [...path, sub.name()], subNames)) };
}

const all = (spec: CommandSpec): CommandSpec[] => [spec, ...spec.commands.flatMap(all)];
const key = (spec: CommandSpec): string => spec.path.join("_").replace(/[^A-Za-z0-9_]/g, "_");
const flagNames = (flag: FlagSpec): string[] => [flag.short, flag.long].filter((n): n is string => n !== undefined);
/** `work -- COMMAND ARGS`: the rest of the line is a command of its own. */
const runsCommand = (spec: CommandSpec): boolean => spec.path.at(-1) !== "help" && spec.args.some((a) => a.variadic && a.name === "command");

function bash(root: CommandSpec, header: string[]): string {
  const specs = all(root);
  const fn = `_${key(root)}`;
  const alternatives = (spec: CommandSpec, flags: FlagSpec[]) => flags.flatMap(flagNames).map((n) => `"${key(spec)} ${n}"`).join(" | ");
  const valueCase = (pick: (f: FlagSpec) => boolean, action: string) =>
    specs.flatMap((s) => (s.flags.some(pick) ? [`    ${alternatives(s, s.flags.filter(pick))}) ${action} ;;`] : []));
  const lines = [
    ...header.map((h) => `# ${h}`),
    `${fn}() {`,
    "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}",
    "  # COMP_WORDBREAKS splits --option=value into '--option' '=' 'value'.",
    '  if [[ $cur == "=" ]]; then cur=""; elif [[ $prev == "=" && $COMP_CWORD -ge 2 ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi',
    `  local cmd=${key(root)} i`,
    "  for ((i = 1; i < COMP_CWORD; i++)); do",
    '    case "$cmd ${COMP_WORDS[i]}" in',
    ...specs.flatMap((s) => s.commands.map((sub) => `      "${key(s)} ${sub.path.at(-1)}") cmd=${key(sub)} ;;`)),
    ...specs.flatMap((s) => (s.flags.some((f) => f.takes !== "nothing") ? [`      ${alternatives(s, s.flags.filter((f) => f.takes !== "nothing"))}) i=$((i + 1)) ;;`] : [])),
    '      *" --")',
    ...specs.filter(runsCommand).map((s) => `        if [[ $cmd == ${key(s)} ]] && ((i + 1 == COMP_CWORD)); then COMPREPLY=($(compgen -c -- "$cur")); return 0; fi`),
    "        compopt -o default 2>/dev/null; COMPREPLY=(); return 0 ;;",
    "    esac",
    "  done",
    '  case "$cmd $prev" in',
    ...specs.flatMap((s) =>
      s.flags.flatMap((f) => (Array.isArray(f.takes) ? [`    ${alternatives(s, [f])}) COMPREPLY=($(compgen -W "${f.takes.join(" ")}" -- "$cur")); return 0 ;;`] : [])),
    ),
    ...valueCase((f) => f.takes === "path", "local IFS=$'\\n'; compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")); return 0"),
    ...valueCase((f) => f.takes === "value", "COMPREPLY=(); return 0"),
    "  esac",
    '  local words="" opts=""',
    "  case $cmd in",
    ...specs.map((s) => {
      const words = [...s.commands.map((c) => c.path.at(-1)), ...s.args.flatMap((a) => a.values)];
      return `    ${key(s)}) words="${words.join(" ")}" opts="${s.flags.flatMap((f) => (f.long ? [f.long] : [])).join(" ")}" ;;`;
    }),
    "  esac",
    '  if [[ $cur == -* || -z $words ]]; then words=$opts; fi',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    "}",
    `complete -F ${fn} ${root.path[0]}`,
  ];
  return `${lines.join("\n")}\n`;
}

/** A single-quoted word for zsh and bash. */
const sq = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;
/** Text inside an `_arguments` spec, where []:\ $ and ` mean something. */
const zspec = (text: string): string => text.replace(/[\\[\]:$`]/g, "\\$&");

function zshFlag(flag: FlagSpec): string {
  const both = flagNames(flag);
  const exclusive = flag.long === "--help" || flag.long === "--version" ? "(- *)" : both.length > 1 ? `(${both.join(" ")})` : "";
  const value = zspec(flag.placeholder ?? "value");
  const action = flag.takes === "nothing" ? "" : flag.takes === "path" ? `:${value}:_files` : flag.takes === "value" ? `:${value}: ` : `:${value}:(${flag.takes.join(" ")})`;
  const rest = `[${zspec(flag.description)}]${action}`;
  return both.length > 1 ? `${sq(exclusive)}{${both.join(",")}}${sq(rest)}` : sq(`${exclusive}${both.join("")}${rest}`);
}

function zshFunction(spec: CommandSpec): string[] {
  const fn = `_${key(spec)}`;
  const flags = spec.flags.map(zshFlag);
  if (spec.commands.length === 0) {
    const args = runsCommand(spec)
      ? ["'*:: :_normal'"]
      : spec.args.map((a, i) => {
          const action = a.values.length > 0 ? `(${a.values.join(" ")})` : " ";
          return sq(`${a.variadic ? "*" : `${i + 1}${a.required ? "" : ":"}`}:${zspec(a.name)}:${action}`);
        });
    return [`${fn}() {`, `  _arguments -s -S \\`, ...[...flags, ...args].map((s, i, list) => `    ${s}${i < list.length - 1 ? " \\" : ""}`), "}"];
  }
  return [
    `${fn}() {`,
    "  local curcontext=$curcontext state line",
    "  typeset -A opt_args",
    "  _arguments -C -s -S \\",
    ...flags.map((s) => `    ${s} \\`),
    "    '1: :->command' \\",
    "    '*:: :->args'",
    "  case $state in",
    "    command)",
    "      local -a commands=(",
    ...spec.commands.map((c) => `        ${sq(`${c.path.at(-1)}:${c.description}`)}`),
    "      )",
    `      _describe -t commands ${sq(`${spec.path.join(" ")} command`)} commands ;;`,
    "    args)",
    `      curcontext=\${curcontext%:*:*}:${spec.path.join("-")}-$line[1]:`,
    "      case $line[1] in",
    ...spec.commands.map((c) => `        ${c.path.at(-1)}) _${key(c)} ;;`),
    "      esac ;;",
    "  esac",
    "}",
  ];
}

function zsh(root: CommandSpec, header: string[]): string {
  const fn = `_${key(root)}`;
  const lines = [
    `#compdef ${root.path[0]}`,
    ...header.map((h) => `# ${h}`),
    "",
    ...all(root).flatMap((spec) => [...zshFunction(spec), ""]),
    "# Autoloaded from $fpath: complete now; sourced: register.",
    `if [[ $zsh_eval_context[-1] == loadautofunc ]]; then ${fn} "$@"; else compdef ${fn} ${root.path[0]}; fi`,
  ];
  return `${lines.join("\n")}\n`;
}

/** A single-quoted word for fish. */
const fq = (text: string): string => `'${text.replace(/[\\']/g, "\\$&")}'`;

function fish(root: CommandSpec, header: string[]): string {
  const specs = all(root);
  const prog = root.path[0] as string;
  const at = (spec: CommandSpec) => `-n ${fq(`__${prog}_at ${spec.path.join(" ")}`)}`;
  const lines = [
    ...header.map((h) => `# ${h}`),
    "",
    `function __${prog}_path --description 'the ${prog} subcommands typed so far, e.g. "${prog} dead list"'`,
    `    set -l path ${prog}`,
    "    set -l words (commandline -opc)",
    "    set -e words[1]",
    "    for word in $words",
    '        switch "$path $word"',
    `            case ${specs.slice(1).map((s) => fq(s.path.join(" "))).join(" ")}`,
    '                set path "$path $word"',
    "        end",
    "    end",
    "    echo $path",
    "end",
    `function __${prog}_at`,
    `    test (__${prog}_path) = "$argv"`,
    "end",
    "",
    `complete -c ${prog} -f`,
  ];
  for (const spec of specs) {
    for (const sub of spec.commands) lines.push(`complete -c ${prog} ${at(spec)} -a ${fq(sub.path.at(-1) as string)} -d ${fq(sub.description)}`);
    for (const value of spec.args.flatMap((a) => a.values)) lines.push(`complete -c ${prog} ${at(spec)} -a ${fq(value)}`);
    for (const flag of spec.flags) {
      const short = flag.short ? ` -s ${flag.short.slice(1)}` : "";
      const long = flag.long ? ` -l ${flag.long.slice(2)}` : "";
      const takes = flag.takes === "nothing" ? "" : flag.takes === "path" ? " -rF" : flag.takes === "value" ? " -x" : ` -xa ${fq(flag.takes.join(" "))}`;
      lines.push(`complete -c ${prog} ${at(spec)}${short}${long}${takes} -d ${fq(flag.description)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The completion script for `shell`, generated from the command tree so it cannot drift from the CLI. */
export function completionScript(shell: Shell, program: CommandUnknownOpts): string {
  const root = specOf(program, [program.name()], []);
  const header = [
    `${shell} completion for ${program.name()} ${program.version() ?? ""}, generated by \`${program.name()} completions ${shell}\``,
    ...{
      bash: [`now: source <(${program.name()} completions bash)`, `for good: ${program.name()} completions bash > ~/.local/share/bash-completion/completions/${program.name()}`],
      zsh: [`now: source <(${program.name()} completions zsh)`, `for good: ${program.name()} completions zsh > "\${fpath[1]}/_${program.name()}" (then start a new shell)`],
      fish: [`now: ${program.name()} completions fish | source`, `for good: ${program.name()} completions fish > ~/.config/fish/completions/${program.name()}.fish`],
    }[shell],
  ];
  return { bash, zsh, fish }[shell](root, header);
}

const isShell = (text: string): text is Shell => (SHELLS as readonly string[]).includes(text);

export function completionsCommand() {
  return new Command("completions")
    .description("print a completion script for bash, zsh or fish")
    .argument("<shell>", "bash, zsh or fish")
    .action((shell, _flags, cmd) => {
      if (!isShell(shell)) throw usageError(`unknown shell '${shell}': taskq completes bash, zsh and fish`);
      let root: CommandUnknownOpts = cmd;
      while (root.parent) root = root.parent;
      process.stdout.write(completionScript(shell, root));
    });
}
