/**
 * The tool's defaults on every region's data it can find, against scikit-learn and XGBoost on identical folds:
 * King County, the Debian-extracted regions (scripts/extract-debian-datasets.sh), and two generated shapes.
 * `npm run bench -- accuracy` runs the same comparison after its King County anchors.
 *
 *   npm run bench -- regions [--seeds 1,2,3] [--datasets ames,windsor] [--no-baselines] [--threads N]
 */
import { pythonHas } from './learner-bench-support.js';
import { accuracyDatasets, compareOnDataset, reportComparison } from './multi-dataset-accuracy.js';

export const description =
  'CV RMSE of log price with the tool’s own defaults on several regions, vs scikit-learn HGB and XGBoost on the same matrix and folds, over seeds';

function listArg(args: string[], name: string): string[] | null {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1].split(',') : null;
}

export async function runRegions(args: string[]): Promise<void> {
  const seeds = (listArg(args, '--seeds') ?? ['1', '2', '3']).map(Number);
  const only = listArg(args, '--datasets');
  const threadsAt = args.indexOf('--threads');
  const threads = threadsAt >= 0 ? Number(args[threadsAt + 1]) : undefined;
  const withBaselines = !args.includes('--no-baselines');
  const { datasets, missing } = accuracyDatasets();
  if (missing.length) console.log(`not extracted (run scripts/extract-debian-datasets.sh as root to add them): ${missing.join(', ')}`);
  if (withBaselines && !pythonHas('sklearn')) console.log('scikit-learn missing (apt-get install python3-sklearn): its baselines are left out');
  if (withBaselines && !pythonHas('xgboost')) console.log('XGBoost missing (apt-get install python3-xgboost): its baselines are left out');
  console.log(`\nregions, random 5-fold CV, seeds ${seeds.join(',')}; baselines single-threaded on the product's own matrix`);
  const ratios: number[] = [];
  for (const d of datasets.filter((x) => !only || only.includes(x.name))) {
    ratios.push(reportComparison(await compareOnDataset(d, seeds, withBaselines, threads)));
  }
  const finite = ratios.filter(Number.isFinite);
  if (finite.length) console.log(`\nworst ratio ours / best baseline: ${Math.max(...finite).toFixed(3)} (target ≤ 1.000 on every dataset)`);
}

export const run = runRegions;
