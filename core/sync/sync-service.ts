import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AppraiseError, type ErrorCode } from '../common/errors.js';
import type { ModelService } from '../models/model-service.js';
import type { MonitoringServiceApi } from '../monitoring/monitoring-service.js';
import { enrolDevice, readEnrolment, syncDir } from './device-enrolment.js';
import { checkAppUpdate } from './app-update-check.js';
import { pullModels, SyncRefusal, trustState } from './model-puller.js';
import type { Outbox } from './outbox.js';
import { pushReports } from './report-pusher.js';
import { completedPeriod, nextCycleDelay, type ReportPeriodKind } from './sync-schedule.js';
import { autoPromotePolicySchema, decideAutoPromotion, resolveAutoPromotePolicy, writeWorkspacePolicy, type AutoPromotePolicy } from './auto-promote.js';
import { auditedAsync, auditedSync, type AuditTrail } from '../audit/audit-trail.js';
import {
  syncStateSchema,
  type DeviceEnrolment,
  type PromotionPolicy,
  type PromotionPolicyInput,
  type SetPromotionPolicyInput,
  type SyncEnrolInput,
  type SyncCycle,
  type SyncNowInput,
  type SyncState,
  type SyncStatus,
  type SyncStatusInput,
} from './sync-schemas.js';

/** What the API calls: `sync.status` and `sync.now` (bound by name by the dispatcher). */
export interface SyncServiceApi {
  /** Enrolment, the last cycle, the outbox depth and the next background cycle. Never touches the network. */
  status(input?: SyncStatusInput): SyncStatus;
  /**
   * Runs one cycle now — or joins the one already running — and returns its outcome. A failed cycle is recorded
   * (so `status()` shows it) and then raised as its typed error: OFFLINE, UNAUTHORIZED, FORBIDDEN, RATE_LIMITED,
   * BAD_FILE (metadata that did not verify); CONFLICT when the workspace is not enrolled.
   */
  now(input?: SyncNowInput): Promise<SyncCycle>;
  /** The automatic promotion policy the next cycle applies and where it comes from (never throws for a damaged file). */
  promotionPolicy(input?: PromotionPolicyInput): PromotionPolicy;
  /** Stores (or with `policy: null` removes) the workspace's policy; audited as `settings.change`. */
  setPromotionPolicy(input: SetPromotionPolicyInput): PromotionPolicy;
  /**
   * Enrols this workspace with a registry (core/sync/device-enrolment.ts) and starts the background cycle when the
   * host runs one; answers the new status. Errors say what to fix: the address (INVALID_INPUT), the network
   * (OFFLINE), the code (UNAUTHORIZED); CONFLICT when already enrolled. Audited as `sync.enrol`.
   */
  enrol(input: SyncEnrolInput): Promise<SyncStatus>;
}

export interface SyncServiceOptions {
  /** The workspace folder: its `sync/` holds the enrolment, trusted metadata and this service's state. */
  workspaceDir: string;
  outbox: Outbox;
  /**
   * Pulled models are imported here, as challengers. One replaces the champion only under the automatic
   * promotion policy (core/sync/auto-promote.ts); otherwise it waits for a person.
   */
  models: ModelService;
  /**
   * The automatic promotion policy; default the workspace setting (`<workspace>/sync/auto-promote.json`), else
   * `sync.autoPromote` of the champion's YAML, else off; read at each cycle.
   */
  autoPromotePolicy?: AutoPromotePolicy;
  /** The device's most recent sales with prices (newest first) a pulled model is compared on; none: no sales. */
  recentSales?: () => { input: Record<string, string | number | null>; price: number }[];
  monitoring: MonitoringServiceApi;
  /** Background cycle interval. Default 15 minutes. */
  intervalMs?: number;
  /** Longest wait after failures in a row. Default 4 hours. */
  maxBackoffMs?: number;
  /** Delay of the first background cycle after `start()`. Default 30 s, so the app's start is not slowed. */
  firstDelayMs?: number;
  /** The period one monitoring report covers. Default a week (ISO, Monday first). */
  reportPeriod?: ReportPeriodKind;
  /** Jitter source in [0, 1); seeded in tests. */
  random?: () => number;
  clock?: () => Date;
  logger?: Logger;
  /** Where each cycle is recorded (core/audit; pulled models are recorded by the models service as imports). */
  audit?: AuditTrail;
  /**
   * The running app's version. When given, each cycle also checks the registry for a newer app release through
   * TUF (core/sync/app-update-check.ts); the Electron shell hands a verified one to electron-updater.
   */
  appVersion?: string;
  /** The electron-updater feed file to check; default the one for this platform. */
  appFeedFile?: string;
}

