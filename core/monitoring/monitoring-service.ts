import type { ModelStore } from '../models/model-store.js';
import { AppraiseError, invalidInput, notFound } from '../common/errors.js';
import { buildMonitoringReport, groupColumnOf, monitoringConfigOf } from './monitoring-report.js';
import type {
  MonitoringReport,
  MonitoringSchedule,
  RetrainProgress,
  RetrainingRun,
  ReviewSample,
  ReviewSummary,
  ReviewVerdict,
  SaleLink,
  ShadowComparison,
  StoredAlert,
} from './monitoring-schemas.js';
import { reviewConfigOf, type ReviewStore } from './review-sampling.js';
import type { MonitoringStore } from './monitoring-store.js';
import type { ShadowScoringSink } from './shadow-scoring.js';
import { compareShadow } from './shadow-comparison.js';
import type { ModelManifest, ModelSummary } from '../models/model-schemas.js';
import type { ExtraSales, TrainingServiceApi } from '../training/training-service.js';
import { compileFeatureTransform } from '../features/feature-transform.js';
import { auditedAsync, auditedSync, osActor, type AuditTrail } from '../audit/audit-trail.js';
import type { PredictionLog, SaleRecord } from './prediction-log.js';
import { readSalesFile } from './sales-file.js';
import { cooldownEnd, retrainingPolicyOf, windowStart } from './retraining-policy.js';
import type { JobControl } from '../common/job-control.js';

export interface ReportOptions {
  /** Model id, prefix, name or 'champion' (default). */
  model?: string;
  /** ISO date or date-time; only predictions made at or after it. */
  since?: string;
  until?: string;
}

export interface SalesLinkResult {
  /** Sales that matched at least one logged prediction, and how many predictions they were linked to. */
  matched: number;
  predictions: number;
  /** Property ids with no logged prediction awaiting a sale (first 100). */
  unmatched: string[];
  unmatchedCount: number;
  /** Rows of a sales file that could not be read (first 100), with the reason. */
  problems: { line: number; message: string }[];
}

/** What one scheduled check did: ran (its alerts), or why it did not. */
export type ScheduledCheck =
  { ran: true; at: string; alerts: StoredAlert[] } | { ran: false; reason: 'off' | 'not-due' | 'claimed-elsewhere' | 'no-champion'; nextDueAt: string | null };

export interface MonitoringServiceApi {
  report(options?: ReportOptions): MonitoringReport;
  /** Links the actual sale price to one logged valuation. */
  recordSale(predictionId: string, price: number, saleDate?: string | null): SaleLink;
  /** Links sales to logged valuations by the schema's identifier column (one transaction). */
  recordSales(sales: SaleRecord[], options?: { model?: string }): SalesLinkResult;
  /** Reads a sales CSV in the model's schema and links its sales by property id. */
  recordSalesFile(file: string, options?: { model?: string }): Promise<SalesLinkResult>;
  /** Builds the report and stores its alerts (the alert list's history); returns the stored alerts. */
  checkAlerts(options?: ReportOptions): StoredAlert[];
  /** Stored alerts, newest first. */
  alerts(options?: { model?: string; since?: string; limit?: number }): StoredAlert[];
  /**
   * Marks a stored alert acknowledged by the trail's actor (seen, being dealt with), with an optional note; audited.
   * Acknowledging one already acknowledged changes nothing and returns it as it was.
   */
  acknowledgeAlert(request: { id: number; note?: string | null }): StoredAlert;
  /** The periodic checks' setting and when the last and next ran / are due. */
  schedule(): MonitoringSchedule;
  /** Sets hours between periodic checks (null: off). */
  setSchedule(request: { everyHours: number | null }): MonitoringSchedule;
  /**
   * Runs the periodic check if it is due at `now` (alerts since the last one, stored and audited) and this process
   * claimed it; otherwise says why not. A check missed while the app was closed runs once, not once per interval.
   */
  runScheduledCheck(now?: Date): ScheduledCheck;
  /** Challengers scored in shadow on every valuation. */
  shadowList(): ModelSummary[];
  shadowAdd(model: string): ModelSummary;
  shadowRemove(model: string): ModelSummary;
  /**
   * One step of the retraining policy (see RetrainOptions), as a job: progress through `job.onProgress`; when
   * `job.signal` aborts before the step has stored anything it fails with CANCELLED and writes nothing (no model,
   * no shadow entry, no run). The run records `job.jobId`.
   */
  retrain(options?: RetrainOptions, job?: JobControl<RetrainProgress>): Promise<RetrainingRun>;
  /**
   * Whether the periodic check's `alerts` call for a retraining step: a challenger waits in shadow to be judged,
   * or an alert matches the champion's retraining.triggers. The scheduler then starts the retraining job.
   */
  retrainDue(alerts: Pick<StoredAlert, 'rule'>[]): boolean;
  retrainingRuns(limit?: number): RetrainingRun[];
  /** Resolves when the shadow estimates of every valuation made so far are stored. */
  settled(): Promise<void>;
  /** The random sample review queue, newest first (default: the open samples of every model). */
  reviews(options?: ReviewListOptions): ReviewSample[];
  /**
   * Records a reviewer's verdict on a valuation drawn for review, by the trail's actor; audited. 'adjust' needs the
   * reviewer's value; a sample already reviewed is refused (CONFLICT): a verdict is a record.
   */
  recordReview(request: ReviewRequest): ReviewSample;
}

