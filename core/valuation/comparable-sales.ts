import type { DatasetConfig } from '../config/dataset-config.schema.js';
import type { DatasetVersion, DatasetStore } from '../datasets/dataset-store.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import type { ComparableSale } from './valuation-schemas.js';

/**
 * Finds the sold properties most similar to a subject: distance on location (km) plus the configured key
 * attributes, each scaled by its standard deviation in the data, so "1 km" and "one standard deviation of living
 * area" weigh alike. Held in typed arrays (loaded once per dataset) so a query is a linear scan of a few
 * microseconds per thousand sales — no index server, works offline.
 */
export class ComparableSalesIndex {
  private readonly n: number;
  private readonly lat: Float64Array;
  private readonly lon: Float64Array;
  private readonly attrs: Float64Array[];
  private readonly scale: number[];
  private readonly price: Float64Array;
  private readonly rowIndex: Int32Array;
  private readonly saleDate: (string | null)[];
  private readonly attrValues: NormalizedValue[][];
  /** The identifier column's value of each sale (e.g. the parcel id); null without one. */
  private readonly ids: (string | null)[];

  private constructor(
    private readonly latCol: string | null,
    private readonly lonCol: string | null,
    private readonly attrCols: string[],
    rows: { rowIndex: number; values: NormalizedValue[] }[],
    positions: { lat: number; lon: number; attrs: number[]; price: number; date: number; id: number },
  ) {
    this.n = rows.length;
    this.lat = Float64Array.from(rows, (r) => num(r.values[positions.lat]));
    this.lon = Float64Array.from(rows, (r) => num(r.values[positions.lon]));
    this.attrs = positions.attrs.map((p) => Float64Array.from(rows, (r) => num(r.values[p])));
    this.scale = this.attrs.map(stdOf);
    this.price = Float64Array.from(rows, (r) => num(r.values[positions.price]));
    this.rowIndex = Int32Array.from(rows, (r) => r.rowIndex);
    this.saleDate = rows.map((r) => (positions.date >= 0 ? (r.values[positions.date] as string | null) : null));
    this.attrValues = rows.map((r) => positions.attrs.map((p) => r.values[p]));
    this.ids = rows.map((r) => (positions.id >= 0 && r.values[positions.id] !== null ? String(r.values[positions.id]) : null));
  }

  static fromDataset(store: DatasetStore, ds: DatasetVersion, config: DatasetConfig): ComparableSalesIndex {
    const cmp = config.comparables;
    const cols = config.dataset.columns;
    const latCol = cmp?.latitude ?? Object.keys(cols).find((c) => cols[c].type === 'latitude') ?? null;
    const lonCol = cmp?.longitude ?? Object.keys(cols).find((c) => cols[c].type === 'longitude') ?? null;
    const attrCols = cmp?.attributes ?? [];
    const idCol = Object.keys(cols).find((c) => cols[c].type === 'identifier') ?? null;
    const wanted = [latCol, lonCol, ...attrCols, config.target.column, config.features.saleDate ?? null, idCol];
    const columns = wanted.map((name) => ({ name: name ?? '__none__' }));
    const rows = [...store.iterateRows(ds, columns)];
    return new ComparableSalesIndex(latCol, lonCol, attrCols, rows, {
      lat: 0,
      lon: 1,
      attrs: attrCols.map((_, i) => 2 + i),
      price: 2 + attrCols.length,
      date: config.features.saleDate ? 3 + attrCols.length : -1,
      id: idCol ? 4 + attrCols.length : -1,
    });
  }

  get size(): number {
    return this.n;
  }

  /** The k most similar sales to the subject (values keyed by column name). */
  nearest(subject: Record<string, NormalizedValue>, k: number): ComparableSale[] {
    const sLat = this.latCol ? num(subject[this.latCol]) : NaN;
    const sLon = this.lonCol ? num(subject[this.lonCol]) : NaN;
    const sAttr = this.attrCols.map((c) => num(subject[c]));
    const useGeo = !Number.isNaN(sLat) && !Number.isNaN(sLon);
    const cosLat = Math.cos((sLat * Math.PI) / 180);
    // Keep the k best in a small sorted buffer: k is tiny (≤ 50), n can be millions.
    const bestScore = new Float64Array(k).fill(Infinity);
    const bestIdx = new Int32Array(k).fill(-1);
    for (let i = 0; i < this.n; i++) {
      let s = 0;
      if (useGeo) {
        // Equirectangular approximation: exact enough within a county, and cheap.
        const dy = (this.lat[i] - sLat) * 111.2;
        const dx = (this.lon[i] - sLon) * 111.2 * cosLat;
        const d2 = dx * dx + dy * dy;
        s += Number.isNaN(d2) ? 1e6 : d2;
      }
      for (let a = 0; a < sAttr.length; a++) {
        const sv = sAttr[a];
        if (Number.isNaN(sv)) continue;
        const d = (this.attrs[a][i] - sv) / this.scale[a];
        s += Number.isNaN(d) ? 1 : d * d;
      }
      if (s >= bestScore[k - 1]) continue;
      let j = k - 1;
      while (j > 0 && bestScore[j - 1] > s) {
        bestScore[j] = bestScore[j - 1];
        bestIdx[j] = bestIdx[j - 1];
        j--;
      }
      bestScore[j] = s;
      bestIdx[j] = i;
    }
    const out: ComparableSale[] = [];
    for (let j = 0; j < k; j++) {
      const i = bestIdx[j];
      if (i < 0) break;
      out.push(this.saleAt(i, Math.sqrt(bestScore[j]), useGeo ? { lat: sLat, lon: sLon } : null));
    }
    return out;
  }

