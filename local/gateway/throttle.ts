/**
 * Stage throttling as API Gateway applies it: a token bucket per method, refilled at `rateLimit`
 * tokens per second up to `burstLimit`. A request finding the bucket empty gets 429 (THROTTLED).
 */
export interface ThrottleSettings {
  rateLimit: number;
  burstLimit: number;
}

export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly settings: ThrottleSettings,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = settings.burstLimit;
    this.refilledAt = now();
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(
      this.settings.burstLimit,
      this.tokens + ((now - this.refilledAt) / 1000) * this.settings.rateLimit,
    );
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** One bucket per method key (e.g. `POST /vuln`), as MethodSettings `/*` `*` applies per method. */
export class MethodThrottle {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly settings: ThrottleSettings) {
    if (!(settings.rateLimit > 0) || !(settings.burstLimit >= 1))
      throw new Error('Throttling needs a positive rate limit and a burst limit of at least 1');
  }

  allow(methodKey: string): boolean {
    let bucket = this.buckets.get(methodKey);
    if (!bucket) {
      bucket = new TokenBucket(this.settings);
      this.buckets.set(methodKey, bucket);
    }
    return bucket.take();
  }
}