export interface ReviewListOptions {
  model?: string;
  since?: string;
  status?: 'open' | 'reviewed' | 'all';
  limit?: number;
}

export interface ReviewRequest {
  predictionId: string;
  verdict: ReviewVerdict;
  /** The reviewer's value of the property, for an 'adjust' verdict. */
  amount?: number | null;
  notes?: string | null;
}

export interface RetrainOptions {
  /** Overrides monitoring.retraining.promote. */
  policy?: 'auto' | 'ask';
  /** Only valuations (and their sales) made at or after this ISO time count as new. */
  since?: string;
  /** Learner threads for the retraining run. */
  threads?: number;
  /** What started the step (kept with the run): a person (default) or the periodic check. */
  trigger?: 'manual' | 'schedule';
  /**
   * Train even within the cooldown (monitoring.retraining.cooldownDays): a person's decision after being told when
   * the cooldown ends; recorded in the audit trail and the run. Not for the periodic check.
   */
  force?: boolean;
}

/** What `MonitoringService` needs beyond the log and models for shadow tests and retraining; tests may leave it out. */
export interface MonitoringExtras {
  store: MonitoringStore;
  shadow: ShadowScoringSink | null;
  training: TrainingServiceApi | null;
  /** Where the policy promotes and archives (the audited model service); default: the model store directly. */
  registry?: { promote(request: { ref: string; reason?: string }): ModelSummary; archive(ref: string): ModelSummary };
  /** Records each retraining step (core/audit); none: not recorded. */
  audit?: AuditTrail;
  /** The random sample review queue (none: reviews are not available, and the report has no review summary). */
  reviews?: ReviewStore;
}

/** Logged sold valuations as training rows: features recomputed with the sale date (the market it sold in). */
function extraSalesOf(manifest: ModelManifest, sales: ReturnType<MonitoringStore['labelledValuations']>): ExtraSales {
  const t = manifest.featureTransform;
  const compiled = compileFeatureTransform(t);
  const nF = compiled.nFeatures;
  const X = new Float32Array(sales.length * nF);
  const y = new Float64Array(sales.length);
  const saleDay = new Float64Array(sales.length);
  sales.forEach((s, i) => {
    const record = { ...s.input };
    const date = s.saleDate ?? s.valuationDate;
    if (t.saleDate && date) record[t.saleDate] = date;
    X.set(compiled.fromRecord(record).vector, i * nF);
    y[i] = compiled.target(s.salePrice);
    saleDay[i] = date ? Date.parse(`${date.slice(0, 10)}T00:00:00Z`) / 86_400_000 : NaN;
  });
  return { transform: t, X, y, saleDay, label: `${sales.length} sales from the prediction log` };
}

