// A child process the crash test kills with SIGKILL at a seeded moment. It repeats one kind of job against a
// workspace and reports on stdout, one JSON line each, when a unit of work begins and after it has committed
// (stdout to a pipe is synchronous on Linux, so every line written before the kill reaches the parent).
// It loads its modules first, says `warm`, and touches the workspace only after the parent writes `go` on stdin: the
// parent starts the next driver while it is still checking the last kill, so start-up time is not paid per kill.
// Usage: node [--import tsx] crash-driver.(ts|js) <job> <workspace> <fixtures dir> <seed>
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';

const [job, ws, fixtures, seedText] = process.argv.slice(2);
const seed = Number(seedText);
const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...line, ms: Math.round(performance.now()) })}\n`);

async function main(): Promise<void> {
  const { openDatasetServices } = await import('../../core/services/open-datasets.js');
  const { openServices } = await import('../../core/services/open-workspace.js');
  const { SqliteOutbox } = await import('../../core/sync/sqlite-outbox.js');
  say({ warm: true });
  process.stdin.setEncoding('utf8');
  for (let input = ''; !input.includes('go');) {
    const [chunk] = (await once(process.stdin, 'data')) as [string];
    input += chunk;
  }
  if (job === 'ingest') {
    const s = openDatasetServices(ws, { actor: 'crash-driver' });
    const lines = readFileSync(join(fixtures, 'sales.csv'), 'utf8').split('\n').filter(Boolean);
    const header = lines[0];
    const body = lines.slice(1);
    say({ ready: true });
    for (let k = 0; ; k++) {
      // Each unit is a different slice of the sales, so each is a new dataset version (same content = same id).
      const start = (seed * 7919 + k * 1009) % (body.length - 1000);
      const file = join(fixtures, `ingest-${seed}-${k}.csv`);
      writeFileSync(file, `${header}\n${body.slice(start, start + 1000).join('\n')}\n`);
      say({ begin: k, file });
      const r = await s.datasets.ingest({ file, config: join(fixtures, 'small-batches.yaml'), name: `crash-${seed}-${k}` });
      say({ commit: k, datasetId: r.datasetId, rowsAccepted: r.rowsAccepted });
    }
  }
  const s = openServices(ws, { actor: 'crash-driver' });
  if (job === 'train') {
    say({ ready: true });
    for (let k = 0; ; k++) {
      say({ begin: k });
      const r = await s.training.train({
        dataset: 'crash-train',
        folds: 2,
        params: { nRounds: 15, maxLeaves: 8 },
        seed: seed * 100 + k,
        threads: 1,
        name: `crash-${seed}-${k}`,
      });
      say({ commit: k, modelId: r.modelId });
    }
  }
  if (job === 'score') {
    const out = join(fixtures, 'score-out.csv');
    say({ ready: true });
    for (let k = 0; ; k++) {
      say({ begin: k });
      // Resumes a run an earlier kill interrupted (same source, model and output), else starts one.
      const r = await s.valuation.score('champion', join(fixtures, 'to-score.csv'), out);
      const done = join(fixtures, `scored-${seed}-${k}.csv`);
      renameSync(out, done);
      say({ commit: k, file: done, rows: r.rows });
    }
  }
  if (job === 'promote') {
    const ids = readFileSync(join(fixtures, 'promote-ids.txt'), 'utf8').split('\n').filter(Boolean);
    say({ ready: true });
    for (let k = 0; ; k++) {
      const target = ids[(seed + k) % ids.length];
      say({ begin: k, target });
      s.models.promote(target);
      say({ commit: k, target });
    }
  }
  if (job === 'outbox') {
    const outbox = new SqliteOutbox(s.workspace.db);
    say({ ready: true });
    for (let k = 0; ; k++) {
      say({ begin: k });
      const id = outbox.enqueue('monitoring-report', { seed, k, rows: Array.from({ length: 50 }, (_, i) => i * k) });
      say({ commit: k, id });
    }
  }
  throw new Error(`unknown job ${job}`);
}

await main();
