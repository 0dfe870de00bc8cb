import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { openServices } from '../core/services/open-workspace.js';
import { parseConfig } from '../core/config/load-config.js';
import type { CvMetrics } from '../core/models/model-schemas.js';
import { generateSales, salesCsv, MARKET_TEST_YAML } from '../test/helpers/market-sales.js';

/**
 * Out-of-time accuracy with and without the local price index (issue 15's acceptance): the same learner, the
 * same expanding-window folds (`appraise train --time-folds`), once on prices deflated by the index and once on
 * prices as they are (`market.enabled: false`). Runs on every bundled dataset whose config names a sale date
 * (a config in config/ with its CSV in data/ named by the config's `name`, or King County's), and on a generated
 * market with a known regional split.
 */
export interface TimeOrderedComparison {
  dataset: string;
  withIndex: CvMetrics;
  without: CvMetrics;
  seconds: number;
}

/** The config text with `market.enabled: false` set (keeps every other key). */
function withoutIndex(yamlText: string): string {
  const doc = parseDocument(yamlText);
  const market = (doc.get('market') as { toJSON?: () => unknown } | undefined)?.toJSON?.() ?? {};
  doc.set('market', { ...(market as object), enabled: false });
  return doc.toString();
}

export async function timeOrderedComparison(
  dataset: string,
  csv: string,
  yamlText: string,
  opts: { folds?: number; threads?: number } = {},
): Promise<TimeOrderedComparison> {
  const dir = mkdtempSync(join(tmpdir(), 'appraise-bench-market-'));
  const s = openServices(join(dir, 'ws'));
  const started = performance.now();
  try {
    const run = async (text: string, name: string) => {
      const ds = await s.datasets.ingest({ file: csv, config: parseConfig(text), name });
      const r = await s.training.train({ dataset: ds.datasetId, foldScheme: 'time', folds: opts.folds ?? 5, threads: opts.threads });
      if (!r.outOfTime) throw new Error(`${dataset}: training gave no out-of-time figures`);
      return r.outOfTime;
    };
    const withIndex = await run(yamlText, `${dataset}-indexed`);
    const without = await run(withoutIndex(yamlText), `${dataset}-plain`);
    return { dataset, withIndex, without, seconds: (performance.now() - started) / 1000 };
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bundled datasets with a sale date: config/*.yaml whose `features.saleDate` is set and whose CSV is in data/. */
export function datedDatasets(): { name: string; csv: string; yaml: string }[] {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const out: { name: string; csv: string; yaml: string }[] = [];
  for (const f of readdirSync(join(root, 'config')).filter((x) => x.endsWith('.yaml'))) {
    const text = readFileSync(join(root, 'config', f), 'utf8');
    const { config } = parseConfig(text, f);
    if (!config.features.saleDate) continue;
    const candidates = [join(root, 'data', `${config.name}.csv`), ...(config.name === 'king-county' ? [join(root, 'data', 'kc_house_sales.csv')] : [])];
    const csv = candidates.find((c) => existsSync(c));
    if (csv) out.push({ name: config.name, csv, yaml: text });
  }
  return out;
}

/** A generated market (one region rising 2 % a month, one flat) written to a temp CSV; removed by `cleanup`. */
export function generatedMarket(): { name: string; csv: string; yaml: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'appraise-bench-gen-'));
  const months = 24;
  const sales = generateSales({
    seed: 5,
    months,
    paths: { north: Array.from({ length: months }, (_, m) => 0.02 * m), south: Array.from({ length: months }, () => 0) },
    perRegion: { north: 6000, south: 4000 },
  });
  const csv = join(dir, 'generated.csv');
  writeFileSync(csv, salesCsv(sales));
  return {
    name: 'generated (north +2 %/month, south flat)',
    csv,
    yaml: `${MARKET_TEST_YAML}market: { region: region }\n`,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
