import { expect, test } from 'vitest';
import { AppraiseError } from './errors.js';
import { runWorkerTask } from './worker-task.js';

test('a thread that outgrows its heap settles with the error its owner chose, else INTERNAL', async () => {
  const limits = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 };
  const mapped = runWorkerTask(import.meta.url, 'out-of-memory.fixture', null, {
    describe: 'the test thread',
    resourceLimits: limits,
    outOfMemoryError: () => new AppraiseError('INVALID_CONFIG', 'lower the batch size'),
  });
  await expect(mapped.result).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: 'lower the batch size' });
  const plain = runWorkerTask(import.meta.url, 'out-of-memory.fixture', null, { describe: 'the test thread', resourceLimits: limits });
  await expect(plain.result).rejects.toMatchObject({ code: 'INTERNAL' });
  await Promise.all([mapped.exited, plain.exited]);
}, 60_000);
