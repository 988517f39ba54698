import { type CommandSpec, type FlagSpec, all, flagNames, key, runsCommand } from "./completion-spec.ts";

// One completion script per shell, written from the command tree (completion-spec.ts); `header` becomes its first
// comment lines.

export function bashScript(root: CommandSpec, header: string[]): string {
  const specs = all(root);
  const fn = `_${key(root)}`;
  const alternatives = (spec: CommandSpec, flags: FlagSpec[]) =>
    flags
      .flatMap(flagNames)
      .map((n) => `"${key(spec)} ${n}"`)
      .join(" | ");
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
    ...specs.flatMap((s) =>
      s.flags.some((f) => f.takes !== "nothing")
        ? [
            `      ${alternatives(
              s,
              s.flags.filter((f) => f.takes !== "nothing"),
            )}) i=$((i + 1)) ;;`,
          ]
        : [],
    ),
    '      *" --")',
    ...specs
      .filter(runsCommand)
      .map(
        (s) =>
          `        if [[ $cmd == ${key(s)} ]] && ((i + 1 == COMP_CWORD)); then COMPREPLY=($(compgen -c -- "$cur")); return 0; fi`,
      ),
    "        compopt -o default 2>/dev/null; COMPREPLY=(); return 0 ;;",
    "    esac",
    "  done",
    '  case "$cmd $prev" in',
    ...specs.flatMap((s) =>
      s.flags.flatMap((f) =>
        Array.isArray(f.takes)
          ? [`    ${alternatives(s, [f])}) COMPREPLY=($(compgen -W "${f.takes.join(" ")}" -- "$cur")); return 0 ;;`]
          : [],
      ),
    ),
    ...valueCase(
      (f) => f.takes === "path",
      "local IFS=$'\\n'; compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")); return 0",
    ),
    ...valueCase((f) => f.takes === "value", "COMPREPLY=(); return 0"),
    "  esac",
    '  local words="" opts=""',
    "  case $cmd in",
    ...specs.map((s) => {
      const words = [...s.commands.map((c) => c.path.at(-1)), ...s.args.flatMap((a) => a.values)];
      return `    ${key(s)}) words="${words.join(" ")}" opts="${s.flags.flatMap((f) => (f.long ? [f.long] : [])).join(" ")}" ;;`;
    }),
    "  esac",
    "  if [[ $cur == -* || -z $words ]]; then words=$opts; fi",
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
  const exclusive =
    flag.long === "--help" || flag.long === "--version" ? "(- *)" : both.length > 1 ? `(${both.join(" ")})` : "";
  const value = zspec(flag.placeholder ?? "value");
  const action =
    flag.takes === "nothing"
      ? ""
      : flag.takes === "path"
        ? `:${value}:_files`
        : flag.takes === "value"
          ? `:${value}: `
          : `:${value}:(${flag.takes.join(" ")})`;
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
    return [
      `${fn}() {`,
      `  _arguments -s -S \\`,
      ...[...flags, ...args].map((s, i, list) => `    ${s}${i < list.length - 1 ? " \\" : ""}`),
      "}",
    ];
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

export function zshScript(root: CommandSpec, header: string[]): string {
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

export function fishScript(root: CommandSpec, header: string[]): string {
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
    `            case ${specs
      .slice(1)
      .map((s) => fq(s.path.join(" ")))
      .join(" ")}`,
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
    for (const sub of spec.commands)
      lines.push(`complete -c ${prog} ${at(spec)} -a ${fq(sub.path.at(-1) as string)} -d ${fq(sub.description)}`);
    for (const value of spec.args.flatMap((a) => a.values))
      lines.push(`complete -c ${prog} ${at(spec)} -a ${fq(value)}`);
    for (const flag of spec.flags) {
      const short = flag.short ? ` -s ${flag.short.slice(1)}` : "";
      const long = flag.long ? ` -l ${flag.long.slice(2)}` : "";
      const takes =
        flag.takes === "nothing"
          ? ""
          : flag.takes === "path"
            ? " -rF"
            : flag.takes === "value"
              ? " -x"
              : ` -xa ${fq(flag.takes.join(" "))}`;
      lines.push(`complete -c ${prog} ${at(spec)}${short}${long}${takes} -d ${fq(flag.description)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
