/** How a Publisher (publisher.ts) is opened. */
export interface PublisherOptions {
  /** Most unconfirmed tasks at once; memory stays bounded by it. */
  window?: number;
  /** Let the window grow from `window` up to this many tasks (see ConfirmWindow). */
  maxWindow?: number;
  /** Delivery mode 2 (written to disk by the broker). Default true. */
  persistent?: boolean;
  /** Told when the broker blocks publishing (memory or disk alarm) and when it lifts it. */
  onBlocked?: (reason: string | null) => void;
  /**
   * One task in this many per queue is published mandatory (default 1: every one); flush() checks
   * that queues with tasks sent since their last mandatory one still exist. See RouteCheck.
   */
  mandatoryEvery?: number;
  /**
   * A nack or a return is that task's own answer (its `outcome`), not the publisher's failure: later publishes go on.
   * For a long-lived shared channel (SharedSender), where one task's refusal must not fail the others. Default false.
   */
  ownAnswers?: boolean;
}
