import { ExitCode, TaskqError, usageError } from "../../errors.ts";

export const DEFAULT_URL = "amqp://guest:guest@localhost:5672";

/** Where a broker is, parsed once; `display` is safe to print (no password). */
export interface BrokerAddress {
  url: string;
  protocol: "amqp" | "amqps";
  host: string;
  port: number;
  vhost: string;
  user: string;
  password: string;
  display: string;
}

/**
 * The brokers to use: every `--url` given, else TASKQ_URL, then AMQP_URL (a
 * comma-separated list: the nodes of one cluster), then the local default.
 */
export function resolveUrls(
  flags: readonly string[] | string | undefined,
  env: Record<string, string | undefined> = process.env,
): string[] {
  const given = typeof flags === "string" ? [flags] : (flags ?? []);
  if (given.length > 0) return [...given];
  const list = env.TASKQ_URL ?? env.AMQP_URL;
  if (list === undefined) return [DEFAULT_URL];
  return list.split(",").map((url) => url.trim());
}

/** Parses every URL of a list; a bad one is a usage error saying which (never echoing its password). */
export function parseBrokerUrls(urls: readonly string[]): BrokerAddress[] {
  if (urls.length === 0) throw usageError("no broker URL given");
  return urls.map((url, i) => {
    if (urls.length > 1 && url === "")
      throw usageError(`broker URL ${i + 1} of ${urls.length} is empty (a stray comma in the list?)`);
    try {
      return parseBrokerUrl(url);
    } catch (err) {
      if (urls.length === 1 || !(err instanceof TaskqError)) throw err;
      throw usageError(err.message.replace(/^invalid broker URL/, `invalid broker URL ${i + 1} of ${urls.length}`));
    }
  });
}

/** URL query options amqplib reads as numbers (it fails on anything else only when connecting). */
const NUMERIC_OPTIONS = ["heartbeat", "frameMax", "channelMax"] as const;
/** The smallest frame_max RabbitMQ 4.1 and later accept (their smallest frame before login, raised from 4096). */
const MIN_FRAME_MAX = 8192;

export function parseBrokerUrl(url: string): BrokerAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL is not echoed: unparseable, it cannot be masked reliably.
    throw usageError(
      "invalid broker URL: expected amqp://user:password@host:port/vhost (percent-encode special characters in the password)",
    );
  }
  const scheme = parsed.protocol.replace(/:$/, "");
  if (scheme !== "amqp" && scheme !== "amqps") {
    throw usageError(`invalid broker URL: the scheme must be amqp:// or amqps://, not ${scheme}://`);
  }
  if (!parsed.hostname) throw usageError("invalid broker URL: no host");
  // amqplib reads port 0 as "no port" and connects to the default: say so rather than report the wrong address.
  if (parsed.port === "0") throw usageError("invalid broker URL: port 0");
  const port = parsed.port ? Number(parsed.port) : scheme === "amqp" ? 5672 : 5671;
  for (const option of NUMERIC_OPTIONS) {
    const value = parsed.searchParams.get(option);
    if (value !== null && !/^\d+$/.test(value))
      throw usageError(`invalid broker URL: ?${option}= must be a whole number, not '${value}'`);
  }
  // RabbitMQ 4.1 and later refuse a tune-ok below 8192 by closing the socket: amqplib then says only that nothing
  // answered.
  const frameMax = Number(parsed.searchParams.get("frameMax") ?? 0);
  if (frameMax > 0 && frameMax < MIN_FRAME_MAX)
    throw usageError(
      `invalid broker URL: ?frameMax= must be 0 (no limit) or at least ${MIN_FRAME_MAX} (RabbitMQ 4.1 and later refuse less), not ${frameMax}`,
    );
  const rawVhost = parsed.pathname.replace(/^\//, "");
  return {
    url,
    protocol: scheme,
    host: parsed.hostname.replace(/^\[|\]$/g, ""),
    port,
    vhost: rawVhost === "" ? "/" : decode(rawVhost, "vhost"),
    user: parsed.username === "" && parsed.password === "" ? "guest" : decode(parsed.username, "user name"),
    password: parsed.password === "" && parsed.username === "" ? "guest" : decode(parsed.password, "password"),
    display: maskUrl(url),
  };
}

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw usageError(`invalid broker URL: bad %-escape in the ${what}`);
  }
}

/** The URL with its password replaced by `***`; works on text that is not a valid URL too. */
export function maskUrl(url: string): string {
  // Greedy up to the last '@' of the authority: a raw '@' in a password is masked whole.
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^/]*@/i, "$1:***@");
}

/** Removes a password from any text (error messages from libraries can echo it). */
export function redact(text: string, address: Pick<BrokerAddress, "password" | "url">): string {
  let out = text.split(address.url).join(maskUrl(address.url));
  for (const secret of new Set([address.password, encodeURIComponent(address.password)])) {
    if (secret.length >= 3) out = out.split(secret).join("***");
  }
  return out;
}

export function brokerUnreachable(address: BrokerAddress, reason: string): TaskqError {
  return new TaskqError(`cannot reach the broker at ${address.host}:${address.port}: ${reason}`, ExitCode.connect);
}
