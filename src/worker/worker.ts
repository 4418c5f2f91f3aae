/**
 * Worker entry point: exposes the {@link Engine} over comlink. Built to dist/worker.js, next to
 * dist/ort/ (ORT's .wasm), which is how the worker finds ORT without configuration.
 */
import { expose } from 'comlink';
import { Engine } from './engine';
import { installErrorTransfer } from './protocol';

installErrorTransfer();
expose(new Engine());
