/**
 * Live-object accounting on a GPUDevice: buffers and textures created minus destroyed, and their
 * bytes. The runtime shares onnxruntime-web's device, so the counts include ORT's own buffers: that
 * is the point — a leak check must see everything that holds GPU memory, not only what webq8 made.
 * `dispose()` tests compare these numbers before a load and after its dispose.
 *
 * Counting works by wrapping `createBuffer`/`createTexture` on the device instance (once per device)
 * and `destroy` on each object they return. ORT's WASM build calls both through the JS objects
 * (`device.createBuffer(desc)`, `buffer.destroy()`), so its objects are counted too. A buffer that
 * is dropped without `destroy()` stays counted as live: its memory is only freed by garbage
 * collection, which is what a leak check should flag.
 */

/** Live WebGPU objects of one device (created minus destroyed since tracking began). */
export interface DeviceResourceCounts {
  buffers: number;
  bufferBytes: number;
  textures: number;
  textureBytes: number;
}

interface Tracker extends DeviceResourceCounts {
  destroyed: WeakSet<object>;
}

const trackers = new WeakMap<GPUDevice, Tracker>();

/**
 * Starts counting on `device` (idempotent) and returns its live counts. Objects created before the
 * first call are not counted, so call it before creating anything worth checking.
 */
export function trackDevice(device: GPUDevice): DeviceResourceCounts {
  const known = trackers.get(device);
  if (known) return known;
  const t: Tracker = { buffers: 0, bufferBytes: 0, textures: 0, textureBytes: 0, destroyed: new WeakSet() };
  trackers.set(device, t);
  const createBuffer = device.createBuffer.bind(device);
  const createTexture = device.createTexture.bind(device);
  device.createBuffer = (desc: GPUBufferDescriptor) => {
    const buffer = createBuffer(desc);
    t.buffers++;
    t.bufferBytes += buffer.size;
    onDestroy(t, buffer, () => {
      t.buffers--;
      t.bufferBytes -= buffer.size;
    });
    return buffer;
  };
  device.createTexture = (desc: GPUTextureDescriptor) => {
    const texture = createTexture(desc);
    const bytes = textureBytes(texture);
    t.textures++;
    t.textureBytes += bytes;
    onDestroy(t, texture, () => {
      t.textures--;
      t.textureBytes -= bytes;
    });
    return texture;
  };
  return t;
}

/** The live counts of `device`, or null when it is not tracked. */
export function deviceCounts(device: GPUDevice): DeviceResourceCounts | null {
  const t = trackers.get(device);
  return t ? { buffers: t.buffers, bufferBytes: t.bufferBytes, textures: t.textures, textureBytes: t.textureBytes } : null;
}

/** Wraps `obj.destroy` so the first call runs `release` (later calls are no-ops in WebGPU too). */
function onDestroy(t: Tracker, obj: { destroy(): undefined }, release: () => void): void {
  const destroy = obj.destroy.bind(obj);
  obj.destroy = () => {
    if (!t.destroyed.has(obj)) {
      t.destroyed.add(obj);
      release();
    }
    return destroy();
  };
}

/** Approximate bytes of a texture: 4 bytes per texel per layer and mip 0 (enough to see growth). */
function textureBytes(tex: GPUTexture): number {
  return tex.width * tex.height * tex.depthOrArrayLayers * 4;
}