/** Whether an alert rule is one of the retraining triggers (a trigger ending in '.' is a prefix: 'drift.'). */
const matchesTrigger = (rule: string, triggers: string[]) => triggers.some((t) => rule === t || (t.endsWith('.') && rule.startsWith(t)));

/** Throws CANCELLED when the job was cancelled; called between steps, before anything is written. */
function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AppraiseError('CANCELLED', 'the retraining step was cancelled before it changed anything');
}

function isoTime(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms))
    throw invalidInput(`${field} "${value}" is not an ISO date or time (e.g. 2015-03-01)`, [{ field, message: 'use YYYY-MM-DD' }]);
  return new Date(ms).toISOString();
}

/** Monitoring of the models in one workspace: the report over the prediction log, and linking sale prices to it. */
export class MonitoringService implements MonitoringServiceApi {
  constructor(
    private readonly log: PredictionLog,
    private readonly models: ModelStore,
    private readonly extras: MonitoringExtras | null = null,
  ) {}

  report(options: ReportOptions = {}): MonitoringReport {
    const since = isoTime(options.since, 'since');
    const until = isoTime(options.until, 'until');
    if (since && until && since >= until) throw invalidInput(`since (${since}) must be before until (${until})`);
    const stored = this.models.load(options.model ?? 'champion');
    const shadow = this.shadowComparisons(stored.manifest, stored.summary, { since, until });
    const report = buildMonitoringReport({ manifest: stored.manifest, summary: stored.summary, log: this.log, filter: { since, until }, shadow });
    return { ...report, review: this.reviewSummary(stored.manifest, stored.summary.id, { since, until }) };
  }

  private reviewSummary(manifest: ModelManifest, modelId: string, window: { since?: string; until?: string }): ReviewSummary | null {
    const reviews = this.extras?.reviews;
    if (!reviews) return null;
    return {
      share: reviewConfigOf(manifest).share,
      valuations: this.log.count({ modelId, source: 'value', ...window }),
      ...reviews.summary({ modelId, ...window }),
    };
  }

  private get reviewStore(): ReviewStore {
    if (!this.extras?.reviews) throw new AppraiseError('INTERNAL', 'monitoring was opened without the review queue');
    return this.extras.reviews;
  }

  reviews(options: ReviewListOptions = {}): ReviewSample[] {
    return this.reviewStore.samples({
      modelId: options.model ? this.models.resolve(options.model) : undefined,
      since: isoTime(options.since, 'since'),
      status: options.status ?? 'open',
      limit: options.limit,
    });
  }

