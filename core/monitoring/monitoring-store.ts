import type { MonitoringAlert, MonitoringSchedule, PairedTest, RetrainingRun, StoredAlert } from './monitoring-schemas.js';
import type { PredictionFilter } from './prediction-log.js';

/** A sold valuation that a shadow model scored too: both estimates and the sale price. */
export interface ShadowPair {
  predictionId: string;
  championEstimate: number;
  challengerEstimate: number;
  salePrice: number;
  /** Parses the logged input (by column name). */
  input(): Record<string, string | number | null>;
}

/** A sold valuation as retraining learns from it: the logged input and the sale. */
export interface LabelledValuation {
  predictionId: string;
  predictedAt: string;
  input: Record<string, string | number | null>;
  salePrice: number;
  saleDate: string | null;
  valuationDate: string | null;
}

/**
 * What monitoring keeps beside the prediction log: the challengers scored in shadow and their estimates, the
 * alerts each check raised, and the retraining runs. All its SQL is in `SqliteMonitoringStore`.
 */
export interface MonitoringStore {
  /** Models scored in shadow on every valuation, oldest first. */
  shadowModels(): string[];
  addShadowModel(modelId: string, reason: string | null): void;
  removeShadowModel(modelId: string): void;
  /** Stores shadow estimates (one transaction); a prediction already scored by that model is left alone. */
  recordShadow(rows: { predictionId: string; modelId: string; estimate: number }[]): void;
  /** Valuations of `filter` (the champion's) that `challengerId` scored and that have a sale price. */
  shadowPairs(filter: PredictionFilter, challengerId: string): ShadowPair[];
  /** Valuations of `filter` that `challengerId` scored, sold or not. */
  shadowCount(filter: PredictionFilter, challengerId: string): number;
  /** Sold valuations of `filter`, oldest first. */
  labelledValuations(filter: PredictionFilter): LabelledValuation[];
  /** How many valuations of `filter` have a sale price (without reading them). */
  labelledCount(filter: PredictionFilter): number;
  /** Stores the alerts of one check; returns them with their ids. */
  storeAlerts(modelId: string, window: { since: string | null; until: string | null }, alerts: MonitoringAlert[], at?: Date): StoredAlert[];
  /** Newest first. */
  listAlerts(options?: { modelId?: string; since?: string; limit?: number }): StoredAlert[];
  /** One stored alert; null if there is none with that id. */
  alert(id: number): StoredAlert | null;
  /** Marks an open alert acknowledged (an acknowledged one is left as it was); returns it, null if there is none. */
  acknowledgeAlert(id: number, by: string, note: string | null, at?: Date): StoredAlert | null;
  /** The periodic checks' setting (hours between checks; null: off) and when one last ran. */
  schedule(): MonitoringSchedule;
  setScheduleInterval(hours: number | null): MonitoringSchedule;
  /**
   * Claims the next scheduled check: sets the last run to `at` only if it is still `expected` (what the caller
   * read). False when another process claimed it first, so that one runs the check and this one does not.
   */
  claimScheduledRun(expected: string | null, at: string): boolean;
  addRetrainingRun(run: NewRetrainingRun): RetrainingRun;
  /** Newest first. */
  retrainingRuns(limit?: number): RetrainingRun[];
  /** The newest run of that action (the cooldown starts at the newest 'trained' one); null if none. */
  lastRetrainingRun(action: RetrainingRun['action']): RetrainingRun | null;
  /** Runs `fn` in one transaction (a retraining step's shadow entry and its run are written together or not at all). */
  transaction<T>(fn: () => T): T;
}

/** A retraining run to store; its job, trigger, cooldown end and data default to null (an inline run). */
export type NewRetrainingRun = Omit<RetrainingRun, 'id' | 'jobId' | 'trigger' | 'cooldownUntil' | 'data'> &
  Partial<Pick<RetrainingRun, 'jobId' | 'trigger' | 'cooldownUntil' | 'data'>>;

export type { PairedTest };
