import type { DatasetConfig } from './dataset-config.schema.js';

/**
 * The config as it is hashed: without the keys that only change how values are shown (`display`, `zeroMeans`,
 * `gridGroup`, `levelLabels` of columns, `label`/`unit` of derived features, `target.roundTo`). The hash is part of every
 * dataset id and is recorded in the models trained on it, so adding level names to a shipped config must not
 * make its datasets new ones (the bundled demo model would no longer find the data it was trained on). Keys
 * that existed before these (a column's `label`, `unit`) stay hashed, so existing hashes are unchanged.
 */
export function withoutDisplayKeys(config: DatasetConfig): unknown {
  const columns = Object.fromEntries(
    Object.entries(config.dataset.columns).map(([name, col]) => {
      const { display: _d, zeroMeans: _z, gridGroup: _g, ...rest } = col;
      if (rest.type === 'ordinal') {
        const { levelLabels: _l, ...ordinal } = rest;
        return [name, ordinal];
      }
      return [name, rest];
    }),
  );
  const derived = config.features.derived.map(({ label: _l, unit: _u, gridGroup: _g, ...d }) => d);
  const { roundTo: _r, ...target } = config.target;
  return { ...config, dataset: { ...config.dataset, columns }, target, features: { ...config.features, derived } };
}
