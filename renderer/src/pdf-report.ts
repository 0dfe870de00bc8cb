import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { ApiValuation, AppInfo, FormSchema, MethodOutput } from '../../core/contract/contract.js';
import { fmtNum, fmtPct, moneyFormatter } from './format.js';
import { featureLabel, featureValueText, fieldValueText } from './feature-format.js';
import { GRID_GROUP_LABELS, gridComparables, gridGroupsOf, type GridComparable } from './screens/value/grid-format.js';
import type { ReportTexts } from './screens/value/report-settings.js';
import { locationPlot, scaleText } from './pdf-location-plot.js';

type ModelSummary = NonNullable<AppInfo['champion']>;

export interface ReportOptions {
  /** The model that made the valuation (for its name, dataset and CV figures); null when it is not known here. */
  model: ModelSummary | null;
  /** Assumptions, certification text, rounding and the appraiser's defaults (the workspace's report settings). */
  settings: ReportTexts;
  /** The day the report is made (ISO); default today. */
  reportDate?: string;
  /**
   * The model's out-of-time figures (its manifest's `outOfTime`: later sales predicted from earlier ones), printed
   * before the cross-validated ones — a valuation is made after the last sale the model learned from, which random
   * folds never test. Absent or null: the model has none (no sale date, or imported).
   */
  outOfTime?: MethodOutput<'models.manifest'>['outOfTime'] | null;
}

const PAGE: [number, number] = [612, 792]; // US Letter
const LEFT = 48;
const RIGHT = 564;
const TOP = 744;
const BOTTOM = 56;
const INK = rgb(0.1, 0.12, 0.15);
const GREY = rgb(0.4, 0.43, 0.47);
const COMPS_PER_TABLE = 5;
/** Where a location plot label sits relative to its marker (page points). */
export const LABEL_DX = 5;
export const LABEL_DY = 3;
const PLOT_HEIGHT = 260;

/**
 * The appraisal report (US Letter, several pages): summary, subject, the sales comparison grid with the
 * appraiser's overrides and exclusions marked, the model's reasons, the confidence statement, the data and
 * model used, assumptions and limiting conditions, and the certification with a signature line; every page
 * numbered. Built in the window with pdf-lib, so it works the same in both shells and offline. Estimates are
 * rounded as appraisers report them (the settings' step, else the config's, default $1,000).
 */
