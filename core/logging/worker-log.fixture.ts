// A worker thread that logs only through workerLogger, as a job worker would (used by worker-log.test.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { AppraiseError } from '../common/errors.js';
import { logError } from './log-error.js';
import { openLogger } from './logger.js';
import { workerLogger } from './worker-log.js';

const { level, jobId, dir } = workerData as { level: string; jobId: string; dir: string };
const port = parentPort!;
const log = workerLogger((m) => port.postMessage(m), { level, bindings: { jobId } });
log.debug('below the parent level');
log.info({ token: 'worker-token-SECRET', rowsRead: 3 }, 'hello from the worker');
logError(log, new AppraiseError('BAD_FILE', 'line 2 is not CSV', { details: { row: { address: '1 Worker Lane' } } }));
// The mistake worker-log.ts exists to prevent: a second rotating writer on the parent's file.
const reports: string[] = [];
const own = await openLogger({ dir, processName: 'cli', onError: (e) => reports.push(e.message) });
own.logger.error('must not reach any file');
port.postMessage({ type: 'opened', dir: own.dir, reports });
port.close();
