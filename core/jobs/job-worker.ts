// Worker thread entry: runs one job against its own connection to the workspace and reports back.
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../common/errors.js';
import { openServices } from '../services/open-workspace.js';
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

const services = openServices(workspaceDir);
try {
  let result: unknown;
  const signal = controller.signal;
  switch (job.kind) {
    case 'ingest': {
      const { quality, ...r } = await services.datasets.ingest({ file: job.file, config: job.config, name: job.name, onProgress, signal });
      result = { ...r, duplicateRows: quality.duplicateRows } satisfies IngestJobResult;
      break;
    }
    case 'train':
      result = await services.training.train(job.request, { onProgress, signal });
      break;
    case 'score':
      result = await services.valuation.score(job.model, job.source, job.out, { onProgress, signal }, { columnMap: job.columnMap });
      break;
  }
  post({ type: 'done', result });
} catch (e) {
  post({ type: 'failed', error: serializeError(e) });
} finally {
  await services.close();
  // The cancel listener would keep this thread alive forever; the job is done.
  port.close();
}