export async function valuationReportPdf(v: ApiValuation, form: FormSchema | null, options: ReportOptions): Promise<Uint8Array> {
  const settings = options.settings;
  const symbol = moneyFormatter(form?.target.currency);
  const money = winAnsi(symbol.format(1)) ? symbol : moneyFormatter(form?.target.currency, 'code');
  const fmtMoney = money.format;
  const step = settings.roundTo ?? (form?.roundTo && form.roundTo > 0 ? form.roundTo : 1000);
  const round = (n: number) => Math.round(n / step) * step;
  const reportDate = options.reportDate ?? new Date().toISOString().slice(0, 10);
  // The valuation's own appraiser, else the workspace's default one.
  const subject = {
    ...v.subject,
    appraiserName: v.subject?.appraiserName?.trim() || settings.appraiserName || undefined,
    appraiserLicence: v.subject?.appraiserLicence?.trim() || settings.appraiserLicence || undefined,
  };
  const model = options.model && options.model.id === v.modelId ? options.model : null;

  const doc = await PDFDocument.create();
  doc.setTitle(`Appraisal report${subject.address ? ` - ${ascii(subject.address)}` : ''} ${fmtMoney(round(v.estimate))}`);
  doc.setSubject(`Estimate ${Math.round(v.estimate)}`);
  doc.setProducer('Appraise');
  doc.setCreator('Appraise');
  const w = new Writer(doc, await doc.embedFont(StandardFonts.Helvetica), await doc.embedFont(StandardFonts.HelveticaBold));
  const fields = new Map((form?.fields ?? []).map((f) => [f.name, f]));
  const comps = gridComparables(v);
  const effective = subject.effectiveDate || v.valuationDate || reportDate;

  // 1. Summary
  w.text('Appraisal report', LEFT, 18, w.bold);
  w.down(20);
  w.text(subject.address ? subject.address : 'Subject property (no address given)', LEFT, 12, w.bold);
  w.down(14);
  w.text(`Effective date ${effective}  -  report date ${reportDate}${subject.client ? `  -  client ${subject.client}` : ''}`, LEFT, 9, w.font, GREY);
  w.down(30);
  w.text('Estimated market value', LEFT, 11, w.font, GREY);
  w.down(30);
  w.text(fmtMoney(round(v.estimate)), LEFT, 28, w.bold);
  w.down(20);
  const sorted = [...v.intervals].sort((a, b) => a.level - b.level);
  for (const iv of sorted) {
    w.text(`${Math.round(iv.level * 100)}% range: ${fmtMoney(round(iv.low))} - ${fmtMoney(round(iv.high))}`, LEFT, 10);
    w.down(14);
  }
  if (v.fsd !== null && v.fsd !== undefined) {
    w.text(`Confidence: ${v.confidenceTier ?? '-'} (FSD ${(v.fsd * 100).toFixed(1)}%)`, LEFT, 10);
    w.down(14);
  }
  drawBand(w, v, sorted);
  if (v.reconciliation) {
    const r = v.reconciliation;
    w.paragraph(
      `Sales comparison: ${r.count} comparable sale${r.count === 1 ? '' : 's'} adjusted to ${fmtMoney(round(r.low))} - ${fmtMoney(round(r.high))}, ` +
        `median ${fmtMoney(round(r.median))} (${signedPct(r.differencePct)} from the model's estimate).`,
      10,
    );
  }
  if (subject.intendedUse) w.paragraph(`Intended use: ${subject.intendedUse}`, 10);
  w.paragraph(`Rounded to the nearest ${fmtMoney(step)}.`, 8, GREY);

  // 2. Subject
  w.section('Subject');
  const identity: [string, string | undefined][] = [
    ['Address', subject.address],
    ['Parcel id', subject.parcelId],
    ['Client', subject.client],
    ['Intended use', subject.intendedUse],
    ['Effective date', effective],
    ['Report date', reportDate],
    ['Appraiser', subject.appraiserName],
    ['Licence', subject.appraiserLicence],
  ];
  for (const [label, value] of identity) {
    w.need(12);
    w.text(`${label}:`, LEFT, 9, w.bold);
    w.text(value && value.trim() ? value : '-', LEFT + 90, 9);
    w.down(12);
  }
  if (subject.notes) w.paragraph(`Notes: ${subject.notes}`, 9);
  w.down(6);
  w.need(14);
  w.text('Property as valued', LEFT, 10, w.bold);
  w.down(14);
  // The sale-date field holds the valuation date, printed above as the effective date.
  const entries = Object.entries(v.input).filter(([k, val]) => val !== null && val !== '' && k !== form?.saleDate);
  const half = Math.ceil(entries.length / 2);
  for (let i = 0; i < half; i++) {
    w.need(12);
    for (const [k, val] of [entries[i], entries[i + half]].filter(Boolean)) {
      const f = fields.get(k);
      w.text(
        `${featureLabel(form, k)}: ${f ? fieldValueText(f, val, { unit: true }) : featureValueText(form, k, val)}`.slice(0, 60),
        k === entries[i][0] ? LEFT : 310,
        9,
      );
    }
    w.down(12);
  }

  // 3. The grid
  w.section('Sales comparison grid');
  if (comps.length === 0) {
    w.paragraph(
      v.comparables.length === 0
        ? 'No comparable sales were found for this property.'
        : `Comparable sales (without the adjustment grid): ${v.comparables.map((c) => `${c.saleDate ?? '-'} ${fmtMoney(c.price)}`).join('; ')}.`,
      9,
    );
  } else {
    w.paragraph(
      'Adjustments are derived from the model: on each line, the difference between what the model credits the subject with and what it credits the comparable with. A positive adjustment means the subject is worth more on that line. Lines marked * were changed by the appraiser.',
      8,
      GREY,
    );
    for (let start = 0; start < comps.length; start += COMPS_PER_TABLE)
      gridTable(w, v, form, comps.slice(start, start + COMPS_PER_TABLE), start, fmtMoney, money.signed);
    const overrides = comps.flatMap((c, i) => c.adjustments.filter((a) => a.override).map((a) => ({ i, c, a })));
    if (overrides.length > 0) {
      w.need(14);
      w.text('Adjustments changed by the appraiser', LEFT, 10, w.bold);
      w.down(13);
      for (const { i, a } of overrides)
        w.paragraph(
          `Comparable ${i + 1}, ${GRID_GROUP_LABELS[a.group]}: ${money.signed(a.amount)} (override: ${a.override!.reason}; the model's adjustment was ${money.signed(a.override!.modelAmount)})`,
          9,
        );
    }
    const excluded = comps.map((c, i) => ({ c, i })).filter(({ c }) => c.excluded);
    if (excluded.length > 0)
      w.paragraph(
        `Excluded by the appraiser from the reconciliation: ${excluded.map(({ c, i }) => `comparable ${i + 1} (${c.saleId ? `sale ${c.saleId}, ` : ''}${c.saleDate ?? '-'}, ${fmtMoney(c.price)})`).join('; ')}.`,
        9,
      );
    const added = comps.map((c, i) => ({ c, i })).filter(({ c }) => c.added);
    if (added.length > 0)
      w.paragraph(`Added by the appraiser: ${added.map(({ c, i }) => `comparable ${i + 1} (sale ${c.saleId ?? c.rowIndex})`).join('; ')}.`, 9);
    if (v.reconciliation) {
      const r = v.reconciliation;
      w.need(14);
      w.text('Reconciliation', LEFT, 10, w.bold);
      w.down(13);
      w.paragraph(
        `Adjusted prices of the ${r.count} comparable${r.count === 1 ? '' : 's'} kept: low ${fmtMoney(r.low)}, high ${fmtMoney(r.high)}, mean ${fmtMoney(r.mean)}, median ${fmtMoney(r.median)}. ` +
          `The model's estimate is ${fmtMoney(v.estimate)}; the median adjusted price is ${signedPct(r.differencePct)} from it. Reconciled value: ${fmtMoney(round(v.estimate))}.`,
        9,
      );
    } else w.paragraph('Every comparable was excluded: the value rests on the model alone.', 9);
  }

  // 4. The model's reasons
  w.section("The model's reasons (contribution to the estimate)");
  w.paragraph(`Starting from the average sale the model learned from (${fmtMoney(v.baseValue)}), each line moves the estimate:`, 8, GREY);
  const top = [...v.contributions].sort((a, b) => Math.abs(b.amount) - Math.abs(a.amount)).slice(0, 12);
  const maxAbs = Math.max(1, ...top.map((c) => Math.abs(c.amount)));
  for (const c of top) {
    w.need(12);
    const shown = c.displayValue ?? v.input[c.feature] ?? c.featureValue;
    w.text(
      `${featureLabel(form, c.feature)}${shown === null || shown === undefined ? '' : ` = ${featureValueText(form, c.feature, shown)}`}`.slice(0, 52),
      LEFT,
      9,
    );
    const barW = (Math.abs(c.amount) / maxAbs) * 140;
    const mid = 340;
    w.page.drawRectangle({
      x: c.amount >= 0 ? mid : mid - barW,
      y: w.y - 1,
      width: barW,
      height: 8,
      color: c.amount >= 0 ? rgb(0.18, 0.55, 0.34) : rgb(0.75, 0.25, 0.2),
    });
    w.text(money.signed(c.amount), 496, 9);
    w.down(12);
  }

  // 5. Confidence
  w.section('Confidence');
  const primary = v.interval;
  const others = sorted.filter((iv) => iv.level !== primary.level);
  w.paragraph(
    `The model estimates ${fmtMoney(round(v.estimate))}, with a ${Math.round(primary.level * 100)}% range of ${fmtMoney(round(primary.low))} - ${fmtMoney(round(primary.high))}: ` +
      `on sales it did not see while learning, ${Math.round(primary.level * 100)}% of its estimates were within a band this wide of the sale price.` +
      (others.length > 0
        ? ` Other levels: ${others.map((iv) => `${Math.round(iv.level * 100)}%: ${fmtMoney(round(iv.low))} - ${fmtMoney(round(iv.high))}`).join(', ')}.`
        : ''),
    9,
  );
  const widthPct = (primary.high - primary.low) / 2 / v.estimate;
  w.paragraph(`Half-width of the ${Math.round(primary.level * 100)}% range: ${fmtPct(widthPct)} of the estimate.`, 9);
  if (v.fsd !== null && v.fsd !== undefined)
    w.paragraph(
      `Confidence tier: ${v.confidenceTier ?? '-'}. Forecast standard deviation (FSD): ${(v.fsd * 100).toFixed(1)}% - the standard deviation of ` +
        `estimate / sale price the model showed on held-out sales of properties like this one (High: FSD up to 13%, Medium: up to 20%, Low: above 20%).`,
      9,
    );
  if (v.warnings.length > 0) {
    w.need(14);
    w.text('Warnings', LEFT, 10, w.bold);
    w.down(13);
    for (const warning of v.warnings) w.paragraph(`- ${warning}`, 9);
  }

  // 6. Location plot
  w.section('Location of the subject and the comparables', PLOT_HEIGHT + 60);
  drawLocationPlot(w, v, form, comps.length > 0 ? comps : v.comparables);

  // 7. Data and model
  w.section('Data and model used');
  const modelLines: string[] = [
    `Model: ${model?.name ?? '(not in this workspace)'}  id ${v.modelId}`,
    `Dataset: ${model?.datasetName ?? form?.datasetName ?? '-'}  id ${model?.datasetId ?? form?.datasetId ?? '-'}`,
  ];
  if (model) modelLines.push(`Trained ${model.createdAt.slice(0, 10)} (${model.mode}), ${model.nTrees} trees`);
  const oot = model ? options.outOfTime : null;
  if (oot) {
    modelLines.push(
      `Out-of-time accuracy (later sales predicted from earlier ones, ${fmtNum(oot.n)} sales in ${oot.folds.length} blocks): median absolute error ` +
        `${fmtPct(oot.mdape)}, RMSE of log price ${oot.rmseLog.toFixed(3)}, median ratio ${oot.medianRatio.toFixed(3)} ` +
        `(per block ${oot.folds.map((f) => f.medianRatio.toFixed(3)).join(', ')}), COD ${oot.cod.toFixed(1)}, PRD ${oot.prd.toFixed(3)}`,
    );
  }
  if (model?.cv) {
    const cv = model.cv;
    modelLines.push(
      `Cross-validated accuracy on ${fmtNum(cv.n)} sales: median absolute error ${fmtPct(cv.mdape)}, within 10% of the price ${fmtPct(cv.within10)}, ` +
        `RMSE of log price ${cv.rmseLog.toFixed(3)}, R-squared ${cv.r2.toFixed(3)}`,
      `Ratio study (estimate / sale price): median ratio ${cv.medianRatio.toFixed(3)}, COD ${cv.cod.toFixed(1)}, PRD ${cv.prd.toFixed(3)}`,
    );
  } else modelLines.push('No cross-validated accuracy figures are recorded for this model.');
  for (const l of modelLines) w.paragraph(l, 9);

  // 8. Assumptions and limiting conditions
  w.section('Assumptions and limiting conditions');
  for (const para of settings.assumptions.split(/\n+/).filter((p) => p.trim())) w.paragraph(`- ${para.trim()}`, 9);

  // 9. Certification
  w.section('Certification');
  for (const para of settings.certification.split(/\n+/).filter((p) => p.trim())) w.paragraph(para.trim(), 9);
  w.need(90);
  w.down(40);
  w.page.drawLine({ start: { x: LEFT, y: w.y + 10 }, end: { x: LEFT + 240, y: w.y + 10 }, thickness: 0.7, color: INK });
  w.page.drawLine({ start: { x: 340, y: w.y + 10 }, end: { x: 480, y: w.y + 10 }, thickness: 0.7, color: INK });
  w.text('Signature', LEFT, 8, w.font, GREY);
  w.text('Date signed', 340, 8, w.font, GREY);
  w.down(14);
  w.text(`Appraiser: ${subject.appraiserName || '-'}`, LEFT, 9);
  w.down(12);
  w.text(`Licence: ${subject.appraiserLicence || '-'}`, LEFT, 9);
  w.down(12);

  w.numberPages();
  return doc.save();
}

