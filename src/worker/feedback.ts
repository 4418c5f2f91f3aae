/**
 * Feeding a step's outputs back to the next step's inputs (multi-run verification,
 * src/worker/verify.ts), by the naming conventions of recurrent and decoder exports: an output
 * named like an input plus `n`/`N` (`hn` → `h`, `stateN` → `state`), or `present…` for `past…`
 * (`present.0.key` → `past_key_values.0.key`, `present_key` → `past_key`). Other inputs take the
 * next step's fresh values; an output of another type than its input is not fed back.
 */
import type { TensorLike, TensorMap } from '../types';

/** The output that feeds input `input` at the next step, if any. */
export function feedbackSource(input: string, outputs: readonly string[]): string | undefined {
  const candidates = [`${input}n`, `${input}N`, `${input}_out`];
  if (input.startsWith('past_key_values')) candidates.push(`present${input.slice('past_key_values'.length)}`);
  if (input.startsWith('past')) candidates.push(`present${input.slice('past'.length)}`);
  return candidates.find((c) => outputs.includes(c));
}

/** The next step's `feeds`, with every input that has a feedback source replaced by that output. */
export function nextFeeds(feeds: TensorMap, outputs: Readonly<Record<string, TensorLike>>): TensorMap {
  const names = Object.keys(outputs);
  const next: TensorMap = { ...feeds };
  for (const [name, t] of Object.entries(feeds)) {
    const from = feedbackSource(name, names);
    const out = from === undefined ? undefined : outputs[from];
    if (out && out.type === t.type) next[name] = out;
  }
  return next;
}
