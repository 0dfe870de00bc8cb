import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { AppraiseError, errorCodeSchema } from '../core/common/errors.js';
import { contract, jobContract, methodNames } from '../core/contract/contract.js';
import type { JobInfo } from '../core/contract/job-schemas.js';
import { kcConfigPath, kcCsv, repoRoot, tempAppHost, tempDir, tempServices } from './helpers/temp-workspace.js';

// Issue 14, property-based tests: random input to every API method through the dispatcher, and mutated model
// files through import. Every answer is a result or a typed error (never INTERNAL); no unhandled rejection
// (Vitest fails the run on one).

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Values of any shape, with the strings a hostile caller tries first. */
const hostileString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    '',
    'champion',
    '/etc/passwd',
    '../../etc/passwd',
    'sqlite:x"; DROP TABLE models; --',
    'sqlite:',
    'a'.repeat(5000),
    '__proto__',
    '\u0000',
    'NaN',
  ),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { depthSize: 'small' },
  hostileString,
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(hostileString, fc.integer()), { maxLength: 3 }),
  fc.dictionary(hostileString, fc.oneof(hostileString, fc.double(), fc.constant(null)), { maxKeys: 4 }),
);

function inputKeys(method: string): string[] {
  const schema = (contract as Record<string, { input: z.ZodType }>)[method].input as unknown as { shape?: Record<string, unknown> };
  return schema.shape ? Object.keys(schema.shape) : [];
}

describe('the API contract under random input', () => {
  let app: Awaited<ReturnType<typeof tempAppHost>>;
  beforeAll(async () => {
    // Confined, so no generated path can write outside the workspace's files/ folder; jobs on this thread, so a
    // generated job costs no thread start.
    app = await tempAppHost({ processName: 'none', jobsInWorkers: false, confine: { allowDirs: [tmp.dir] } });
    const sales = join(tmp.dir, 'sales.csv');
    writeFileSync(sales, readFileSync(kcCsv, 'utf8').split('\n').slice(0, 500).join('\n'));
    const { jobId } = (await app.dispatcher.call('datasets.ingest', {
      file: sales,
      config: kcConfigPath.startsWith(tmp.dir) ? kcConfigPath : copy(kcConfigPath, 'kc.yaml'),
    })) as {
      jobId: string;
    };
    expect((await finished(jobId)).state).toBe('done');
    const dir = join(tmp.dir, 'model');
    mkdirSync(dir);
    for (const f of ['model.onnx', 'manifest.json', 'ensemble.json']) copyFileSync(join(repoRoot, 'models', 'king-county', f), join(dir, f));
    const m = (await app.dispatcher.call('models.import', { onnx: join(dir, 'model.onnx'), manifest: join(dir, 'manifest.json') })) as { id: string };
    await app.dispatcher.call('models.promote', { ref: m.id });
  }, 120_000);
  afterAll(() => app?.cleanup());

  function copy(from: string, name: string): string {
    const to = join(tmp.dir, name);
    copyFileSync(from, to);
    return to;
  }
  async function finished(jobId: string): Promise<JobInfo> {
    for (let i = 0; i < 2400; i++) {
      const job = (await app.dispatcher.call('jobs.get', { jobId })) as JobInfo;
      if (job.state !== 'running') return job;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`job ${jobId} still running`);
  }

  // Training on random input could start a real training run: it is covered by shape only (a valid dataset
  // reference is never generated, so it is refused before any work).
  const methods = methodNames.filter((m) => m !== 'app.loadDemo');
  const call = fc.oneof(
    fc.record({ method: fc.constantFrom(...methods), input: anyValue }),
    fc.constantFrom(...methods).chain((method) => {
      const keys = inputKeys(method);
      return fc.record({
        method: fc.constant(method),
        input: keys.length ? fc.dictionary(fc.constantFrom(...keys, 'extra'), anyValue, { maxKeys: keys.length + 1 }) : fc.constant({}),
      });
    }),
    fc.record({ method: hostileString, input: anyValue }),
  );

  test('every method answers a result or a typed error, never INTERNAL', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(call, async ({ method, input }) => {
        const res = await app.dispatcher.callSafe(method, input);
        if (!res.ok) {
          expect(errorCodeSchema.options).toContain(res.error.code);
          expect(res.error.code, `${method} ${JSON.stringify(input)?.slice(0, 200)}: ${res.error.message}`).not.toBe('INTERNAL');
          return;
        }
        seen.add(method);
        if (method in jobContract) {
          const job = await finished((res.result as { jobId: string }).jobId);
          if (job.state === 'failed') {
            const error = (job as unknown as { error: { code: string; message: string } }).error;
            expect(error.code, `${method} job ${JSON.stringify(input)?.slice(0, 200)}: ${error.message}`).not.toBe('INTERNAL');
          }
        }
      }),
      { numRuns: 3000 },
    );
    // The generator reaches past validation into the handlers, not only the schema refusals.
    expect(seen.size).toBeGreaterThan(5);
  }, 120_000);
});

