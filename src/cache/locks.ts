/**
 * Named locks shared by every tab and worker of the origin (the Web Locks API), with an in-process
 * fallback when `navigator.locks` is absent (Node tests, old browsers): there, locks coordinate
 * only the loads of this context, which is the best that can be done.
 */

/** Lock names the cache uses; one place so the protocol can be read at a glance. */
export const LOCK = {
  /** Held exclusively while one context downloads and stores a model, so others wait and then hit. */
  load: (key: string) => `webq8-cache:load:${key}`,
  /** Held shared by every writer; orphan collection takes it exclusively, only when free. */
  write: 'webq8-cache:write',
  /** Held shared while a loaded model uses an entry; eviction and delete take it exclusively, only when free. */
  pin: (sha256: string) => `webq8-cache:pin:${sha256}`,
} as const;

/** The subset of `LockManager` the cache needs. */
interface Locks {
  request<T>(name: string, options: { mode: LockMode; ifAvailable?: boolean }, callback: (lock: unknown) => Promise<T> | T): Promise<T>;
  query(): Promise<{ held?: { name?: string }[] }>;
}

/**
 * Runs `fn` holding lock `name`. With `ifAvailable`, `fn` runs at once with `held === false` when
 * the lock is taken elsewhere (like the Web Locks API's `null` lock).
 */
export function withLock<T>(name: string, options: { mode: LockMode; ifAvailable?: boolean }, fn: (held: boolean) => Promise<T>): Promise<T> {
  return locks().request(name, options, (lock) => fn(lock !== null));
}

/**
 * Takes lock `name` and keeps it until the returned release function is called. Resolves once the
 * lock is granted.
 */
export function holdLock(name: string, mode: LockMode): Promise<() => void> {
  return new Promise((granted, failed) => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    locks()
      .request(name, { mode }, () => {
        granted(release);
        return held;
      })
      .catch(failed);
  });
}

/** Names of the locks currently held anywhere in the origin (or this context, in the fallback). */
export async function heldLockNames(): Promise<Set<string>> {
  try {
    const snapshot = await locks().query();
    return new Set((snapshot.held ?? []).map((l) => l.name ?? ''));
  } catch {
    return new Set();
  }
}

let local: LocalLocks | undefined;

function locks(): Locks {
  const nav = typeof navigator === 'undefined' ? undefined : (navigator as Navigator | undefined);
  if (nav?.locks) return nav.locks as unknown as Locks;
  local ??= new LocalLocks();
  return local;
}

interface LocalLockState {
  mode: LockMode;
  holders: number;
  queue: { mode: LockMode; grant: () => void }[];
}

/** A FIFO shared/exclusive lock per name, for one JavaScript context. */
class LocalLocks implements Locks {
  private states = new Map<string, LocalLockState>();

  async request<T>(name: string, options: { mode: LockMode; ifAvailable?: boolean }, callback: (lock: unknown) => Promise<T> | T): Promise<T> {
    let s = this.states.get(name);
    if (!s) {
      s = { mode: options.mode, holders: 0, queue: [] };
      this.states.set(name, s);
    }
    const free = s.holders === 0 || (options.mode === 'shared' && s.mode === 'shared' && s.queue.length === 0);
    if (!free && options.ifAvailable) return callback(null);
    if (free) {
      s.mode = options.mode;
      s.holders++;
    } else {
      const state = s;
      await new Promise<void>((grant) => state.queue.push({ mode: options.mode, grant }));
    }
    try {
      return await callback({ name, mode: options.mode });
    } finally {
      this.release(name, s);
    }
  }

  async query(): Promise<{ held: { name: string }[] }> {
    return { held: [...this.states].filter(([, s]) => s.holders > 0).map(([name]) => ({ name })) };
  }

  private release(name: string, s: LocalLockState): void {
    if (--s.holders > 0) return;
    const first = s.queue.shift();
    if (!first) {
      this.states.delete(name);
      return;
    }
    s.mode = first.mode;
    s.holders = 1;
    first.grant();
    while (first.mode === 'shared' && s.queue[0]?.mode === 'shared') {
      s.holders++;
      s.queue.shift()?.grant();
    }
  }
}
