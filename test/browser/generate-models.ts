// Decoder models of the generation tests, built in Node with webq8's own builder and quantizer and
// served by the test server from .cache/generate/. Written atomically: specs in parallel workers may
// write the same (deterministic) bytes at once.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { buildDecoder, SMALL_DECODER, type DecoderConfig } from '../../src/graph/decoder-builder';
import { quantizeDynamic } from '../../src/graph/quantize';

/** A decoder small enough for ORT's WebGPU EP on SwiftShader (~40× slower than WASM). */
export const TINY_DECODER: DecoderConfig = { layers: 2, hidden: 64, heads: 2, vocab: 512, maxPositions: 128 };

/** Served URLs of the test decoders (synthetic weights). */
export const DECODERS = {
  small: '/.cache/generate/small-fp32.onnx',
  smallQ8: '/.cache/generate/small-q8.onnx',
  tiny: '/.cache/generate/tiny-fp32.onnx',
};

/** Writes every model of {@link DECODERS}. */
export function writeDecoders(): void {
  const dir = new URL('../../.cache/generate/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const put = (url: string, bytes: Uint8Array) => {
    const file = new URL(`../..${url}`, import.meta.url);
    const tmp = new URL(`${file.href}.${process.pid}.tmp`);
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  };
  const small = buildDecoder(SMALL_DECODER);
  put(DECODERS.small, small);
  put(DECODERS.smallQ8, quantizeDynamic(small).bytes);
  put(DECODERS.tiny, buildDecoder(TINY_DECODER));
}
