import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppraiseError } from '../core/common/errors.js';
import { FileAccess } from '../core/common/file-access.js';
import { quoteForMessage } from '../core/common/quote-for-message.js';
import { loadConfigFile, parseConfig } from '../core/config/load-config.js';
import { mapHeader } from '../core/schema/row-validator.js';
import type { JobInfo } from '../core/contract/job-schemas.js';
import { kcConfigPath, kcCsv, repoRoot, tempAppHost, tempDir } from './helpers/temp-workspace.js';

// Issue 14, finding 5: with the launch token, datasets.ingest put all of /etc/passwd into its error message,
// batch.inspect echoed lines of any file, models.export and score wrote anywhere. The web host now confines the
// API to the folders chosen at start; every message quotes file contents only in part.

const PASSWD = '/etc/passwd';
const passwdLines = existsSync(PASSWD) ? readFileSync(PASSWD, 'utf8').split('\n').filter(Boolean) : [];

async function refusal(p: Promise<unknown>): Promise<AppraiseError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppraiseError);
    return e as AppraiseError;
  }
  throw new Error('expected a refusal');
}

test.runIf(passwdLines.length > 1)('/etc/passwd as a config is INVALID_CONFIG without its contents (unconfined, as the CLI)', () => {
  const e = (() => {
    try {
      loadConfigFile(PASSWD);
    } catch (err) {
      return err as AppraiseError;
    }
    throw new Error('accepted');
  })();
  expect(e.code).toBe('INVALID_CONFIG');
  // At most a few characters of the first line, nothing of any other line.
  for (const line of passwdLines.slice(1)) expect(e.message).not.toContain(line);
  expect(e.message).not.toContain(passwdLines[0]);
  expect(e.message.length).toBeLessThan(400);
});

test("a file's header is quoted only in part when it names undeclared columns", () => {
  const { config } = parseConfig('version: 1\nname: t\ndataset:\n  extraColumns: error\n  columns:\n    price: { type: numeric }\ntarget: { column: price }\n');
  const secret = 's3cr3t'.repeat(1000);
  const header = ['price', secret, ...Array.from({ length: 50 }, (_, i) => `c${i}`)];
  let message = '';
  try {
    mapHeader(config, header);
  } catch (e) {
    expect((e as AppraiseError).code).toBe('BAD_FILE');
    message = (e as AppraiseError).message;
  }
  expect(message).toContain('the file has columns the config does not declare');
  expect(message).toContain('and 31 more');
  expect(message).not.toContain(secret.slice(0, 100));
  expect(message.length).toBeLessThan(1000);
});

test('quoteForMessage keeps short input whole and cuts long input to its start and length', () => {
  expect(quoteForMessage('abc')).toBe('"abc"');
  expect(quoteForMessage('x'.repeat(1000), 10)).toBe(`"${'x'.repeat(10)}"… (1000 characters)`);
  expect(quoteForMessage(true)).toBe('true');
  expect(quoteForMessage({ a: 'y'.repeat(100) }, 12)).toBe('{"a":"yyyyyy… (an object with 1 keys)');
});

