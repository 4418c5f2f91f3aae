/**
 * The worker's lifeline to the main thread, beside comlink (which ignores these messages: they
 * carry no comlink `type`/`id`). Once the worker runs, it takes a Web Lock with a unique name and
 * holds it until it dies, and posts that name. The main thread queues for the same lock and is
 * granted it only when the worker is gone — crashed, out of memory, `terminate()`d — with no
 * polling and no timer, so a long synchronous ORT run is never mistaken for death.
 * (src/runtime/worker-link.ts is the other end; the messages are in src/protocol.ts.)
 */
import { isLifelineMessage, type LifelineMessage } from '../protocol';

/** Worker side: takes the liveness lock, says `alive`, and obeys the test hooks. */
export function startLifeline(scope: DedicatedWorkerGlobalScope): void {
  scope.addEventListener('message', (e: MessageEvent) => {
    if (!isLifelineMessage(e.data)) return;
    if (e.data.webq8Lifeline === 'close') scope.close();
    if (e.data.webq8Lifeline === 'throw') {
      setTimeout(() => {
        throw new Error('webq8 test hook: an uncaught error in the Worker');
      });
    }
  });
  const alive = (lock: string | null) => scope.postMessage({ webq8Lifeline: 'alive', lock } satisfies LifelineMessage);
  // Web Locks exist only in secure contexts (https, localhost); elsewhere a crash is not detected.
  const locks = scope.navigator.locks as LockManager | undefined;
  if (!locks) return alive(null);
  const name = `webq8-worker-${randomId()}`;
  locks
    .request(name, () => {
      alive(name);
      return new Promise<never>(() => {}); // held for the worker's whole life
    })
    .catch(() => alive(null));
}

function randomId(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}
