import cliProgress from "cli-progress";

/** A progress bar that is only there for a person watching a terminal. */
export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  /** Off for --quiet or --json. */
  enabled: boolean;
  stream?: NodeJS.WriteStream;
}

const NONE: Progress = { update() {}, stop() {} };

/**
 * Draws on stderr when it is a TTY and `enabled`; otherwise does nothing, so
 * piped output and logs stay clean. No colour is used, so NO_COLOR holds.
 */
export function progressBar(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (!options.enabled || !stream.isTTY || options.total <= 0) return NONE;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${options.label} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}`,
      barCompleteChar: "#",
      barIncompleteChar: "-",
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.legacy,
  );
  const started = performance.now();
  bar.start(options.total, 0, { rate: "0" });
  return {
    update(done, total) {
      if (total !== undefined) bar.setTotal(total);
      const seconds = (performance.now() - started) / 1000;
      bar.update(done, { rate: seconds > 0 ? Math.round(done / seconds).toString() : "0" });
    },
    stop() {
      bar.stop();
    },
  };
}
