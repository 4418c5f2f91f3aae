/**
 * Page lifecycle hooks for the exporter, web-vitals style: every browser API is optional and
 * guarded, so importing or calling these in Node or a Worker does nothing and never throws.
 */

/** Unsubscribes what a hook subscribed. */
export type Unsubscribe = () => void;

function listen(target: EventTarget | undefined, type: string, fn: (e: Event) => void): Unsubscribe {
  try {
    if (!target || typeof target.addEventListener !== 'function') return () => {};
    target.addEventListener(type, fn, { capture: true });
    return () => {
      try {
        target.removeEventListener(type, fn, { capture: true });
      } catch {
        /* do nothing */
      }
    };
  } catch {
    return () => {};
  }
}

/**
 * Calls `callback` when the page is hidden (visibilitychange→hidden) or unloaded (pagehide): the
 * last reliable moments to send. Both may fire for one unload; callers must tolerate that.
 */
export function onHide(callback: () => void): Unsubscribe {
  const doc = typeof document !== 'undefined' ? document : undefined;
  const offVisibility = listen(doc, 'visibilitychange', () => {
    if (doc?.visibilityState === 'hidden') callback();
  });
  const offPagehide = listen(globalThis as unknown as EventTarget, 'pagehide', () => callback());
  return () => {
    offVisibility();
    offPagehide();
  };
}

/** Calls `callback` when the browser comes back online (a chance to deliver the outbox). */
export function onOnline(callback: () => void): Unsubscribe {
  return listen(globalThis as unknown as EventTarget, 'online', () => callback());
}
