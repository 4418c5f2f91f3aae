// @ts-check
// The release manifest's one validator, shared by the browser (src/release/) and the reference
// collector (collector/release.mjs). Plain ESM JavaScript typed with JSDoc, so the collector runs it
// without a build step; no imports, no DOM, no Node APIs (see src/isomorphic/README.md).
//
// A manifest is hostile input: it comes over the network and decides which bytes a page runs. Only
// the known fields are copied out (a `__proto__` key or any extra field never reaches the result),
// every string is bounded, numbers must be finite and in range, and URLs must be http(s).

/** Largest manifest body accepted, in bytes (a manifest is a few hundred bytes). */
export const MAX_MANIFEST_BYTES = 64 * 1024;

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Models above 16 GiB are not browser models; the bound keeps `size` an exact integer. */
const MAX_SIZE = 2 ** 34;

/** Rules' ranges: [min, max] and whether the value must be an integer. */
const RULE_RANGES = {
  p95Ratio: [1, 1000, false],
  errorRateDelta: [0, 1, false],
  disagreement: [0, 1, false],
  minSamples: [1, 1e9, true],
};

class Invalid extends Error {
  /** @param {string} field @param {string} reason */
  constructor(field, reason) {
    super(reason);
    this.field = field;
  }
}

/** @param {unknown} v @param {string} field @returns {Record<string, unknown>} */
function object(v, field) {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Invalid(field, `${field} must be a JSON object`);
  return /** @type {Record<string, unknown>} */ (v);
}

/** @param {unknown} v @param {string} field @param {RegExp} pattern @param {string} what */
function text(v, field, pattern, what) {
  if (typeof v !== 'string' || !pattern.test(v)) throw new Invalid(field, `${field} must be ${what}`);
  return v;
}

/** @param {unknown} v @param {string} field @param {number} min @param {number} max @param {boolean} integer */
function number(v, field, min, max, integer) {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new Invalid(field, `${field} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`);
  }
  return v;
}

/** @param {unknown} v @param {string} field @param {string | undefined} base */
function modelUrl(v, field, base) {
  if (typeof v !== 'string' || v.length === 0 || v.length > 2048) throw new Invalid(field, `${field} must be a URL string of at most 2048 characters`);
  let url;
  try {
    url = new URL(v, base);
  } catch {
    throw new Invalid(field, `${field} is not a URL${base ? ` (relative to ${base})` : ''}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Invalid(field, `${field} must be an http(s) URL, not ${url.protocol}`);
  return base ? url.href : v;
}

/** @param {unknown} v @param {string} field @param {string | undefined} base */
function version(v, field, base) {
  const o = object(v, field);
  return {
    version: text(o.version, `${field}.version`, VERSION, 'a version label (letters, digits, "._+-", at most 64)'),
    url: modelUrl(o.url, `${field}.url`, base),
    sha256: text(
      typeof o.sha256 === 'string' ? o.sha256.toLowerCase() : o.sha256,
      `${field}.sha256`,
      SHA256_HEX,
      'the SHA-256 of the model bytes as 64 hex characters',
    ),
    size: number(o.size, `${field}.size`, 1, MAX_SIZE, true),
  };
}

/** @param {unknown} v @param {string | undefined} base */
function candidate(v, base) {
  const o = object(v, 'candidate');
  if (o.mode !== 'shadow' && o.mode !== 'canary') throw new Invalid('candidate.mode', 'candidate.mode must be "shadow" or "canary"');
  return { ...version(o, 'candidate', base), mode: o.mode, fraction: number(o.fraction, 'candidate.fraction', 0, 1, false) };
}

/** @param {unknown} v */
function rules(v) {
  const o = object(v, 'rules');
  /** @type {Record<string, number>} */
  const out = {};
  for (const [name, [min, max, integer]] of Object.entries(RULE_RANGES)) {
    if (o[name] !== undefined)
      out[name] = number(o[name], `rules.${name}`, /** @type {number} */ (min), /** @type {number} */ (max), /** @type {boolean} */ (integer));
  }
  return out;
}

/**
 * Validates a parsed manifest and returns a clean copy, or the first problem found.
 * @param {unknown} json the parsed JSON body
 * @param {string} [base] the manifest's own URL: model URLs are resolved against it (absolute in the result)
 * @returns {{ manifest: import('../types.js').ReleaseManifest } | { error: { field: string, reason: string } }}
 */
export function checkManifest(json, base) {
  try {
    const o = object(json, 'manifest');
    /** @type {import('../types.js').ReleaseManifest} */
    const manifest = { model: text(o.model, 'model', MODEL_ID, 'a model id (letters, digits, "._-", at most 128)'), stable: version(o.stable, 'stable', base) };
    if (o.candidate !== undefined && o.candidate !== null) {
      manifest.candidate = /** @type {import('../types.js').ReleaseCandidate} */ (candidate(o.candidate, base));
      if (manifest.candidate.version === manifest.stable.version) throw new Invalid('candidate.version', 'candidate.version must differ from stable.version');
    }
    if (o.rules !== undefined && o.rules !== null) manifest.rules = rules(o.rules);
    return { manifest };
  } catch (err) {
    if (err instanceof Invalid) return { error: { field: /** @type {string} */ (err.field), reason: err.message } };
    throw err;
  }
}
