import type { Broker } from "../core/broker/connection.ts";
import { checkQueue } from "../core/topology/queues.ts";
import { now, sleep } from "../util/clock.ts";
import type { DepthSample } from "./rate-figures.ts";

/**
 * Samples a queue's depth (tasks ready, from a passive declare) every `everyMs` until stopped, on
 * a connection of its own: a slow answer never holds up the sender. Times count from `t0()`.
 */
export class DepthSampler {
  readonly samples: DepthSample[] = [];
  private readonly stopping = new AbortController();
  private readonly loop: Promise<void>;

  constructor(
    private readonly broker: Broker,
    private readonly queue: string,
    private readonly t0: () => number,
    private readonly everyMs = 200,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      const started = now();
      // A sample that failed is a gap in the plot, not a failed bench.
      const info = await checkQueue(this.broker, this.queue).catch(() => undefined);
      if (info && this.t0() > 0) this.samples.push({ atMs: started - this.t0(), ready: info.messageCount });
      await sleep(this.everyMs - (now() - started), this.stopping.signal);
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }
}