const STATE_FILE = 'state.json';
const MAX_REMEMBERED_PULLS = 200;

/** Turns a failure of one step into the words a person reads on the Sync page, keeping its code. */
function inWords(e: unknown, enrolment: DeviceEnrolment, waiting: number): AppraiseError {
  if (!(e instanceof AppraiseError)) {
    return new AppraiseError('INTERNAL', `sync failed unexpectedly (a bug): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const reports = () => {
    const n = waiting;
    return n === 0 ? 'nothing is waiting to be sent' : `${n} report${n === 1 ? '' : 's'} wait${n === 1 ? 's' : ''} in the outbox and will be sent then`;
  };
  const repo = `${enrolment.region}/${enrolment.channel}`;
  // The lower layers' messages start by naming the registry again; the words above already do.
  const detail = e.message.replace(/^cannot reach the registry at \S+: /i, '');
  const words: Partial<Record<ErrorCode, string>> = {
    OFFLINE: `Cannot reach the registry at ${enrolment.registryUrl}: this computer may be offline, or the registry is down. Valuations keep working with the current models; sync tries again later by itself (${reports()}). Details: ${detail}`,
    UNAUTHORIZED: `The registry no longer accepts this computer's credential (it was revoked or is unknown there). Ask your registry admin for a new enrolment code. Details: ${e.message}`,
    FORBIDDEN: `The registry refuses this computer access to ${repo}. Ask your registry admin to check its region. Details: ${e.message}`,
    RATE_LIMITED: `The registry asked this computer to slow down (too many requests). Sync waits and tries again later by itself (${reports()}).`,
  };
  return new AppraiseError(e.code, words[e.code] ?? e.message, { details: e.details, cause: e });
}

/**
 * Sync inside the app: one cycle pulls new models for the device's region (tuf-js verifies, the region key
 * decrypts, each arrives as a challenger — a model that fails any check is refused and imports nothing, and the
 * champion is never changed by a refused one), decides for each pulled model whether it replaces the champion
 * under the device's automatic promotion policy (core/sync/auto-promote.ts; off by default), queues the last finished period's monitoring report of the champion in the outbox
 * under a key of its own (`report:<model>:<period>`, so it is queued and sent once), and pushes the outbox. Cycles
 * run one at a time: `now()` during a running cycle joins it. `start()` adds a background cycle every
 * `intervalMs`, with exponential backoff and jitter after failures; `close()` stops it and waits for a running
 * cycle (its network calls are aborted). The outcome of the last cycle is kept in `<workspace>/sync/state.json`.
 * Owned by the composition root (core/app/app-host.ts), which closes it before the workspace.
 */
export class SyncService implements SyncServiceApi {
  private readonly intervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly random: () => number;
  private readonly clock: () => Date;
  private running: Promise<{ cycle: SyncCycle; error: AppraiseError | null }> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private nextAt: Date | null = null;
  private started = false;
  private backgroundWanted = false;
  private closed = false;
  private failures = 0;
  private readonly abort = new AbortController();

  constructor(private readonly options: SyncServiceOptions) {
    this.intervalMs = options.intervalMs ?? 15 * 60_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 4 * 3_600_000;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? (() => new Date());
  }

  /** The enrolment, or null; a damaged enrolment file counts as none here (status says how to enrol again). */
  private enrolment(): DeviceEnrolment | null {
    try {
      return readEnrolment(this.options.workspaceDir);
    } catch {
      return null;
    }
  }

  private howToEnrol(): string {
    return (
      'This workspace is not linked to a registry yet. Ask your registry admin for a one-time enrolment code, then run once in a terminal: ' +
      `appraise sync enrol --url <registry URL> --code <code> --name <a name for this computer> --workspace "${this.options.workspaceDir}"`
    );
  }

  private notEnrolled(): AppraiseError {
    return new AppraiseError('CONFLICT', this.howToEnrol(), { details: { hint: 'not-enrolled' } });
  }

  status(_input: SyncStatusInput = {}): SyncStatus {
    const e = this.enrolment();
    const state = this.readState();
    const challengers = new Map(
      this.options.models
        .list()
        .filter((m) => m.status === 'challenger')
        .map((m) => [m.id, m]),
    );
    return {
      enrolled: e !== null,
      howToEnrol: e ? null : this.howToEnrol(),
      registryUrl: e?.registryUrl ?? null,
      region: e?.region ?? null,
      channel: e?.channel ?? null,
      deviceId: e?.deviceId ?? null,
      lastCycle: state.lastCycle,
      lastSuccessAt: state.lastSuccessAt,
      outboxDepth: this.options.outbox.size(),
      nextCycleAt: this.nextAt?.toISOString() ?? null,
      running: this.running !== null,
      waitingChallengers: state.pulledModels.filter((m) => challengers.has(m.id)).map((m) => ({ ...m, name: challengers.get(m.id)!.name })),
      trust: e ? trustState(this.options.workspaceDir, e) : null,
      appUpdate: state.appUpdate,
    };
  }

  promotionPolicy(_input: PromotionPolicyInput = {}): PromotionPolicy {
    const o = this.options;
    if (o.autoPromotePolicy) return { ...o.autoPromotePolicy, source: 'workspace', configName: null, error: null };
    try {
      const r = resolveAutoPromotePolicy(o.workspaceDir, o.models);
      return { ...r.policy, source: r.source, configName: r.configName, error: null };
    } catch (e) {
      // A damaged setting: shown with the defaults, so the analyst can save a good one over it.
      return { ...autoPromotePolicySchema.parse({}), source: 'workspace', configName: null, error: e instanceof Error ? e.message : String(e) };
    }
  }

  setPromotionPolicy(input: SetPromotionPolicyInput): PromotionPolicy {
    const o = this.options;
    const ids =
      input.policy === null
        ? { setting: 'sync.autoPromote', value: 'removed (the YAML or the default applies)' }
        : { setting: 'sync.autoPromote', enabled: String(input.policy.enabled), marginPct: input.policy.marginPct, minSales: input.policy.minSales };
    auditedSync(o.audit, 'settings.change', ids, () => writeWorkspacePolicy(o.workspaceDir, input.policy));
    return this.promotionPolicy();
  }

  async enrol(input: SyncEnrolInput): Promise<SyncStatus> {
    if (this.closed) throw new AppraiseError('CANCELLED', 'Appraise is closing; the workspace was not enrolled');
    const e = await auditedAsync(
      this.options.audit,
      'sync.enrol',
      { registry: input.url.slice(0, 200), name: input.name },
      () => enrolDevice(this.options.workspaceDir, input.url, input.code, input.name),
      (d) => ({ device: d.deviceId, region: d.region, channel: d.channel }),
    );
    this.options.logger?.info({ device: e.deviceId, region: e.region, channel: e.channel }, 'workspace enrolled with the registry');
    if (this.backgroundWanted) this.startIfEnrolled();
    return this.status();
  }

  async now(_input: SyncNowInput = {}): Promise<SyncCycle> {
    if (this.closed) throw new AppraiseError('CANCELLED', 'Appraise is closing; sync did not run');
    if (!this.enrolment()) throw this.notEnrolled();
    const { cycle, error } = await this.runCycle('manual');
    if (error) throw error;
    return cycle;
  }

  /** Starts the background cycle if the workspace is enrolled (else once `enrol()` enrols it); returns whether it did. Idempotent. */
  startIfEnrolled(): boolean {
    if (this.closed) return false;
    // Remembered, so a workspace enrolled from the window later starts its background cycle then.
    this.backgroundWanted = true;
    if (!this.enrolment()) return false;
    if (!this.started) {
      this.started = true;
      this.schedule(this.options.firstDelayMs ?? 30_000);
    }
    return true;
  }

  /** Stops the background cycle and waits for a running one (whose network calls are aborted). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextAt = null;
    this.abort.abort();
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.nextAt = new Date(this.clock().getTime() + delayMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.nextAt = null;
      // Failures are recorded in the state and logged; the background cycle has nobody to raise them to.
      void this.runCycle('background');
    }, delayMs);
    // A pending sync must not keep a CLI or test process alive.
    this.timer.unref();
  }

  /** One cycle at a time: a second caller gets the running cycle's outcome. Never rejects. */
  private runCycle(trigger: SyncCycle['trigger']): Promise<{ cycle: SyncCycle; error: AppraiseError | null }> {
    this.running ??= this.cycle(trigger)
      .catch((e: unknown) => this.unexpected(trigger, e))
      .then((outcome) => {
        this.running = null;
        this.failures = outcome.error ? this.failures + 1 : 0;
        if (this.started && !this.closed) this.schedule(nextCycleDelay(this.failures, this.intervalMs, this.maxBackoffMs, this.random));
        return outcome;
      });
    return this.running;
  }

  /** A cycle that failed outside its steps (the state file could not be written, a bug): still an outcome. */
  private unexpected(trigger: SyncCycle['trigger'], e: unknown): { cycle: SyncCycle; error: AppraiseError } {
    const at = this.clock().toISOString();
    const error =
      e instanceof AppraiseError
        ? e
        : new AppraiseError('INTERNAL', `sync failed unexpectedly (a bug): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    this.options.logger?.error({ err: e }, 'sync cycle failed unexpectedly');
    const cycle: SyncCycle = {
      at,
      finishedAt: at,
      trigger,
      ok: false,
      pulled: 0,
      pulledModels: [],
      refused: [],
      pushed: 0,
      queued: 0,
      error: error.message,
      errorCode: error.code,
      appUpdate: null,
      autoPromotion: [],
    };
    return { cycle, error };
  }

  private async cycle(trigger: SyncCycle['trigger']): Promise<{ cycle: SyncCycle; error: AppraiseError | null }> {
    const at = this.clock();
    const enrolment = this.enrolment();
    const o = this.options;
    const cycle: SyncCycle = {
      at: at.toISOString(),
      finishedAt: at.toISOString(),
      trigger,
      ok: true,
      pulled: 0,
      pulledModels: [],
      refused: [],
      pushed: 0,
      queued: 0,
      error: null,
      errorCode: null,
      appUpdate: null,
      autoPromotion: [],
    };
    if (!enrolment) return { cycle: { ...cycle, ok: false, error: this.howToEnrol(), errorCode: 'CONFLICT' }, error: this.notEnrolled() };
    const signal = this.abort.signal;
    // Raw failures; put into words at the end, when the outbox depth they mention is final.
    const errors: unknown[] = [];
    const fail = (e: unknown) => errors.push(e);

    // 1. Pull. Nothing published yet for the region is not a failure; every refusal of a target is listed.
    let reachable = true;
    try {
      const pull = await pullModels(o.workspaceDir, enrolment, o.models, { signal });
      cycle.pulledModels = pull.imported;
      cycle.pulled = pull.imported.length;
      cycle.refused = pull.refused;
    } catch (e) {
      if (!(e instanceof SyncRefusal && e.reason === 'not-published')) fail(e);
      if (e instanceof AppraiseError && (e.code === 'OFFLINE' || e.code === 'RATE_LIMITED')) reachable = false;
    }

    // 1a. Each pulled model: promoted automatically if the policy allows and it is not worse on local sales,
    //     else left waiting. A decision that fails leaves the model waiting and fails nothing else.
    if (cycle.pulledModels.length > 0) cycle.autoPromotion = this.autoPromote(cycle.pulledModels, fail);

    // 1b. A newer app release, verified like a model. A refused feed or installer is listed like a refused
    //     target and fails nothing: the installed app keeps working.
    if (o.appVersion && reachable && !signal.aborted) {
      try {
        cycle.appUpdate = await checkAppUpdate(o.workspaceDir, enrolment, { currentVersion: o.appVersion, feedFile: o.appFeedFile, signal });
      } catch (e) {
        if (e instanceof SyncRefusal && !(e.code === 'OFFLINE' || e.code === 'RATE_LIMITED' || e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN')) {
          cycle.refused = [...cycle.refused, { target: 'app update', reason: e.reason, message: e.message }];
        } else fail(e);
      }
    }

    // 2. The last finished period's report of the champion, queued once per model and period.
    try {
      cycle.queued = this.queueReport(at) ? 1 : 0;
    } catch (e) {
      fail(e);
    }

    // 3. Push — unless the pull just found the registry unreachable: every report would wait for its own timeout
    //    on a dead network, and each failed attempt would push its retry further out.
    if (reachable && !signal.aborted) {
      try {
        const push = await pushReports(enrolment, o.outbox, { signal, random: this.random, ignoreRetryTimes: trigger === 'manual' });
        cycle.pushed = push.delivered;
        if (push.failed > 0) fail(new AppraiseError(push.lastErrorCode ?? 'OFFLINE', `reports not sent: ${push.lastError ?? 'unknown error'}`));
      } catch (e) {
        fail(e);
      }
    }

    const error = errors.length > 0 ? inWords(errors[0], enrolment, o.outbox.size()) : null;
    const done: SyncCycle = {
      ...cycle,
      finishedAt: this.clock().toISOString(),
      ok: error === null,
      error: error?.message ?? null,
      errorCode: error?.code ?? null,
    };
    this.remember(done);
    const ids = {
      trigger,
      pulled: done.pulled,
      promoted: done.autoPromotion.filter((d) => d.promoted).length,
      refused: done.refused.length,
      queued: done.queued,
      pushed: done.pushed,
    };
    try {
      o.audit?.record({ action: 'sync.cycle', ids, outcome: error ? 'failed' : 'ok', detail: error ? `${error.code}: ${error.message.slice(0, 200)}` : null });
    } catch (e) {
      o.logger?.error({ err: e }, 'could not record the sync cycle in the audit trail'); // the cycle itself is done
    }
    const log = { trigger, pulled: done.pulled, refused: done.refused.length, pushed: done.pushed, queued: done.queued, outbox: o.outbox.size() };
    if (error) o.logger?.warn({ ...log, err: { code: error.code, message: error.message } }, 'sync cycle failed');
    else o.logger?.info(log, 'sync cycle done');
    return { cycle: done, error };
  }

  private autoPromote(pulled: { id: string; name: string }[], fail: (e: unknown) => void): SyncCycle['autoPromotion'] {
    const o = this.options;
    let policy: AutoPromotePolicy;
    let sales: ReturnType<NonNullable<SyncServiceOptions['recentSales']>>;
    try {
      policy = o.autoPromotePolicy ?? resolveAutoPromotePolicy(o.workspaceDir, o.models).policy;
      // Scored even when the policy is off, so the page can show how the waiting model compares.
      sales = o.recentSales?.() ?? [];
    } catch (e) {
      fail(e); // a damaged policy file: said in words on the Sync page; the models wait
      return [];
    }
    return pulled.map((challenger) => {
      try {
        return decideAutoPromotion({ challenger, policy, models: o.models, sales, audit: o.audit });
      } catch (e) {
        o.logger?.error({ err: e, model: challenger.id }, 'automatic promotion decision failed');
        const why = e instanceof Error ? e.message : String(e);
        return {
          modelId: challenger.id,
          name: challenger.name,
          championId: null,
          promoted: false,
          reason: 'failed' as const,
          sales: 0,
          challengerMdape: null,
          championMdape: null,
          marginPct: policy.marginPct,
          minSales: policy.minSales,
          message: `${challenger.name} waits for a person: the automatic comparison failed (${why})`,
        };
      }
    });
  }

  /** Queues the champion's report of the last finished period; false when there is no champion or it was queued. */
  private queueReport(now: Date): boolean {
    const champion = this.options.models.list().find((m) => m.status === 'champion');
    if (!champion) return false;
    const period = completedPeriod(now, this.options.reportPeriod ?? 'week');
    const key = `report:${champion.id}:${period.label}`;
    // The check only saves building a report that would be ignored; the outbox's unique key is the guarantee.
    if (this.options.outbox.hasKey(key)) return false;
    const report = this.options.monitoring.report({ model: champion.id, since: period.since, until: period.until });
    this.options.outbox.enqueue('monitoring-report', { period, report }, now, key);
    return true;
  }

  private statePath(): string {
    return join(syncDir(this.options.workspaceDir), STATE_FILE);
  }

  /** The remembered state; a missing or damaged file is an empty one (it only informs the page). */
  private readState(): SyncState {
    const empty: SyncState = { lastCycle: null, lastSuccessAt: null, pulledModels: [], appUpdate: null };
    const path = this.statePath();
    if (!existsSync(path)) return empty;
    try {
      const parsed = syncStateSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
      return parsed.success ? parsed.data : empty;
    } catch {
      return empty;
    }
  }

  private remember(cycle: SyncCycle): void {
    const state = this.readState();
    const pulledModels = [...state.pulledModels, ...cycle.pulledModels.map((m) => ({ ...m, pulledAt: cycle.finishedAt }))].slice(-MAX_REMEMBERED_PULLS);
    const next: SyncState = {
      lastCycle: cycle,
      lastSuccessAt: cycle.ok ? cycle.finishedAt : state.lastSuccessAt,
      pulledModels,
      appUpdate: cycle.appUpdate ?? state.appUpdate,
    };
    // Write-then-rename: a crash leaves the old state or the new one, never half a file.
    const path = this.statePath();
    writeFileSync(`${path}.tmp`, JSON.stringify(next, null, 2));
    renameSync(`${path}.tmp`, path);
  }
}
