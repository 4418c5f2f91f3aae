/**
 * CPU reference of ONNX ConvInteger (opset 10), written for clarity, not speed: the kernel tests
 * compare the GPU conv kernels against it (and both against onnxruntime's own kernel).
 */
import { convGeometry, type ConvAttrs } from './conv-math';
import { zeroPointAt, type IntTensor, type ZeroPoints } from './int8-math';

/**
 * `Y[n, m, oy, ox] = Σ_{c, ky, kx} (X[n, g·cg + c, iy, ix] − x_zp) · (W[m, c, ky, kx] − w_zp[m])`
 * in int32, with `iy = oy·sh − pt + ky·dh` (likewise ix); positions outside the input are padding,
 * which holds `x_zp` (ONNX pads the quantized input with its zero point), so they add nothing.
 * `wZp` is scalar or one per output channel.
 */
export function convIntegerRef(x: IntTensor, w: IntTensor, attrs: ConvAttrs = {}, xZp = 0, wZp?: ZeroPoints): { data: Int32Array; dims: number[] } {
  const g = convGeometry('ConvInteger', x.dims, w.dims, attrs);
  const out = new Int32Array(g.batch * g.m * g.oh * g.ow);
  let o = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let m = 0; m < g.m; m++) {
      const c0 = Math.floor(m / g.mg) * g.cg;
      const zw = zeroPointAt(wZp, m);
      for (let oy = 0; oy < g.oh; oy++) {
        for (let ox = 0; ox < g.ow; ox++) {
          let acc = 0;
          for (let c = 0; c < g.cg; c++) {
            for (let ky = 0; ky < g.kh; ky++) {
              const iy = oy * g.sh - g.pt + ky * g.dh;
              if (iy < 0 || iy >= g.h) continue;
              for (let kx = 0; kx < g.kw; kx++) {
                const ix = ox * g.sw - g.pl + kx * g.dw;
                if (ix < 0 || ix >= g.w) continue;
                const xv = (x.data[((n * g.c + c0 + c) * g.h + iy) * g.w + ix] as number) - xZp;
                acc += xv * ((w.data[((m * g.cg + c) * g.kh + ky) * g.kw + kx] as number) - zw);
              }
            }
          }
          out[o++] = acc;
        }
      }
    }
  }
  return { data: out, dims: g.outDims };
}
