import { type BrokerAddress, redact } from "../broker/url.ts";

/** Every HTTP call is bounded: a management API that hangs must not hang `status`. */
export const MANAGEMENT_TIMEOUT_MS = 5000;
/** The bound for the default URL (the broker's host, port 15672), which may well not be there. */
export const GUESSED_URL_TIMEOUT_MS = 1500;
/** The plugin's default listeners: 15672 (HTTP), 15671 (HTTPS, as RabbitMQ's Management Plugin guide configures it). */
const DEFAULT_PORT = { http: 15672, https: 15671 } as const;
const AMQP_DEFAULT_PORT = { amqp: 5672, amqps: 5671 } as const;
/** The most the API returns per page. */
const PAGE_SIZE = 500;

/** One rate as the API reports it: `message_stats.<name>_details.rate`, per second. */
interface RateDetails {
  rate?: number;
}

/** A queue as `GET /api/queues/<vhost>` lists it (only the fields taskq reads; real responses carry many more). */
export interface ManagementQueue {
  name: string;
  /** Every message the queue holds: ready, unacked, and (quorum) dead letters waiting to be routed. */
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  message_stats?: { publish_details?: RateDetails; deliver_get_details?: RateDetails; ack_details?: RateDetails };
}

/** Why the management API gave no answer; `message` is one line naming the URL (never its password). */
export class ManagementUnavailable extends Error {
  override readonly name = "ManagementUnavailable";
  constructor(
    message: string,
    readonly kind: "refused" | "timeout" | "unauthorized" | "absent" | "failed",
  ) {
    super(message);
  }
}

export interface ManagementOptions {
  /** `--management-url`: replaces the default; its own user and password win over the broker URL's. */
  url?: string;
  /** amqps: the CA that signs the broker's certificate signs the API's too (as a rule). */
  ca?: Buffer;
  timeoutMs?: number;
}

/**
 * The RabbitMQ management plugin's HTTP API, read-only. Defaults from the AMQP
 * address: same host, port 15672 (https and 15671 when the broker URL is
 * amqps), the same user, password and vhost.
 *
 * @example
 * const api = managementClient(broker.address);
 * const queues = await api.queues("^task_queue");
 */
export interface ManagementClient {
  /** The API's base URL, safe to print (no password). */
  readonly display: string;
  readonly vhost: string;
  /** The vhost's queues whose names match `regex` (Erlang `re`, as the API applies it), every page. */
  queues(regex: string): Promise<ManagementQueue[]>;
}

