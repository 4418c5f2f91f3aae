// A Vite app (no vite.config: no asset configuration) in TypeScript. `tsconfig.json` beside it
// type-checks it, and the shared scenario, with `skipLibCheck: false` against the packed .d.ts.
import { WorkerError, type LoadOptions, type Model, type RuntimeOptions } from 'webq8';
import { profile } from 'webq8/advanced';
import { start } from '../scenario.js';

// Strict-typed use of the public API beyond the scenario: option objects and an error class.
const options: RuntimeOptions = { numThreads: 1 };
const load: LoadOptions = { backend: 'auto', timeoutMs: 60_000 };
// A model from the main entry is the one `webq8/advanced` takes (its .d.ts imports the class, no copy).
const profileOf = (model: Model) => profile(model, {}).then((p) => p.steps.length);
void [options, load, WorkerError, profileOf];
start();
