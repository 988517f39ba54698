import { AMQPLIB_TABLE_BYTES, tableBytes } from "../core/failures/header-bytes.ts";
import { usageError } from "../errors.ts";

/** A header value a task may carry (AMQP table values taskq passes through as they are). */
export type HeaderValue = string | number | boolean;

/** What `task(data, options)` lets one task carry besides its data. */
export interface TaskOptions {
  /**
   * The task's message id (AMQP `message_id`), instead of a generated one: an idempotency key a
   * handler can check, since a task may be delivered more than once. At most 255 bytes, unique within one send.
   */
  id?: string;
  /**
   * Headers of its own; `x-taskq-*`, `x-death`, `x-delivery-count` and `x-acquired-count` are taskq's and the broker's.
   * At most MAX_TASK_HEADERS_BYTES (60 KiB) as AMQP encodes them: the rest of amqplib's 64 KiB is
   * room for what taskq adds to its retry and dead copies, so they always keep these whole.
   */
  headers?: Record<string, HeaderValue>;
  /**
   * Reaches the queue this much later (whole ms, through `<queue>.delay.<ms>`), instead of the send's `delayMs`; 0 = at
   * once.
   */
  delayMs?: number;
}

/** Tells a `task()` apart from data, across copies of the package: a symbol no JSON can hold. */
const BRAND = Symbol.for("taskq.task");

/** One task with options of its own, made by {@link task}: never mistaken for data, which a plain object always is. */
export class TaskSpec<T = unknown> {
  readonly [BRAND] = true;
  constructor(
    readonly data: T,
    readonly options: Readonly<TaskOptions>,
  ) {}
}

export function isTaskSpec(value: unknown): value is TaskSpec {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

const RESERVED = /^(x-taskq-|x-death$|x-delivery-count$|x-acquired-count$)/i;

/**
 * Most bytes a task's own headers may take, encoded (a name and value cost about their lengths
 * plus 6 bytes). amqplib sends at most AMQPLIB_TABLE_BYTES (64 KiB) of headers; taskq's own on a
 * copy fit in what is left once shortened (fit-headers.ts), so a copy never drops these.
 */
export const MAX_TASK_HEADERS_BYTES = AMQPLIB_TABLE_BYTES - 4096;
/**
 * taskq's longest per-message expiry, 2^32 - 1 ms (about 49 days; the broker takes up to 10 years:
 * broker-rules.test.ts).
 */
const MAX_DELAY_MS = 2 ** 32 - 1;

/** `delayMs` (a task's or a send's) as given, checked: whole milliseconds the broker can wait, 0 = at once. */
export function checkedDelay(delayMs: number | undefined, what: string): number | undefined {
  if (delayMs !== undefined && (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS))
    throw usageError(
      `${what} must be whole milliseconds from 0 to ${MAX_DELAY_MS} (49 days), got ${JSON.stringify(delayMs)}`,
    );
  return delayMs;
}

/**
 * One task with its own id, headers or delay; `data` is sent as `send` sends any task (a string as
 * text, a Buffer as bytes, anything else as JSON). Bad options throw a TaskqError at once.
 *
 * @example
 * ```ts
 * await send({ queue: "emails", tasks: [task({ userId: 42 }, { id: "welcome-42", delayMs: 5000 })] });
 * ```
 */
export function task<T>(data: T, options: TaskOptions = {}): TaskSpec<T> {
  const { id, headers, delayMs } = options;
  if (id !== undefined && (typeof id !== "string" || id === "" || Buffer.byteLength(id) > 255))
    throw usageError(
      `task id must be a non-empty string of at most 255 bytes, got ${JSON.stringify(id)?.slice(0, 80)}`,
    );
  checkedDelay(delayMs, "task delayMs");
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (RESERVED.test(name))
      throw usageError(
        `task header '${name}' is reserved (x-taskq-*, x-death, x-delivery-count and x-acquired-count are taskq's and the broker's)`,
      );
    if (!["string", "number", "boolean"].includes(typeof value))
      throw usageError(
        `task header '${name}' must be a string, number or boolean, got ${value === null ? "null" : typeof value}`,
      );
    if (typeof value === "number" && !Number.isFinite(value))
      throw usageError(`task header '${name}' must be a finite number, got ${value}`);
    if (Buffer.byteLength(name) > 255)
      throw usageError(`task header name '${name.slice(0, 40)}…' is longer than AMQP's 255 bytes`);
  }
  const bytes = headers === undefined ? 0 : tableBytes(headers);
  if (bytes > MAX_TASK_HEADERS_BYTES)
    throw usageError(
      `task headers take ${bytes.toLocaleString("en-US")} bytes encoded, more than ${MAX_TASK_HEADERS_BYTES.toLocaleString("en-US")}: amqplib sends at most ${AMQPLIB_TABLE_BYTES.toLocaleString("en-US")}, and taskq's retry and dead copies need the rest; put large data in the task's body`,
    );
  return new TaskSpec(data, { ...options, ...(headers ? { headers: { ...headers } } : {}) });
}
