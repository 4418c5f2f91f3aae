// A page without WebGPU: served over plain http from a non-localhost name (not a secure context,
// so navigator.gpu is absent), the way a misconfigured deployment would be.
import { CHROMIUM_ARGS, findChromium } from './chromium';
import { MODELS, expect, test } from './fixtures';

const HOST = 'webq8-insecure.test';
test.use({ launchOptions: { executablePath: findChromium(), args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${HOST} 127.0.0.1`] } });

test('without WebGPU, forcing webgpu throws BackendUnavailableError and auto falls back to WASM with the reason', async ({ page, baseURL }) => {
  const port = new URL(baseURL!).port;
  await page.goto(`http://${HOST}:${port}/test/browser/blank.html`);
  const r = await page.evaluate(async (url) => {
    const webq8 = await import('/dist/index.js');
    const rt = webq8.createRuntime();
    let forced: unknown = null;
    try {
      await rt.load(url, { backend: 'webgpu' });
    } catch (e) {
      const err = e as InstanceType<typeof webq8.WebQ8Error>;
      forced = { name: err.name, code: err.code, message: err.message, isClass: e instanceof webq8.BackendUnavailableError };
    }
    const auto = await rt.load(url);
    const out = await auto.run({ x: { type: 'float32', dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192) } });
    await rt.dispose();
    return {
      sha256: auto.info.sha256,
      hasGpu: 'gpu' in navigator,
      secure: isSecureContext,
      forced,
      backend: auto.info.backend,
      adapter: auto.info.adapter,
      outDims: Object.values(out)[0]!.dims,
    };
  }, MODELS.cls);
  expect(r.secure).toBe(false);
  expect(r.hasGpu).toBe(false);
  expect(r.forced).toMatchObject({ name: 'BackendUnavailableError', code: 'BACKEND_UNAVAILABLE', isClass: true });
  expect((r.forced as { message: string }).message).toMatch(/backend 'auto' or 'wasm'/);
  expect(r.backend).toMatchObject({ backend: 'wasm', requested: 'auto' });
  expect(r.backend.reason).toMatch(/no WebGPU/);
  expect(r.adapter).toBeNull();
  expect(r.outDims).toEqual([1, 2]);
  // No crypto.subtle outside a secure context: the cache hashes with its JS SHA-256 instead.
  expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
});