/** One table of the grid: the subject and up to five comparables in columns, the appraisers' rows down. */
function gridTable(
  w: Writer,
  v: ApiValuation,
  form: FormSchema | null,
  comps: GridComparable[],
  first: number,
  fmtMoney: (n: number) => string,
  signed: (n: number) => string,
): void {
  const labelW = 120;
  const colW = (RIGHT - LEFT - labelW) / (comps.length + 1);
  const x = (col: number) => LEFT + labelW + col * colW;
  const attrs = Object.keys(comps[0].attributes);
  const groups = gridGroupsOf(comps);
  const rows = 8 + attrs.length + groups.length;
  w.need(Math.min(rows * 11 + 20, TOP - BOTTOM));
  const row = (label: string, cells: string[], bold = false) => {
    w.need(11);
    w.text(label.slice(0, 28), LEFT, 7.5, bold ? w.bold : w.font);
    cells.forEach((c, i) => w.text(c.slice(0, Math.max(6, Math.floor(colW / 3.6))), x(i), 7.5, bold ? w.bold : w.font));
    w.down(11);
  };
  row('', ['Subject', ...comps.map((c, i) => `Comp ${first + i + 1}${c.excluded ? ' (excluded)' : c.added ? ' (added)' : ''}`)], true);
  w.page.drawLine({ start: { x: LEFT, y: w.y + 8 }, end: { x: RIGHT, y: w.y + 8 }, thickness: 0.4, color: GREY });
  row('Sale id', [v.subject?.parcelId || '-', ...comps.map((c) => c.saleId ?? String(c.rowIndex))]);
  row('Sale date', [v.valuationDate ?? '-', ...comps.map((c) => c.saleDate ?? '-')]);
  row('Distance', ['', ...comps.map((c) => (c.distanceKm === null ? '-' : `${c.distanceKm.toFixed(2)} km`))]);
  for (const a of attrs) {
    const f = form?.fields.find((ff) => ff.name === a);
    row(featureLabel(form, a), [fieldValueText(f, v.input[a]), ...comps.map((c) => fieldValueText(f, c.attributes[a]))]);
  }
  row('Sale price', ['', ...comps.map((c) => fmtMoney(c.price))], true);
  for (const g of groups)
    row(GRID_GROUP_LABELS[g], [
      '',
      ...comps.map((c) => {
        const line = c.adjustments.find((a) => a.group === g);
        return line ? `${signed(line.amount)}${line.override ? ' *' : ''}` : '-';
      }),
    ]);
  const net = (c: GridComparable) => c.adjustments.reduce((s, a) => s + a.amount, 0);
  row('Net adjustment', ['', ...comps.map((c) => `${signed(net(c))}`)], true);
  row('Net / gross %', ['', ...comps.map((c) => `${fmtPct(c.netPct, 0)} / ${fmtPct(c.grossPct, 0)}${c.flags.net || c.flags.gross ? ' !' : ''}`)]);
  row('Adjusted price', ['', ...comps.map((c) => fmtMoney(c.adjustedPrice))], true);
  w.paragraph('! beyond 15% net or 25% gross adjustment: the comparable needs a second look.', 7, GREY);
  w.down(4);
}

