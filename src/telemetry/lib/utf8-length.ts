/** Byte length of a string as UTF-8: what a request body costs against a byte budget. */
const encoder = new TextEncoder();

/** UTF-8 byte length of `s`. */
export function utf8Length(s: string): number {
  return encoder.encode(s).byteLength;
}
