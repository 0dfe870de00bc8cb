// Child process of the ingest bench: ingests one file into a fresh workspace and prints its figures as JSON.
import { Workspace } from '../core/workspace/workspace.js';
import { loadConfigFile } from '../core/config/load-config.js';
import { ingestCsv } from '../core/ingest/ingest-csv.js';
import { fileURLToPath } from 'node:url';

const [csv, workspace] = process.argv.slice(2);
const ws = Workspace.open(workspace);
const config = loadConfigFile(fileURLToPath(new URL('../../config/king-county.yaml', import.meta.url)));
const t0 = performance.now();
const r = await ingestCsv(ws, { file: csv, config });
const seconds = (performance.now() - t0) / 1000;
ws.close();
console.log(JSON.stringify({ rows: r.rowsRead, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024, accepted: r.rowsAccepted, quarantined: r.rowsQuarantined }));
