import type { Broker } from "./connection.ts";

/** A broker's version as [major, minor]. */
export type RabbitVersion = [number, number];

/** The broker's version as [major, minor], from the handshake; undefined when it is not RabbitMQ or says none. */
export function rabbitVersion(broker: Broker): RabbitVersion | undefined {
  const props = (broker.model.connection as { serverProperties?: Record<string, unknown> }).serverProperties ?? {};
  if (String(props.product ?? "") !== "RabbitMQ") return undefined;
  const match = /^(\d+)\.(\d+)/.exec(String(props.version ?? ""));
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** The broker as it names itself in the handshake ("RabbitMQ 3.10.8"), for reports; undefined when it says nothing. */
export function brokerProduct(broker: Broker): string | undefined {
  const props = (broker.model.connection as { serverProperties?: Record<string, unknown> }).serverProperties ?? {};
  const named = [props.product, props.version].filter((p) => p !== undefined && String(p) !== "").map(String);
  return named.length > 0 ? named.join(" ") : undefined;
}

/** Whether `version` is `major.minor` or later (false when unknown). */
export const atLeast = (version: RabbitVersion | undefined, major: number, minor: number): boolean =>
  version !== undefined && (version[0] > major || (version[0] === major && version[1] >= minor));
