/** Runs the reference collector as a real child process on 127.0.0.1 (ephemeral port by default). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
