/** A real terminal for tests of what a person sees: tmux, capture-pane. */
export class Terminal {
  readonly session = `taskq-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  static async available(): Promise<boolean> {
    return (await Bun.spawn(["tmux", "-V"], { stdout: "ignore", stderr: "ignore" }).exited.catch(() => 1)) === 0;
  }

  /** Starts `command` (a shell line) in a detached 120x30 terminal; the pane stays after it exits. */
  async start(command: string, env: Record<string, string> = {}): Promise<void> {
    const exports = Object.entries(env)
      .map(([k, v]) => `export ${k}='${v.replaceAll("'", "'\\''")}'; `)
      .join("");
    await this.tmux(
      "new-session",
      "-d",
      "-s",
      this.session,
      "-x",
      "120",
      "-y",
      "30",
      `${exports}${command}; echo "[exit $?]"; sleep 60`,
    );
  }

  /** The screen as text; with `escapes`, including colour and attribute codes. */
  async screen(escapes = false): Promise<string> {
    return this.tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", this.session);
  }

  async waitFor(pattern: RegExp, ms = 20_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const text = await this.screen();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`terminal never showed ${pattern}:\n${text}`);
      await Bun.sleep(50);
    }
  }

  /** Types keys as a person would (tmux key names: "C-c", "Enter"). */
  async keys(...keys: string[]): Promise<void> {
    await this.tmux("send-keys", "-t", this.session, ...keys);
  }

  async close(): Promise<void> {
    await this.tmux("kill-session", "-t", this.session).catch(() => "");
  }

  private async tmux(...args: string[]): Promise<string> {
    const proc = Bun.spawn(["tmux", ...args], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) throw new Error(`tmux ${args[0]} failed: ${err}`);
    return out;
  }
}
