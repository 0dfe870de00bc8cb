import type Database from 'better-sqlite3';
import type { ErrorHint } from '../common/error-hints.js';
import { AppraiseError } from '../common/errors.js';
import type { DatasetConfig } from '../config/dataset-config.schema.js';
import type { QualityReport } from '../quality/quality-schemas.js';
import type { QuarantinePage } from './dataset-schemas.js';
import type { DatasetStore, DatasetVersion, IngestRunRecorder, IngestRunStart, NewDatasetVersion, TrainingMatrix } from './dataset-store.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import type { CompiledTransform, FeatureTransform } from '../features/feature-transform.js';
import { datasetTableName, quoteIdent } from './dataset-tables.js';
import { isoToUtcMs } from '../schema/date-format.js';

interface DatasetRow {
  id: string;
  name: string;
  table_name: string;
  config_name: string;
  config_hash: string;
  config_json: string;
  columns_json: string;
  row_count: number;
  source_path: string | null;
  parent_id: string | null;
  created_at: string;
  quality_json: string | null;
}

/** Dataset versions, ingest runs and quarantine in the workspace database. */
/** Rows read per page by iterateRows. */
const ITERATE_PAGE_ROWS = 2048;

export class SqliteDatasetStore implements DatasetStore {
  constructor(private readonly db: Database.Database) {}

  list(): DatasetVersion[] {
    return (this.db.prepare('SELECT * FROM datasets ORDER BY created_at DESC').all() as DatasetRow[]).map(toVersion);
  }

  find(id: string): DatasetVersion | null {
    const row = this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
    return row ? toVersion(row) : null;
  }

  /** Finds a dataset by full id, unique id prefix (≥ 6 characters) or unique name. */
  get(ref: string): DatasetVersion {
    const exact = this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(ref) as DatasetRow | undefined;
    if (exact) return toVersion(exact);
    const candidates = [
      ...(ref.length >= 6 && /^[0-9a-f]+$/.test(ref) ? (this.db.prepare('SELECT * FROM datasets WHERE id LIKE ?').all(`${ref}%`) as DatasetRow[]) : []),
      ...(this.db.prepare('SELECT * FROM datasets WHERE name = ? ORDER BY created_at DESC').all(ref) as DatasetRow[]),
    ];
    const unique = [...new Map(candidates.map((c) => [c.id, c])).values()];
    if (unique.length === 0)
      throw new AppraiseError('NOT_FOUND', `no dataset "${ref}" in this workspace; list them with: appraise datasets list`, {
        details: { hint: 'unknown-dataset' satisfies ErrorHint, ref },
      });
    if (unique.length > 1) {
      throw new AppraiseError(
        'INVALID_INPUT',
        `"${ref}" matches ${unique.length} datasets (${unique.map((u) => u.id.slice(0, 12)).join(', ')}); give more of the id`,
      );
    }
    return toVersion(unique[0]);
  }

  /** Deletes a dataset version, its rows and its ingest quarantine. */
  delete(ref: string): DatasetVersion {
    const ds = this.get(ref);
    this.db.transaction(() => {
      this.db.exec(`DROP TABLE IF EXISTS ${ds.tableName}`);
      this.db.prepare('DELETE FROM quarantine WHERE run_id IN (SELECT id FROM ingest_runs WHERE dataset_id = ?)').run(ds.id);
      this.db.prepare('DELETE FROM ingest_runs WHERE dataset_id = ?').run(ds.id);
      this.db.prepare('DELETE FROM datasets WHERE id = ?').run(ds.id);
    })();
    return ds;
  }

