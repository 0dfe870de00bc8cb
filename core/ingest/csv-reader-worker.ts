// Worker thread entry: runs the reading half of an ingest (csv-row-reader.ts) and posts its batches to the
// thread that writes them.
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../common/errors.js';
import { readCsvRows } from './csv-row-reader.js';
import { transferList, type CsvReaderCommand, type CsvReaderMessage, type CsvReaderStart } from './row-batch.js';

const port = parentPort!;
const { file, config, inFlight } = workerData as CsvReaderStart;
let credits = inFlight;
let wake: (() => void) | null = null;
port.on('message', (m: CsvReaderCommand) => {
  if (m.type !== 'taken') return;
  credits++;
  wake?.();
  wake = null;
});
const post = (m: CsvReaderMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  const summary = await readCsvRows({ file, config }, async (batch) => {
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    credits--;
    post({ type: 'batch', batch }, transferList(batch));
  });
  post({ type: 'end', summary });
} catch (e) {
  post({ type: 'failed', error: serializeError(e) });
} finally {
  // The credit listener would keep this thread alive forever; reading is done.
  port.close();
}
