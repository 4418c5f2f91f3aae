// PP-OCRv4 text-line recognition helpers, shared by the demo, the browser tests and the benches:
// draw a line of text, turn it into the model's input tensor, and CTC-decode the output.

/** Renders `text` in black on white, 48 px high, sized to fit (28px sans-serif). Returns ImageData. */
export function renderLine(text, { font = '28px sans-serif', height = 48 } = {}) {
  const probe = new OffscreenCanvas(8, 8).getContext('2d');
  probe.font = font;
  // Width: the text plus a margin, a multiple of 8 (the recognizer downsamples width by 8).
  const width = Math.max(64, Math.ceil((probe.measureText(text).width + 24) / 8) * 8);
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#000';
  ctx.font = font;
  ctx.textBaseline = 'middle';
  ctx.fillText(text, 12, height / 2);
  return ctx.getImageData(0, 0, width, height);
}

/** PP-OCR preprocessing: RGB planes, (v/255 − 0.5) / 0.5, NCHW float32[1, 3, H, W]. */
export function toInput(image) {
  const { width, height, data } = image;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = (data[i * 4 + c] / 255 - 0.5) / 0.5;
  }
  return { type: 'float32', dims: [1, 3, height, width], data: out };
}

/** Loads the character list: index i of the model's output is line i−1; the last index is a space. */
export async function loadKeys(url) {
  const text = await (await fetch(url)).text();
  return text.split(/\r?\n/).filter((_, i, all) => i < all.length - 1 || all[i] !== '');
}

/** Greedy CTC decoding of float32[1, T, C]: argmax per step, drop repeats and blanks (index 0). */
export function ctcDecode(output, keys) {
  const [, steps, classes] = output.dims;
  const probs = output.data;
  let text = '';
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let bestP = -Infinity;
    for (let c = 0; c < classes; c++) {
      const p = probs[t * classes + c];
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== prev && best !== 0) text += best - 1 < keys.length ? keys[best - 1] : ' ';
    prev = best;
  }
  return text;
}
