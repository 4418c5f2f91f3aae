/**
 * A cheap structural check that bytes are an ONNX ModelProto, so obviously wrong input (an HTML
 * error page, a JSON file, a truncated download) fails with a {@link ModelFormatError} that says
 * so, before ORT reports something cryptic. It walks the top-level protobuf fields only.
 */
import { ModelFormatError } from '../errors';

/** ModelProto field numbers (onnx.proto3). */
const GRAPH_FIELD = 7;
const MAX_FIELD = 25;

/** Throws {@link ModelFormatError} unless `bytes` parse as top-level ModelProto fields with a graph. */
export function assertOnnx(bytes: Uint8Array, source: string): void {
  const fail = (why: string): never => {
    throw new ModelFormatError(`${source} is not an ONNX model (${why}). Check the URL or file: it should be a .onnx ModelProto.`, {
      source,
      bytes: bytes.length,
      why,
    });
  };
  if (bytes.length < 8) fail(`only ${bytes.length} bytes`);
  if (bytes[0] === 0x3c || bytes[0] === 0x7b) fail(`it starts with "${String.fromCharCode(bytes[0]!)}", like HTML or JSON`);
  let pos = 0;
  let hasGraph = false;
  while (pos < bytes.length) {
    const [tag, p1] = varint(bytes, pos, fail);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field < 1 || field > MAX_FIELD) fail(`unexpected field ${field} at byte ${pos}`);
    pos = p1;
    if (wire === 0) pos = varint(bytes, pos, fail)[1];
    else if (wire === 2) {
      const [len, p2] = varint(bytes, pos, fail);
      if (p2 + len > bytes.length) fail(`field ${field} runs past the end (truncated download?)`);
      if (field === GRAPH_FIELD) hasGraph = true;
      pos = p2 + len;
    } else if (wire === 5) pos += 4;
    else if (wire === 1) pos += 8;
    else fail(`invalid wire type ${wire} at byte ${pos}`);
  }
  if (pos !== bytes.length) fail('trailing bytes');
  if (!hasGraph) fail('it has no graph');
}

function varint(b: Uint8Array, pos: number, fail: (why: string) => never): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.length) fail('a field runs past the end');
    const byte = b[pos++]!;
    result += (byte & 0x7f) * mul;
    if (byte < 0x80) return [result, pos];
    mul *= 128;
  }
  return fail('malformed varint');
}