  /**
   * How far the subject's k-th nearest sale is (by location alone), beside the same distance for the sales the
   * model learned from: the 99th percentile over a fixed sample of them ("typical" then means: all but the
   * loneliest 1 %). Null without coordinates on either side.
   */
  neighbourhood(subject: Record<string, NormalizedValue>, k: number): { distanceKm: number; typicalKm: number } | null {
    const sLat = this.latCol ? num(subject[this.latCol]) : NaN;
    const sLon = this.lonCol ? num(subject[this.lonCol]) : NaN;
    if (Number.isNaN(sLat) || Number.isNaN(sLon) || this.n <= k) return null;
    const distanceKm = this.kthNearestKm(sLat, sLon, k, -1);
    if (this.typicalKth?.k !== k) {
      const step = Math.max(1, Math.floor(this.n / NEIGHBOURHOOD_SAMPLE));
      const ds: number[] = [];
      for (let i = 0; i < this.n; i += step) {
        if (Number.isNaN(this.lat[i]) || Number.isNaN(this.lon[i])) continue;
        ds.push(this.kthNearestKm(this.lat[i], this.lon[i], k, i));
      }
      ds.sort((a, b) => a - b);
      this.typicalKth = { k, km: ds.length ? ds[Math.min(ds.length - 1, Math.floor(0.99 * ds.length))] : NaN };
    }
    const typicalKm = this.typicalKth.km;
    return Number.isFinite(distanceKm) && Number.isFinite(typicalKm) ? { distanceKm, typicalKm } : null;
  }

  private typicalKth: { k: number; km: number } | null = null;

  private kthNearestKm(lat: number, lon: number, k: number, skip: number): number {
    const cosLat = Math.cos((lat * Math.PI) / 180);
    const best = new Float64Array(k).fill(Infinity);
    for (let i = 0; i < this.n; i++) {
      if (i === skip) continue;
      const dy = (this.lat[i] - lat) * 111.2;
      const dx = (this.lon[i] - lon) * 111.2 * cosLat;
      const d2 = dx * dx + dy * dy;
      if (!(d2 < best[k - 1])) continue;
      let j = k - 1;
      while (j > 0 && best[j - 1] > d2) {
        best[j] = best[j - 1];
        j--;
      }
      best[j] = d2;
    }
    return Math.sqrt(best[k - 1]);
  }

  /**
   * The sales whose identifier (e.g. parcel id) is `id`, newest first — a property sold twice has two sales —
   * scored against the subject as `nearest` scores them. Empty when no sale has it.
   */
  salesById(subject: Record<string, NormalizedValue>, id: string): ComparableSale[] {
    const want = id.trim();
    const sLat = this.latCol ? num(subject[this.latCol]) : NaN;
    const sLon = this.lonCol ? num(subject[this.lonCol]) : NaN;
    const geo = !Number.isNaN(sLat) && !Number.isNaN(sLon) ? { lat: sLat, lon: sLon } : null;
    const sAttr = this.attrCols.map((c) => num(subject[c]));
    const out: ComparableSale[] = [];
    for (let i = 0; i < this.n; i++) {
      if (this.ids[i] !== want) continue;
      let s = 0;
      if (geo) {
        const d = haversineKm(geo.lat, geo.lon, this.lat[i], this.lon[i]);
        s += Number.isNaN(d) ? 1e6 : d * d;
      }
      for (let a = 0; a < sAttr.length; a++) {
        if (Number.isNaN(sAttr[a])) continue;
        const d = (this.attrs[a][i] - sAttr[a]) / this.scale[a];
        s += Number.isNaN(d) ? 1 : d * d;
      }
      out.push(this.saleAt(i, Math.sqrt(s), geo));
    }
    return out.sort((a, b) => (b.saleDate ?? '').localeCompare(a.saleDate ?? ''));
  }

  private saleAt(i: number, score: number, subject: { lat: number; lon: number } | null): ComparableSale {
    return {
      rowIndex: this.rowIndex[i],
      price: this.price[i],
      saleDate: this.saleDate[i],
      distanceKm: subject ? haversineKm(subject.lat, subject.lon, this.lat[i], this.lon[i]) : null,
      score,
      latitude: Number.isNaN(this.lat[i]) ? null : this.lat[i],
      longitude: Number.isNaN(this.lon[i]) ? null : this.lon[i],
      attributes: Object.fromEntries(this.attrCols.map((c, a) => [c, this.attrValues[i][a]])),
      saleId: this.ids[i],
    };
  }
}

/** Training sales whose neighbourhood is measured for the "typical" distance: enough for a 99th percentile. */
const NEIGHBOURHOOD_SAMPLE = 400;

function num(v: NormalizedValue | undefined): number {
  return typeof v === 'number' ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : NaN;
}

function stdOf(a: Float64Array): number {
  let n = 0;
  let s = 0;
  let s2 = 0;
  for (const v of a) {
    if (Number.isNaN(v)) continue;
    n++;
    s += v;
    s2 += v * v;
  }
  const sd = n > 1 ? Math.sqrt(Math.max(0, (s2 - (s * s) / n) / (n - 1))) : 1;
  return sd > 0 ? sd : 1;
}

export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(a)));
}
