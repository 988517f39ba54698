import type { TaskProperties } from "./publisher.ts";

/**
 * A task with properties of its own (the library's JSON data and `task()` options); a bare Buffer
 * is a task with none (the CLI's, the bench's). Checked by the library before it gets here.
 */
export interface OutgoingTask {
  body: Buffer;
  /** Replaces the generated `<prefix>-<n>`: the caller's idempotency key. */
  messageId?: string;
  contentType?: string;
  headers?: Record<string, unknown>;
  /** This task's own delay, instead of the send's `delayMs` (0: at once). */
  delayMs?: number;
}

/** The properties of a task with its own: the message id given, or `fallbackId`. */
export function outgoingProperties(
  task: OutgoingTask,
  fallbackId: string,
  timestamp: number,
): TaskProperties & { messageId: string } {
  const properties: TaskProperties & { messageId: string } = { messageId: task.messageId ?? fallbackId, timestamp };
  if (task.contentType !== undefined) properties.contentType = task.contentType;
  if (task.headers !== undefined) properties.headers = task.headers;
  return properties;
}
