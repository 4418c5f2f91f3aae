/**
 * Compute pipelines cached by shader key (tfjs-backend-webgpu style): a program's WGSL, entry point
 * and override constants determine the key, so each variant is compiled once per device.
 */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly modules = new Map<string, GPUShaderModule>();

  constructor(
    private readonly device: GPUDevice,
    private readonly debug = false,
  ) {}

  /** Number of pipelines compiled so far (for tests and stats). */
  get size(): number {
    return this.pipelines.size;
  }

  /** The keys of the pipelines compiled so far (for tests: which variants ran). */
  keys(): string[] {
    return [...this.pipelines.keys()];
  }

  /**
   * The pipeline for `key`, compiling `code` on first use.
   * @param key - unique per (shader source, entry point, constants); see {@link pipelineKey}.
   */
  get(key: string, label: string, code: string, entryPoint: string, constants: Record<string, number>): GPUComputePipeline {
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    let module = this.modules.get(code);
    if (!module) {
      // Debug flag prints generated WGSL, as tfjs-backend-webgpu's WEBGPU_PRINT_SHADER does.
      if (this.debug) console.debug(`[webq8] WGSL for ${label}:\n${code}`);
      module = this.device.createShaderModule({ label: `${label}.wgsl`, code });
      this.modules.set(code, module);
    }
    const pipeline = this.device.createComputePipeline({
      label,
      layout: 'auto',
      compute: { module, entryPoint, constants },
    });
    this.pipelines.set(key, pipeline);
    return pipeline;
  }
}

/** The cache key of a program variant. */
export function pipelineKey(shaderKey: string, entryPoint: string, constants: Record<string, number>): string {
  const c = Object.keys(constants)
    .sort()
    .map((k) => `${k}=${constants[k]}`)
    .join(',');
  return `${shaderKey}:${entryPoint}:${c}`;
}
