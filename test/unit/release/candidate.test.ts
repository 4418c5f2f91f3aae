// The candidate's state machine on its own: every transition from every state it applies to, and the
// ones it refuses (a load that settles after the manifest moved on, a rollback with nothing ready, a
// promotion of other bytes), with the slots it retires.
import { describe, expect, it } from 'vitest';
import { CandidateMachine, type Candidate, type Loading } from '../../../src/release/candidate';
import type { Slot } from '../../../src/release/slot';
import type { ReleaseCandidate } from '../../../src/types';

const canary = (version: string, fraction = 0.5): ReleaseCandidate => ({
  version,
  url: `https://models.test/${version}.onnx`,
  sha256: version.padStart(64, '0'),
  size: 10,
  mode: 'canary',
  fraction,
});

/** A slot whose server counts disposals (a retired idle slot is disposed at once). */
function slot(version: string): Slot & { disposed: () => number } {
  let disposed = 0;
  const server = { dispose: async () => void disposed++ } as unknown as Slot['server'];
  const s = { version: canary(version), info: {} as Slot['info'], server, stats: {} as Slot['stats'], inflight: 0, retired: false };
  return Object.assign(s, { disposed: () => disposed });
}

const none = new Set<string>();

/** A machine brought to `ready` on version `v` with `s`. */
function readyOn(v: string, s: Slot): CandidateMachine {
  const m = new CandidateMachine();
  const { load } = m.follow(canary(v), true, none);
  expect(m.loaded(load!, s)).toBe(true);
  return m;
}

describe('the release candidate state machine', () => {
  it('follow: none → loading when eligible, not-in-cohort when not, rolled-back when blocked; a state for the same version stays', () => {
    const m = new CandidateMachine();
    expect(m.now).toEqual({ state: 'none' });
    expect(m.publicState).toBe('loading');
    expect(m.follow(undefined, false, none)).toEqual({ load: null });
    expect(m.now).toEqual({ state: 'none' });

    expect(m.follow(canary('2'), false, none)).toEqual({ load: null });
    expect(m.now).toEqual({ state: 'not-in-cohort', version: '2' });
    const { load } = m.follow(canary('2'), true, none); // the fraction grew to include this client
    expect(load).toEqual({ state: 'loading', version: '2' });
    expect(m.now).toBe(load);
    expect(m.follow(canary('2'), true, none)).toEqual({ load: null }); // already loading: no second load
    expect(m.now).toBe(load);

    const b = new CandidateMachine();
    expect(b.follow(canary('3'), true, new Set(['3']))).toEqual({ load: null });
    expect(b.now).toEqual({ state: 'rolled-back', version: '3' });
    expect(b.publicState).toBe('rolled-back');
  });

  it('loaded and failed settle only the load that was started, and only once', () => {
    const m = new CandidateMachine();
    const first = m.follow(canary('2'), true, none).load!;
    m.follow(canary('3'), true, none); // the manifest moved on while '2' loaded
    const s2 = slot('2');
    expect(m.loaded(first, s2)).toBe(false);
    expect(m.failed(first, true)).toBe(false);
    expect(m.now).toMatchObject({ state: 'loading', version: '3' });

    const second = m.now as Loading;
    const s3 = slot('3');
    expect(m.loaded(second, s3)).toBe(true);
    expect(m.now).toEqual({ state: 'ready', version: '3', slot: s3 });
    expect(m.ready).toBe(s3);
    expect(m.loaded(second, slot('3'))).toBe(false); // settled already
    expect(m.ready).toBe(s3);

    const n = new CandidateMachine();
    const net = n.follow(canary('4'), true, none).load!;
    expect(n.failed(net, false)).toBe(true);
    expect(n.now).toEqual({ state: 'none' }); // a network failure: loaded again at the next poll
    const again = n.follow(canary('4'), true, none).load!;
    expect(again).not.toBe(net);
    expect(n.failed(again, true)).toBe(true);
    expect(n.now).toEqual({ state: 'refused', version: '4' });
    expect(n.follow(canary('4'), true, none)).toEqual({ load: null }); // refused stays refused
    expect(n.publicState).toBe('refused');
  });

  it('a manifest naming another candidate, none, or a cohort this client left retires the ready slot', () => {
    const cases: [string, ReleaseCandidate | undefined, boolean, Candidate][] = [
      ['another candidate', canary('3'), true, { state: 'loading', version: '3' }],
      ['no candidate', undefined, false, { state: 'none' }],
      ['left the cohort', canary('2', 0.1), false, { state: 'not-in-cohort', version: '2' }],
    ];
    for (const [why, next, eligible, after] of cases) {
      const s = slot('2');
      const m = readyOn('2', s);
      m.follow(next, eligible, none);
      expect([why, m.now]).toEqual([why, after]);
      expect([why, s.retired, s.disposed()]).toEqual([why, true, 1]);
    }
    const s = slot('2');
    const m = readyOn('2', s);
    expect(m.follow(canary('2'), true, none)).toEqual({ load: null }); // unchanged manifest: stays ready
    expect(m.ready).toBe(s);
    expect(s.retired).toBe(false);
  });

  it('rollBack: only a ready candidate, retired at once; refused from any other state', () => {
    const m = new CandidateMachine();
    expect(m.rollBack()).toBeNull();
    const load = m.follow(canary('2'), true, none).load!;
    expect(m.rollBack()).toBeNull(); // loading: nothing takes traffic yet
    expect(m.now).toBe(load);
    const s = slot('2');
    m.loaded(load, s);
    expect(m.rollBack()).toBe('2');
    expect(m.now).toEqual({ state: 'rolled-back', version: '2' });
    expect([s.retired, s.disposed()]).toEqual([true, 1]);
    expect(m.rollBack()).toBeNull(); // once
    expect(m.follow(canary('2'), true, none)).toEqual({ load: null }); // never loaded again for this manifest
  });

  it('promote hands over the ready slot only for the same label and bytes', () => {
    const s = slot('2');
    const m = readyOn('2', s);
    expect(m.promote({ ...canary('2'), sha256: 'f'.repeat(64) })).toBeNull();
    expect(m.promote(canary('3'))).toBeNull();
    expect(m.ready).toBe(s);
    expect(m.promote(canary('2'))).toBe(s);
    expect(m.now).toEqual({ state: 'promoted', version: '2' });
    expect(m.publicState).toBe('ready');
    expect(s.retired).toBe(false); // it serves as stable now
    expect(m.rollBack()).toBeNull();
    expect(new CandidateMachine().promote(canary('2'))).toBeNull();
  });

  it('a version found blocked while ready is rolled back and its slot retired', () => {
    const s = slot('2');
    const m = readyOn('2', s);
    m.follow(canary('2'), true, new Set(['2']));
    expect(m.now).toEqual({ state: 'rolled-back', version: '2' });
    expect(s.retired).toBe(true);
  });
});
