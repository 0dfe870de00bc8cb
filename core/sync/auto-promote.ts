import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { AppraiseError } from '../common/errors.js';
import { compileFeatureTransform } from '../features/feature-transform.js';
import { FastTreePredictor } from '../learner/model/fast-predictor.js';
import { adjustmentAtDate } from '../market/market-adjustment.js';
import type { ModelService } from '../models/model-service.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { syncDir } from './device-enrolment.js';
import type { AutoPromotionDecision } from './sync-schemas.js';
import { autoPromotePolicySchema, type AutoPromotePolicy } from '../config/sync-config.schema.js';

export { autoPromotePolicySchema, type AutoPromotePolicy } from '../config/sync-config.schema.js';

/** The workspace setting's file: `<workspace>/sync/auto-promote.json`, e.g. `{"enabled": true, "marginPct": 2}`. */
export const AUTO_PROMOTE_FILE = 'auto-promote.json';

/** How many of the most recent sales are compared at most: recent enough to say how the market is now. */
const MAX_SALES = 1000;

/** The workspace setting, or the default (off). A file that does not parse is a BAD_FILE naming what to fix. */
export function readAutoPromotePolicy(workspaceDir: string): AutoPromotePolicy {
  return readWorkspacePolicy(workspaceDir) ?? autoPromotePolicySchema.parse({});
}

/** The workspace setting, or null when none is stored. A file that does not parse is a BAD_FILE naming what to fix. */
export function readWorkspacePolicy(workspaceDir: string): AutoPromotePolicy | null {
  const path = join(syncDir(workspaceDir), AUTO_PROMOTE_FILE);
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new AppraiseError('BAD_FILE', `${path} is not valid JSON (${(e as Error).message}); fix it or delete it to turn automatic promotion off`);
  }
  const parsed = autoPromotePolicySchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new AppraiseError(
      'BAD_FILE',
      `${path} is not a valid automatic promotion policy (${issues}); expected {"enabled": true|false, "marginPct": 0-100, "minSales": ≥1}`,
    );
  }
  return parsed.data;
}

/**
 * Stores the workspace setting (atomically: a temporary file renamed over the old one), or with null removes it
 * so the YAML's `sync.autoPromote` (or the default) applies again.
 */
