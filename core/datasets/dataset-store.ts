import type { DatasetConfig } from '../config/dataset-config.schema.js';
import type { QualityReport } from '../quality/quality-schemas.js';
import type { NormalizedValue } from '../schema/column-parser.js';
import type { CompiledTransform, FeatureTransform } from '../features/feature-transform.js';
import type { QuarantinePage } from './dataset-schemas.js';

export interface DatasetVersion {
  id: string;
  name: string;
  tableName: string;
  configName: string;
  configHash: string;
  config: DatasetConfig;
  columns: { name: string; type: string; sqlType: string }[];
  rowCount: number;
  sourcePath: string | null;
  parentId: string | null;
  createdAt: string;
  quality: QualityReport | null;
}

export interface TrainingMatrix {
  nRows: number;
  nFeatures: number;
  X: Float32Array;
  y: Float64Array;
  rowIndex: Int32Array;
  /** Sale date as days since 1970 (NaN when the schema has no sale date), for time-ordered folds. */
  saleDay: Float64Array;
}

/** A new ingest run's staging area: the rows go into `staging`, a table of this run's own. */
export interface IngestRunStart {
  runId: string;
  sourcePath: string;
  configHash: string;
  /** Name of the run's staging table (created here; renamed to the version's table when the run completes). */
  staging: string;
  /** Staging columns after `_row` (source row index) and `_fp` (row fingerprint). */
  columns: { name: string; sqlType: string }[];
}

/** Writes the quarantine and progress of one running ingest; called inside the ingest's batch transactions. */
export interface IngestRunRecorder {
  /** Rows the run refused: file line, raw text, JSON list of reasons. */
  quarantine(entries: readonly (readonly [line: number, raw: string, reasonsJson: string])[]): void;
  progress(rowsRead: number, rowsAccepted: number, rowsQuarantined: number): void;
}

/** What a completed run registers: the staging table becomes the version's table in the same transaction. */
export interface NewDatasetVersion {
  runId: string;
  staging: string;
  id: string;
  name: string;
  config: DatasetConfig;
  configHash: string;
  columns: { name: string; type: string; sqlType: string }[];
  rowCount: number;
  sourcePath: string;
  quality: QualityReport;
}

/**
 * Dataset versions and their provenance (ingest runs and quarantined rows). Versions are immutable: a version is
 * registered once, in one transaction with the end of its run, and only ever read or deleted after that.
 */
export interface DatasetStore {
  /** Newest first. */
  list(): DatasetVersion[];
  /** Finds a dataset by full id, unique id prefix (≥ 6 characters) or unique name; NOT_FOUND otherwise. */
  get(ref: string): DatasetVersion;
  /** The version with exactly this id, or null. */
  find(id: string): DatasetVersion | null;
  /** Deletes a dataset version, its rows and its ingest quarantine. */
  delete(ref: string): DatasetVersion;
  /** Quarantined rows of a dataset's ingest runs, or of one run (by run id). */
  quarantine(ref: string, limit?: number, offset?: number): QuarantinePage;
  /** Value counts of categorical columns, for fitting vocabularies. */
  categoryFrequencies(ds: DatasetVersion, columns: string[]): Record<string, { value: string; count: number }[]>;
  /** Streams rows in source order as arrays of values in `columns` order, with their source row index. */
  iterateRows(ds: DatasetVersion, columns: { name: string }[]): Generator<{ rowIndex: number; values: NormalizedValue[] }>;
  /** The given rows (by 0-based data row), with the values of `columns` keyed by name; rows not there are left out. */
  readRows(ds: DatasetVersion, rowIndexes: number[], columns: string[]): Map<number, Record<string, NormalizedValue>>;
  /** Reads a dataset into the learner's layout (see TrainingMatrix). */
  readMatrix(ds: DatasetVersion, transform: FeatureTransform, compiled: CompiledTransform): TrainingMatrix;

  /** Records a running ingest (with this process's pid, for crash recovery) and creates its staging table. */
  beginIngestRun(run: IngestRunStart): IngestRunRecorder;
  /** Marks a run that created no version as failed, keeping its quarantine for the user to read. */
  failIngestRun(runId: string, staging: string, error: string): void;
  /** Removes every trace of a run that did not complete: its staging table, quarantine and record. */
  abandonIngestRun(runId: string, staging: string): void;
  /**
   * Registers a completed run's version: renames its staging table and inserts the version, in one write
   * transaction that first checks the id is new. Returns false (and changes nothing) when a version with this id
   * already exists — another ingest of the same content won the race (issue 14, #8); the caller abandons its run.
   */
  registerVersion(v: NewDatasetVersion): boolean;
  /** The first quarantined rows of a run, for error messages. */
  firstQuarantined(runId: string, limit: number): { line: number; reasons: string[] }[];
  /** Runs left 'running' by processes that are gone (kill -9, power loss): cleaned up; returns how many. */
  recoverInterruptedIngests(isAlive: (pid: number) => boolean): number;
}
