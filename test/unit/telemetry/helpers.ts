/** Test helpers for telemetry: seeded samples, a fake clock and a scripted fake fetch. */
import type { Clock, FetchLike } from '../../../src/telemetry/types.js';

/** mulberry32: a small seeded PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal by Box–Muller. */
export function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Named sample generators (ms). */
export const distributions: Record<string, (rand: () => number) => number> = {
  lognormal: (r) => 20 * Math.exp(0.8 * normal(r)),
  bimodal: (r) => (r() < 0.7 ? 5 * Math.exp(0.2 * normal(r)) : 200 * Math.exp(0.3 * normal(r))),
  // Pareto (α = 1.1): a heavy tail spanning ~4 decades over 100k samples.
  pareto: (r) => 1 / (1 - r()) ** (1 / 1.1),
  // Log-uniform over the whole 10 µs – 60 s design range.
  wide: (r) => 0.01 * 6e6 ** r(),
};

/** n samples of a distribution. */
export function samples(name: string, n: number, seed: number): number[] {
  const rand = prng(seed);
  const gen = distributions[name]!;
  return Array.from({ length: n }, () => gen(rand));
}

/** The exact quantile under p = inf{t : F(t) ≥ q} of a sorted sample. */
export function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

/** A hand-driven clock: `advance(ms)` fires due timers in order. */
export function fakeClock(start = 1_763_856_000_000): Clock & { advance(ms: number): Promise<void>; pending(): number[] } {
  let now = start;
  let next = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = next++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(h) {
      timers.delete(h as number);
    },
    pending: () => [...timers.values()].map((t) => t.at - now).sort((a, b) => a - b),
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await settle();
      }
      now = end;
      await settle();
    },
  };
}

/** Lets pending promise chains run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}

/** One scripted reply: a status (+ Retry-After) or a network error. */
export type Reply = number | { status: number; retryAfter?: string } | 'network-error';

/** A fake fetch that answers from a script (then with `fallback`) and records every call. */
export function fakeFetch(script: Reply[] = [], fallback: Reply = 200) {
  const calls: { url: string; headers: Record<string, string>; body: string; keepalive: boolean }[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, headers: init.headers, body: init.body, keepalive: init.keepalive });
    const reply = script.length > 0 ? script.shift()! : fallback;
    if (reply === 'network-error') throw new TypeError('Failed to fetch');
    const { status, retryAfter } = typeof reply === 'number' ? { status: reply, retryAfter: undefined } : reply;
    return { status, headers: { get: (name: string) => (name.toLowerCase() === 'retry-after' ? (retryAfter ?? null) : null) } };
  };
  return { fetch, calls };
}
