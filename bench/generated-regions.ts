/**
 * Two generated regions that reproduce the shapes on which the tool's defaults once lost to scikit-learn (issue 9):
 * a table of few features where price per square foot varies smoothly across the map (location interactions
 * dominate), and a table whose categoricals have 250–400 levels with long tails (suburbs, sales agents). Seeded,
 * written as CSV with their own YAML, so they go through the product exactly as a user's file would.
 */
import { writeFileSync } from 'node:fs';
import { SeededRandom } from '../core/common/seeded-random.js';

export interface GeneratedRegion {
  name: string;
  csv: string;
  yaml: string;
}

function gauss(rng: SeededRandom): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/** Few features, location-dominated: log price = a smooth surface over (lat, lon) × size + small terms + noise. */
export function writeLocationRegion(file: string, rows = 8000, seed = 11): GeneratedRegion {
  const rng = new SeededRandom(seed);
  const lines = ['lat,lon,living_m2,rooms,price'];
  for (let i = 0; i < rows; i++) {
    const lat = 50 + rng.next() * 0.5;
    const lon = 4 + rng.next() * 0.8;
    const u = (lat - 50) / 0.5;
    const v = (lon - 4) / 0.8;
    const area = Math.round(40 + 200 * rng.next() ** 1.5);
    const rooms = Math.max(1, Math.round(area / 30 + gauss(rng)));
    // Price per m² and its elasticity both vary over the map: a pure location × size interaction.
    const level = 7.6 + 0.6 * Math.sin(3 * u) * Math.cos(2 * v) + 0.4 * Math.exp(-((u - 0.7) ** 2 + (v - 0.3) ** 2) / 0.02);
    const elasticity = 0.85 + 0.2 * Math.cos(4 * u * v);
    const logPrice = level + elasticity * Math.log(area) + 0.02 * rooms + 0.12 * gauss(rng);
    lines.push(`${lat.toFixed(5)},${lon.toFixed(5)},${area},${rooms},${Math.round(Math.exp(logPrice))}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return {
    name: 'generated-location',
    csv: file,
    yaml: `version: 1
name: generated-location
dataset:
  columns:
    lat:       { type: latitude, required: true }
    lon:       { type: longitude, required: true }
    living_m2: { type: numeric, required: true, min: 10, max: 2000, unit: m2 }
    rooms:     { type: integer, min: 0, max: 30 }
    price:     { type: numeric, required: true, min: 1000, max: 100000000, unit: EUR }
target:
  column: price
  transform: log
`,
  };
}

/** Wide categoricals: 350 suburbs and 280 agents with Zipf-like frequencies and their own effects. */
export function writeWideCategoricalRegion(file: string, rows = 10000, seed = 12): GeneratedRegion {
  const rng = new SeededRandom(seed);
  const zipf = (n: number) => {
    const w = Array.from({ length: n }, (_, k) => 1 / (k + 1) ** 0.9);
    const total = w.reduce((a, b) => a + b, 0);
    const cdf: number[] = [];
    w.reduce((acc, x, k) => (cdf[k] = acc + x / total), 0);
    return () => {
      const r = rng.next();
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid] < r) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
  };
  const suburbs = 350;
  const agents = 280;
  const suburbEffect = Array.from({ length: suburbs }, () => 0.35 * gauss(rng));
  const agentEffect = Array.from({ length: agents }, () => 0.05 * gauss(rng));
  const pickSuburb = zipf(suburbs);
  const pickAgent = zipf(agents);
  const types = ['house', 'unit', 'townhouse'];
  const typeEffect = [0, -0.35, -0.15];
  const lines = ['suburb,agent,type,land_m2,bedrooms,bathrooms,year_built,price'];
  for (let i = 0; i < rows; i++) {
    const s = pickSuburb();
    const a = pickAgent();
    const t = rng.int(3);
    const land = Math.round(t === 1 ? 0 : 150 + 900 * rng.next() ** 2);
    const bedrooms = 1 + rng.int(5);
    const bathrooms = Math.max(1, Math.min(bedrooms, 1 + rng.int(3)));
    const year = 1900 + rng.int(121);
    const logPrice =
      12.8 +
      suburbEffect[s] +
      agentEffect[a] +
      typeEffect[t] +
      0.12 * bedrooms +
      0.08 * bathrooms +
      0.15 * Math.log1p(land) -
      0.001 * (2020 - year) +
      0.15 * gauss(rng);
    lines.push(
      `S${String(s).padStart(3, '0')},A${String(a).padStart(3, '0')},${types[t]},${land},${bedrooms},${bathrooms},${year},${Math.round(Math.exp(logPrice))}`,
    );
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return {
    name: 'generated-wide-categoricals',
    csv: file,
    yaml: `version: 1
name: generated-wide-categoricals
dataset:
  columns:
    suburb:     { type: categorical, required: true }
    agent:      { type: categorical }
    type:       { type: categorical, required: true }
    land_m2:    { type: numeric, min: 0, max: 1000000, unit: m2 }
    bedrooms:   { type: integer, min: 0, max: 20 }
    bathrooms:  { type: integer, min: 0, max: 20 }
    year_built: { type: integer, min: 1700, max: 2100 }
    price:      { type: numeric, required: true, min: 1000, max: 100000000, unit: AUD }
target:
  column: price
  transform: log
`,
  };
}
