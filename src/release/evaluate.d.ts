// Types of evaluate.js (plain JS so the Node collector can run it without a build step).
import type { HistogramCounts, ReleaseDecision, ReleaseRules, VersionStats } from '../types.js';

/** Defaults of the manifest's `rules`. */
export declare const RELEASE_RULE_DEFAULTS: Readonly<Required<ReleaseRules>>;
/** One-sided error of each statistical bound (0.025). */
export declare const ALPHA: number;
/** Error codes that are the caller's doing and never count against a version. */
export declare const CALLER_ERRORS: readonly string[];
/** Whether an error with this code counts against the version that raised it. */
export declare function countsAgainstVersion(code: string): boolean;
/** Distribution-free bounds on the `q`-quantile, each holding with probability ≥ 1 − `alpha` (upper is Infinity with too few samples). */
export declare function quantileBounds(h: HistogramCounts, q: number, alpha?: number): { lower: number; upper: number };
/** Wilson score bounds on the proportion `k / n`, each one-sided at 1 − ALPHA. */
export declare function rateBounds(k: number, n: number): { lower: number; upper: number };
/**
 * The release decision over two versions' stats (pure): `rollback` when a rule fails with
 * confidence after the minimum samples, `promote` when every rule passes with confidence, `wait`
 * otherwise; the deciding rule and its evidence.
 */
export declare function evaluateRelease(rules: ReleaseRules | undefined, stats: { stable: VersionStats; candidate: VersionStats }): ReleaseDecision;
