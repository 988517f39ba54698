import { usageError } from "../errors.ts";
import type { OutgoingTask } from "../core/publish/outgoing.ts";
import { type TaskSpec, isTaskSpec } from "./task-spec.ts";

/** What `send` takes as one task: text, bytes, JSON data, or a {@link TaskSpec} from `task()`. */
export type TaskInput = string | Buffer | Uint8Array | TaskSpec | object | number | boolean | null;

export const JSON_CONTENT_TYPE = "application/json";

/**
 * A task as core publishes it: a string as UTF-8 text and bytes as they are (no content type, as
 * the CLI sends them), anything else as JSON (`application/json`). `index` (1-based) names the task in errors.
 */
export function encodeTask(input: TaskInput, index: number): Buffer | OutgoingTask {
  if (!isTaskSpec(input)) return encodeData(input, index);
  const data = encodeData(input.data as TaskInput, index);
  const { id, headers, delayMs } = input.options;
  const out: OutgoingTask = Buffer.isBuffer(data) ? { body: data } : data;
  if (id !== undefined) out.messageId = id;
  if (headers !== undefined) out.headers = headers;
  if (delayMs !== undefined) out.delayMs = delayMs;
  return out;
}

function encodeData(data: TaskInput, index: number): Buffer | OutgoingTask {
  if (typeof data === "string") return Buffer.from(data);
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (isTaskSpec(data)) throw usageError(`task ${index}: a task() inside a task(): pass the data itself`);
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (err) {
    throw usageError(`task ${index} is not JSON-serialisable: ${(err as Error)?.message ?? err}`);
  }
  // undefined, a function, a symbol: JSON.stringify gives nothing for them.
  if (text === undefined) throw usageError(`task ${index} is ${typeof data}: send a string, a Buffer, or JSON data`);
  return { body: Buffer.from(text), contentType: JSON_CONTENT_TYPE };
}

/**
 * Each task of `tasks` encoded; a task id used twice in one send is refused (it would read as one task's duplicate).
 * One string or Buffer as `tasks` is refused at once: iterated, it would be a task per character or byte.
 */
export function encodeTasks(
  tasks: Iterable<TaskInput> | AsyncIterable<TaskInput>,
): AsyncGenerator<Buffer | OutgoingTask> {
  if (typeof tasks === "string" || tasks instanceof Uint8Array) {
    const [list, one, unit] = typeof tasks === "string" ? ["text", "string", "character"] : ["bytes", "Buffer", "byte"];
    throw usageError(
      `tasks must be a list (tasks: [${list}]), not one ${one}: iterated, it would send a task per ${unit}`,
    );
  }
  return encodeEach(tasks);
}

async function* encodeEach(
  tasks: Iterable<TaskInput> | AsyncIterable<TaskInput>,
): AsyncGenerator<Buffer | OutgoingTask> {
  const ids = new Set<string>();
  let index = 0;
  for await (const input of tasks) {
    const out = encodeTask(input, ++index);
    const id = Buffer.isBuffer(out) ? undefined : out.messageId;
    if (id !== undefined) {
      if (ids.has(id))
        throw usageError(
          `task ${index} has id '${id}' as an earlier task of this send: ids must be unique within a send`,
        );
      ids.add(id);
    }
    yield out;
  }
}
