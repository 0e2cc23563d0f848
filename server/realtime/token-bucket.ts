/**
 * A token bucket: `burst` events at once, then `perSecond` on average. One per connection, so one client's
 * flood is refused (with a clear error) while everyone else in the session is served as usual.
 */
export class TokenBucket {
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly clock: () => number;
  private tokens: number;
  private last: number;

  constructor(
    perSecond: number,
    burst: number,
    clock: () => number = () => performance.now(),
  ) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.clock = clock;
    this.tokens = burst;
    this.last = clock();
  }

  /** Takes one token; false when the bucket is empty (the event must be refused). */
  take(): boolean {
    const now = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