/**
 * The subject (S) and each comparable (numbered as in the grid) on a flat map drawn with vector primitives, north
 * up, with a scale bar; excluded comparables hollow. Without coordinates a sentence says why there is no plot.
 */
function drawLocationPlot(
  w: Writer,
  v: ApiValuation,
  form: FormSchema | null,
  comps: { latitude: number | null; longitude: number | null; excluded?: boolean }[],
): void {
  const height = PLOT_HEIGHT;
  w.need(height + 40);
  const box = { left: LEFT, bottom: w.y - height, width: RIGHT - LEFT, height };
  const plot = locationPlot(v, form, comps, box);
  if ('note' in plot) {
    w.paragraph(plot.note, 9, GREY);
    return;
  }
  const p = w.page;
  p.drawRectangle({ x: box.left, y: box.bottom, width: box.width, height: box.height, borderColor: GREY, borderWidth: 0.5 });
  // Faint lines every scale length through the subject, so distances can be read off in both directions.
  const s0 = plot.points[0];
  const faint = rgb(0.88, 0.9, 0.92);
  for (let k = -40; k <= 40; k++) {
    const gx = s0.x + k * plot.scalePt;
    const gy = s0.y + k * plot.scalePt;
    if (gx > box.left && gx < box.left + box.width)
      p.drawLine({ start: { x: gx, y: box.bottom }, end: { x: gx, y: box.bottom + box.height }, thickness: 0.3, color: faint });
    if (gy > box.bottom && gy < box.bottom + box.height)
      p.drawLine({ start: { x: box.left, y: gy }, end: { x: box.left + box.width, y: gy }, thickness: 0.3, color: faint });
  }
  const compColor = rgb(0.16, 0.38, 0.66);
  // Comparables first, the subject on top.
  for (const pt of [...plot.points.slice(1), s0]) {
    if (pt.label === 'S') p.drawRectangle({ x: pt.x - 3.5, y: pt.y - 3.5, width: 7, height: 7, color: rgb(0.75, 0.25, 0.2) });
    else if (pt.excluded) p.drawCircle({ x: pt.x, y: pt.y, size: 3, borderColor: GREY, borderWidth: 0.8 });
    else p.drawCircle({ x: pt.x, y: pt.y, size: 3, color: compColor });
    // Always the same offset from the marker, so a label's place is its point's place.
    if (pt.tag) p.drawText(pt.tag, { x: pt.x + LABEL_DX, y: pt.y + LABEL_DY, size: 8, font: w.bold, color: pt.excluded ? GREY : INK });
  }
  // Scale bar (bottom left) and north arrow (top right).
  const bx = box.left + 10;
  const by = box.bottom + 10;
  p.drawLine({ start: { x: bx, y: by }, end: { x: bx + plot.scalePt, y: by }, thickness: 1.2, color: INK });
  for (const x of [bx, bx + plot.scalePt]) p.drawLine({ start: { x, y: by - 3 }, end: { x, y: by + 3 }, thickness: 1, color: INK });
  p.drawText(scaleText(plot.scaleKm), { x: bx + plot.scalePt + 5, y: by - 3, size: 7, font: w.font, color: INK });
  const nx = box.left + box.width - 16;
  const ny = box.bottom + box.height - 26;
  p.drawLine({ start: { x: nx, y: ny }, end: { x: nx, y: ny + 14 }, thickness: 1, color: INK });
  p.drawLine({ start: { x: nx - 3, y: ny + 10 }, end: { x: nx, y: ny + 14 }, thickness: 1, color: INK });
  p.drawLine({ start: { x: nx + 3, y: ny + 10 }, end: { x: nx, y: ny + 14 }, thickness: 1, color: INK });
  p.drawText('N', { x: nx - 2.5, y: ny - 9, size: 7, font: w.bold, color: INK });
  w.down(height + 14);
  w.paragraph(
    `Square S: the subject. Numbered dots: the comparable sales as numbered in the grid${plot.points.some((pt) => pt.excluded) ? '; hollow: excluded by the appraiser' : ''}. ` +
      `North is up; the bar is ${scaleText(plot.scaleKm)} long.` +
      (plot.points.some((pt) => pt.tag?.includes(',')) ? ' Labels joined by a comma mark sales next to each other.' : '') +
      (plot.missing.length > 0 ? ` Not shown, no coordinates recorded: comparable ${plot.missing.join(', ')}.` : ''),
    8,
    GREY,
  );
}