describe('a confined app host', () => {
  const outside = tempDir('appraise-outside-');
  const allowed = tempDir('appraise-allowed-');
  let app: Awaited<ReturnType<typeof tempAppHost>>;
  let datasetId: string;
  let modelId: string;

  const finished = async (jobId: string): Promise<JobInfo> => {
    for (let i = 0; i < 2400; i++) {
      const job = (await app.dispatcher.call('jobs.get', { jobId })) as JobInfo;
      if (job.state !== 'running') return job;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`job ${jobId} still running after 60 s`);
  };
  const jobError = async (method: string, input: unknown) => {
    const { jobId } = (await app.dispatcher.call(method, input)) as { jobId: string };
    const job = await finished(jobId);
    expect(job.state).toBe('failed');
    return (job as unknown as { error: { code: string; message: string } }).error;
  };

  beforeAll(async () => {
    // A small sales file and the bundled model, copied into the allowed folder.
    writeFileSync(join(allowed.dir, 'sales.csv'), readFileSync(kcCsv, 'utf8').split('\n').slice(0, 400).join('\n'));
    copyFileSync(kcConfigPath, join(allowed.dir, 'kc.yaml'));
    mkdirSync(join(allowed.dir, 'model'));
    for (const f of ['model.onnx', 'manifest.json', 'ensemble.json']) copyFileSync(join(repoRoot, 'models', 'king-county', f), join(allowed.dir, 'model', f));
    symlinkSync('/etc', join(allowed.dir, 'etc-link'));
    app = await tempAppHost({ processName: 'none', confine: { allowDirs: [allowed.dir] } });
    const { jobId } = (await app.dispatcher.call('datasets.ingest', { file: join(allowed.dir, 'sales.csv'), config: join(allowed.dir, 'kc.yaml') })) as {
      jobId: string;
    };
    const job = await finished(jobId);
    expect(job.state).toBe('done');
    datasetId = (job as unknown as { result: { datasetId: string } }).result.datasetId;
    modelId = (
      (await app.dispatcher.call('models.import', {
        onnx: join(allowed.dir, 'model', 'model.onnx'),
        manifest: join(allowed.dir, 'model', 'manifest.json'),
      })) as { id: string }
    ).id;
  }, 120_000);
  afterAll(async () => {
    await app?.cleanup();
    outside.cleanup();
    allowed.cleanup();
  });

  test('a config outside the allowed folders is FORBIDDEN (in the job thread too), naming the path and how to allow it', async () => {
    const err = await jobError('datasets.ingest', { file: join(allowed.dir, 'sales.csv'), config: PASSWD });
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toContain(`the configuration file "${PASSWD}" is outside the folders this app may read`);
    expect(err.message).toContain('appraise serve --allow-dir');
    for (const line of passwdLines) expect(err.message).not.toContain(line);
  });

  test('a symbolic link inside an allowed folder does not lead out of it', async () => {
    const err = await jobError('datasets.ingest', { file: join(allowed.dir, 'sales.csv'), config: join(allowed.dir, 'etc-link', 'passwd') });
    expect(err.code).toBe('FORBIDDEN');
  });

  test('batch.inspect does not echo lines of a file outside', async () => {
    const e = await refusal(app.dispatcher.call('batch.inspect', { source: PASSWD }));
    expect(e.code).toBe('FORBIDDEN');
    for (const line of passwdLines) expect(e.message).not.toContain(line);
    // Inside, it works.
    const ok = (await app.dispatcher.call('batch.inspect', { source: join(allowed.dir, 'sales.csv') })) as { rows?: unknown };
    expect(ok).toBeTruthy();
  });

  test('models.export outside is refused and creates nothing; inside files/ and the allowed folders it works', async () => {
    const target = join(outside.dir, 'new', 'export');
    const e = await refusal(app.dispatcher.call('models.export', { ref: modelId, dir: target }));
    expect(e.code).toBe('FORBIDDEN');
    expect(e.message).toContain(target);
    expect(existsSync(join(outside.dir, 'new'))).toBe(false);
    // The workspace's own folder (its database) is never a target, even though files/ inside it is allowed.
    const ws = app.services.workspace.dir;
    const intoWorkspace = await refusal(app.dispatcher.call('models.export', { ref: modelId, dir: join(ws, 'artifacts') }));
    expect(intoWorkspace.code).toBe('FORBIDDEN');
    const done = (await app.dispatcher.call('models.export', { ref: modelId, dir: join(ws, 'files', 'exported') })) as { onnx: string };
    expect(existsSync(done.onnx)).toBe(true);
    await app.dispatcher.call('models.export', { ref: modelId, dir: join(allowed.dir, 'exported') });
    expect(existsSync(join(allowed.dir, 'exported', 'manifest.json'))).toBe(true);
  });

  test('score to a file outside is refused in its job and writes nothing; a model import from outside is refused', async () => {
    const out = join(outside.dir, 'valued.csv');
    const err = await jobError('score', { model: modelId, source: datasetId, out });
    expect(err.code).toBe('FORBIDDEN');
    expect(existsSync(out)).toBe(false);
    const e = await refusal(
      app.dispatcher.call('models.import', {
        onnx: join(repoRoot, 'models', 'king-county', 'model.onnx'),
        manifest: join(repoRoot, 'models', 'king-county', 'manifest.json'),
      }),
    );
    expect(e.code).toBe('FORBIDDEN');
  });
});

test('an unconfined policy allows everything; a confined one refuses writes into protected folders', () => {
  expect(FileAccess.unconfined.checkWrite('/anywhere/x', 'x')).toBe('/anywhere/x');
  const { dir, cleanup } = tempDir();
  try {
    const fa = new FileAccess({ writeDirs: [join(dir, 'ws', 'files')], readDirs: [], protectedDirs: [join(dir, 'ws')], howToAllow: 'allow it' });
    expect(() => fa.checkWrite(join(dir, 'ws', 'workspace.db'), 'the output')).toThrow(/outside the folders this app may write/);
    expect(fa.checkWrite(join(dir, 'ws', 'files', 'a', 'b.csv'), 'the output')).toContain('b.csv');
    expect(() => fa.checkRead(join(dir, 'ws', 'files', '..', 'workspace.db'), 'the file')).toThrow(/may read/);
  } finally {
    cleanup();
  }
});
