import { test, expect, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempServices } from './helpers/temp-workspace.js';
import { parseConfig } from '../core/config/load-config.js';
import { tailSentence } from '../core/schema/category-vocabulary.js';
import { SeededRandom } from '../core/common/seeded-random.js';

// A file whose suburb column has 300 levels: 280 sold 3+ times, beyond the 254 the histograms hold, and 20 sold
// once. The quality report says beforehand what training will do with them; training says what it did.

const s = tempServices();
afterAll(() => s.cleanup());

const CONFIG = `version: 1
name: tails
dataset:
  columns:
    suburb: { type: categorical, required: true }
    type:   { type: categorical, required: true }
    area:   { type: numeric, min: 1, max: 10000 }
    price:  { type: numeric, required: true, min: 1000, max: 100000000 }
target:
  column: price
  transform: log
`;

function writeSales(file: string): void {
  const rng = new SeededRandom(3);
  const lines = ['suburb,type,area,price'];
  const sale = (suburb: string) => {
    const area = 50 + Math.round(rng.next() * 200);
    lines.push(`${suburb},${rng.next() < 0.5 ? 'house' : 'unit'},${area},${Math.round(2000 * area * (1 + 0.2 * rng.next()))}`);
  };
  for (let i = 0; i < 280; i++) for (let k = 0; k < 3 + (i < 100 ? 3 : 0); k++) sale(`S${String(i).padStart(3, '0')}`);
  for (let i = 0; i < 20; i++) sale(`Once${String(i).padStart(2, '0')}`);
  writeFileSync(file, lines.join('\n') + '\n');
}

test('the quality report and the training result name the levels pooled as "other (rare)", with their rows', async () => {
  const csv = join(s.dir, 'tails.csv');
  writeSales(csv);
  const r = await s.datasets.ingest({ file: csv, config: parseConfig(CONFIG, 'tails.yaml') });
  const suburb = r.quality.columns.find((c) => c.name === 'suburb')!.categoryTail!;
  // 100 suburbs with 6 sales, 180 with 3, 20 with 1: kept are the 254 most frequent with 2+ sales.
  expect(suburb).toEqual({
    column: 'suburb',
    levels: 300,
    levelsCapped: false,
    kept: 254,
    rareLevels: 46,
    rareRows: 26 * 3 + 20,
    rareExamples: ['S254', 'S255', 'S256', 'S257', 'S258'],
    minRows: 2,
    cap: 254,
  });
  expect(tailSentence(suburb)).toBe(
    'suburb: 254 of 300 levels kept; 46 seen in a single sale or beyond the 254 most frequent share one "other (rare)" code (98 rows; e.g. "S254", "S255", "S256", "S257", "S258", …)',
  );
  expect(r.quality.columns.find((c) => c.name === 'type')!.categoryTail).toMatchObject({ kept: 2, rareLevels: 0 });
  expect(r.quality.columns.find((c) => c.name === 'area')!.categoryTail).toBeUndefined();
  // What the stored report says is what the API returns.
  expect(s.datasets.get(r.datasetId).quality?.columns.find((c) => c.name === 'suburb')?.categoryTail).toEqual(suburb);

  const trained = await s.training.train({ dataset: r.datasetId, folds: 2, params: { nRounds: 20, learningRate: 0.3 } });
  expect(trained.categoryTails.find((t) => t.column === 'suburb')).toEqual(suburb);
  const manifest = s.models.load(trained.modelId).manifest;
  expect(manifest.featureTransform.version).toBe('appraise-features/2');
  expect(manifest.featureTransform.rare?.suburb.levels).toContain('Once07');
});
