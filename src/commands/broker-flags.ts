import type { Command, OptionValues } from "@commander-js/extra-typings";
import { readFileSync } from "node:fs";
import type { BrokerTarget } from "../core/broker/connection.ts";
import { parseBrokerUrls, resolveUrls } from "../core/broker/url.ts";
import { usageError } from "../errors.ts";
import { DEFAULT_HEARTBEAT_S } from "../core/broker/liveness.ts";
import { duration, heartbeat } from "./parsers.ts";

/** The flags every command that talks to the broker shares. */
export function withBrokerFlags<Args extends unknown[], Opts extends OptionValues>(cmd: Command<Args, Opts>) {
  return cmd
    .option(
      "--url <url>",
      "broker URL; give it once per node of a cluster (env TASKQ_URL, then AMQP_URL, comma-separated; default amqp://guest:guest@localhost:5672)",
      collect,
    )
    .option("--ca <path>", "amqps: CA certificate(s) to trust, PEM (env TASKQ_CA)")
    .option("--cert <path>", "amqps: client certificate, PEM (env TASKQ_CERT)")
    .option("--key <path>", "amqps: client private key, PEM (env TASKQ_KEY)")
    .option(
      "--connect-timeout <duration>",
      "keep trying to reach the broker this long before giving up",
      duration,
      5000,
    )
    .option(
      "--heartbeat <seconds>",
      `AMQP heartbeat in seconds (5, or 5s, 1m): a broker or network that stops answering is noticed after two missed beats; 0 = off (then only the OS notices, after minutes or never); a URL's ?heartbeat=N wins (default ${DEFAULT_HEARTBEAT_S}s)`,
      heartbeat,
    );
}

/** Repeated `--url`s, in the order given. No commander default: help would show it as `(default: [])`. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export type BrokerFlags = {
  url?: string[] | string;
  ca?: string;
  cert?: string;
  key?: string;
  connectTimeout: number;
  heartbeat?: number;
};

/** Resolves URL and TLS files once, before connecting: a missing file is a usage error. */
export function brokerTarget(flags: BrokerFlags, env: Record<string, string | undefined> = process.env): BrokerTarget {
  const urls = resolveUrls(flags.url, env);
  const addresses = parseBrokerUrls(urls);
  const read = (flag: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined || path === "") return undefined;
    try {
      return readFileSync(path);
    } catch {
      throw usageError(`cannot read ${flag} '${path}'`);
    }
  };
  const ca = read("--ca", flags.ca ?? env.TASKQ_CA);
  const cert = read("--cert", flags.cert ?? env.TASKQ_CERT);
  const key = read("--key", flags.key ?? env.TASKQ_KEY);
  if ((cert === undefined) !== (key === undefined)) throw usageError("--cert and --key go together");
  if ((ca || cert) && addresses.some((a) => a.protocol !== "amqps"))
    throw usageError(`--ca, --cert and --key need an amqps:// URL${urls.length > 1 ? " (every one)" : ""}`);
  const target: BrokerTarget = { urls, connectTimeoutMs: flags.connectTimeout };
  if (flags.heartbeat !== undefined) target.heartbeatS = flags.heartbeat;
  if (ca || cert || key) target.tls = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  return target;
}
