import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { TaskProperties } from "../../src/core/publish/publisher.ts";

// amqplib's own encoder, reached by file path (its package exports only the public API): what
// sendToQueue runs before it writes a byte (lib/connection.js sendMessage -> lib/defs.js
// encodeBasicProperties -> lib/codec.js encodeTable into a 65,536-byte scratch buffer).
const require = createRequire(import.meta.url);
const lib = join(dirname(require.resolve("amqplib")), "lib");
const args = require(join(lib, "api_args.js")) as {
  publish(exchange: string, routingKey: string, options: object): object;
};
const defs = require(join(lib, "defs.js")) as {
  BasicProperties: number;
  encodeProperties(id: number, channel: number, size: number, fields: object): Buffer;
};
const codec = require(join(lib, "codec.js")) as { encodeTable(buffer: Buffer, table: object, offset: number): number };

/** The content header frame amqplib would write for a publish with these properties (as taskq's Publisher sends them); throws what amqplib throws. */
export function encodeHeaderFrame(properties: TaskProperties, bodyBytes = 0): Buffer {
  const fields = args.publish("", "q", { ...properties, persistent: true, mandatory: true });
  return defs.encodeProperties(defs.BasicProperties, 1, bodyBytes, fields);
}

/** The bytes amqplib writes for one field table (its 4-byte length included), in a buffer big enough for any. */
export function encodedTableBytes(table: Record<string, unknown>): number {
  return codec.encodeTable(Buffer.alloc(1 << 22), table, 0);
}
