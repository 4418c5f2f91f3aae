/**
 * Runs a real Prometheus (Debian's package; `.ci/run` installs it) as a child process on a free
 * 127.0.0.1 port with a temporary data dir, remote-write receiver and native histograms on, and
 * queries its HTTP API. Stopped by its PID.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const BIN = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';

/** A running Prometheus. */
export interface PrometheusProcess {
  /** HTTP API base, `http://127.0.0.1:PORT`. */
  url: string;
  /** The remote-write endpoint. */
  writeUrl: string;
  port: number;
  dataDir: string;
  pid: number;
  /** Stops it by PID (SIGKILL: a crash, nothing flushed). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** One sample of an instant vector: a float `value` or a native `histogram`. */
export interface PromSample {
  metric: Record<string, string>;
  value?: [number, string];
  histogram?: [number, { count: string; sum: string; buckets?: [number, string, string, string][] }];
}

/** A port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function ready(url: string, exited: () => string | undefined, deadline: number): Promise<void> {
  for (;;) {
    const why = exited();
    if (why !== undefined) throw new Error(why);
    const ok = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`Prometheus at ${url} was not ready within 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts Prometheus on `port` (a free one when omitted) storing into `dataDir`; resolves once it is ready. */
export async function startPrometheus(dataDir: string, port?: number): Promise<PrometheusProcess> {
  if (!existsSync(BIN)) throw new Error(`Prometheus not found at ${BIN}: apt-get install -y prometheus (CI's .ci/run does), or set PROMETHEUS_PATH`);
  const p = port ?? (await freePort());
  const config = join(dataDir, '..', `prometheus-${p}.yml`);
  writeFileSync(config, 'global:\n  scrape_interval: 1h\n');
  const args = [`--config.file=${config}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${p}`];
  args.push('--web.enable-remote-write-receiver', '--enable-feature=native-histograms', '--log.level=warn');
  const proc = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  const exit = new Promise<void>((done) => proc.once('exit', () => done()));
  const url = `http://127.0.0.1:${p}`;
  const exited = () => (proc.exitCode !== null || proc.signalCode !== null ? `Prometheus exited (${proc.exitCode ?? proc.signalCode}): ${log}` : undefined);
  try {
    await ready(url, exited, Date.now() + 20_000);
  } catch (err) {
    proc.kill('SIGKILL');
    // A port taken between freePort() and the bind: try another one, unless the caller chose it.
    if (port === undefined && /address already in use/.test(log)) return startPrometheus(dataDir);
    throw err;
  }
  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    port: p,
    dataDir,
    pid: proc.pid!,
    stop: async (signal = 'SIGTERM') => {
      if (exited() === undefined) process.kill(proc.pid!, signal);
      await exit;
    },
  };
}

/** An instant query; throws with Prometheus' error text when it refuses. */
export async function promQuery(url: string, expr: string): Promise<PromSample[]> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const doc = (await res.json()) as { status: string; error?: string; data: { result: PromSample[] } };
  if (doc.status !== 'success') throw new Error(`${expr}: ${doc.error}`);
  return doc.data.result;
}

/** The single float value `expr` answers, or undefined when it answers nothing. */
export async function promValue(url: string, expr: string): Promise<number | undefined> {
  const r = await promQuery(url, expr);
  if (r.length > 1) throw new Error(`${expr} answered ${r.length} series`);
  return r[0]?.value ? Number(r[0].value[1]) : undefined;
}
