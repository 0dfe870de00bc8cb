/** Worker thread entry: only hands its shared buffers to the histogram worker loop. */
import { parentPort, workerData } from 'node:worker_threads';
import { runHistogramWorker, type HistogramWorkerInit } from './histogram-worker-protocol.js';

if (parentPort) runHistogramWorker(workerData as HistogramWorkerInit, parentPort);
