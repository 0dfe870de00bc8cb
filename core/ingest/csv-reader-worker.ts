// Worker thread entry: runs the reading half of an ingest (csv-row-reader.ts) and hands its batches to the
// thread that writes them, at most `inFlight` ahead.
import { serveWorkerTask } from '../common/serve-worker-task.js';
import { readCsvRows } from './csv-row-reader.js';
import { transferList, type CsvReaderStart, type ReadSummary, type RowBatch } from './row-batch.js';

serveWorkerTask<CsvReaderStart, RowBatch, ReadSummary>(({ file, config, inFlight, profile }, task) =>
  readCsvRows({ file, config, profile }, (batch) => task.send(batch, transferList(batch), inFlight)),
);
