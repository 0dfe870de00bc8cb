import { test, expect } from 'vitest';
import { startWorker } from './worker-entry.js';
test('startWorker runs a TypeScript worker next to its caller', async () => {
  const w = startWorker(import.meta.url, 'worker-entry.fixture');
  const v = await new Promise((r) => w.once('message', r));
  await w.terminate();
  expect(v).toBe(42);
});
