import { SeededRandom } from '../../core/common/seeded-random.js';

/**
 * Generated house sales with a known market: log price = property value + region level + the region's own log
 * index at the sale month + noise. The index paths are given per region, so tests can check that an estimate
 * recovers them (and nothing the code under test computed goes into the expectation).
 */
export interface GeneratedSale {
  id: string;
  date: string;
  price: number;
  area: number;
  quality: number;
  zone: string;
  region: string;
  /** The true log index of the sale's region and month (relative to the last month). */
  trueLogIndex: number;
  month: number;
}

export function normal(r: SeededRandom): number {
  return Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
}

/** A month of `startYear-startMonth` plus k as YYYY-MM-DD on a random day 1–28. */
function dateIn(startYear: number, startMonth: number, k: number, r: SeededRandom): string {
  const m = startMonth - 1 + k;
  const y = startYear + Math.floor(m / 12);
  return `${y}-${String((m % 12) + 1).padStart(2, '0')}-${String(1 + r.int(28)).padStart(2, '0')}`;
}

export function generateSales(opts: {
  seed: number;
  months: number;
  /** Log index of each region at each month (months long); relative levels are what counts. */
  paths: Record<string, number[]>;
  /** Sales per region. */
  perRegion: Record<string, number>;
  noise?: number;
  resaleShare?: number;
  startYear?: number;
  startMonth?: number;
}): GeneratedSale[] {
  const r = new SeededRandom(opts.seed);
  const noise = opts.noise ?? 0.12;
  const out: GeneratedSale[] = [];
  const zones = Array.from({ length: 12 }, (_, i) => `z${i}`);
  const zoneLevel = zones.map(() => 0.3 * normal(r));
  let nextId = 1;
  for (const [region, n] of Object.entries(opts.perRegion)) {
    const path = opts.paths[region];
    const last = path[path.length - 1];
    const regionLevel = 0.2 * normal(r);
    for (let i = 0; i < n; i++) {
      const month = r.int(opts.months);
      const area = Math.round(Math.exp(7.3 + 0.4 * normal(r)));
      const quality = 3 + r.int(7);
      const z = r.int(zones.length);
      const value = 5.5 + 0.75 * Math.log(area) + 0.09 * quality + zoneLevel[z] + regionLevel;
      const trueLogIndex = path[month] - last;
      const logPrice = value + path[month] + noise * normal(r);
      out.push({
        id: String(nextId++),
        date: dateIn(opts.startYear ?? 2020, opts.startMonth ?? 1, month, r),
        price: Math.round(Math.exp(logPrice)),
        area,
        quality,
        zone: zones[z],
        region,
        trueLogIndex,
        month,
      });
    }
  }
  return out;
}

/** The sales as a CSV with the columns of `MARKET_TEST_CONFIG`. */
export function salesCsv(sales: GeneratedSale[]): string {
  return (
    ['id,date,price,area,quality,zone,region', ...sales.map((s) => [s.id, s.date, s.price, s.area, s.quality, s.zone, s.region].join(','))].join('\n') + '\n'
  );
}

export const MARKET_TEST_YAML = `version: 1
name: market-test
dataset:
  columns:
    id:      { type: identifier }
    date:    { type: date, format: YYYY-MM-DD, required: true }
    price:   { type: numeric, required: true, min: 1 }
    area:    { type: numeric, required: true, min: 1, gridGroup: size }
    quality: { type: integer, min: 0, max: 20, gridGroup: quality }
    zone:    { type: categorical, gridGroup: location }
    region:  { type: categorical, gridGroup: location }
target: { column: price, transform: log }
features:
  exclude: [id]
  saleDate: date
  derived:
    - { kind: month_index, name: sale_month, date: date, origin: "2020-01" }
comparables:
  attributes: [area, quality]
  k: 3
`;
