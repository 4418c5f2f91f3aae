// A webpack 5 production build with no asset rules: webq8's Worker and onnxruntime-web's files are
// found through their `new URL('./…', import.meta.url)` literals.
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  context: fileURLToPath(new URL('.', import.meta.url)),
  entry: './main.js',
  output: { path: fileURLToPath(new URL('./dist/', import.meta.url)), filename: 'main.js', clean: true },
  // The .wasm is 26 MB by nature; the size hint would only be noise.
  performance: { hints: false },
};
