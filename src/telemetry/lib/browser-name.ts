/**
 * The browser's name and major version (`'Chrome 156'`, `'Edge 140'`, `'Firefox 141'`,
 * `'Safari 18'`), a resource attribute: verification's counters and incidents are told apart by
 * it, since a GPU answer can be wrong on one browser's WebGPU and right on another's on the same
 * adapter. Undefined where there is no `navigator` (Node) or nothing is recognized.
 */

interface NavigatorLike {
  userAgent?: string;
  userAgentData?: { brands?: { brand: string; version: string }[] };
}

/** Brands by preference: a specific browser before the engine it shares with others. */
const BRANDS: [RegExp, string][] = [
  [/^Microsoft Edge$/, 'Edge'],
  [/^Opera$/, 'Opera'],
  [/^Google Chrome$/, 'Chrome'],
  [/^(HeadlessChrome|Chromium)$/, 'Chromium'],
];
/** User-agent tokens, in the order they must be tested (Edge and Opera also say Chrome; Chrome also says Safari). */
const TOKENS: [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/\bOPR\/(\d+)/, 'Opera'],
  [/\bFirefox\/(\d+)/, 'Firefox'],
  [/\bHeadlessChrome\/(\d+)/, 'Chromium'],
  [/\bChrom(?:e|ium)\/(\d+)/, 'Chrome'],
  [/\bVersion\/(\d+)[.\d]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
];

/** See the module comment; `nav` defaults to `globalThis.navigator`. */
export function browserName(nav: NavigatorLike | undefined = (globalThis as { navigator?: NavigatorLike }).navigator): string | undefined {
  try {
    const brands = nav?.userAgentData?.brands ?? [];
    for (const [pattern, name] of BRANDS) {
      const b = brands.find((x) => pattern.test(x.brand));
      if (b) return `${name} ${b.version}`;
    }
    const ua = nav?.userAgent ?? '';
    for (const [pattern, name] of TOKENS) {
      const m = pattern.exec(ua);
      if (m) return `${name} ${m[1]}`;
    }
  } catch {
    /* a navigator that throws names nothing */
  }
  return undefined;
}
