/**
 * The candidate of a followed release on this client, as one small state machine. The candidate is
 * always exactly one of these states, each with the data it has (only `ready` has a loaded slot), and
 * it changes only through the named transitions of {@link CandidateMachine}: the follower asks for
 * them as manifests arrive and loads settle, the router asks for a rollback. A transition that does
 * not apply to the current state is refused (it changes nothing and says so), so a load that settles
 * after the manifest moved on, or a rollback racing a promotion, cannot leave two states half-set.
 *
 *   none ──follow──▶ loading ──loaded──▶ ready ──promote──▶ promoted
 *     │                 │                  │
 *     │                 ├─failed─▶ refused └─rollBack─▶ rolled-back
 *     │                 └─failed─▶ none (network: tried again at the next poll)
 *     └─follow─▶ not-in-cohort | rolled-back (a version this client rolled back before)
 *
 * A manifest naming another candidate (or none) sends any state back to `none` first, retiring a
 * ready slot.
 */
import type { ReleaseCandidate, ReleaseStatus, ReleaseVersion } from '../types';
import { retire, type Slot } from './slot';

/** The candidate on this client: one state with the data that state has. */
export type Candidate =
  /** The manifest names no candidate, or its load failed on the network and is tried at the next poll. */
  | { readonly state: 'none' }
  /** Named, but this client's bucket is outside the canary fraction. */
  | { readonly state: 'not-in-cohort'; readonly version: string }
  /** Being downloaded, checked and warmed. */
  | { readonly state: 'loading'; readonly version: string }
  /** Loaded, warm and checked: it takes the traffic the manifest gives it. */
  | { readonly state: 'ready'; readonly version: string; readonly slot: Slot }
  /** Its bytes, inputs or warm-up failed: never loaded again for this manifest. */
  | { readonly state: 'refused'; readonly version: string }
  /** A rule failed on this client (or did before): never adopted again here. */
  | { readonly state: 'rolled-back'; readonly version: string }
  /** It became the stable version; the manifest applied next names the next candidate. */
  | { readonly state: 'promoted'; readonly version: string };

/** The state a load was started in: only that same load may settle it. */
export type Loading = Extract<Candidate, { state: 'loading' }>;

/** The public state of the candidate, as `release().candidate.state` shows it. */
export type PublicCandidateState = NonNullable<ReleaseStatus['candidate']>['state'];

const NONE: Candidate = { state: 'none' };

/** What {@link CandidateMachine.follow} decided about the manifest's candidate. */
export interface Followed {
  /** The load to start (the caller starts it and settles it with `loaded` or `failed`), or null. */
  load: Loading | null;
}

/** The candidate's state and its transitions (see the module comment). */
export class CandidateMachine {
  private current: Candidate = NONE;

  /** The state now (read-only: change it through the transitions). */
  get now(): Candidate {
    return this.current;
  }

  /** The loaded candidate when it is ready to take traffic, else null. */
  get ready(): Slot | null {
    return this.current.state === 'ready' ? this.current.slot : null;
  }

  /** The state `release()` shows: a candidate not yet considered reads as loading, a promoted one as ready. */
  get publicState(): PublicCandidateState {
    const s = this.current.state;
    return s === 'none' ? 'loading' : s === 'promoted' ? 'ready' : s;
  }

  /**
   * Brings the candidate in line with the manifest's `next`: another version (or none) first drops the
   * current one (a ready slot is retired); then a version in `blocked` is rolled back, one outside the
   * cohort (`!eligible`) waits, and one not yet tried starts loading.
   */
  follow(next: ReleaseCandidate | undefined, eligible: boolean, blocked: ReadonlySet<string>): Followed {
    const c = this.current;
    const version = next?.version;
    if (c.state !== 'none' && (c.version !== version || (c.state === 'ready' && !eligible))) {
      if (c.state === 'ready') retire(c.slot);
      this.current = NONE;
    }
    if (version === undefined) return { load: null };
    if (blocked.has(version)) {
      if (this.current.state === 'ready') retire(this.current.slot);
      return this.set({ state: 'rolled-back', version });
    }
    if (this.current.state !== 'none' && this.current.state !== 'not-in-cohort') return { load: null };
    if (!eligible) return this.set({ state: 'not-in-cohort', version });
    const load: Loading = { state: 'loading', version };
    this.current = load;
    return { load };
  }

  /**
   * The load `from` succeeded with `slot`: the candidate is ready. Refused (false: the caller retires
   * the slot) when the candidate moved on while it loaded.
   */
  loaded(from: Loading, slot: Slot): boolean {
    if (this.current !== from) return false;
    this.current = { state: 'ready', version: from.version, slot };
    return true;
  }

  /**
   * The load `from` failed: `refused` when its bytes or the version itself are at fault, else it is
   * tried again at the next poll. Refused (false) when the candidate moved on while it loaded.
   */
  failed(from: Loading, refused: boolean): boolean {
    if (this.current !== from) return false;
    this.current = refused ? { state: 'refused', version: from.version } : NONE;
    return true;
  }

  /**
   * A rule failed: the ready candidate is retired at once (runs in flight on it finish there) and
   * rolled back. Returns its version; null (nothing changed) when no candidate is ready.
   */
  rollBack(): string | null {
    const c = this.current;
    if (c.state !== 'ready') return null;
    retire(c.slot);
    this.current = { state: 'rolled-back', version: c.version };
    return c.version;
  }

  /**
   * The manifest made `stable` the stable version: when it is the ready candidate (same label, same
   * bytes), its loaded slot is handed over and the candidate is promoted; else null, nothing changed.
   */
  promote(stable: ReleaseVersion): Slot | null {
    const c = this.current;
    if (c.state !== 'ready' || c.version !== stable.version || c.slot.version.sha256 !== stable.sha256) return null;
    this.current = { state: 'promoted', version: c.version };
    return c.slot;
  }

  private set(next: Candidate): Followed {
    this.current = next;
    return { load: null };
  }
}
