// In-page helpers of the release tests: named clients (a runtime exporting to the collector and a
// model following a release), runs with seeded inputs that count answers per version and failures,
// and a background loop of runs for "no request fails during a switch".
import type { Page } from '@playwright/test';
import type { ReleaseRef, ReleaseStatus } from '../../src/types';

/** What a batch of runs did. */
export interface RunTally {
  ok: number;
  failed: string[];
  /** Answers per version that served them. */
  versions: Record<string, number>;
}

type Api = typeof import('../../src/index');
interface Client {
  rt: import('../../src/index').Runtime;
  model: import('../../src/index').ReleasedModel;
  tally: RunTally;
  loop?: Promise<void>;
  stop?: boolean;
}

/** Installs `window.rel` in the page. */
export function installReleaseHelpers(page: Page): Promise<void> {
  return page.evaluate(() => {
    const clients: Record<string, Client> = {};
    const input = (seed: number) => {
      let a = seed >>> 0;
      const data = Float32Array.from({ length: 64 }, () => {
        a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
        return (a / 2 ** 32) * 2 - 1;
      });
      return { x: { type: 'float32' as const, dims: [1, 64], data } };
    };
    const runOnce = async (c: Client, seed: number) => {
      try {
        await c.model.run(input(seed));
        c.tally.ok++;
        const v = c.model.stats().lastRun?.version ?? '?';
        c.tally.versions[v] = (c.tally.versions[v] ?? 0) + 1;
      } catch (e) {
        c.tally.failed.push(String((e as { code?: string }).code ?? e));
      }
    };
    (window as unknown as { rel: unknown }).rel = {
      async open(name: string, endpoint: string, ref: ReleaseRef) {
        const { createRuntime } = (await import('/dist/index.js')) as Api;
        const rt = createRuntime({ telemetry: { endpoint, intervalMs: 3_600_000 } });
        const model = await rt.follow(ref, { backend: 'wasm' });
        clients[name] = { rt, model, tally: { ok: 0, failed: [], versions: {} } };
      },
      async run(name: string, n: number, seed: number) {
        const c = clients[name]!;
        for (let i = 0; i < n; i++) await runOnce(c, seed + i);
        return c.tally;
      },
      start(name: string) {
        const c = clients[name]!;
        c.stop = false;
        c.loop = (async () => {
          for (let i = 0; !c.stop; i++) await runOnce(c, 7919 * i);
        })();
      },
      async stop(name: string) {
        const c = clients[name]!;
        c.stop = true;
        await c.loop;
        return c.tally;
      },
      status: (name: string) => clients[name]!.model.release(),
      refresh: (name: string) => clients[name]!.model.refresh(),
      tally: (name: string) => clients[name]!.tally,
      flush: (name: string) => clients[name]!.rt.flushTelemetry(),
    };
  });
}

/** Typed access to `window.rel` from the test. */
export function rel(page: Page) {
  type Rel = {
    open(name: string, endpoint: string, ref: ReleaseRef): Promise<void>;
    run(name: string, n: number, seed: number): Promise<RunTally>;
    start(name: string): void;
    stop(name: string): Promise<RunTally>;
    status(name: string): ReleaseStatus;
    refresh(name: string): Promise<ReleaseStatus>;
    tally(name: string): RunTally;
    flush(name: string): Promise<void>;
  };
  const call = <K extends keyof Rel>(k: K, ...args: Parameters<Rel[K]>) =>
    page.evaluate(({ k, args }) => (window as unknown as { rel: Record<string, (...a: unknown[]) => unknown> }).rel[k]!(...args), { k, args }) as Promise<
      Awaited<ReturnType<Rel[K]>>
    >;
  return {
    open: (name: string, endpoint: string, ref: ReleaseRef) => call('open', name, endpoint, ref),
    run: (name: string, n: number, seed: number) => call('run', name, n, seed),
    start: (name: string) => call('start', name),
    stop: (name: string) => call('stop', name),
    status: (name: string) => call('status', name),
    refresh: (name: string) => call('refresh', name),
    tally: (name: string) => call('tally', name),
    flush: (name: string) => call('flush', name),
  };
}