  /** Quarantined rows of a dataset's ingest runs, or of one run (runs that created no dataset have only an id). */
  quarantine(ref: string, limit = 1000, offset = 0): QuarantinePage {
    let runIds: string[];
    const run = this.db.prepare('SELECT id FROM ingest_runs WHERE id = ?').get(ref) as { id: string } | undefined;
    if (run) runIds = [run.id];
    else {
      const ds = this.get(ref);
      runIds = (this.db.prepare('SELECT id FROM ingest_runs WHERE dataset_id = ?').all(ds.id) as { id: string }[]).map((r) => r.id);
    }
    if (runIds.length === 0) return { total: 0, rows: [] };
    const marks = runIds.map(() => '?').join(',');
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM quarantine WHERE run_id IN (${marks})`).get(...runIds) as { n: number }).n;
    const rows = (
      this.db
        .prepare(`SELECT run_id, line, raw, reasons_json FROM quarantine WHERE run_id IN (${marks}) ORDER BY line LIMIT ? OFFSET ?`)
        .all(...runIds, limit, offset) as {
        run_id: string;
        line: number;
        raw: string;
        reasons_json: string;
      }[]
    ).map((r) => ({ runId: r.run_id, line: r.line, raw: r.raw, reasons: JSON.parse(r.reasons_json) as string[] }));
    return { total, rows };
  }

  /** Value counts of categorical columns, for fitting vocabularies. */
  categoryFrequencies(ds: DatasetVersion, columns: string[]): Record<string, { value: string; count: number }[]> {
    const out: Record<string, { value: string; count: number }[]> = {};
    for (const c of columns) {
      out[c] = this.db
        .prepare(`SELECT ${quoteIdent(c)} AS value, COUNT(*) AS count FROM ${ds.tableName} WHERE ${quoteIdent(c)} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1`)
        .all() as { value: string; count: number }[];
    }
    return out;
  }

  /** Streams rows in source order as arrays of values in `transform.columns` order, with their source row index. */
  *iterateRows(ds: DatasetVersion, columns: { name: string }[]): Generator<{ rowIndex: number; values: NormalizedValue[] }> {
    const have = new Set(ds.columns.map((c) => c.name));
    const select = columns.map((c) => (have.has(c.name) ? quoteIdent(c.name) : 'NULL')).join(', ');
    // Read in pages by the rowid (_row is the INTEGER PRIMARY KEY) rather than through one open cursor: a consumer
    // may write to the same connection between rows (batch scoring logs each chunk's predictions in a transaction),
    // which better-sqlite3 refuses while a statement is still iterating ("connection is busy").
    const stmt = this.db.prepare(`SELECT _row, ${select} FROM ${ds.tableName} WHERE _row > ? ORDER BY _row LIMIT ${ITERATE_PAGE_ROWS}`).raw(true);
    for (let after = -Infinity; ;) {
      const page = stmt.all(after) as NormalizedValue[][];
      for (const r of page) yield { rowIndex: r[0] as number, values: r.slice(1) };
      if (page.length < ITERATE_PAGE_ROWS) return;
      after = page[page.length - 1][0] as number;
    }
  }

  readRows(ds: DatasetVersion, rowIndexes: number[], columns: string[]): Map<number, Record<string, NormalizedValue>> {
    const out = new Map<number, Record<string, NormalizedValue>>();
    if (rowIndexes.length === 0) return out;
    const have = new Set(ds.columns.map((c) => c.name));
    const present = columns.filter((c) => have.has(c));
    const select = ['_row', ...present.map(quoteIdent)].join(', ');
    // A handful of rows (the comparables of one valuation): one indexed lookup each.
    const stmt = this.db.prepare(`SELECT ${select} FROM ${ds.tableName} WHERE _row = ?`).raw(true);
    for (const ri of rowIndexes) {
      const r = stmt.get(ri) as NormalizedValue[] | undefined;
      if (!r) continue;
      const rec: Record<string, NormalizedValue> = {};
      for (const c of columns) rec[c] = null;
      present.forEach((c, i) => (rec[c] = r[i + 1]));
      out.set(ri, rec);
    }
    return out;
  }

  /**
   * Reads a dataset into the learner's layout: a row-major float32 feature matrix, the transformed target and each
   * row's source index (for `--folds-file`). Memory is the matrix itself; rows are streamed from SQLite.
   */
  readMatrix(ds: DatasetVersion, transform: FeatureTransform, compiled: CompiledTransform): TrainingMatrix {
    const n = ds.rowCount;
    const f = compiled.nFeatures;
    const X = new Float32Array(n * f);
    const y = new Float64Array(n);
    const rowIndex = new Int32Array(n);
    const saleDay = new Float64Array(n).fill(NaN);
    const targetPos = transform.columns.findIndex((c) => c.name === transform.target.column);
    const datePos = transform.saleDate ? transform.columns.findIndex((c) => c.name === transform.saleDate) : -1;
    let i = 0;
    for (const { rowIndex: ri, values } of this.iterateRows(ds, transform.columns)) {
      compiled.writeRow(values, X, i * f);
      const target = values[targetPos];
      if (typeof target !== 'number') throw new AppraiseError('INVALID_INPUT', `row ${ri} has no target value`);
      const ty = compiled.target(target);
      if (!Number.isFinite(ty)) {
        throw new AppraiseError(
          'INVALID_INPUT',
          `row ${ri}: target ${transform.target.column} = ${target} cannot be ${transform.target.transform}-transformed (must be positive); fix the data or set target.transform: none`,
        );
      }
      y[i] = ty;
      rowIndex[i] = ri;
      if (datePos >= 0 && typeof values[datePos] === 'string') saleDay[i] = isoToUtcMs(values[datePos] as string) / 86_400_000;
      i++;
    }
    return { nRows: i, nFeatures: f, X, y, rowIndex, saleDay };
  }
  beginIngestRun(run: IngestRunStart): IngestRunRecorder {
    this.db.transaction(() => {
      this.db
        .prepare(`INSERT INTO ingest_runs (id, source_path, config_hash, status, pid, staging_table, started_at) VALUES (?, ?, ?, 'running', ?, ?, ?)`)
        .run(run.runId, run.sourcePath, run.configHash, process.pid, run.staging, new Date().toISOString());
      this.db.exec(
        `CREATE TABLE ${run.staging} (_row INTEGER PRIMARY KEY, _fp INTEGER NOT NULL, ${run.columns.map((c) => `${quoteIdent(c.name)} ${c.sqlType}`).join(', ')})`,
      );
    })();
    const quarantine = this.db.prepare('INSERT INTO quarantine (run_id, line, raw, reasons_json) VALUES (?, ?, ?, ?)');
    const progress = this.db.prepare('UPDATE ingest_runs SET rows_read = ?, rows_accepted = ?, rows_quarantined = ? WHERE id = ?');
    return {
      quarantine: (entries) => {
        for (const [line, raw, reasons] of entries) quarantine.run(run.runId, line, raw, reasons);
      },
      progress: (read, accepted, quarantined) => progress.run(read, accepted, quarantined, run.runId),
    };
  }

  failIngestRun(runId: string, staging: string, error: string): void {
    this.db.transaction(() => {
      this.finishRun(runId, 'failed', null, error);
      this.db.exec(`DROP TABLE IF EXISTS ${staging}`);
    })();
  }

  abandonIngestRun(runId: string, staging: string): void {
    this.db.transaction(() => {
      this.db.exec(`DROP TABLE IF EXISTS ${staging}`);
      this.db.prepare('DELETE FROM quarantine WHERE run_id = ?').run(runId);
      this.db.prepare('DELETE FROM ingest_runs WHERE id = ?').run(runId);
    })();
  }

  registerVersion(v: NewDatasetVersion): boolean {
    const table = datasetTableName(v.id);
    // IMMEDIATE: the write lock is taken before the check, so two ingests of one file cannot both see "new".
    return this.db
      .transaction(() => {
        if (this.db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(v.id)) return false;
        this.db.exec(`ALTER TABLE ${v.staging} RENAME TO ${table}`);
        this.db
          .prepare(
            `INSERT INTO datasets (id, name, table_name, config_name, config_hash, config_json, columns_json, row_count, source_path, quality_json, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            v.id,
            v.name,
            table,
            v.config.name,
            v.configHash,
            JSON.stringify(v.config),
            JSON.stringify(v.columns),
            v.rowCount,
            v.sourcePath,
            JSON.stringify(v.quality),
            new Date().toISOString(),
          );
        this.finishRun(v.runId, 'completed', v.id, null);
        return true;
      })
      .immediate();
  }

  firstQuarantined(runId: string, limit: number): { line: number; reasons: string[] }[] {
    const rows = this.db.prepare('SELECT line, reasons_json FROM quarantine WHERE run_id = ? ORDER BY line LIMIT ?').all(runId, limit) as {
      line: number;
      reasons_json: string;
    }[];
    return rows.map((r) => ({ line: r.line, reasons: JSON.parse(r.reasons_json) as string[] }));
  }

  recoverInterruptedIngests(isAlive: (pid: number) => boolean): number {
    const runs = this.db.prepare(`SELECT id, pid, staging_table FROM ingest_runs WHERE status = 'running'`).all() as {
      id: string;
      pid: number;
      staging_table: string;
    }[];
    let n = 0;
    for (const r of runs) {
      if (r.pid === process.pid || isAlive(r.pid)) continue;
      this.abandonIngestRun(r.id, r.staging_table);
      n++;
    }
    return n;
  }

  private finishRun(runId: string, status: 'completed' | 'failed', datasetId: string | null, error: string | null): void {
    this.db
      .prepare(`UPDATE ingest_runs SET status = ?, dataset_id = ?, error = ?, finished_at = ? WHERE id = ?`)
      .run(status, datasetId, error, new Date().toISOString(), runId);
  }
}

function toVersion(r: DatasetRow): DatasetVersion {
  return {
    id: r.id,
    name: r.name,
    tableName: r.table_name,
    configName: r.config_name,
    configHash: r.config_hash,
    config: JSON.parse(r.config_json) as DatasetConfig,
    columns: JSON.parse(r.columns_json) as DatasetVersion['columns'],
    rowCount: r.row_count,
    sourcePath: r.source_path,
    parentId: r.parent_id,
    createdAt: r.created_at,
    quality: r.quality_json ? (JSON.parse(r.quality_json) as QualityReport) : null,
  };
}
