/**
 * Iteration-level (continuous) batching of one model's concurrent generations. Each generation
 * submits its next step and waits; the model's turn (its request chain, shared with `run`) then
 * runs every submitted step: a new sequence's prefill alone (batch 1), and the decode steps of all
 * the others as ONE batched model call (./kv-batch.ts). A generation that submits while a turn is
 * running joins the next one; one that ends (finished, aborted, past its deadline) simply does not
 * submit again, and the others go on without it. Before taking the steps, a turn waits until every
 * member has either submitted or left — they do so within microtasks of their last token — so the
 * sequences of one stream of turns stay in one batch.
 *
 * Device-busy time of a shared step is divided evenly among its sequences, so the busy times of
 * all answers add up to the model's busy time. A plan that cannot be batched without changing
 * results (src/graph/decode-batching.ts) runs the same steps one sequence at a time.
 */
import { decoderIo, type DecoderIo } from '../decoder-io';
import { AbortError } from '../errors';
import { decodeBatchBlocker } from '../graph/decode-batching';
import type { Plan } from '../graph/plan';
import type { GpuContext } from '../kernels/gpu-context';
import type { SampleParams } from '../kernels/sample-math';
import type { GenerateCounters } from '../protocol';
import type { Backend, ModelInfo } from '../types';
import type { Executor } from './executor';
import { batchedStep } from './kv-batch';
import type { KvSequence } from './kv-sequence';

let tasks: MessageChannel | null = null;
const afterTask: (() => void)[] = [];

/** Resolves in a new task (a posted message: unlike `setTimeout`, never clamped to 4 ms when nested). */
function nextTask(): Promise<void> {
  if (!tasks) {
    tasks = new MessageChannel();
    tasks.port1.onmessage = () => afterTask.shift()?.();
  }
  const port = tasks.port2;
  return new Promise((resolve) => {
    afterTask.push(resolve);
    port.postMessage(null);
  });
}

/** What the engine lends a model's batcher. */
export interface BatcherHost {
  info: ModelInfo;
  backend: Backend;
  /** Runs `work` with the model's executor when it is the model's turn. */
  turn<T>(work: (executor: Executor) => Promise<T>): Promise<T>;
  /** The GPU context on ORT's device (WebGPU only). */
  gpu(): Promise<GpuContext>;
}

/** One step a generation asks for. */
export interface StepRequest {
  seq: KvSequence;
  /** The prompt (first step), then the last token. */
  ids: readonly number[];
  params: SampleParams;
  counters: GenerateCounters;
  /** An aborted request still waiting is dropped with AbortError. */
  signal: AbortSignal;
}

/** What a step gave one generation. */
export interface StepOutcome {
  id: number;
  /** This sequence's share of the step's device-busy time. */
  ms: number;
  /** Sequences in the model call (1: alone). */
  batch: number;
}

interface Waiting extends StepRequest {
  member: Member;
  resolve(outcome: StepOutcome): void;
  reject(error: unknown): void;
}

/** A generation's membership: submit steps with `step`, and `leave` when the answer ends. */
export interface Member {
  step(request: StepRequest): Promise<StepOutcome>;
  leave(): void;
}

/** The batcher of one model (see the module comment). */
export class DecodeBatcher {
  /** Why decode steps run one sequence at a time (see decode-batching.ts), or null. */
  readonly unbatchedReason: string | null;
  /** The model's decoder I/O, read once here and used by each of its generations. */
  readonly io: DecoderIo;
  private waiting: Waiting[] = [];
  /** Members whose last step has finished and who have not submitted again nor left. */
  private readonly between = new Set<Member>();
  private wake: (() => void) | null = null;
  private scheduled = false;

  constructor(
    private readonly host: BatcherHost,
    plan: Plan,
  ) {
    this.io = decoderIo(host.info.inputs, host.info.outputs, host.info.source);
    this.unbatchedReason = decodeBatchBlocker(plan);
  }

  /** Joins the batch; the member's first step is its prefill. */
  join(): Member {
    const member: Member = {
      step: (request) =>
        new Promise<StepOutcome>((resolve, reject) => {
          this.between.delete(member);
          this.waiting.push({ ...request, member, resolve, reject });
          this.schedule();
          this.check();
        }),
      leave: () => {
        this.between.delete(member);
        this.check();
      },
    };
    return member;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.host
      .turn((executor) => this.runTurn(executor))
      .catch((error: unknown) => {
        // The turn never ran (model disposed, device lost): nothing it would have taken may hang.
        this.scheduled = false;
        for (const w of this.waiting.splice(0)) w.reject(error);
      });
  }

  /** Wakes a turn that waits for the members between steps. */
  private check(): void {
    if (this.between.size === 0 && this.wake) {
      const wake = this.wake;
      this.wake = null;
      wake();
    }
  }

  private async runTurn(executor: Executor): Promise<void> {
    // ORT's WASM run settles in microtasks: without a task boundary here, requests and cancels
    // posted to this Worker would wait until every running generation has ended.
    await nextTask();
    if (this.between.size > 0) await new Promise<void>((resolve) => (this.wake = resolve));
    this.scheduled = false;
    const taken = this.waiting.splice(0);
    const gpu = this.host.backend === 'webgpu' ? await this.host.gpu() : null;
    const decode: Waiting[] = [];
    for (const w of taken) {
      if (w.signal.aborted) w.reject(new AbortError('The generation was aborted by its AbortSignal.'));
      else if (w.seq.past === 0 || this.unbatchedReason || taken.length === 1) await this.alone(executor, w);
      else decode.push(w);
    }
    if (decode.length === 1) await this.alone(executor, decode[0]!);
    else if (decode.length > 1) await this.together(executor, gpu, decode);
  }

  private async alone(executor: Executor, w: Waiting): Promise<void> {
    const start = performance.now();
    try {
      const id = await w.seq.step(executor, w.ids, w.params, w.counters);
      this.deliver(w, { id, ms: performance.now() - start, batch: 1 });
    } catch (error) {
      w.reject(error);
    }
  }

  private async together(executor: Executor, gpu: GpuContext | null, rows: Waiting[]): Promise<void> {
    const start = performance.now();
    try {
      const ids = await batchedStep(
        executor,
        gpu,
        this.io,
        rows.map((w) => ({ seq: w.seq, id: w.ids[w.ids.length - 1]!, params: w.params, counters: w.counters })),
      );
      const ms = (performance.now() - start) / rows.length;
      rows.forEach((w, i) => this.deliver(w, { id: ids[i]!, ms, batch: rows.length }));
    } catch (error) {
      for (const w of rows) w.reject(error);
    }
  }

  private deliver(w: Waiting, outcome: StepOutcome): void {
    this.between.add(w.member);
    w.resolve(outcome);
  }
}
