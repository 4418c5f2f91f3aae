// WorkerLink against a stand-in Worker (an EventTarget that records what is posted): which events
// reject which calls, and with what. The real-Chromium versions of these cases, plus death by
// terminate()/close(), are in test/browser/worker-fail-fast.spec.ts; `messageerror` cannot be
// provoked on demand in a browser, so it is covered only here.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DisposedError, WorkerError } from '../../src/errors';
import { WorkerLink } from '../../src/runtime/worker-link';

class FakeWorker extends EventTarget {
  static last: FakeWorker;
  readonly posted: { id?: string; type?: string; path?: string[] }[] = [];
  terminated = false;
  constructor(
    readonly url: string | URL,
    readonly options: WorkerOptions,
  ) {
    super();
    FakeWorker.last = this;
  }
  postMessage(m: { id?: string; type?: string; path?: string[] }): void {
    this.posted.push(m);
  }
  terminate(): void {
    this.terminated = true;
  }
  /** Answers comlink request `i` (in posting order) with `value`. */
  reply(i: number, value: unknown): void {
    this.dispatchEvent(new MessageEvent('message', { data: { id: this.posted[i]!.id, type: 'RAW', value } }));
  }
  alive(): void {
    this.dispatchEvent(new MessageEvent('message', { data: { webq8Lifeline: 'alive', lock: null } }));
  }
}

class FakeErrorEvent extends Event {
  message: string;
  filename: string;
  constructor(type: string, init: { message?: string; filename?: string } = {}) {
    super(type);
    this.message = init.message ?? '';
    this.filename = init.filename ?? '';
  }
}

/** Settles `p` into a plain description (never rejects). */
const settle = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

describe('WorkerLink', () => {
  beforeEach(() => {
    vi.stubGlobal('Worker', FakeWorker);
    vi.stubGlobal('ErrorEvent', FakeErrorEvent);
    vi.stubGlobal('location', { href: 'http://localhost:5173/app/' });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('passes replies through and starts the worker as a module', async () => {
    const link = new WorkerLink('/w.js');
    const call = link.api.cacheUsage();
    FakeWorker.last.reply(0, { entries: 3 });
    await expect(call).resolves.toEqual({ entries: 3 });
    expect(FakeWorker.last.options).toMatchObject({ type: 'module' });
  });

  it('an error before the worker runs fails every pending and later call, names the URL, and terminates it', async () => {
    const link = new WorkerLink('/assets/w.js');
    const pending = settle(link.api.cacheList());
    FakeWorker.last.dispatchEvent(new Event('error')); // what a 404 gives: no message, no filename
    const later = settle(link.api.load({} as never));
    for (const { error } of [await pending, await later] as { error: WorkerError }[]) {
      expect(error).toBeInstanceOf(WorkerError);
      expect(error.details).toEqual({ reason: 'start-failed', fatal: true, url: 'http://localhost:5173/assets/w.js' });
      expect(error.message).toContain('http://localhost:5173/assets/w.js');
    }
    expect(FakeWorker.last.terminated).toBe(true);
    expect(FakeWorker.last.posted).toHaveLength(1); // nothing is sent to a dead worker
    await expect(link.api.cancel('r1')).resolves.toBeUndefined(); // nothing to cancel or free: no rejection
    await expect(link.api.dispose()).resolves.toBeUndefined();
  });

  it('a syntax error names the script and the error', async () => {
    const link = new WorkerLink('/w.js');
    const pending = settle(link.api.cacheList());
    FakeWorker.last.dispatchEvent(
      new FakeErrorEvent('error', { message: "Uncaught SyntaxError: Unexpected token ';'", filename: 'http://localhost:5173/w.js' }),
    );
    const { error } = (await pending) as { error: WorkerError };
    expect(error.message).toContain("(Uncaught SyntaxError: Unexpected token ';')");
    expect(error.details.url).toBe('http://localhost:5173/w.js');
  });

  it('after the worker runs, an uncaught error or a messageerror rejects only the calls in flight', async () => {
    const link = new WorkerLink('/w.js');
    FakeWorker.last.alive();
    for (const [event, reason] of [
      [new FakeErrorEvent('error', { message: 'boom' }), 'uncaught-error'],
      [new Event('messageerror'), 'message-error'],
    ] as const) {
      const first = FakeWorker.last.posted.length;
      const pending = settle(link.api.cacheList());
      FakeWorker.last.dispatchEvent(event);
      expect(await pending).toMatchObject({ error: { name: 'WorkerError', details: { reason, fatal: false } } });
      const next = link.api.cacheUsage(); // the runtime keeps serving
      FakeWorker.last.reply(first + 1, 'ok');
      await expect(next).resolves.toBe('ok');
    }
    expect(FakeWorker.last.terminated).toBe(false);
  });

  it('close() terminates the worker and rejects the calls in flight with DisposedError', async () => {
    const link = new WorkerLink('/w.js');
    FakeWorker.last.alive();
    const pending = settle(link.api.cacheList());
    link.close();
    expect(((await pending) as { error: unknown }).error).toBeInstanceOf(DisposedError);
    expect(FakeWorker.last.terminated).toBe(true);
  });
});
