// Worker thread entry: runs one job against its own connection to the workspace and reports back.
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../common/errors.js';
import type { IngestJobResult, JobCommand, JobMessage, JobStart } from './job-protocol.js';

const port = parentPort!;
const { workspaceDir, job } = workerData as JobStart;
const controller = new AbortController();
port.on('message', (m: JobCommand) => {
  if (m.type === 'cancel') controller.abort();
});
const post = (m: JobMessage) => port.postMessage(m);
// Progress can fire thousands of times a second; the owner needs a few updates a second at most.
let lastProgress = 0;
const onProgress = (progress: unknown) => {
  const now = performance.now();
  if (now - lastProgress < 50) return;
  lastProgress = now;
  post({ type: 'progress', progress });
};

/**
 * Each kind of job imports only what it needs: an ingest thread does not load the model, training and valuation
 * code (onnxruntime among it), which was ~0.25 s of every ingest's start (measured).
 */
async function run(signal: AbortSignal): Promise<unknown> {
  if (job.kind === 'ingest') {
    const { openDatasetServices } = await import('../services/open-datasets.js');
    const s = openDatasetServices(workspaceDir);
    try {
      const { quality, ...r } = await s.datasets.ingest({ file: job.file, config: job.config, name: job.name, onProgress, signal });
      return { ...r, duplicateRows: quality.duplicateRows } satisfies IngestJobResult;
    } finally {
      s.close();
    }
  }
  const { openServices } = await import('../services/open-workspace.js');
  const services = openServices(workspaceDir);
  try {
    switch (job.kind) {
      case 'train':
        return await services.training.train(job.request, { onProgress, signal });
      case 'score':
        return await services.valuation.score(job.model, job.source, job.out, { onProgress, signal }, { columnMap: job.columnMap });
    }
  } finally {
    await services.close();
  }
}

try {
  post({ type: 'done', result: await run(controller.signal) });
} catch (e) {
  post({ type: 'failed', error: serializeError(e) });
} finally {
  // The cancel listener would keep this thread alive forever; the job is done.
  port.close();
}
