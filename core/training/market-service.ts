import { AppraiseError, invalidInput } from '../common/errors.js';
import type { DatasetStore } from '../datasets/dataset-store.js';
import type { ModelStore } from '../models/model-store.js';
import { compileFeatureTransform } from '../features/feature-transform.js';
import type { IndexSeries, MarketIndex, MarketIndexView } from '../market/market-schemas.js';
import { forecastTrend } from '../market/nowcast.js';
import { periodFromLabel, periodLabel } from '../market/periods.js';
import { fitMarketIndex, marketSetup } from './market-training.js';
import { fitDatasetTransform } from './training-service.js';

/** What `market.index` takes: a model (its stored index; default the champion) or a dataset (estimated now). */
export interface MarketIndexRequest {
  model?: string;
  dataset?: string;
}

/**
 * The local price index for the Market page: a model's own (the one its valuations use, from its manifest) or a
 * dataset's (estimated on all its sales, as training would), with each series' nowcast out to the horizon.
 */
export interface MarketServiceApi {
  index(request: MarketIndexRequest): MarketIndexView;
}

export class MarketService implements MarketServiceApi {
  constructor(
    private readonly datasets: DatasetStore,
    private readonly models: ModelStore,
  ) {}

  index(request: MarketIndexRequest): MarketIndexView {
    if (request.model !== undefined && request.dataset !== undefined) throw invalidInput('give a model or a dataset, not both');
    if (request.dataset !== undefined) {
      const ds = this.datasets.get(request.dataset);
      const transform = fitDatasetTransform(this.datasets, ds);
      const compiled = compileFeatureTransform(transform);
      const m = this.datasets.readMatrix(ds, transform, compiled);
      const setup = marketSetup(this.datasets, ds, transform, compiled, m, null);
      if (!setup)
        throw new AppraiseError(
          'NOT_FOUND',
          `dataset ${ds.name} has no price index: that needs a sale date (features.saleDate in its config), sales over at least 3 months with about 10 a month, and market.enabled not set to false`,
        );
      const index = fitMarketIndex(
        setup,
        m.X,
        m.nFeatures,
        Int32Array.from({ length: m.nRows }, (_, i) => i),
      );
      return view({ kind: 'dataset', id: ds.id, name: ds.name }, index);
    }
    const stored = this.models.load(request.model ?? 'champion');
    const index = stored.manifest.market;
    if (!index)
      throw new AppraiseError(
        'NOT_FOUND',
        `model ${stored.manifest.name} has no price index (it was trained without one, or imported); retrain it on a dataset with sale dates, or open the index of a dataset instead`,
      );
    return view({ kind: 'model', id: stored.summary.id, name: stored.manifest.name }, index);
  }
}

function view(source: MarketIndexView['source'], index: MarketIndex): MarketIndexView {
  // Forecasts start after the last period with sales (the reference may be earlier when that one is thin).
  const last = periodFromLabel(index.whole.points[index.whole.points.length - 1].period, index.period);
  const forecast = (s: IndexSeries) => ({
    region: s.region,
    points: Array.from({ length: index.maxNowcastPeriods }, (_, k) => ({
      period: periodLabel(last + k + 1, index.period),
      ...(({ logIndex, sd }) => ({ logIndex, sd }))(forecastTrend(s.trend, k + 1)),
    })),
  });
  return { source, index, forecasts: [forecast(index.whole), ...index.regions.map(forecast)] };
}
