// Child process of the ingest bench: ingests one file into a fresh workspace the way the CLI and the app do
// (a JobRunner worker thread with its capped heap) and prints its figures as JSON.
import { fileURLToPath } from 'node:url';
import { JobRunner } from '../core/jobs/job-runner.js';

const [csv, workspace] = process.argv.slice(2);
const runner = new JobRunner(workspace);
const config = fileURLToPath(new URL('../../config/king-county.yaml', import.meta.url));
const t0 = performance.now();
const r = await runner.runLocal({ method: 'datasets.ingest', input: { file: csv, config } });
const seconds = (performance.now() - t0) / 1000;
await runner.close();
console.log(
  JSON.stringify({ rows: r.rowsRead, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024, accepted: r.rowsAccepted, quarantined: r.rowsQuarantined }),
);
