import type { Command } from 'commander';
import { cancelOnCtrlC, withServices } from './context.js';
import { printJson, printTable, Progress } from '../output.js';
import { JobRunner } from '../../core/jobs/job-runner.js';
import type { RetrainProgress } from '../../core/monitoring/monitoring-schemas.js';
import { invalidInput } from '../../core/common/errors.js';
import { parseSince } from '../../core/logging/log-query.js';
import type { MonitoringReport } from '../../core/monitoring/monitoring-schemas.js';

interface ReportOptions {
  model?: string;
  since?: string;
  until?: string;
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const num = (x: number | null, d = 3) => (x === null ? '-' : x.toFixed(d));

function printReport(r: MonitoringReport): void {
  const w = r.window;
  process.stdout.write(
    `Model ${r.model.name} (${r.model.id.slice(0, 12)}, ${r.model.status}); ${r.predictions} valuation(s), ${r.sold} with a sale price` +
      `${w.since || w.until ? `, window ${w.since ?? '…'} – ${w.until ?? 'now'}` : ''}\n`,
  );
  process.stdout.write(`\nAlerts (${r.alerts.length}):\n`);
  if (!r.alerts.length) process.stdout.write('  none\n');
  for (const a of r.alerts) process.stdout.write(`  ${a.severity === 'alert' ? 'ALERT  ' : 'warning'} ${a.message}\n`);
  process.stdout.write(`\nDrift per feature (PSI warn ${r.thresholds.drift.psi.warn}, alert ${r.thresholds.drift.psi.alert}):\n`);
  printTable(
    r.drift.features.map((f) => ({
      feature: f.feature,
      n: f.n,
      psi: num(f.psi),
      ks: f.ks ? num(f.ks.statistic) : '-',
      js: num(f.jensenShannon),
      p: f.ks ? f.ks.pValue.toExponential(1) : f.chiSquare ? f.chiSquare.pValue.toExponential(1) : '-',
      status: f.checked ? f.status : 'not checked',
    })),
  );
  if (r.drift.prediction) process.stdout.write(`Estimates: PSI ${num(r.drift.prediction.psi)} (${r.drift.prediction.status})\n`);
  const lf = r.labelFree;
  if (lf?.unavailable) process.stdout.write(`\nAccuracy before sale prices: not available — ${lf.unavailable}\n`);
  else if (lf?.estimated && lf.reference) {
    const e = lf.estimated;
    process.stdout.write(
      `\nAccuracy before sale prices (estimated over ${lf.n} valuations): RMSE of log price ${num(e.rmseLog)} [95 % ${num(e.rmseLow)}–${num(e.rmseHigh)}], ` +
        `MdAPE ${pct(e.mdape)} [${pct(e.mdapeLow)}–${pct(e.mdapeHigh)}]; held-out: ${num(lf.reference.rmseLog)}, ${pct(lf.reference.mdape)}` +
        `${lf.importanceWeighted ? `; re-weighted held-out: ${num(lf.importanceWeighted.rmseLog)}` : ''}` +
        `${lf.realised ? `; realised on ${lf.realised.n} sales: ${num(lf.realised.rmseLog)}, ${pct(lf.realised.mdape)}` : ''} (${lf.status})\n`,
    );
  }
  for (const c of r.shadow) process.stdout.write(`\nShadow challenger ${c.challenger.name} (${c.challenger.id.slice(0, 12)}): ${c.verdict} — ${c.message}\n`);
  const q = r.quality.filter((x) => x.problemShare > 0);
  if (q.length) {
    process.stdout.write('\nData quality (features with problems):\n');
    printTable(
      q.map((x) => ({
        feature: x.feature,
        missing: pct(x.missingShare),
        training: pct(x.referenceMissingShare),
        unseen: pct(x.unseenShare),
        status: x.status,
      })),
    );
  }
  if (r.accuracy) {
    const a = r.accuracy;
    const t = r.thresholds.accuracy;
    process.stdout.write(
      `\nRatio study (${a.n} sales): median ratio ${num(a.medianRatio)} [${t.medianRatio.low}–${t.medianRatio.high}], COD ${num(a.cod, 1)} [≤ ${t.codMax}], ` +
        `PRD ${num(a.prd)} [${t.prd.low}–${t.prd.high}], PRB ${num(a.prb)} [±${t.prbMax}], MdAPE ${pct(a.mdape)}, within 10 % ${pct(a.within10)}` +
        `${a.intervalCoverage === null ? '' : `, interval coverage ${pct(a.intervalCoverage)}`}\n`,
    );
    const rows = [...r.equity.priceTiers, ...(r.equity.groupBy?.groups ?? []).map((g) => ({ ...g, group: `${r.equity.groupBy!.column} ${g.group}` }))];
    printTable(rows.map((g) => ({ group: g.group, n: g.n, medianRatio: num(g.medianRatio), cod: num(g.cod, 1), status: g.status })));
  } else process.stdout.write('\nNo sale prices linked yet: `appraise monitor sales <file.csv>` or `appraise monitor sale <predictionId> --price N`.\n');
}

function printReview(r: MonitoringReport): void {
  const v = r.review;
  if (!v) return;
  process.stdout.write(
    `\nRandom sample review (share ${pct(v.share)}): ${v.drawn} of ${v.valuations} valuation(s) drawn, ${v.reviewed} reviewed` +
      `${v.agreementRate === null ? '' : `; agreement ${pct(v.agreementRate)} (${v.agree} agree, ${v.adjust} adjust, ${v.disagree} disagree)`}` +
      `${v.meanAdjustment === null ? '' : `; mean adjustment ${pct(v.meanAdjustment)}`}\n`,
  );
}

/** `appraise monitor …`: registered by cli/main.ts. The monitoring report, and linking sale prices to logged valuations. */
export function registerMonitorCommand(program: Command): void {
  const monitor = program.command('monitor').description('monitoring of models in use: drift, data quality, ratio study, equity, alerts');
  monitor
    .command('report')
    .description("the monitoring report of a model's logged valuations (default: the champion's)")
    .option('--model <ref>', 'model id, prefix, name, or champion', 'champion')
    .option('--since <when>', 'only valuations since an ISO date/time or a duration back from now (7d, 12h)')
    .option('--until <when>', 'only valuations before an ISO date/time or a duration back from now')
    .action(async (opts: ReportOptions, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const r = s.monitoring.report({
          model: opts.model,
          ...(opts.since === undefined ? {} : { since: parseSince(opts.since).toISOString() }),
          ...(opts.until === undefined ? {} : { until: parseSince(opts.until, new Date(), '--until').toISOString() }),
        });
        if (o.json) printJson(r);
        else {
          printReport(r);
          printReview(r);
        }
      });
    });
  monitor
    .command('alerts')
    .description('the alerts raised by monitoring checks, newest first (--check runs a check now and stores its alerts)')
    .option('--model <ref>', 'only alerts about this model')
    .option('--since <when>', 'only alerts raised since an ISO date/time or a duration back from now (7d, 12h)')
    .option('--check', "run the checks on the champion's valuations now (with --since: over that window) and store the alerts")
    .option('--limit <n>', 'at most this many', '100')
    .action(async (opts: { model?: string; since?: string; check?: boolean; limit: string }, cmd: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw invalidInput(`--limit must be a positive whole number, got "${opts.limit}"`);
      const since = opts.since === undefined ? undefined : parseSince(opts.since).toISOString();
      await withServices(cmd, (s, o) => {
        const list = opts.check
          ? s.monitoring.checkAlerts({ model: opts.model, ...(since ? { since } : {}) })
          : s.monitoring.alerts({ model: opts.model, since, limit });
        if (o.json) return printJson(list);
        if (!list.length) process.stdout.write(opts.check ? 'Checked: no alert.\n' : 'No alert stored.\n');
        printTable(
          list.map((a) => ({
            id: a.id,
            raised: a.raisedAt.slice(0, 19),
            model: a.modelId.slice(0, 12),
            severity: a.severity,
            rule: a.rule,
            message: a.message,
            acknowledged: a.acknowledged ? `${a.acknowledged.by} ${a.acknowledged.at.slice(0, 10)}` : '',
          })),
        );
      });
    });
  monitor
    .command('acknowledge')
    .argument('<id>', 'the alert id (from `appraise monitor alerts`)')
    .description('mark a stored alert acknowledged (seen, being dealt with); recorded in the audit trail')
    .option('--note <text>', 'what is being done about it')
    .action(async (idText: string, opts: { note?: string }, cmd: Command) => {
      const id = Number(idText);
      if (!Number.isInteger(id) || id < 1) throw invalidInput(`the alert id must be a positive whole number, got "${idText}"`);
      await withServices(cmd, (s, o) => {
        const a = s.monitoring.acknowledgeAlert({ id, note: opts.note ?? null });
        if (o.json) return printJson(a);
        process.stdout.write(
          `Alert ${a.id} (${a.rule}: ${a.message}) acknowledged by ${a.acknowledged?.by ?? 'unknown user'} at ${a.acknowledged?.at ?? '?'}.\n`,
        );
      });
    });
  monitor
    .command('schedule')
    .description('show or set how often the app runs the monitoring checks while open (default daily; a missed check runs once when it opens)')
    .option('--every <hours>', 'hours between checks (e.g. 24 for daily, 168 for weekly)')
    .option('--off', 'stop the periodic checks')
    .action(async (opts: { every?: string; off?: boolean }, cmd: Command) => {
      if (opts.every !== undefined && opts.off) throw invalidInput('give either --every or --off, not both');
      const every = opts.every === undefined ? undefined : Number(opts.every);
      if (every !== undefined && !Number.isFinite(every)) throw invalidInput(`--every must be a number of hours, got "${opts.every}"`);
      await withServices(cmd, (s, o) => {
        const sched = opts.off
          ? s.monitoring.setSchedule({ everyHours: null })
          : every !== undefined
            ? s.monitoring.setSchedule({ everyHours: every })
            : s.monitoring.schedule();
        if (o.json) return printJson(sched);
        process.stdout.write(
          sched.intervalHours === null
            ? 'Periodic monitoring checks are off.\n'
            : `Monitoring checks run every ${sched.intervalHours} h while the app is open; last ${sched.lastRunAt ?? 'never'}; next due ${sched.lastRunAt ? sched.nextDueAt : 'when the app next opens'}.\n`,
        );
      });
    });
  const review = monitor.command('review').description('the random sample review: valuations drawn for review (monitoring.review.share) and verdicts');
  review
    .command('list')
    .description('valuations drawn for review, newest first (default: the open ones)')
    .option('--model <ref>', 'only this model')
    .option('--since <when>', 'drawn since (ISO date or 7d)')
    .option('--status <open|reviewed|all>', 'which samples', 'open')
    .option('-n, --limit <n>', 'at most this many', '100')
    .action(async (opts: { model?: string; since?: string; status: string; limit: string }, cmd: Command) => {
      if (!['open', 'reviewed', 'all'].includes(opts.status)) throw invalidInput(`--status is open, reviewed or all, not "${opts.status}"`);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw invalidInput(`--limit must be a positive whole number, got "${opts.limit}"`);
      await withServices(cmd, (s, o) => {
        const list = s.monitoring.reviews({
          model: opts.model,
          since: opts.since ? parseSince(opts.since).toISOString() : undefined,
          status: opts.status as 'open' | 'reviewed' | 'all',
          limit,
        });
        if (o.json) return printJson(list);
        if (!list.length) process.stdout.write('No valuation in the review queue matches.\n');
        printTable(
          list.map((r) => ({
            prediction: r.predictionId,
            property: r.propertyId ?? '',
            estimate: Math.round(r.estimate),
            drawn: r.drawnAt.slice(0, 19),
            verdict: r.review ? `${r.review.verdict}${r.review.adjustedValue ? ` ${Math.round(r.review.adjustedValue)}` : ''}` : 'open',
            by: r.review?.by ?? '',
          })),
        );
      });
    });
  review
    .command('record')
    .argument('<predictionId>', 'the drawn valuation (from `appraise monitor review list`)')
    .description("record a reviewer's verdict on a valuation drawn for review; recorded in the audit trail")
    .requiredOption('--verdict <agree|adjust|disagree>', 'agree with the estimate, adjust it (give --amount), or disagree')
    .option('--amount <value>', "the reviewer's value of the property, for --verdict adjust")
    .option('--notes <text>', 'why')
    .action(async (predictionId: string, opts: { verdict: string; amount?: string; notes?: string }, cmd: Command) => {
      if (!['agree', 'adjust', 'disagree'].includes(opts.verdict)) throw invalidInput(`--verdict is agree, adjust or disagree, not "${opts.verdict}"`);
      const amount = opts.amount === undefined ? null : Number(opts.amount);
      if (amount !== null && !Number.isFinite(amount)) throw invalidInput(`--amount must be a number, got "${opts.amount}"`);
      await withServices(cmd, (s, o) => {
        const r = s.monitoring.recordReview({
          predictionId,
          verdict: opts.verdict as 'agree' | 'adjust' | 'disagree',
          amount,
          notes: opts.notes ?? null,
        });
        if (o.json) return printJson(r);
        process.stdout.write(`Review of ${r.predictionId} recorded: ${r.review?.verdict} by ${r.review?.by} at ${r.review?.at}.\n`);
      });
    });
  const shadow = monitor.command('shadow').description('challengers scored in shadow beside the champion on every valuation (never shown)');
  shadow
    .command('list')
    .description('the models scored in shadow')
    .action(async (_opts: unknown, cmd: Command) => {
      await withServices(cmd, (s, o) => {
        const list = s.monitoring.shadowList();
        if (o.json) return printJson(list);
        if (!list.length) process.stdout.write('No model is scored in shadow.\n');
        printTable(list.map((m) => ({ id: m.id.slice(0, 12), name: m.name, status: m.status, created: m.createdAt.slice(0, 19) })));
      });
    });
  for (const [name, what] of [
    ['add', 'score this challenger in shadow on every valuation from now on'],
    ['remove', 'stop scoring this model in shadow'],
  ] as const) {
    shadow
      .command(name)
      .argument('<model>', 'model id, prefix or name')
      .description(what)
      .action(async (model: string, _opts: unknown, cmd: Command) => {
        await withServices(cmd, (s, o) => {
          const m = name === 'add' ? s.monitoring.shadowAdd(model) : s.monitoring.shadowRemove(model);
          if (o.json) printJson(m);
          else process.stdout.write(`${name === 'add' ? 'Scoring in shadow' : 'No longer in shadow'}: ${m.name} (${m.id.slice(0, 12)})\n`);
        });
      });
  }
  monitor
    .command('retrain')
    .description('one step of the retraining policy: judge the challenger in shadow, or retrain when alerts fire and new sales exist')
    .option(
      '--policy <auto|ask>',
      'promote a challenger that wins the paired test automatically, or only say it may be (default: monitoring.retraining.promote)',
    )
    .option('--since <when>', 'only valuations since an ISO date/time or a duration back from now count as new')
    .option('--force', 'train even within the cooldown after the last challenger (monitoring.retraining.cooldownDays); recorded in the audit trail')
    .option('--history', 'list the earlier runs instead')
    .action(async (opts: { policy?: string; since?: string; force?: boolean; history?: boolean }, cmd: Command) => {
      if (opts.policy !== undefined && opts.policy !== 'auto' && opts.policy !== 'ask')
        throw invalidInput(`--policy must be auto or ask, got "${opts.policy}"`);
      await withServices(cmd, async (s, o) => {
        if (opts.history) {
          const runs = s.monitoring.retrainingRuns();
          if (o.json) return printJson(runs);
          printTable(
            runs.map((r) => ({
              at: r.at.slice(0, 19),
              trigger: r.trigger ?? '-',
              action: r.action,
              challenger: r.challengerId?.slice(0, 12) ?? '-',
              reason: r.reason,
            })),
          );
          return;
        }
        // The same job the app's Retrain now starts, in a worker thread of this process; Ctrl-C cancels it cleanly.
        const progress = Progress.for(o);
        const tell = !o.json && !o.quiet && Boolean(process.stderr.isTTY);
        let phase = '';
        let bar = '';
        const onProgress = (p: RetrainProgress) => {
          const t = p.training;
          const label = t ? (t.phase === 'cross-validation' ? `${t.folds}-fold CV` : t.phase) : p.phase;
          if (p.phase !== phase && !t) {
            progress.stop();
            bar = '';
            if (tell) process.stderr.write(`retrain: ${p.phase}…\n`);
          }
          phase = p.phase;
          if (t?.nRounds && label !== bar) {
            progress.stop();
            bar = label;
            progress.start(t.nRounds, label.padEnd(11), ' rounds');
          }
          if (t?.round !== undefined) progress.update(t.round);
        };
        const runner = new JobRunner(s.workspace.dir);
        try {
          await s.monitoring.settled();
          const input = {
            policy: opts.policy as 'auto' | 'ask' | undefined,
            since: opts.since === undefined ? undefined : parseSince(opts.since).toISOString(),
            trigger: 'manual' as const,
            ...(opts.force ? { force: true } : {}),
          };
          const run = await cancelOnCtrlC((signal) => runner.runLocal({ method: 'monitoring.retrain', input }, { onProgress, signal }));
          progress.stop();
          if (o.json) printJson(run);
          else process.stdout.write(`${run.action}: ${run.reason}\n`);
        } finally {
          progress.stop();
          await runner.close();
        }
      });
    });
  monitor
    .command('sale')
    .argument('<predictionId>', 'the predictionId of a logged valuation (shown by `value --json` and in saved valuations)')
    .requiredOption('--price <n>', 'the actual sale price')
    .option('--date <yyyy-mm-dd>', 'the sale date')
    .description('link the actual sale price to one logged valuation')
    .action(async (predictionId: string, opts: { price: string; date?: string }, cmd: Command) => {
      const price = Number(opts.price);
      if (!Number.isFinite(price) || price <= 0) throw invalidInput(`--price must be a positive number, got "${opts.price}"`);
      await withServices(cmd, (s, o) => {
        const r = s.monitoring.recordSale(predictionId, price, opts.date ?? null);
        if (o.json) printJson(r);
        else process.stdout.write(`Linked: estimate ${Math.round(r.estimate)}, sale ${Math.round(r.salePrice)}, ratio ${r.ratio.toFixed(3)}\n`);
      });
    });
  monitor
    .command('sales')
    .argument('<file>', "a CSV of sales in the model's schema: its identifier column, price and (if any) sale date")
    .option('--model <ref>', "only this model's valuations (default: every model's)")
    .description('link actual sale prices to logged valuations by property id')
    .action(async (file: string, opts: { model?: string }, cmd: Command) => {
      await withServices(cmd, async (s, o) => {
        const r = await s.monitoring.recordSalesFile(file, { model: opts.model });
        if (o.json) return printJson(r);
        process.stdout.write(
          `${r.matched} sale(s) linked to ${r.predictions} valuation(s); ${r.unmatchedCount} sale(s) matched no valuation awaiting a price\n`,
        );
        for (const p of r.problems) process.stdout.write(`  line ${p.line}: ${p.message}\n`);
      });
    });
}
