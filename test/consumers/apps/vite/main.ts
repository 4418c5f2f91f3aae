// A Vite app (no vite.config: no asset configuration) in TypeScript. `tsconfig.json` beside it
// type-checks it, and the shared scenario, with `skipLibCheck: false` against the packed .d.ts.
import { WorkerError, type LoadOptions, type RuntimeOptions } from 'webq8';
import { start } from '../scenario.js';

// Strict-typed use of the public API beyond the scenario: option objects and an error class.
const options: RuntimeOptions = { numThreads: 1 };
const load: LoadOptions = { backend: 'auto', timeoutMs: 60_000 };
void [options, load, WorkerError];
start();
