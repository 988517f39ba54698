/**
 * Most bytes of headers amqplib can publish. amqplib 2.x encodes a message's headers table into
 * one scratch buffer of this size (node_modules/amqplib/lib/defs.js: `SCRATCH = Buffer.alloc(65536)`,
 * used by encodeBasicProperties) and throws, before writing a byte, when a table does not fit
 * (lib/codec.js checkSpace: "Encoded field table (headers or arguments) exceeds the 65536 byte
 * encoding buffer"). The 4-byte length of the table counts. At RabbitMQ's default frame_max
 * (131,072 bytes) this binds first: with the other properties (ten short strings of at most 255
 * bytes, a few numbers) the content header frame is under 68,200 bytes. A connection with a lower
 * `?frameMax` (8,192 at least) is closed by the broker (501 frame_too_large) for a header frame
 * past it (test/unit/core/failures/header-frame.test.ts): copies are fitted to headerTableLimit.
 */
export const AMQPLIB_TABLE_BYTES = 65_536;

/**
 * Most bytes a content header frame takes besides its headers table: the frame's own 8 (type,
 * channel, size, end), class, weight, body size and flags (14), ten short strings of at most
 * 1 + 255 bytes (content type and encoding, correlation and message ids, reply-to, expiration,
 * type, user and app ids, cluster id), delivery mode, priority and timestamp (10).
 */
export const HEADER_FRAME_OVERHEAD = 8 + 14 + 10 * 256 + 10;

/**
 * Most bytes of headers a copy may carry on a connection that negotiated `frameMax` (amqplib
 * writes 0xffffffff for "no limit"): amqplib's table, or the frame less HEADER_FRAME_OVERHEAD if
 * smaller. At the smallest frame_max taskq takes (8,192) that is 5,600: taskq's shortened headers
 * (under 4 KiB, fit-headers.ts) fit.
 *
 * @example
 * headerTableLimit(8192); // 5600
 */
export const headerTableLimit = (frameMax: number): number =>
  Math.min(AMQPLIB_TABLE_BYTES, frameMax - HEADER_FRAME_OVERHEAD);

/**
 * amqplib's errors for a table it cannot encode (lib/codec.js): too big, or a value of no AMQP
 * type (a bigint, undefined in an array). Sending the same headers again cannot mend them.
 */
export const UNENCODABLE = /exceeds the \d+ byte encoding buffer|Unknown type to encode/;

/**
 * The bytes amqplib writes for `table` as a field table (lib/codec.js encodeTable), its 4-byte
 * length included; Infinity when amqplib would throw on it (a value of no AMQP type, a key over
 * 255 bytes). Keys are iterated as amqplib does (`for in`), undefined values skipped. Byte for byte
 * against amqplib's own encoder: test/unit/core/failures/header-bytes.test.ts.
 *
 * @example
 * tableBytes({ tenant: "a" }); // 4 + (1 + 6) + (1 + 4 + 1) = 17
 */
export function tableBytes(table: object): number {
  let bytes = 4;
  for (const key in table) {
    const value = (table as Record<string, unknown>)[key];
    if (value !== undefined) bytes += entryBytes(key, value);
  }
  return bytes;
}

/** One entry of a table: key length, key, value (with its type tag). */
export function entryBytes(key: string, value: unknown): number {
  const keyBytes = Buffer.byteLength(key);
  return keyBytes > 255 ? Infinity : 1 + keyBytes + valueBytes(value);
}

/** Bytes of a field value after its type tag, by amqplib's type names (its `{ "!": type, value }` too). */
const FIXED: Readonly<Record<string, number>> = {
  boolean: 1,
  byte: 1,
  int8: 1,
  unsignedbyte: 1,
  uint8: 1,
  short: 2,
  int16: 2,
  unsignedshort: 2,
  uint16: 2,
  int: 4,
  int32: 4,
  unsignedint: 4,
  uint32: 4,
  float: 4,
  decimal: 5,
  double: 8,
  float64: 8,
};
/** Types amqplib writes through BigInt(): a fraction or an infinity throws there. */
const WHOLE_64 = new Set(["long", "int64", "timestamp"]);

function valueBytes(value: unknown): number {
  let type: string = typeof value;
  let val = value;
  if (value !== null && type === "object" && Object.hasOwn(value as object, "!")) {
    type = String((value as { "!": unknown })["!"]);
    val = (value as { value?: unknown }).value;
  }
  if (type === "number") type = numberType(val as number);
  if (WHOLE_64.has(type)) return typeof val === "bigint" || Number.isInteger(val) ? 1 + 8 : Infinity;
  const fixed = FIXED[type];
  if (fixed !== undefined) return 1 + fixed;
  if (type === "string") return 1 + 4 + Buffer.byteLength(val as string);
  if (type !== "object") return Infinity; // bigint, undefined, function, symbol: amqplib throws
  if (val === null) return 1;
  if (Array.isArray(val)) return 1 + 4 + val.reduce((sum: number, item: unknown) => sum + valueBytes(item), 0);
  if (Buffer.isBuffer(val)) return 1 + 4 + val.length;
  return 1 + tableBytes(val as object);
}

/** The type amqplib guesses for a JavaScript number (lib/codec.js isFloatingPoint and after). */
function numberType(n: number): string {
  if (n >= 0x8000000000000000 || (Math.abs(n) < 0x4000000000000 && Math.floor(n) !== n)) return "double";
  if (n < 128 && n >= -128) return "byte";
  if (n >= -0x8000 && n < 0x8000) return "short";
  if (n >= -0x80000000 && n < 0x80000000) return "int";
  return "long";
}