  recordReview({ predictionId, verdict, amount = null, notes = null }: ReviewRequest): ReviewSample {
    if (!['agree', 'adjust', 'disagree'].includes(verdict))
      throw invalidInput(`the verdict is agree, adjust or disagree, not "${String(verdict)}"`, [{ field: 'verdict', message: 'agree, adjust or disagree' }]);
    if (verdict === 'adjust' && !(typeof amount === 'number' && Number.isFinite(amount) && amount > 0))
      throw invalidInput('an "adjust" verdict needs the value you would give the property (a positive amount)', [
        { field: 'amount', message: 'give your value, e.g. 512000' },
      ]);
    if (verdict !== 'adjust' && amount !== null)
      throw invalidInput(`an amount goes with an "adjust" verdict only, not "${verdict}"`, [{ field: 'amount', message: 'leave it out, or use adjust' }]);
    const text = notes?.trim() || null;
    if (text && text.length > 2000)
      throw invalidInput(`the notes are ${text.length} characters; keep them under 2000`, [{ field: 'notes', message: 'shorten the notes' }]);
    const store = this.reviewStore;
    const before = store.sample(predictionId);
    if (!before) throw notFound(`valuation "${predictionId}" was not drawn for review (see \`appraise monitor review list\` for the open ones)`);
    if (before.review)
      throw new AppraiseError(
        'CONFLICT',
        `valuation ${predictionId} was already reviewed by ${before.review.by} on ${before.review.at.slice(0, 10)} (${before.review.verdict}); a verdict is not changed`,
      );
    const audit = this.extras?.audit;
    return auditedSync(
      audit,
      'monitoring.review',
      { prediction: predictionId, model: before.modelId, verdict, amount: verdict === 'adjust' ? amount : null },
      () => {
        const at = new Date().toISOString();
        if (
          !store.recordVerdict(predictionId, { verdict, adjustedValue: verdict === 'adjust' ? amount : null, notes: text, by: audit?.actor ?? osActor(), at })
        )
          throw new AppraiseError('CONFLICT', `valuation ${predictionId} was reviewed by someone else a moment ago; reload the queue`);
        return store.sample(predictionId)!;
      },
    );
  }

  private get store(): MonitoringStore {
    if (!this.extras) throw new AppraiseError('INTERNAL', 'monitoring was opened without its store');
    return this.extras.store;
  }

  /** Each shadow challenger against `summary` (the model reported on) over the window. */
  private shadowComparisons(manifest: ModelManifest, summary: ModelSummary, window: { since?: string; until?: string }): ShadowComparison[] {
    if (!this.extras) return [];
    const cfg = monitoringConfigOf(manifest);
    const transform = manifest.featureTransform.target.transform;
    const forward = transform === 'log' ? Math.log : transform === 'log1p' ? Math.log1p : (v: number) => v;
    const out: ShadowComparison[] = [];
    for (const id of this.store.shadowModels()) {
      if (id === summary.id) continue;
      let challenger: ModelSummary;
      try {
        challenger = this.models.summary(id);
      } catch {
        continue;
      }
      const filter = { modelId: summary.id, ...window };
      out.push(
        compareShadow({
          challenger,
          pairs: this.store.shadowPairs(filter, id),
          scored: this.store.shadowCount(filter, id),
          cfg,
          groupColumn: groupColumnOf(manifest, cfg),
          forward,
        }),
      );
    }
    return out;
  }

  checkAlerts(options: ReportOptions = {}): StoredAlert[] {
    const r = this.report(options);
    const audit = this.extras?.audit;
    if (!audit) return this.store.storeAlerts(r.model.id, r.window, r.alerts);
    // Each raised alert is an audit entry, committed with the alert itself: the trail shows what monitoring flagged and when.
    return audit.atomically(() => {
      const stored = this.store.storeAlerts(r.model.id, r.window, r.alerts);
      for (const a of stored)
        audit.record({
          action: 'monitoring.alert',
          ids: { alert: a.id, model: a.modelId, rule: a.rule, subject: a.subject, severity: a.severity },
          outcome: 'ok',
        });
      return stored;
    });
  }

  acknowledgeAlert({ id, note = null }: { id: number; note?: string | null }): StoredAlert {
    if (!Number.isInteger(id) || id < 1)
      throw invalidInput(`an alert id is a positive whole number, got ${id}`, [{ field: 'id', message: 'use the id from the alert list' }]);
    const text = note?.trim() || null;
    if (text && text.length > 1000)
      throw invalidInput(`the note is ${text.length} characters; keep it under 1000`, [{ field: 'note', message: 'shorten the note' }]);
    const audit = this.extras?.audit;
    const before = this.store.alert(id);
    if (!before) throw notFound(`there is no monitoring alert ${id} (see \`appraise monitor alerts\` for the ids)`);
    // A repeat changes nothing, so it is not a new entry in the trail either.
    if (before.acknowledged) return before;
    return auditedSync(
      audit,
      'monitoring.alert-acknowledge',
      { alert: id, model: before.modelId, rule: before.rule, subject: before.subject },
      () => this.store.acknowledgeAlert(id, audit?.actor ?? osActor(), text) ?? before,
    );
  }

