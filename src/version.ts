import pkg from "../package.json" with { type: "json" };

declare const TASKQ_COMMIT: string | undefined;

/** `0.1.0 (abc1234)`: the commit is baked in by `bun run build`. */
export const VERSION = `${pkg.version} (${typeof TASKQ_COMMIT === "string" ? TASKQ_COMMIT : "source"})`;
