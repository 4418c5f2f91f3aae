/**
 * The partitioner: ONNX bytes → an execution {@link Plan} of ORT segments and webq8 kernel steps.
 *
 * Scheduling is "as soon as possible" over the DAG: the steps alternate ORT segment 0, kernel
 * stage 0, ORT segment 1, kernel stage 1, … An ORT node goes into the first segment after all of its
 * producers (a kernel producer in stage k forces segment k + 1); a kernel group joins the stage of
 * its latest producer. Every segment is then a sub-model holding its nodes, the initializers and
 * `Constant` nodes they read (copied into each segment that needs them, so constants never cross
 * segments), inputs for values from elsewhere and outputs for values read later or by the caller.
 * Cut values are declared with their element type and unknown shape, so dynamic shapes stay dynamic.
 *
 * A model without a matching pattern keeps its original bytes as a one-step plan.
 *
 * External data (ONNX `external_data`) stays external: kernel steps read their weights as views
 * of the data files (or, streamed, from their ranges when prepared: src/graph/external-stream.ts),
 * and segments keep their tensors' `external_data` entries and name the files they read
 * (`OrtStep.externalData`; a streamed file becomes the segment's own ranges only).
 */
import { ortPlan, type KernelStep, type OrtStep, type Plan } from './plan';
import { bindExternalData, type ExternalFiles } from './external-data';
import { segmentExternal, wholeFile } from './external-stream';
import { dtypeOfOnnx } from '../dtypes';
import {
  declaredValue,
  decodeModel,
  indexGraph,
  nodeReads,
  onnx,
  type GraphIndex,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnx-model';
import { inferElemTypes } from './elem-types';
import type { Placement } from '../types';
import { nodeName, type KernelGroup } from './match';
import { matchPatterns } from './patterns';
import { placementOf } from './placement';

/** Result of {@link planModel}: the partitioned plan (or the plain one) and where every node runs. */
export interface PlannedModel {
  /** Plan with kernel steps; `null` when nothing matched (or the partition failed, see `placement.fallbacks`). */
  kernels: Plan | null;
  /** The whole model as one ORT step (the original bytes). */
  ort: Plan;
  placement: Placement;
}

/** Options of {@link planModel}. */
export interface PlanOptions {
  /** Name used in messages. */
  source?: string;
  /** The model's external data files by location (required when it has external tensors). */
  externalData?: ExternalFiles;
}

/**
 * Parses `bytes`, matches int8 patterns and builds both plans. Never throws on unsupported graphs;
 * throws `ExternalDataError` when the model stores tensors in a file `options.externalData` lacks.
 */
export function planModel(bytes: Uint8Array, options: PlanOptions = {}): PlannedModel {
  const files = options.externalData ?? new Map<string, Uint8Array>();
  const ort = ortPlan(
    bytes,
    [...files].map(([path, f]) => wholeFile(path, f)),
  );
  const model = decodeModel(bytes, options.source);
  bindExternalData(model, files); // throws ExternalDataError for a file not given
  const ix = indexGraph(model.graph ?? {});
  const types = inferElemTypes(ix);
  const { groups, fallbacks } = matchPatterns(ix, types);
  if (groups.length === 0) return { kernels: null, ort, placement: placementOf(ix, [], fallbacks, 0) };
  try {
    const kernels = partition(model, ix, groups, types, files);
    const segments = kernels.steps.filter((s) => s.kind === 'ort').length;
    return { kernels, ort, placement: placementOf(ix, groups, fallbacks, segments) };
  } catch (err) {
    const reason = `partition failed: ${err instanceof Error ? err.message : String(err)}`;
    return { kernels: null, ort, placement: placementOf(ix, [], [...fallbacks, { node: '(model)', op: '', reason }], 0) };
  }
}

type Unit = { kind: 'ort'; seg: number } | { kind: 'kernel'; stage: number; group: KernelGroup };

function partition(model: ModelProto, ix: GraphIndex, groups: KernelGroup[], types: Map<string, number>, files: ExternalFiles): Plan {
  const groupOf = new Map<number, KernelGroup>();
  for (const g of groups) for (const k of g.nodes) groupOf.set(k, g);
  const lastNode = new Map(groups.map((g) => [g, Math.max(...g.nodes)]));
  const unitOf = new Map<number, Unit>(); // node index → its unit
  const level = (value: string, forOrt: boolean): number => {
    const p = ix.producer.get(value);
    if (p === undefined || ix.constantNode.has(value)) return 0;
    const u = unitOf.get(p);
    if (!u) throw new Error(`node ${nodeName(ix.nodes[p]!, p)} is used before it is computed (the graph is not topologically sorted)`);
    if (u.kind === 'ort') return u.seg;
    return forOrt ? u.stage + 1 : u.stage;
  };
  ix.nodes.forEach((n, i) => {
    if (ix.constantNode.has(n.output?.[0] ?? '') && n.opType === 'Constant') return;
    const g = groupOf.get(i);
    if (!g) {
      unitOf.set(i, { kind: 'ort', seg: Math.max(0, ...nodeReads(n).map((v) => level(v, true))) });
      return;
    }
    if (lastNode.get(g) !== i) return;
    const inside = new Set(g.nodes);
    const reads = g.steps.flatMap((s) => s.inputs).filter((v) => !g.steps.some((s) => s.outputs.includes(v)));
    const external = [...reads, ...g.nodes.flatMap((k) => nodeReads(ix.nodes[k]!))].filter(
      (v) => !inside.has(ix.producer.get(v) ?? -1) && !v.endsWith('::webq8'),
    );
    const unit: Unit = { kind: 'kernel', stage: Math.max(0, ...external.map((v) => level(v, false))), group: g };
    for (const k of g.nodes) unitOf.set(k, unit);
  });
  const maxLevel = Math.max(0, ...[...unitOf.values()].map((u) => (u.kind === 'ort' ? u.seg : u.stage)));
  sinkOrtNodes(ix, unitOf, maxLevel + 1);
  const stepReads = (u: Unit) => (u.kind === 'ort' ? [] : u.group.steps.flatMap((s) => s.inputs));
  const kernelReads = new Set([...new Set(unitOf.values())].flatMap(stepReads));
  const steps: (OrtStep | KernelStep)[] = [];
  const ortSegments: number[][] = Array.from({ length: maxLevel + 2 }, () => []);
  const stages: KernelGroup[][] = Array.from({ length: maxLevel + 2 }, () => []);
  ix.nodes.forEach((_, i) => {
    const u = unitOf.get(i);
    if (u?.kind === 'ort') ortSegments[u.seg]!.push(i);
    else if (u?.kind === 'kernel' && lastNode.get(u.group) === i) stages[u.stage]!.push(u.group);
  });
  const hoists = groups.flatMap((g) => g.hoist ?? []);
  for (const h of hoists) if (types.has(h.constant)) types.set(h.as, types.get(h.constant)!);
  for (let s = 0; s <= maxLevel + 1; s++) {
    const nodes = ortSegments[s]!;
    const step = nodes.length > 0 ? segment(model, ix, nodes, unitOf, kernelReads, hoists, types, s, files) : null;
    if (step) steps.push(step);
    for (const g of stages[s]!) steps.push(...g.steps);
  }
  const outputs = [...ix.graphOutputs];
  const declared = [...(ix.graph.input ?? []), ...(ix.graph.output ?? [])]
    .filter((v) => ix.graphInputs.has(v.name ?? '') || ix.graphOutputs.has(v.name ?? ''))
    .map(declaredValue);
  return { inputs: [...ix.graphInputs], outputs, steps, declared };
}

/**
 * Moves each ORT node to the latest segment its consumers allow ("as late as possible", kernel
 * stages fixed), so values such as shape arithmetic are computed next to their use instead of
 * crossing segments. Nodes reading a graph input stay put: a second segment reading the input
 * would upload it again.
 */
function sinkOrtNodes(ix: GraphIndex, unitOf: Map<number, Unit>, last: number): void {
  for (let i = ix.nodes.length - 1; i >= 0; i--) {
    const u = unitOf.get(i);
    const n = ix.nodes[i]!;
    if (u?.kind !== 'ort' || nodeReads(n).some((v) => ix.graphInputs.has(v))) continue;
    let limit = last;
    for (const o of n.output ?? []) {
      if (!o) continue;
      for (const c of ix.consumers.get(o) ?? []) {
        const cu = unitOf.get(c);
        if (cu) limit = Math.min(limit, cu.kind === 'ort' ? cu.seg : cu.stage);
      }
    }
    if (limit > u.seg) unitOf.set(i, { kind: 'ort', seg: limit });
  }
}

function segment(
  model: ModelProto,
  ix: GraphIndex,
  nodeIdx: number[],
  unitOf: Map<number, Unit>,
  kernelReads: Set<string>,
  hoists: NonNullable<KernelGroup['hoist']>,
  types: Map<string, number>,
  seg: number,
  files: ExternalFiles,
): OrtStep | null {
  const inSeg = new Set(nodeIdx);
  const nodes: NodeProto[] = nodeIdx.map((i) => ix.nodes[i]!);
  const produced = new Set(nodes.flatMap((n) => n.output ?? []).filter(Boolean));
  for (const h of hoists) {
    if (!produced.has(h.after)) continue;
    nodes.push(onnx.NodeProto.create({ opType: 'Identity', name: `webq8_hoist_${h.as}`, input: [h.constant], output: [h.as] }));
    produced.add(h.as);
  }
  const reads = [...new Set(nodes.flatMap(nodeReads))];
  const constantNodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const inputs: string[] = [];
  for (const v of reads) {
    if (produced.has(v)) continue;
    const c = ix.constantNode.get(v);
    if (c !== undefined) constantNodes.push(ix.nodes[c]!);
    else if (ix.constants.has(v)) initializers.push(ix.constants.get(v)!);
    else inputs.push(v);
  }
  const laterReaders = (v: string) => (ix.consumers.get(v) ?? []).some((c) => !inSeg.has(c) && unitOf.get(c) !== undefined) || kernelReads.has(v);
  const outputs = [...produced].filter((v) => ix.graphOutputs.has(v) || laterReaders(v));
  if (outputs.length === 0) return null; // dead nodes: nothing reads them
  const declared = new Map<string, ValueInfoProto>([...(ix.graph.input ?? []), ...(ix.graph.output ?? [])].map((v) => [v.name ?? '', v]));
  const vi = (v: string): ValueInfoProto => {
    const d = declared.get(v);
    if (d) return d;
    const t = types.get(v);
    if (!t || !dtypeOfOnnx(t)) throw new Error(`the element type of "${v}" (cut between steps) is unknown`);
    return onnx.ValueInfoProto.create({ name: v, type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType: t }) }) });
  };
  const ext = segmentExternal(initializers, constantNodes, files);
  const graph = onnx.GraphProto.create({
    name: `${ix.graph.name ?? 'graph'}_webq8_${seg}`,
    node: [...ext.constantNodes, ...nodes],
    initializer: ext.initializers,
    input: inputs.map(vi),
    output: outputs.map(vi),
  });
  const sub = onnx.ModelProto.create({
    irVersion: model.irVersion,
    opsetImport: model.opsetImport,
    producerName: 'webq8-partition',
    graph,
  });
  const identity = (names: string[]) => Object.fromEntries(names.map((n) => [n, n]));
  const step: OrtStep = { kind: 'ort', model: onnx.ModelProto.encode(sub).finish(), inputs: identity(inputs), outputs: identity(outputs) };
  return ext.externalData.length > 0 ? { ...step, externalData: ext.externalData } : step;
}