  alerts(options: { model?: string; since?: string; limit?: number } = {}): StoredAlert[] {
    return this.store.listAlerts({
      modelId: options.model ? this.models.resolve(options.model) : undefined,
      since: isoTime(options.since, 'since'),
      limit: options.limit,
    });
  }

  schedule(): MonitoringSchedule {
    return this.store.schedule();
  }

  setSchedule({ everyHours }: { everyHours: number | null }): MonitoringSchedule {
    if (everyHours !== null && !(Number.isFinite(everyHours) && everyHours >= 0.25 && everyHours <= 24 * 90))
      throw invalidInput(`checks can run every 0.25 to 2160 hours (90 days), got ${everyHours}`, [{ field: 'everyHours', message: 'e.g. 24 for daily' }]);
    return auditedSync(this.extras?.audit, 'settings.change', { setting: 'monitoring.schedule', everyHours }, () => this.store.setScheduleInterval(everyHours));
  }

  runScheduledCheck(now = new Date()): ScheduledCheck {
    const sched = this.store.schedule();
    if (sched.intervalHours === null) return { ran: false, reason: 'off', nextDueAt: null };
    if (sched.nextDueAt && Date.parse(sched.nextDueAt) > now.getTime()) return { ran: false, reason: 'not-due', nextDueAt: sched.nextDueAt };
    if (!this.models.list().some((m) => m.status === 'champion')) return { ran: false, reason: 'no-champion', nextDueAt: sched.nextDueAt };
    const at = now.toISOString();
    // Claimed before it runs: the app and a CLI on one workspace never both run it.
    if (!this.store.claimScheduledRun(sched.lastRunAt, at)) return { ran: false, reason: 'claimed-elsewhere', nextDueAt: this.store.schedule().nextDueAt };
    return { ran: true, at, alerts: this.checkAlerts(sched.lastRunAt ? { since: sched.lastRunAt, until: at } : { until: at }) };
  }

  shadowList(): ModelSummary[] {
    return this.store.shadowModels().flatMap((id) => {
      try {
        return [this.models.summary(id)];
      } catch {
        return [];
      }
    });
  }

  shadowAdd(model: string): ModelSummary {
    const stored = this.models.load(model);
    if (stored.summary.status === 'champion') throw invalidInput(`model ${stored.summary.id.slice(0, 12)} is the champion; shadow scoring is for challengers`);
    if (!stored.ensemble)
      throw invalidInput(
        `model ${stored.summary.id.slice(0, 12)} was imported without its trees, so it cannot be scored in shadow; import it with its ensemble.json`,
      );
    this.store.addShadowModel(stored.summary.id, 'added by hand');
    return stored.summary;
  }

  shadowRemove(model: string): ModelSummary {
    const summary = this.models.summary(model);
    this.store.removeShadowModel(summary.id);
    return summary;
  }

  retrainingRuns(limit?: number): RetrainingRun[] {
    return this.store.retrainingRuns(limit);
  }

  async settled(): Promise<void> {
    await this.extras?.shadow?.idle();
  }

