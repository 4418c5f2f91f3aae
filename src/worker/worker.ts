/**
 * Worker entry point: exposes the {@link Engine} over comlink. Built to dist/worker.js, next to
 * dist/ort/ (ORT's .wasm), which is how the worker finds ORT without configuration.
 */
import { expose } from 'comlink';
import { installErrorTransfer } from '../protocol';
import { Engine } from './engine';

installErrorTransfer();
expose(new Engine());
