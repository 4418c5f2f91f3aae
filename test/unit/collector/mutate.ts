/**
 * Random mutations of a JSON text for fuzzing: structural ones (a value anywhere in the tree
 * deleted, replaced by a hostile or out-of-range value, or an array grown) and textual ones
 * (truncation, a wrong character, a spliced fragment). Deterministic for a given `rand`.
 */

type Rand = () => number;
type Slot = [Record<string | number, unknown>, string | number];

const HOSTILE: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1,
  1.5,
  -0.5,
  2 ** 31,
  -(2 ** 31),
  2 ** 53,
  2 ** 64,
  1e308,
  -1e308,
  5e-324,
  'NaN',
  'Infinity',
  '-Infinity',
  '',
  '0',
  '-1',
  '1e3',
  '0x10',
  ' 7',
  '18446744073709551615',
  '9007199254740993',
  'x'.repeat(300),
  '\u0000',
  '\ud800',
  [],
  [1],
  ['1', '-1'],
  {},
  { a: 1 },
  { stringValue: 'x'.repeat(1000) },
];
const CHARS = '{}[]":,0123456789-+eE. \\\u0000\u00ff\uffff';

const int = (rand: Rand, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

/** A number or decimal string anywhere from tiny to far past every bound the collector has. */
function wideNumber(rand: Rand): unknown {
  const magnitude = 2 ** int(rand, 0, 70);
  const v = Math.floor(rand() * magnitude) * (rand() < 0.3 ? -1 : 1);
  if (rand() < 0.2) return int(rand, -12, 22); // scale-like
  return rand() < 0.5 ? v : String(v);
}

function slots(doc: unknown): Slot[] {
  const out: Slot[] = [];
  const walk = (v: unknown) => {
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string | number, unknown>;
    for (const key of Array.isArray(v) ? v.keys() : Object.keys(v)) {
      out.push([o, key]);
      walk(o[key]);
    }
  };
  walk(doc);
  return out;
}

function structural(text: string, rand: Rand): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return textual(text, rand);
  }
  const all = slots(doc);
  if (all.length === 0) return textual(text, rand);
  const [parent, key] = all[Math.floor(rand() * all.length)]!;
  const op = rand();
  if (op < 0.15) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (op < 0.5) parent[key] = HOSTILE[Math.floor(rand() * HOSTILE.length)];
  else if (op < 0.8) parent[key] = wideNumber(rand);
  else if (op < 0.9 && Array.isArray(parent)) parent.push(...new Array(int(rand, 1, 300)).fill(parent[key as number]));
  else parent[`k${int(rand, 0, 9)}`] = parent[key]; // an extra (unknown) field
  return JSON.stringify(doc);
}

function textual(text: string, rand: Rand): string {
  const at = int(rand, 0, text.length);
  const op = rand();
  if (op < 0.3) return text.slice(0, at);
  if (op < 0.7) return text.slice(0, at) + CHARS[Math.floor(rand() * CHARS.length)] + text.slice(at + 1);
  const from = int(rand, 0, text.length);
  return text.slice(0, at) + text.slice(from, from + int(rand, 1, 200)) + text.slice(at);
}

/** One to three mutations of `text`. */
export function mutate(text: string, rand: Rand): string {
  let s = text;
  for (let i = int(rand, 1, 3); i > 0; i--) s = rand() < 0.75 ? structural(s, rand) : textual(s, rand);
  return s;
}