  /**
   * One step of the retraining policy (monitoring.retraining), safe to run on a schedule or by hand:
   * 1. a challenger already in shadow is judged by the paired test on the champion's sold valuations it scored:
   *    better (and no equity group worse) → promoted (policy auto) or reported ready (policy ask); worse → taken
   *    out of shadow and archived; otherwise it keeps waiting for sales;
   * 2. with no challenger in shadow: if alerts of the trigger rules fire on the champion's valuations since it was
   *    trained (or `since`) and at least minNewSales of them have sale prices, a challenger is trained on the
   *    champion's training sales plus those and put in shadow. It is never promoted in the same step: it must win
   *    on valuations it did not learn from.
   */
  retrain(options: RetrainOptions = {}, job: JobControl<RetrainProgress> = {}): Promise<RetrainingRun> {
    return auditedAsync(
      this.extras?.audit,
      'monitoring.retrain',
      { policy: options.policy ?? null, trigger: options.trigger ?? 'manual', job: job.jobId ?? null, force: options.force === true ? 'requested' : null },
      () => this.retrainStep(options, job),
      // An override of the cooldown is a person's decision against the policy: the trail says when it took effect.
      (r) => ({ action: r.action, champion: r.championId, challenger: r.challengerId, ...(r.data?.cooldownOverridden ? { cooldown: 'overridden' } : {}) }),
    );
  }

  retrainDue(alerts: Pick<StoredAlert, 'rule'>[]): boolean {
    if (this.shadowList().some((m) => m.status === 'challenger')) return true;
    const champion = this.models.list().find((m) => m.status === 'champion');
    if (!champion) return false;
    const cfg = monitoringConfigOf(this.models.manifest(champion.id));
    const { everyNewSales, cooldownDays } = retrainingPolicyOf(cfg);
    const due =
      alerts.some((a) => matchesTrigger(a.rule, cfg.retraining.triggers)) ||
      (everyNewSales !== null && this.store.labelledCount({ modelId: champion.id, since: champion.createdAt }) >= everyNewSales);
    if (!due) return false;
    // Within the cooldown the step would only record that it waits: once is enough, not at every check.
    const trained = this.store.lastRetrainingRun('trained');
    const cooling = trained !== null && Date.parse(cooldownEnd(trained.at, cooldownDays)) > Date.now();
    return !(cooling && this.store.retrainingRuns(1)[0]?.action === 'cooldown');
  }

