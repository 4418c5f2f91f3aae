/**
 * Raises a model's default-domain opset (the quantizer needs ≥ 11 for DynamicQuantizeLinear) and
 * rewrites the nodes whose schema changed on the way, so their meaning is unchanged:
 * Slice-1 (attributes → inputs, opset 10), TopK-1 (`k` → input, 10), Clip-6 (`min`/`max` → inputs,
 * 11), Pad-2 (`pads`/`value` → inputs, 11). Ops that changed in ways we do not rewrite (Upsample,
 * Resize, Scatter) make it throw instead of producing a model that computes something else.
 * Other ops changed only compatibly between 9 and 11 (e.g. negative axes became legal).
 */
import { ONNX } from '../dtypes';
import { ModelFormatError } from '../errors';
import { defaultOpset, num, onnx, type GraphProto, type IntLike, type ModelProto, type NodeProto, type TensorProto } from './onnx-model';

const REFUSED: Record<string, number> = { Upsample: 10, Resize: 11, Scatter: 11 };

/** Upgrades `model` in place to at least `target`; returns the previous version. */
export function upgradeOpset(model: ModelProto, target: number): number {
  const from = defaultOpset(model);
  if (from >= target) return from;
  const graph = model.graph;
  if (graph) upgradeGraph(graph, from, target);
  const imports = (model.opsetImport ?? []).filter((o) => o.domain && o.domain !== 'ai.onnx');
  model.opsetImport = [onnx.OperatorSetIdProto.create({ domain: '', version: target }), ...imports];
  if (num(model.irVersion as IntLike) < 7) model.irVersion = 7;
  return from;
}

function upgradeGraph(graph: GraphProto, from: number, target: number): void {
  const added: TensorProto[] = [];
  const constant = (name: string, dataType: number, dims: number[], values: number[]): string => {
    const t =
      dataType === ONNX.INT64
        ? onnx.TensorProto.create({ name, dataType, dims, int64Data: values })
        : onnx.TensorProto.create({ name, dataType, dims, floatData: values });
    added.push(t);
    return name;
  };
  for (const [k, node] of (graph.node ?? []).entries()) {
    for (const a of node.attribute ?? []) for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) upgradeGraph(g, from, target);
    if (node.domain && node.domain !== 'ai.onnx') continue;
    const op = node.opType ?? '';
    const base = `${node.name || node.output?.[0] || op}_${k}_webq8`;
    const refused = REFUSED[op];
    if (refused !== undefined && from < refused && target >= refused) {
      throw new ModelFormatError(
        `Cannot raise the opset from ${from} to ${target}: ${op} changed meaning in opset ${refused}. Convert the model to opset ${target} first (onnx.version_converter).`,
        { op, from, target },
      );
    }
    if (op === 'Slice' && from < 10) {
      const ints = (n: string) => take(node, n)?.ints?.map((x) => num(x as IntLike));
      const starts = ints('starts') ?? [],
        ends = ints('ends') ?? [],
        axes = ints('axes');
      node.input = [
        node.input?.[0] ?? '',
        constant(`${base}_starts`, 7, [starts.length], starts),
        constant(`${base}_ends`, 7, [ends.length], ends),
        ...(axes ? [constant(`${base}_axes`, 7, [axes.length], axes)] : []),
      ];
    } else if (op === 'TopK' && from < 10) {
      const k0 = num(take(node, 'k')?.i as IntLike);
      node.input = [node.input?.[0] ?? '', constant(`${base}_k`, 7, [1], [k0])];
    } else if (op === 'Clip' && from < 11) {
      const lo = take(node, 'min'),
        hi = take(node, 'max');
      node.input = [node.input?.[0] ?? '', lo ? constant(`${base}_min`, 1, [], [lo.f ?? 0]) : '', ...(hi ? [constant(`${base}_max`, 1, [], [hi.f ?? 0])] : [])];
    } else if (op === 'Pad' && from < 11) {
      const pads = (take(node, 'pads') ?? take(node, 'paddings'))?.ints?.map((x) => num(x as IntLike)) ?? [];
      const value = take(node, 'value');
      node.input = [
        node.input?.[0] ?? '',
        constant(`${base}_pads`, 7, [pads.length], pads),
        ...(value ? [constant(`${base}_value`, 1, [], [value.f ?? 0])] : []),
      ];
    }
  }
  graph.initializer = [...(graph.initializer ?? []), ...added];
}

/** Removes and returns attribute `name` of `node`. */
function take(node: NodeProto, name: string) {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  if (a) node.attribute = (node.attribute ?? []).filter((x) => x !== a);
  return a;
}
