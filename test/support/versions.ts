import amqp from "amqplib";
import { BROKER_NODE, BROKER_URL, machineRabbitmqctl, rabbitmqctl } from "./broker.ts";
import { IsolatedNode, type RabbitVersion, freePort } from "./node.ts";

// A plain broker of each RabbitMQ version, for the tests of what differs between versions (no config of their own, no
// restart, no fault): the suite's broker when it runs that version, the machine's own for 3.10, else one isolated node
// per version for the whole test process (shard), started on first use and wiped after its last file
// (test/support/teardown.ts). A node boot costs 10-25 s of both cores; the suite used to boot one per file and version.
// Invariant: a test labelled with a version talks to a broker of that version (the suite's broker is labelled by
// TASKQ_SUITE_VERSION, which scripts/test exports; without it, the machine's 3.10); `up()` checks it through the
// version the broker names in its handshake.

const VERSIONS: readonly RabbitVersion[] = ["3.10", "4.0", "4.3"];

/** The version of the suite's broker (BROKER_URL). */
export const SUITE_VERSION: RabbitVersion = ((): RabbitVersion => {
  const given = process.env.TASKQ_SUITE_VERSION;
  if (given === undefined || given === "") return BROKER_NODE ? "4.3" : "3.10";
  if (!VERSIONS.includes(given as RabbitVersion))
    throw new Error(`TASKQ_SUITE_VERSION=${given}: the suite runs on ${VERSIONS.join(", ")}`);
  return given as RabbitVersion;
})();

/** The machine's own RabbitMQ 3.10 (started before the suite; the tutorial's tests use it too). */
const MACHINE_URL = "amqp://guest:guest@127.0.0.1:5672";

/** A broker of one version: where to connect, and its rabbitmqctl. */
export interface VersionBroker {
  version: RabbitVersion;
  url: string;
  ctl: (...args: string[]) => Promise<string>;
  /** Resolves once it answers (starts the shared node on first use). */
  up: () => Promise<void>;
}

const shared = new Map<RabbitVersion, { node: IsolatedNode; started?: Promise<unknown> }>();
const OFFSETS: Record<RabbitVersion, number> = { "3.10": 171, "4.0": 172, "4.3": 173 };

/** The broker to run `version`'s tests on (see above). `up()` fails unless the broker says it runs `version`. */
export function versionBroker(version: RabbitVersion): VersionBroker {
  if (version === SUITE_VERSION) return checked(version, BROKER_URL, rabbitmqctl, async () => {});
  if (version === "3.10") return checked(version, MACHINE_URL, machineRabbitmqctl, async () => {});
  let entry = shared.get(version);
  if (!entry) {
    entry = { node: new IsolatedNode(`shared${version.replace(".", "")}`, freePort(OFFSETS[version]), { version }) };
    shared.set(version, entry);
  }
  const { node } = entry;
  const start = async () => {
    const e = entry as { started?: Promise<unknown> };
    e.started ??= node.start();
    await e.started;
  };
  return checked(version, node.url, (...args) => node.ctl("-q", ...args), start);
}

/** Checked once per URL: the version the broker names in its AMQP handshake. */
const seen = new Map<string, Promise<string>>();

function checked(
  version: RabbitVersion,
  url: string,
  ctl: VersionBroker["ctl"],
  start: () => Promise<void>,
): VersionBroker {
  const up = async () => {
    await start();
    let named = seen.get(url);
    if (!named) {
      named = serverVersion(url);
      seen.set(url, named);
    }
    const actual = await named;
    if (!actual.startsWith(`${version}.`)) throw new Error(`${url} runs RabbitMQ ${actual}, not ${version}`);
  };
  return { version, url, ctl, up };
}

async function serverVersion(url: string): Promise<string> {
  const conn = await amqp.connect(url);
  try {
    return String(conn.connection.serverProperties.version);
  } finally {
    await conn.close();
  }
}

/** Wipes the shared nodes this process started (after its last test file). */
export async function downSharedNodes(): Promise<void> {
  await Promise.all([...shared.values()].filter((e) => e.started).map((e) => e.node.wipe()));
  shared.clear();
}