export function managementClient(address: BrokerAddress, options: ManagementOptions = {}): ManagementClient {
  // An explicit URL was checked when the flags were read (managementUrlError).
  const bases = options.url === undefined ? guessedUrls(address) : [new URL(options.url)];
  const base = bases[0] as URL;
  const user = base.username === "" ? address.user : decodeURIComponent(base.username);
  const password =
    base.password === "" ? (base.username === "" ? address.password : "") : decodeURIComponent(base.password);
  // Credentials go in a header, never in the URL: the base URLs are safe to print.
  const roots = bases.map((url) => {
    url.username = "";
    url.password = "";
    return url.href.replace(/\/$/, "");
  });
  // Guessed: the first that answers is kept; none answering, the error names every one tried.
  let root = roots[0] as string;
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const secrets = { url: options.url ?? address.url, password };
  // A URL taskq guessed gets less patience than one the user gave: a broker host whose firewall
  // drops port 15672 would otherwise add the whole bound to every `status`.
  const timeoutMs = options.timeoutMs ?? (options.url === undefined ? GUESSED_URL_TIMEOUT_MS : MANAGEMENT_TIMEOUT_MS);

  async function fetchFrom(at: string, path: string): Promise<Response> {
    return fetch(`${at}${path}`, {
      headers: { authorization, accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "error",
      ...(options.ca === undefined ? {} : { tls: { ca: options.ca } }),
    });
  }

  async function answering(path: string): Promise<Response> {
    const failures: ManagementUnavailable[] = [];
    for (const at of roots.length > 1 ? [root, ...roots.filter((r) => r !== root)] : [root]) {
      try {
        const response = await fetchFrom(at, path);
        root = at;
        return response;
      } catch (err) {
        failures.push(unreachable(at, err, timeoutMs, secrets));
      }
    }
    const last = failures[failures.length - 1] as ManagementUnavailable;
    if (options.url !== undefined) throw last;
    throw new ManagementUnavailable(
      `${failures.map((f) => f.message).join("; ")} (guessed from the broker's address: set --management-url or TASKQ_MANAGEMENT_URL)`,
      last.kind,
    );
  }

  async function get(path: string): Promise<unknown> {
    const response = await answering(path);
    const display = root;
    if (response.status === 401)
      throw new ManagementUnavailable(
        `${display} refused the login (401: wrong user or password for the management API, or user '${user}' lacks the monitoring tag)`,
        "unauthorized",
      );
    if (response.status === 404)
      throw new ManagementUnavailable(
        `${display} answered 404 (no management API there, or vhost '${address.vhost}' does not exist)`,
        "absent",
      );
    if (!response.ok)
      throw new ManagementUnavailable(
        `${display} answered ${response.status} ${response.statusText}`.trimEnd(),
        "failed",
      );
    try {
      return await response.json();
    } catch {
      throw new ManagementUnavailable(`${display} did not answer with JSON (not a RabbitMQ management API?)`, "absent");
    }
  }

  return {
    get display() {
      return root;
    },
    vhost: address.vhost,
    async queues(regex) {
      const found: ManagementQueue[] = [];
      for (let page = 1; ; page++) {
        const query = new URLSearchParams({
          page: String(page),
          page_size: String(PAGE_SIZE),
          name: regex,
          use_regex: "true",
        });
        const answer = await get(`/api/queues/${encodeURIComponent(address.vhost)}?${query}`);
        const { items, pageCount } = queuePage(answer, root);
        found.push(...items);
        if (page >= pageCount) return found;
      }
    },
  };
}

/**
 * Where the management API may be when nobody said: the broker's host, the plugin's default port,
 * and for a broker on another port than AMQP's default, that port + 10000 first (the offset of
 * RabbitMQ's own defaults, 5672 and 15672, which nodes moved together keep).
 */
export function guessedUrls(address: BrokerAddress): URL[] {
  const scheme = address.protocol === "amqps" ? "https" : "http";
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  const ports: number[] = [DEFAULT_PORT[scheme]];
  const shifted = address.port + 10_000;
  if (address.port !== AMQP_DEFAULT_PORT[address.protocol] && shifted <= 65_535 && shifted !== ports[0])
    ports.unshift(shifted);
  return ports.map((port) => new URL(`${scheme}://${host}:${port}/`));
}

/** Why `--management-url` cannot be used, or undefined when it can (checked before connecting). */
export function managementUrlError(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "--management-url must be a URL such as http://host:15672";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    return `--management-url must be http:// or https://, not ${parsed.protocol}//`;
  if (parsed.search !== "" || parsed.hash !== "") return "--management-url takes no ?query or #fragment";
  try {
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
  } catch {
    return "--management-url: bad %-escape in the user name or password";
  }
  return undefined;
}

/** One page of `GET /api/queues/<vhost>?page=N`, checked: an answer of another shape is not a RabbitMQ API. */
export function queuePage(
  answer: unknown,
  display = "the management API",
): { items: ManagementQueue[]; pageCount: number } {
  const page = answer as { items?: unknown; page_count?: unknown } | null;
  if (typeof page !== "object" || page === null || !Array.isArray(page.items))
    throw new ManagementUnavailable(`${display} answered with something other than a list of queues`, "absent");
  const items = page.items.filter(
    (item): item is ManagementQueue => typeof (item as { name?: unknown })?.name === "string",
  );
  return { items, pageCount: typeof page.page_count === "number" ? page.page_count : 1 };
}

function unreachable(
  display: string,
  err: unknown,
  timeoutMs: number,
  secrets: Pick<BrokerAddress, "url" | "password">,
): ManagementUnavailable {
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === "TimeoutError" || e?.name === "AbortError")
    return new ManagementUnavailable(`${display} did not answer within ${timeoutMs / 1000}s`, "timeout");
  if (e?.code === "ConnectionRefused" || e?.code === "ECONNREFUSED")
    return new ManagementUnavailable(`${display} refused the connection`, "refused");
  const text = redact(String(e?.message ?? err), secrets).split("\n")[0] ?? "";
  return new ManagementUnavailable(`${display} could not be reached: ${text}`, "failed");
}
