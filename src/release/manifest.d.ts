// Types of manifest.js (plain JS so the Node collector can run it without a build step).
import type { ReleaseManifest } from '../types.js';

/** Largest manifest body accepted, in bytes. */
export declare const MAX_MANIFEST_BYTES: number;

/**
 * Validates a parsed manifest (hostile input) and returns a clean copy holding only the known
 * fields, or the first problem found (`field`, and a `reason` that says what is expected). With
 * `base` (the manifest's URL), model URLs come back absolute.
 */
export declare function checkManifest(json: unknown, base?: string): { manifest: ReleaseManifest } | { error: { field: string; reason: string } };