function drawBand(w: Writer, v: ApiValuation, sorted: ApiValuation['intervals']): void {
  const wide = sorted[sorted.length - 1] ?? v.interval;
  const narrow = v.interval;
  const lo = wide.low * 0.97;
  const hi = wide.high * 1.03;
  const sx = (val: number) => LEFT + ((val - lo) / (hi - lo)) * (RIGHT - LEFT);
  w.down(8);
  w.page.drawRectangle({ x: sx(wide.low), y: w.y, width: sx(wide.high) - sx(wide.low), height: 10, color: rgb(0.8, 0.87, 0.95) });
  w.page.drawRectangle({ x: sx(narrow.low), y: w.y, width: sx(narrow.high) - sx(narrow.low), height: 10, color: rgb(0.55, 0.7, 0.88) });
  w.page.drawRectangle({ x: sx(v.estimate) - 1, y: w.y - 3, width: 2, height: 16, color: INK });
  w.down(26);
}

const signedPct = (p: number) => `${p >= 0 ? '+' : '-'}${Math.abs(p * 100).toFixed(1)}%`;

/** Writes down the pages, starting a new one when the next piece does not fit. */
class Writer {
  page: PDFPage;
  y = TOP;

  constructor(
    private readonly doc: PDFDocument,
    readonly font: PDFFont,
    readonly bold: PDFFont,
  ) {
    this.page = doc.addPage(PAGE);
  }

