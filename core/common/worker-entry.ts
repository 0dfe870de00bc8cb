import { Worker, type WorkerOptions } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Starts a worker thread from a module that sits next to the caller.
 *
 * Built code (dist/, the CLI, the app) runs `.js` files directly. Tests run the TypeScript sources through
 * Vitest, which does not reach into worker threads, so there the worker first registers the `tsx` loader
 * (a dev dependency) and then imports the `.ts` module. Callers pass their own `import.meta.url` and the
 * worker's base name without extension.
 */
export function startWorker(callerUrl: string, baseName: string, options: WorkerOptions = {}): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const file = fileURLToPath(new URL(`./${baseName}.${fromSource ? 'ts' : 'js'}`, callerUrl));
  if (!fromSource) return new Worker(file, options);
  const tsxRoot = createRequire(callerUrl)
    .resolve('tsx/package.json')
    .replace(/package\.json$/, '');
  const tsxApi = pathToFileURL(`${tsxRoot}dist/esm/api/index.mjs`).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(file).href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
