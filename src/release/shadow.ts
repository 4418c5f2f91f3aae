/**
 * Shadow runs: the other version answers the same inputs after the user already has the serving
 * version's answer, and only the comparison is kept. They stay off the user's path by construction:
 * started after the answer was delivered, at `background` priority, one at a time, in the other
 * version's own Worker (candidates load into a Worker of their own), and skipped — counted, never
 * queued — whenever a user run is waiting or the other version is still busy.
 */
import { copyFeeds } from '../tensors';
import { enter, leave, type Slot } from './slot';
import { compareOutputs, type AgreementTally } from './agreement';
import type { TensorMap } from '../types';

/** A shadow run gives up if it has not started this long after being offered. */
const SHADOW_DEADLINE_MS = 5_000;

/** One shadow comparison to make. */
export interface ShadowJob {
  /** The version that runs in the shadow. */
  target: Slot;
  /** Its inputs (not the user's: those were transferred to the serving Worker). Copied again if the run starts. */
  feeds: TensorMap;
  /** The serving version's outputs, as the user got them; copied if the run starts (the user may change them). */
  served: TensorMap;
  /** Whether `target` is the stable version (a canary client mirroring back), else the candidate. */
  targetIsStable: boolean;
  tally: AgreementTally;
  /** Called when the shadow run settles (after its stats are recorded). */
  done(): void;
}

/** Runs at most one shadow comparison at a time. */
export class ShadowRunner {
  private running = false;

  /** Whether a shadow run is in flight. */
  get busy(): boolean {
    return this.running;
  }

  /**
   * Starts `job` unless a shadow run is in flight, the target is busy, or `pageBusy` (user runs are
   * waiting): then it is skipped and counted in the tally.
   */
  offer(job: ShadowJob, pageBusy: boolean): void {
    if (this.running || pageBusy || job.target.retired || job.target.server.snapshot().inSystem > 0) {
      job.tally.skip();
      return;
    }
    this.running = true;
    enter(job.target);
    const served = copyFeeds(job.served);
    const deadlineAt = performance.now() + SHADOW_DEADLINE_MS;
    job.target.server
      .submit(copyFeeds(job.feeds), { priority: 'background', deadlineAt })
      .then(
        (shadow) => {
          job.target.stats.ok(shadow.reply.timings.runMs);
          const [stableOut, candidateOut] = job.targetIsStable ? [shadow.outputs, served] : [served, shadow.outputs];
          job.tally.add(compareOutputs(stableOut, candidateOut));
        },
        (err: unknown) => {
          const code = (err as { code?: string } | null)?.code;
          // Never started (shed, deadline, disposed by a switch): nothing was learnt about the version.
          if (code === 'DEADLINE_EXCEEDED' || code === 'OVERLOADED' || code === 'DISPOSED' || code === 'ABORTED') job.tally.skip();
          else job.target.stats.failed(err);
        },
      )
      .finally(() => {
        this.running = false;
        leave(job.target);
        job.done();
      });
  }
}
