// webq8's TypeScript sources in plain Node scripts (the demo's and the benchmarks' model builders,
// which are not part of the package): a Vite SSR build of the named entries, imported; and a key
// over an entry's sources, to tell whether what was built from them is still current.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Builds `entries` (name → path under the repository root) for Node into `outDir` and resolves to
 * their modules' exports, merged. `outDir` is removed afterwards: give each process its own.
 * @param {Record<string, string>} entries
 * @param {string} outDir
 */
export async function importSources(entries, outDir) {
  // Imported here: loading Vite takes about a second, and a cached start never needs it.
  const { build } = await import('vite');
  await build({
    configFile: false,
    logLevel: 'warn',
    root: ROOT,
    build: {
      ssr: true,
      outDir,
      emptyOutDir: true,
      minify: false,
      target: 'node20',
      rollupOptions: { input: entries, output: { format: 'es', entryFileNames: '[name].mjs' } },
    },
  });
  try {
    const modules = await Promise.all(Object.keys(entries).map((name) => import(pathToFileURL(resolve(outDir, `${name}.mjs`)).href)));
    return Object.assign({}, ...modules);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/**
 * SHA-256 (hex) over the source file `entry` (a path under the repository root) and every file it
 * imports by a relative path, transitively: it changes when anything built from them would.
 * @param {string} entry
 */
export function sourcesKey(entry) {
  const hash = createHash('sha256');
  const seen = new Set();
  const visit = (/** @type {string} */ file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    hash.update(file.slice(ROOT.length)).update(text);
    for (const [, spec] of text.matchAll(/from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const base = resolve(dirname(file), /** @type {string} */ (spec));
      const found = [`${base}.ts`, `${base}.js`, base].find((f) => existsSync(f) && statSync(f).isFile());
      if (found) visit(found);
    }
  };
  visit(resolve(ROOT, entry));
  return hash.digest('hex');
}