describe('model import under mutated files', () => {
  const s = tempServices();
  afterAll(() => s.cleanup());
  const dir = join(repoRoot, 'models', 'king-county');
  const onnx = readFileSync(join(dir, 'model.onnx'));
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  const ensemble = readFileSync(join(dir, 'ensemble.json'));
  let n = 0;

  function importMutated(onnxBytes: Uint8Array, manifestText: string, ensembleBytes: Uint8Array | null): void {
    const d = join(tmp.dir, `imp${n++}`);
    mkdirSync(d);
    writeFileSync(join(d, 'model.onnx'), onnxBytes);
    writeFileSync(join(d, 'manifest.json'), manifestText);
    if (ensembleBytes) writeFileSync(join(d, 'ensemble.json'), ensembleBytes);
    try {
      s.models.importFrom(join(d, 'model.onnx'), join(d, 'manifest.json'));
    } catch (e) {
      expect(e).toBeInstanceOf(AppraiseError);
      expect((e as AppraiseError).code, (e as Error).message).not.toBe('INTERNAL');
    }
  }

  /** Sets `value` at a random path of the JSON document (or deletes the key when value is undefined). */
  function mutateAt(doc: unknown, path: number[], value: unknown): unknown {
    const copy = structuredClone(doc) as Record<string, unknown>;
    let node: Record<string, unknown> = copy;
    for (let depth = 0; depth < path.length; depth++) {
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const key = keys[path[depth] % keys.length];
      const child = node[key];
      if (depth === path.length - 1 || child === null || typeof child !== 'object') {
        if (value === undefined) delete node[key];
        else node[key] = value;
        break;
      }
      node = child as Record<string, unknown>;
    }
    return copy;
  }

  test('a manifest edited anywhere is imported or refused with a typed error', () => {
    fc.assert(
      // With its ensemble, an import re-exports the trees to compare graphs (~0.3 s for the bundled model), so most
      // runs leave ensemble.json out and reach the manifest checks directly.
      fc.property(
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        fc.oneof(anyValue, fc.constant(undefined)),
        fc.boolean(),
        fc.nat(9),
        (path, value, dropIntegrity, e) => {
          const base = dropIntegrity ? { ...manifest, integrity: undefined, modelId: undefined } : manifest;
          importMutated(onnx, JSON.stringify(mutateAt(base, path, value)), e === 0 ? ensemble : null);
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);

  test('flipped, cut or spliced ONNX and ensemble bytes are refused with a typed error', () => {
    const unsealed = JSON.stringify({ ...manifest, integrity: undefined, modelId: undefined });
    fc.assert(
      fc.property(
        fc.constantFrom('onnx', 'ensemble'),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        (target, flips, cut) => {
          const bytes = Buffer.from(target === 'onnx' ? onnx : ensemble);
          for (const [at, v] of flips) bytes[at % bytes.length] = v;
          const mutated = cut === undefined ? bytes : bytes.subarray(0, cut % bytes.length);
          importMutated(target === 'onnx' ? mutated : onnx, unsealed, target === 'onnx' ? null : mutated);
        },
      ),
      { numRuns: 200 },
    );
  }, 120_000);
});
