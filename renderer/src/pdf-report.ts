import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';
import type { ApiValuation, FormSchema } from '../../core/contract/contract.js';
import { moneyFormatter, shortId } from './format.js';
import { featureLabel, featureValueText, fieldValueText, roundEstimate } from './feature-format.js';

/**
 * A one-page valuation report (US Letter): estimate and ranges, the property, the top reasons, comparable
 * sales and the model used. Built in the window with pdf-lib, so it works the same in both shells and offline.
 * Prices are shown in the form's currency (USD without a form), by its code where the fonts lack its symbol.
 */
export async function valuationReportPdf(v: ApiValuation, form: FormSchema | null, modelName: string | null): Promise<Uint8Array> {
  const symbol = moneyFormatter(form?.target.currency);
  const money = winAnsi(symbol.format(1)) ? symbol : moneyFormatter(form?.target.currency, 'code');
  const fmtMoney = money.format;
  // Estimates and ranges as appraisers report them (nearest $1,000 unless the config says otherwise).
  const round = (n: number) => roundEstimate(n, form);
  const doc = await PDFDocument.create();
  doc.setTitle(`Valuation report ${fmtMoney(round(v.estimate))}`);
  doc.setSubject(`Estimate ${Math.round(v.estimate)}`);
  doc.setProducer('Appraise');
  doc.setCreator('Appraise');
  const page = doc.addPage([612, 792]);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const ink = rgb(0.1, 0.12, 0.15);
  const grey = rgb(0.4, 0.43, 0.47);
  let y = 750;
  const text = (s: string, x: number, size = 10, f = font, color = ink) => page.drawText(ascii(s), { x, y, size, font: f, color });
  const line = () => page.drawLine({ start: { x: 48, y: y + 15 }, end: { x: 564, y: y + 15 }, thickness: 0.5, color: grey });

  text('Property valuation report', 48, 18, bold);
  y -= 18;
  text(
    `Valuation date ${v.valuationDate ?? 'today'}  ·  generated ${new Date().toISOString().slice(0, 10)}  ·  model ${modelName ?? ''} ${shortId(v.modelId)}`,
    48,
    9,
    font,
    grey,
  );
  y -= 34;
  text('Estimated value', 48, 11, font, grey);
  y -= 30;
  text(fmtMoney(round(v.estimate)), 48, 28, bold);
  y -= 20;
  for (const iv of [...v.intervals].sort((a, b) => a.level - b.level)) {
    text(`${Math.round(iv.level * 100)}% range: ${fmtMoney(round(iv.low))} – ${fmtMoney(round(iv.high))}`, 48, 10);
    y -= 14;
  }
  // The range band, drawn to scale.
  const wide = [...v.intervals].sort((a, b) => b.level - a.level)[0] ?? v.interval;
  const narrow = v.interval;
  const x0 = 48;
  const w = 516;
  const lo = wide.low * 0.97;
  const hi = wide.high * 1.03;
  const sx = (val: number) => x0 + ((val - lo) / (hi - lo)) * w;
  y -= 8;
  page.drawRectangle({ x: sx(wide.low), y, width: sx(wide.high) - sx(wide.low), height: 10, color: rgb(0.8, 0.87, 0.95) });
  page.drawRectangle({ x: sx(narrow.low), y, width: sx(narrow.high) - sx(narrow.low), height: 10, color: rgb(0.55, 0.7, 0.88) });
  page.drawRectangle({ x: sx(v.estimate) - 1, y: y - 3, width: 2, height: 16, color: ink });
  y -= 30;

  line();
  text('Property', 48, 12, bold);
  y -= 16;
  const labels = new Map((form?.fields ?? []).map((f) => [f.name, f]));
  const entries = Object.entries(v.input).filter(([, val]) => val !== null && val !== '');
  const col = Math.ceil(entries.length / 2);
  const startY = y;
  entries.forEach(([k, val], i) => {
    const f = labels.get(k);
    y = startY - (i % col) * 12;
    text(`${f?.label ?? k}: ${fieldValueText(f, val, { unit: true })}`, i < col ? 48 : 310, 9);
  });
  y = startY - col * 12 - 14;

  line();
  text('Main reasons (contribution to the estimate)', 48, 12, bold);
  y -= 16;
  const top = [...v.contributions].sort((a, b) => Math.abs(b.amount) - Math.abs(a.amount)).slice(0, 8);
  const maxAbs = Math.max(1, ...top.map((c) => Math.abs(c.amount)));
  for (const c of top) {
    const shown = c.displayValue ?? v.input[c.feature] ?? c.featureValue;
    text(
      `${featureLabel(form, c.feature)}${shown === null || shown === undefined ? '' : ` = ${featureValueText(form, c.feature, shown)}`}`.slice(0, 52),
      48,
      9,
    );
    const barW = (Math.abs(c.amount) / maxAbs) * 150;
    const mid = 330;
    page.drawRectangle({
      x: c.amount >= 0 ? mid : mid - barW,
      y: y - 1,
      width: barW,
      height: 8,
      color: c.amount >= 0 ? rgb(0.18, 0.55, 0.34) : rgb(0.75, 0.25, 0.2),
    });
    text(money.signed(c.amount), 490, 9);
    y -= 12;
  }
  y -= 10;

  line();
  text('Comparable sales', 48, 12, bold);
  y -= 16;
  text('Sale date', 48, 9, bold);
  text('Price', 140, 9, bold);
  text('Distance', 230, 9, bold);
  text('Details', 300, 9, bold);
  y -= 12;
  for (const c of v.comparables.slice(0, 8)) {
    text(c.saleDate ?? '—', 48, 9);
    text(fmtMoney(c.price), 140, 9);
    text(c.distanceKm === null ? '—' : `${c.distanceKm.toFixed(2)} km`, 230, 9);
    text(
      // Labelled values are longer than column names: the first three fit the page width.
      Object.entries(c.attributes)
        .slice(0, 3)
        .map(([k, val]) => `${featureLabel(form, k)} ${fieldValueText(labels.get(k), val)}`)
        .join(', ')
        .slice(0, 64),
      300,
      8,
    );
    y -= 12;
  }
  if (v.warnings.length > 0) {
    y -= 8;
    line();
    text('Warnings', 48, 12, bold);
    y -= 14;
    for (const w2 of v.warnings.slice(0, 5)) {
      text(`• ${w2}`.slice(0, 120), 48, 9);
      y -= 12;
    }
  }
  y = 40;
  text(
    'Estimates come from a statistical model trained on past sales; the ranges say how far off similar estimates were on sales the model did not see.',
    48,
    7,
    font,
    grey,
  );
  return doc.save();
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
