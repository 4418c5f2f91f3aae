/** What a finished `generate` answer reports: its tokens, why it ended, and its figures. */
import type { GenerateCounters, GenerateBatching } from '../protocol';
import type { FinishReason } from '../types';

/** Figures of one finished generation (see {@link GenerateResult}). */
export interface GenerateStats {
  promptTokens: number;
  newTokens: number;
  /** Milliseconds from `generate()` to the first token (prefill included), as the caller saw it. */
  ttftMs: number;
  /** Milliseconds between consecutive tokens, one per token after the first. */
  tpotMs: number[];
  /** Milliseconds from `generate()` to the last token. */
  totalMs: number;
  /**
   * Milliseconds the model was busy with this answer's steps (the cost proxy: device-busy time). A
   * step shared with other generations counts its time divided by the number of its sequences.
   */
  busyMs: number;
  /** `busyMs` per 1,000 generated tokens. */
  busyMsPer1kTokens: number;
  /** What crossed the CPU↔GPU boundary; `readbackBytes / newTokens` is the readback per token. */
  counters: GenerateCounters;
  /** Largest size of the sequence's KV cache, in bytes. */
  cacheBytes: number;
  /** How its decode steps shared model calls with other generations on the same model. */
  batching: GenerateBatching;
}

/** The whole answer: its tokens, why it ended, and its figures. */
export interface GenerateResult {
  tokens: number[];
  finishReason: FinishReason;
  stats: GenerateStats;
}
