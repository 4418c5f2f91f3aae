/** Runs the reference collector as a real child process on 127.0.0.1 (ephemeral port by default). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, expect } from 'vitest';
import { encodeMetrics } from '../../../src/telemetry/encode.js';
import { createRecorder } from '../../../src/telemetry/recorder.js';
import type { SeriesAttributes } from '../../../src/telemetry/types.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A running collector process. */
export interface CollectorProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Stops it (SIGKILL simulates a crash: nothing gets flushed on the way out). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `node collector/server.mjs` and waits for its "listening on" line. */
export function startCollectorProcess(dataFile: string, args: string[] = []): Promise<CollectorProcess> {
  const proc = spawn(process.execPath, ['collector/server.mjs', '--data', dataFile, ...(args.includes('--port') ? [] : ['--port', '0']), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`collector did not start: ${out}`)), 10_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1]!,
        port: Number(m[2]),
        proc,
        stop: (signal = 'SIGTERM') =>
          new Promise<void>((done) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return done();
            proc.once('exit', () => done());
            proc.kill(signal);
          }),
      });
    });
    proc.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.once('exit', (code) => reject(new Error(`collector exited with ${code}: ${out}`)));
  });
}

/**
 * A test file's collectors: a temporary folder, fresh journal paths in it, and `start()`, whose
 * processes are killed (SIGKILL) after each test.
 */
export function collectorFixture(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  const running: CollectorProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop('SIGKILL')));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const dataFile = () => join(dir, `metrics-${n++}.jsonl`);
  return {
    dataFile,
    async start(file = dataFile(), args: string[] = []): Promise<CollectorProcess> {
      const c = await startCollectorProcess(file, args);
      running.push(c);
      return c;
    },
  };
}

/** POSTs an OTLP JSON body. */
export function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

/** One row of /api/latency `series`. */
export interface LatencyRow {
  metric: string;
  model: string;
  version: string;
  backend: string;
  count: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** The /api/latency document. */
export interface LatencyDoc {
  series: LatencyRow[];
  fleet: (Omit<LatencyRow, 'version' | 'backend'> & { versions: ({ version: string } & Omit<LatencyRow, 'metric' | 'model' | 'version' | 'backend'>)[] })[];
  errors: { model: string; code: string; count: number }[];
}

/** GETs /api/latency. */
export async function latency(url: string, query = ''): Promise<LatencyDoc> {
  const res = await fetch(`${url}/api/latency${query}`);
  return (await res.json()) as LatencyDoc;
}

/** The /api/status document. */
export interface CollectorStatus {
  series: number;
  errorSeries: number;
  maxSeries: number;
  dedupIds: number;
  journalBytes: number;
  compactions: number;
  replayed: number;
  skipped: number;
  rssBytes: number;
}

/** GETs /api/status. */
export async function status(url: string): Promise<CollectorStatus> {
  return (await (await fetch(`${url}/api/status`)).json()) as CollectorStatus;
}

/**
 * Writes raw bytes to the collector's socket (requests fetch refuses to send: malformed targets,
 * bodies that stall) and resolves with whatever comes back before the server closes or `waitMs`.
 */
export function rawRequest(port: number, text: string, waitMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(got);
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
    socket.on('close', finish);
    socket.on('error', finish);
    socket.write(text);
  });
}

/** One client's OTLP JSON body, made by webq8's own recorder and encoder, with these samples. */
export function otlpBody(values: number[], attrs: SeriesAttributes, errors = 0, resource: Record<string, string> = {}): string {
  const rec = createRecorder();
  for (const v of values) rec.record('run', v, attrs);
  for (let i = 0; i < errors; i++) rec.recordError('INPUT_INVALID', attrs);
  const [b, ...rest] = encodeMetrics(rec.collect(), { resource: { 'webq8.version': '0.1.0', ...resource } });
  expect(rest).toEqual([]);
  return b!;
}