export function writeWorkspacePolicy(workspaceDir: string, policy: AutoPromotePolicy | null): void {
  const dir = syncDir(workspaceDir);
  const path = join(dir, AUTO_PROMOTE_FILE);
  if (policy === null) {
    rmSync(path, { force: true });
    return;
  }
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(autoPromotePolicySchema.parse(policy), null, 2)}\n`);
  renameSync(tmp, path);
}

/** The policy a cycle applies and where it comes from. */
export interface ResolvedAutoPromotePolicy {
  policy: AutoPromotePolicy;
  /** `workspace`: set on this device (Sync page or the file); `config`: the champion's YAML; `default`: off. */
  source: 'workspace' | 'config' | 'default';
  /** The config (YAML `name`) the policy came from when `source` is `config`. */
  configName: string | null;
}

/**
 * The workspace setting when there is one (the device owner's word wins); otherwise `sync.autoPromote` of the
 * YAML the champion was built with — the organisation's policy travels with its models' config —; otherwise off.
 */
export function resolveAutoPromotePolicy(workspaceDir: string, models: Pick<ModelService, 'list' | 'manifest'>): ResolvedAutoPromotePolicy {
  const own = readWorkspacePolicy(workspaceDir);
  if (own) return { policy: own, source: 'workspace', configName: null };
  const champion = models.list().find((m) => m.status === 'champion');
  const config = champion ? models.manifest(champion.id).datasetConfig : null;
  if (config?.sync?.autoPromote) return { policy: config.sync.autoPromote, source: 'config', configName: config.name };
  return { policy: autoPromotePolicySchema.parse({}), source: 'default', configName: null };
}

interface LocalSale {
  input: Record<string, string | number | null>;
  price: number;
}

/**
 * The most recent sales this device has seen: logged valuations whose sale price was linked later (the prediction
 * log), newest sale first, one per property and sale date (a property valued twice before it sold counts once).
 */
export function recentLocalSales(db: Database.Database, limit = MAX_SALES): LocalSale[] {
  const rows = db
    .prepare(
      `SELECT property_id, input_json, sale_price, sale_date FROM predictions
       WHERE sale_price IS NOT NULL AND sale_price > 0
       ORDER BY COALESCE(sale_date, sale_recorded_at) DESC, predicted_at DESC, rowid DESC`,
    )
    .iterate() as IterableIterator<{ property_id: string | null; input_json: string; sale_price: number; sale_date: string | null }>;
  const seen = new Set<string>();
  const out: LocalSale[] = [];
  for (const r of rows) {
    if (r.property_id !== null) {
      const key = `${r.property_id}\u0000${r.sale_date ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push({ input: JSON.parse(r.input_json) as LocalSale['input'], price: r.sale_price });
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * Scores inputs with a stored model's trees, as shadow scoring does (core/monitoring/shadow-scoring.ts): the
 * model's own feature definition and price index; null when it has no trees (an ONNX-only import).
 */
function scorer(models: ModelService, modelId: string): ((input: LocalSale['input']) => number | null) | null {
  const stored = models.load(modelId);
  if (!stored.ensemble) return null;
  const compiled = compileFeatureTransform(stored.manifest.featureTransform);
  const predictor = new FastTreePredictor(stored.ensemble);
  const saleDate = stored.manifest.featureTransform.saleDate;
  const market = stored.manifest.market ?? null;
  const lastSale = stored.manifest.saleDateRange?.last ?? null;
  return (input) => {
    try {
      const date = saleDate ? input[saleDate] : null;
      let record = input;
      let logFactor = 0;
      if (market && typeof date === 'string') {
        logFactor = adjustmentAtDate(market, market.region ? input[market.region.column] : null, date).logFactor;
        record = { ...input, [saleDate!]: lastSale ?? date };
      }
      const { vector } = compiled.fromRecord(record);
      const estimate = compiled.inverseTarget(predictor.predict(vector, 1)[0]) * Math.exp(logFactor);
      return Number.isFinite(estimate) && estimate > 0 ? estimate : null;
    } catch {
      return null; // an input this model's schema refuses, or past its index's horizon: not comparable
    }
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);

/**
 * Decides what happens to one pulled challenger: promoted when the policy allows it and, on the same recent
 * local sales, its median absolute percentage error is at most the champion's × (1 + marginPct/100); else it
 * keeps waiting for a person. Promotion goes through the models service (promotion history, `rollback`), and
 * every decision is audited as `sync.auto-promote` with both figures.
 */
export function decideAutoPromotion(input: {
  challenger: { id: string; name: string };
  policy: AutoPromotePolicy;
  models: ModelService;
  sales: LocalSale[];
  audit?: AuditTrail;
}): AutoPromotionDecision {
  const { challenger, policy, models, sales } = input;
  const champion = models.list().find((m) => m.status === 'champion') ?? null;
  const base = {
    modelId: challenger.id,
    name: challenger.name,
    championId: champion?.id ?? null,
    sales: 0,
    challengerMdape: null as number | null,
    championMdape: null as number | null,
    marginPct: policy.marginPct,
    minSales: policy.minSales,
  };
  const decide = (promoted: boolean, reason: AutoPromotionDecision['reason'], message: string, figures = base): AutoPromotionDecision => ({
    ...figures,
    promoted,
    reason,
    message,
  });

  let d: AutoPromotionDecision;
  const summary = models.summary(challenger.id);
  if (summary.status !== 'challenger') d = decide(false, 'not-challenger', `${challenger.name} is ${summary.status} here, not a waiting challenger`);
  else if (!champion) d = decide(false, 'no-champion', `${challenger.name} waits: this workspace has no champion yet, so a person chooses the first one`);
  else {
    const a = scorer(models, challenger.id);
    const b = scorer(models, champion.id);
    const apes: [number, number][] = [];
    if (a && b) {
      for (const s of sales) {
        const ea = a(s.input);
        const eb = b(s.input);
        if (ea !== null && eb !== null) apes.push([Math.abs(ea - s.price) / s.price, Math.abs(eb - s.price) / s.price]);
      }
    }
    const figures = {
      ...base,
      sales: apes.length,
      challengerMdape: apes.length ? median(apes.map((p) => p[0])) : null,
      championMdape: apes.length ? median(apes.map((p) => p[1])) : null,
    };
    const vs = `median absolute error ${pct(figures.challengerMdape)} vs ${pct(figures.championMdape)} for the champion ${champion.name} on the ${apes.length} most recent local sales`;
    if (!policy.enabled)
      d = decide(
        false,
        'disabled',
        `${challenger.name} waits for a person: automatic promotion is off for this workspace${apes.length ? ` (${vs})` : ''}`,
        figures,
      );
    else if (!a || !b)
      d = decide(
        false,
        'cannot-compare',
        `${challenger.name} waits for a person: ${!a ? 'it' : 'the champion'} has no trees to score local sales with (an ONNX-only import)`,
        figures,
      );
    else if (apes.length < policy.minSales)
      d = decide(
        false,
        'too-few-sales',
        `${challenger.name} waits for a person: only ${apes.length} recent local sale${apes.length === 1 ? '' : 's'} with prices to compare on, the policy needs ${policy.minSales} (link sale prices to valuations to add more)`,
        figures,
      );
    else {
      const limit = figures.championMdape! * (1 + policy.marginPct / 100);
      const good = figures.challengerMdape! <= limit;
      if (!good)
        d = decide(
          false,
          'worse',
          `${challenger.name} waits for a person: it is worse than the champion beyond the ${policy.marginPct}% margin (${vs})`,
          figures,
        );
      else {
        const message = `${challenger.name} replaced ${champion.name} automatically: not worse than the champion within the ${policy.marginPct}% margin (${vs})`;
        models.promote({ ref: challenger.id, reason: `auto-promoted on sync: ${message}`.slice(0, 500) });
        d = decide(true, 'not-worse', message, figures);
      }
    }
  }
  input.audit?.record({
    action: 'sync.auto-promote',
    ids: {
      model: d.modelId,
      champion: d.championId,
      sales: d.sales,
      challengerMdape: d.challengerMdape,
      championMdape: d.championMdape,
      marginPct: d.marginPct,
      decision: d.promoted ? 'promoted' : 'kept-waiting',
      reason: d.reason,
    },
    outcome: 'ok',
    detail: d.message.slice(0, 500),
  });
  return d;
}
