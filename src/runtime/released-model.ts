/**
 * A model that follows a release (`runtime.follow`): a {@link Model} whose runs go through the
 * release router (src/release/), plus the two things only a release has: its status and a way to
 * fetch its manifest now.
 */
import type { ReleaseStatus } from '../types';
import { Model, type ModelHost, type ModelServer } from './model';

/** @internal The router of a release: a model server that also reports and refreshes its release. */
export type ReleaseServer = ModelServer & Required<Pick<ModelServer, 'info' | 'release' | 'refresh'>>;

/**
 * A model returned by `runtime.follow`: it serves the release's stable version, routes runs to the
 * candidate by the manifest (canary or shadow), rolls back on the manifest's rules and polls the
 * manifest for changes. Everything a {@link Model} does, plus {@link ReleasedModel.release} and
 * {@link ReleasedModel.refresh}.
 */
export class ReleasedModel extends Model {
  /** @internal Created by the runtime. */
  constructor(
    host: ModelHost,
    private readonly router: ReleaseServer,
  ) {
    super(router.info(), host, router);
  }

  /**
   * The stable and candidate versions, which version served the last run and why, this client's
   * canary bucket, shadow agreement per version pair, incidents (rollbacks, refusals) and the last
   * manifest error.
   */
  release(): ReleaseStatus {
    return this.router.release();
  }

  /**
   * Fetches the release manifest now (besides the `pollMs` interval, e.g. when your page learns of a
   * new release) and applies it: a new stable version is loaded and warmed before it takes over, a
   * new candidate starts loading. Resolves to the status afterwards; never rejects (failures are in
   * `lastError`).
   */
  async refresh(): Promise<ReleaseStatus> {
    await this.router.refresh();
    return this.release();
  }
}