  private async retrainStep(options: RetrainOptions, job: JobControl<RetrainProgress>): Promise<RetrainingRun> {
    if (options.force && options.trigger === 'schedule')
      throw invalidInput('only a person can override the retraining cooldown, not the periodic check', [{ field: 'force', message: 'leave it out' }]);
    const signal = job.signal;
    checkCancelled(signal);
    job.onProgress?.({ phase: 'judging' });
    await this.settled(); // the paired test must see every shadow estimate of the valuations made so far
    checkCancelled(signal);
    const champion = this.models.load('champion');
    const cfg = monitoringConfigOf(champion.manifest);
    const policy = options.policy ?? cfg.retraining.promote;
    const since = isoTime(options.since, 'since');
    const at = () => new Date().toISOString();
    const base = { championId: champion.summary.id, jobId: job.jobId ?? null, trigger: options.trigger ?? 'manual' };

    const pending = this.shadowList().filter((m) => m.status === 'challenger');
    if (pending.length > 0) {
      const challenger = pending[0];
      const window = { since: since && since > challenger.createdAt ? since : challenger.createdAt };
      const cmp = this.shadowComparisons(champion.manifest, champion.summary, window).find((c) => c.challenger.id === challenger.id)!;
      if (cmp.verdict === 'better') {
        if (policy === 'auto') {
          const reason = `retraining policy: ${cmp.message}`;
          // The promotion, leaving shadow and the run are one change: a crash leaves all or none of them.
          return this.store.transaction(() => {
            if (this.extras?.registry) this.extras.registry.promote({ ref: challenger.id, reason });
            else this.models.promote(challenger.id, reason);
            this.store.removeShadowModel(challenger.id);
            return this.store.addRetrainingRun({
              ...base,
              at: at(),
              action: 'promoted',
              challengerId: challenger.id,
              reason: `promoted: ${cmp.message}`,
              test: cmp.test,
            });
          });
        }
        return this.store.addRetrainingRun({
          ...base,
          at: at(),
          action: 'ready',
          challengerId: challenger.id,
          reason: `${cmp.message}; policy "ask": promote it with \`appraise models promote ${challenger.id.slice(0, 12)}\``,
          test: cmp.test,
        });
      }
      if (cmp.verdict === 'worse') {
        return this.store.transaction(() => {
          this.store.removeShadowModel(challenger.id);
          (this.extras?.registry ?? this.models).archive(challenger.id);
          return this.store.addRetrainingRun({
            ...base,
            at: at(),
            action: 'rejected',
            challengerId: challenger.id,
            reason: `archived: ${cmp.message}`,
            test: cmp.test,
          });
        });
      }
      return this.store.addRetrainingRun({ ...base, at: at(), action: 'waiting', challengerId: challenger.id, reason: cmp.message, test: cmp.test });
    }

    // The cooldown: no new challenger within cooldownDays of the last step that trained one (judging one in shadow,
    // above, is never held back). A person may override it, told until when; the periodic check may not.
    const rules = retrainingPolicyOf(cfg);
    const force = options.force === true;
    const lastTrained = this.store.lastRetrainingRun('trained');
    const cooldownUntil = lastTrained ? cooldownEnd(lastTrained.at, rules.cooldownDays) : null;
    const cooling = cooldownUntil !== null && Date.parse(cooldownUntil) > Date.now();
    if (cooling && !force)
      return this.store.addRetrainingRun({
        ...base,
        at: at(),
        action: 'cooldown',
        challengerId: null,
        reason:
          `a challenger (${lastTrained!.challengerId?.slice(0, 12) ?? 'unknown'}) was trained on ${lastTrained!.at.slice(0, 10)}, less than ` +
          `${rules.cooldownDays} day(s) ago (monitoring.retraining.cooldownDays); no new one is trained before ${cooldownUntil.slice(0, 16).replace('T', ' ')} UTC ` +
          `unless you retrain anyway (Retrain now → Retrain anyway, or \`appraise monitor retrain --force\`)`,
        test: null,
        cooldownUntil,
      });

    job.onProgress?.({ phase: 'checking' });
    const from = since && since > champion.summary.createdAt ? since : champion.summary.createdAt;
    const report = this.report({ since: from });
    checkCancelled(signal);
    const triggers = cfg.retraining.triggers;
    const fired = report.alerts.filter((a) => matchesTrigger(a.rule, triggers));
    const newSales = this.store.labelledCount({ modelId: champion.summary.id, since: from });
    // Either trigger retrains: alerts of the trigger rules with minNewSales new sales, or everyNewSales new sales alone.
    const byAlerts = fired.length > 0 && newSales >= cfg.retraining.minNewSales;
    const byNewSales = rules.everyNewSales !== null && newSales >= rules.everyNewSales;
    if (!byAlerts && !byNewSales) {
      const salesRule =
        rules.everyNewSales === null
          ? ''
          : `; ${newSales} new sale(s) are linked, ${rules.everyNewSales} retrain without an alert (monitoring.retraining.everyNewSales)`;
      return this.store.addRetrainingRun({
        ...base,
        at: at(),
        action: 'none',
        challengerId: null,
        reason:
          fired.length === 0
            ? `no alert of the trigger rules (${triggers.join(', ')}) since ${from}${salesRule}`
            : `${fired.length} alert(s) fired (${fired[0].message}) but only ${newSales} new sale(s) are linked; retraining needs ${cfg.retraining.minNewSales} (monitoring.retraining.minNewSales)${salesRule}`,
        test: null,
      });
    }
    const sales = this.store.labelledValuations({ modelId: champion.summary.id, since: from });
    const training = this.extras?.training;
    if (!training) throw new AppraiseError('INTERNAL', 'monitoring was opened without the training service');
    const datasetId = champion.manifest.trainingDatasetId;
    if (!datasetId || !champion.ensemble)
      throw invalidInput(
        `the champion ${champion.summary.id.slice(0, 12)} was not trained in this workspace, so it cannot be retrained on its own sales plus new ones; train a model first`,
      );
    // The data window: training sales of the last windowMonths before the newest sale known, plus all new ones.
    let window: { fromDay: number; label: string } | undefined;
    let windowFrom: string | null = null;
    if (rules.windowMonths !== null) {
      if (!champion.manifest.featureTransform.saleDate)
        throw invalidInput(
          `monitoring.retraining.windowMonths needs the sale date of every sale, but ${champion.manifest.datasetConfig.name}'s config names no features.saleDate; remove windowMonths or add the sale date`,
        );
      const newest = [...sales.map((x) => (x.saleDate ?? x.valuationDate ?? '').slice(0, 10)), champion.manifest.saleDateRange?.last ?? ''].reduce((a, b) =>
        b > a ? b : a,
      );
      if (newest) {
        windowFrom = windowStart(newest, rules.windowMonths);
        window = { fromDay: Date.parse(`${windowFrom}T00:00:00Z`) / 86_400_000, label: `${rules.windowMonths} month(s) from ${windowFrom}` };
      }
    }
    job.onProgress?.({ phase: 'training' });
    // Training honours the signal up to the moment it stores the model; a cancel after that finds the step done.
    const result = await training.train(
      {
        dataset: datasetId,
        folds: cfg.retraining.folds,
        params: cfg.retraining.params,
        seed: 1,
        threads: options.threads,
        name: `${champion.summary.name.slice(0, 40)}-retrained`,
      },
      { signal, onProgress: (p) => job.onProgress?.({ phase: 'training', training: p }) },
      { extraSales: extraSalesOf(champion.manifest, sales), ...(window ? { window } : {}) },
    );
    job.onProgress?.({ phase: 'recording' });
    const cause = byAlerts ? 'alerts' : 'newSales';
    const why =
      cause === 'alerts'
        ? fired
            .map((a) => a.message)
            .slice(0, 3)
            .join('; ')
        : `${sales.length} new sale(s) were linked (monitoring.retraining.everyNewSales ${rules.everyNewSales}), with no alert`;
    const reason =
      `retrained on the ${windowFrom ? `training sales since ${windowFrom} (the last ${rules.windowMonths} month(s))` : 'training sales'} ` +
      `plus ${sales.length} new sale(s) after: ${why}${cooling ? '; the cooldown was overridden by hand' : ''}`;
    const data = { cause, newSales: sales.length, windowMonths: rules.windowMonths, windowFrom, cooldownOverridden: cooling } as const;
    // The challenger enters shadow and the run is recorded together: never one without the other.
    return this.store.transaction(() => {
      this.store.addShadowModel(result.modelId, reason);
      return this.store.addRetrainingRun({
        ...base,
        at: at(),
        action: 'trained',
        challengerId: result.modelId,
        reason: `${reason}; now scored in shadow`,
        test: null,
        data,
      });
    });
  }

  recordSale(predictionId: string, price: number, saleDate: string | null = null): SaleLink {
    const p = this.log.recordSale(predictionId, price, saleDate);
    return {
      predictionId: p.id,
      modelId: p.modelId,
      predictedAt: p.predictedAt,
      estimate: p.estimate,
      salePrice: price,
      saleDate: p.saleDate,
      ratio: p.estimate / price,
    };
  }

  recordSales(sales: SaleRecord[], options: { model?: string } = {}): SalesLinkResult {
    const modelId = options.model ? this.models.resolve(options.model) : undefined;
    const r = this.log.recordSales(sales, { modelId });
    return { matched: r.matched, predictions: r.predictions, unmatched: r.unmatched.slice(0, 100), unmatchedCount: r.unmatched.length, problems: [] };
  }

  async recordSalesFile(file: string, options: { model?: string } = {}): Promise<SalesLinkResult> {
    const manifest = this.models.manifest(options.model ?? 'champion');
    const { sales, problems } = await readSalesFile(file, manifest.datasetConfig);
    return { ...this.recordSales(sales, options), problems: problems.slice(0, 100) };
  }
}
