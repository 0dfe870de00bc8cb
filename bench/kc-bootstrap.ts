import { readFileSync, createWriteStream, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '../core/common/seeded-random.js';

/** The bundled KC file, whether running from bench/ (sources) or dist/bench/ (built). */
export function kcCsvPath(): string {
  for (const rel of ['../data/kc_house_sales.csv', '../../data/kc_house_sales.csv']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('data/kc_house_sales.csv not found');
}

/**
 * Writes an n-row KC-like CSV: a seeded bootstrap of the real rows with small multiplicative noise on the
 * continuous columns (so rows are not exact copies). Same seed and n → byte-identical file; reused if present.
 */
export async function writeKcBootstrap(path: string, n: number, seed = 42): Promise<string> {
  if (existsSync(path) && statSync(path).size > 0) return path;
  const lines = readFileSync(kcCsvPath(), 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  const header = lines[0];
  const rows = lines.slice(1).map((l) => l.split(','));
  const noisy = new Set(['price', 'sqft_living', 'sqft_lot', 'sqft_above', 'sqft_living15', 'sqft_lot15']);
  const cols = header.split(',');
  const noisyIdx = cols.map((c, i) => (noisy.has(c) ? i : -1)).filter((i) => i >= 0);
  const random = new SeededRandom(seed);
  const rnd = () => random.next();
  const out = createWriteStream(path);
  out.write(`${header}\n`);
  let buf = '';
  for (let i = 0; i < n; i++) {
    const src = rows[Math.floor(rnd() * rows.length)];
    const r = src.slice();
    for (const j of noisyIdx) {
      const v = Number(r[j]);
      if (r[j] !== '' && Number.isFinite(v)) r[j] = String(Math.round(v * (0.97 + 0.06 * rnd())));
    }
    buf += `${r.join(',')}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.write(buf);
  out.end();
  await once(out, 'finish');
  return path;
}
