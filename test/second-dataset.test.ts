import { test, expect, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempServices } from './helpers/temp-workspace.js';
import { generateLisbonSales, LISBON_CONFIG } from './fixtures/generate-lisbon-sales.js';
import { parseConfig } from '../core/config/load-config.js';
import { fitFeatureTransform, compileFeatureTransform } from '../core/features/feature-transform.js';
import { validateProperty } from '../core/schema/row-validator.js';

const s = tempServices();
afterAll(() => s.cleanup());

test('another region, other columns, delimiter, date format and target work with only a new YAML file', async () => {
  const csv = join(s.dir, 'lisboa.csv');
  writeFileSync(csv, generateLisbonSales(3000));
  const config = parseConfig(LISBON_CONFIG, 'lisboa.yaml');
  const r = await s.datasets.ingest({ file: csv, config });
  expect([r.rowsRead, r.rowsAccepted, r.rowsQuarantined]).toEqual([3000, 3000, 0]);
  const freg = r.quality.columns.find((c) => c.name === 'freguesia')!;
  expect(freg.distinct).toBe(12);
  expect(r.quality.columns.find((c) => c.name === 'ano_construcao')!.missingShare).toBeGreaterThan(0.02);

  const ds = s.datasets.get(r.datasetId);
  const transform = fitFeatureTransform(config.config, s.datasetStore.categoryFrequencies(ds, ['freguesia']));
  const compiled = compileFeatureTransform(transform);
  expect(compiled.names).toEqual([
    'data_escritura',
    'freguesia',
    'tipologia',
    'area_util_m2',
    'estado',
    'certificado_energetico',
    'elevador',
    'garagem',
    'ano_construcao',
    'idade',
    'mes_venda',
  ]);
  const m = s.datasetStore.readMatrix(ds, transform, compiled);
  expect(m.nRows).toBe(3000);
  expect(Math.exp(m.y[0])).toBeGreaterThan(1000);

  // A person's input, in the dataset's own formats, gives the same vector as the stored row.
  const first = (await import('node:fs')).readFileSync(csv, 'utf8').split('\n')[1].split(';');
  const names = [
    'referencia',
    'data_escritura',
    'valor_venda',
    'freguesia',
    'tipologia',
    'area_util_m2',
    'estado',
    'certificado_energetico',
    'elevador',
    'garagem',
    'ano_construcao',
  ];
  const input = Object.fromEntries(names.map((n, i) => [n, first[i]]));
  const v = validateProperty(config.config, input);
  expect(v.ok).toBe(true);
  if (!v.ok) return;
  const { vector } = compiled.fromRecord(v.values);
  expect(Array.from(vector)).toEqual(Array.from(m.X.subarray(0, compiled.nFeatures)));
});