  text(s: string, x: number, size = 10, f: PDFFont = this.font, color = INK): void {
    this.page.drawText(ascii(s), { x, y: this.y, size, font: f, color });
  }

  down(dy: number): void {
    this.y -= dy;
  }

  /** A new page unless `height` points still fit on this one. */
  need(height: number): void {
    if (this.y - height < BOTTOM) {
      this.page = this.doc.addPage(PAGE);
      this.y = TOP;
    }
  }

  /** A section heading with a rule, kept with at least `keep` points of its content (a few lines by default). */
  section(title: string, keep = 70): void {
    this.down(10);
    this.need(keep);
    this.page.drawLine({ start: { x: LEFT, y: this.y + 15 }, end: { x: RIGHT, y: this.y + 15 }, thickness: 0.5, color: GREY });
    this.text(title, LEFT, 12, this.bold);
    this.down(17);
  }

  /** Text wrapped to the page width. */
  paragraph(s: string, size = 9, color = INK): void {
    const lead = size + 3;
    for (const l of wrap(ascii(s.replace(/\s+/g, ' ')), this.font, size, RIGHT - LEFT)) {
      this.need(lead);
      this.text(l, LEFT, size, this.font, color);
      this.down(lead);
    }
    this.down(2);
  }

  /** "Page i of n" at the foot of every page, with the report's note on where estimates come from. */
  numberPages(): void {
    const pages = this.doc.getPages();
    pages.forEach((p, i) => {
      p.drawText(`Page ${i + 1} of ${pages.length}`, { x: RIGHT - 60, y: 30, size: 8, font: this.font, color: GREY });
      p.drawText('Appraise - estimates from a statistical model trained on recorded sales', { x: LEFT, y: 30, size: 7, font: this.font, color: GREY });
    });
  }
}

function wrap(s: string, font: PDFFont, size: number, width: number): string[] {
  const out: string[] = [];
  let lineText = '';
  for (const word of s.split(/\s+/).filter(Boolean)) {
    const next = lineText ? `${lineText} ${word}` : word;
    if (font.widthOfTextAtSize(next, size) <= width || !lineText) lineText = next;
    else {
      out.push(lineText);
      lineText = word;
    }
  }
  if (lineText) out.push(lineText);
  return out;
}

/** Standard PDF fonts encode WinAnsi only: ASCII, Latin-1 and a few more such as €. */
const WIN_ANSI_EXTRA = '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ';
const winAnsi = (s: string): boolean => [...s].every((ch) => /[\x20-\x7E\xA0-\xFF]/.test(ch) || WIN_ANSI_EXTRA.includes(ch) || ch === '\u202F');

/** What the standard fonts cannot show is replaced; dashes and bullets are written plainly. */
function ascii(s: string): string {
  return s
    .replace(/[–—]/g, '-')
    .replace(/[·•]/g, '-')
    .replace(/[−]/g, '-')
    .replace(/[\u00A0\u202F]/g, ' ')
    .replace(/[^\x20-\x7E\xA1-\xFF€]/g, '?');
}
