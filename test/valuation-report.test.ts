import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledDemo, loadDemoData } from '../core/services/demo-data.js';
import { DEMO_HOUSE } from '../core/app/demo-workspace.js';
import { buildFormSchema } from '../core/valuation/valuation-form.js';
import { gridEditsSchema, type AdjustedComparable, type Valuation } from '../core/valuation/valuation-schemas.js';
import { valuationReportPdf } from '../renderer/src/pdf-report.js';
import { DEFAULT_CERTIFICATION, DEFAULT_REPORT_SETTINGS } from '../core/valuation/report-settings-schemas.js';
import { tempServices } from './helpers/temp-workspace.js';

/**
 * The multi-page appraisal report, read back with `pdftotext` (poppler): the subject's identity, every
 * comparable with its grid totals, the override marked with its reason, the exclusion, the range rounded as
 * appraisers round, the data and model used, and the certification text with page numbers on every page.
 */
describe('the appraisal report PDF', () => {
  const s = tempServices();
  let v: Valuation;
  let text: string;
  let pages: string[];
  let bbox: string;
  const usd = (n: number) => `$${Math.round(n).toLocaleString('en-US')}`;
  const comps = () => v.comparables.filter((c): c is AdjustedComparable => 'adjustedPrice' in c);

  beforeAll(async () => {
    await loadDemoData(s, bundledDemo()!);
    const first = await s.valuation.value('champion', DEMO_HOUSE, { valuationDate: '2015-03-01', log: false, grid: true });
    const grid = first.comparables as AdjustedComparable[];
    const edits = gridEditsSchema.parse({
      excluded: [grid[4].rowIndex],
      overrides: [{ rowIndex: grid[0].rowIndex, group: 'condition', amount: -7500, reason: 'roof needs replacing' }],
    });
    const edited = await s.valuation.value('champion', DEMO_HOUSE, { valuationDate: '2015-03-01', log: false, edits });
    v = {
      ...edited,
      subject: {
        address: '12 Larch Lane, Seattle WA 98125',
        parcelId: '1234567890',
        client: 'Northwest Savings',
        intendedUse: 'Mortgage lending decision',
        effectiveDate: '2015-03-01',
        appraiserName: 'Jordan Appraiser',
        appraiserLicence: 'WA-27011',
        notes: 'Interior not inspected.',
      },
    };
    const ds = s.datasets.get(s.models.list().find((m) => m.status === 'champion')!.datasetId!);
    const bytes = await valuationReportPdf(v, buildFormSchema(ds), {
      model: s.models.list().find((m) => m.id === v.modelId) ?? null,
      settings: { ...DEFAULT_REPORT_SETTINGS, roundTo: 5000 },
      reportDate: '2015-03-04',
    });
    const file = join(s.dir, 'report.pdf');
    writeFileSync(file, bytes);
    if (process.env.REPORT_PDF_OUT) writeFileSync(process.env.REPORT_PDF_OUT, bytes);
    text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    pages = text.split('\f').filter((p) => p.trim());
    bbox = execFileSync('pdftotext', ['-bbox', file, '-'], { encoding: 'utf8' });
  }, 120_000);
  afterAll(() => s.cleanup());

  it('is several numbered pages', () => {
    expect(pages.length).toBeGreaterThanOrEqual(3);
    pages.forEach((p, i) => expect(p).toContain(`Page ${i + 1} of ${pages.length}`));
  });

  it("prints the subject's identity and the estimate and range rounded to the settings' step", () => {
    for (const s2 of [
      '12 Larch Lane, Seattle WA 98125',
      '1234567890',
      'Northwest Savings',
      'Mortgage lending decision',
      'Jordan Appraiser',
      'WA-27011',
      'Interior not inspected.',
    ])
      expect(text).toContain(s2);
    expect(text).toContain('Report date');
    expect(text).toContain('2015-03-04');
    const r5 = (n: number) => usd(Math.round(n / 5000) * 5000);
    expect(pages[0]).toContain(r5(v.estimate));
    expect(pages[0]).toContain(`80% range: ${r5(v.interval.low)} - ${r5(v.interval.high)}`);
    expect(text).toContain('Rounded to the nearest $5,000');
  });

  it("states the valuation's FSD and confidence tier on the summary and in the confidence section", () => {
    const flat = text.replace(/\s+/g, ' ');
    expect(v.fsd).toBeGreaterThan(0);
    expect(pages[0]).toContain(`Confidence: ${v.confidenceTier} (FSD ${(v.fsd! * 100).toFixed(1)}%)`);
    expect(flat).toContain(`Confidence tier: ${v.confidenceTier}. Forecast standard deviation (FSD): ${(v.fsd! * 100).toFixed(1)}%`);
  });

  it('lists every comparable with its sale id, price and grid totals, the override and the exclusion', () => {
    const flat = text.replace(/\s+/g, ' ');
    for (const c of comps()) {
      expect(text).toContain(c.saleId!);
      expect(text).toContain(usd(c.price));
      expect(text).toContain(usd(c.adjustedPrice));
    }
    expect(text).toContain('Comp 5 (excluded)');
    expect(flat).toContain('override: roof needs replacing');
    expect(flat).toMatch(/Comparable 1, Condition: -\$7,500/);
    const r = v.reconciliation!;
    expect(r.count).toBe(4);
    expect(flat).toContain(`median ${usd(r.median)}`);
    expect(flat).toContain(`low ${usd(r.low)}, high ${usd(r.high)}`);
  });

  it('says which data and model it rests on, with the CV figures, and ends with the certification and signature line', () => {
    const flat = text.replace(/\s+/g, ' ');
    const model = s.models.list().find((m) => m.id === v.modelId)!;
    expect(flat).toContain(v.modelId);
    expect(flat).toContain(model.datasetId!);
    expect(flat).toContain(`median absolute error ${(model.cv!.mdape * 100).toFixed(1)} %`);
    expect(flat).toContain('Assumptions and limiting conditions');
    expect(flat).toContain(DEFAULT_CERTIFICATION.replace(/\s+/g, ' ').slice(0, 120));
    expect(pages[pages.length - 1]).toContain('Signature');
    expect(pages[pages.length - 1]).toContain('Jordan Appraiser');
  });

  it('plots the subject and every comparable by their coordinates, labelled S and 1..k, true to scale', () => {
    // The words pdftotext finds on the plot's page, between its heading and its legend, with their boxes.
    const isHeading = (pg: string) => /<word[^>]*>Location<\/word>\s*<word[^>]*>of<\/word>\s*<word[^>]*>the<\/word>\s*<word[^>]*>subject<\/word>/.test(pg);
    const page = bbox.split('<page').find(isHeading)!;
    expect(page, 'a page with the location plot').toBeDefined();
    const words = [...page.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<\/word>/g)].map((m) => ({
      x: Number(m[1]),
      top: Number(m[2]),
      bottom: Number(m[3]),
      w: m[4],
    }));
    const heading = words.find((wd, i) => wd.w === 'Location' && words[i + 1]?.w === 'of' && words[i + 3]?.w === 'subject')!;
    const legend = words.find((wd) => wd.w === 'Square' && wd.top > heading.top)!;
    expect(legend).toBeDefined();
    const inPlot = words.filter((wd, i) => wd.top > heading.bottom && wd.bottom < legend.top && words[i + 1]?.w !== 'km' && words[i + 1]?.w !== 'm');
    const grid = comps();
    const labels = ['S', ...grid.map((_, i) => String(i + 1))];
    // A label is written beside its marker, or joined ("S,1") to that of a marker it nearly covers; the first
    // of a joined label is the one whose marker the text sits beside.
    const tags = inPlot.filter((wd) => /^[S\d](,\d+)*$/.test(wd.w));
    expect(tags.flatMap((t) => t.w.split(',')).sort()).toEqual([...labels].sort());
    const at = new Map(tags.map((wd) => [wd.w.split(',')[0], wd]));
    // East is right, north is up: page x rises with longitude, the page's top coordinate falls with latitude.
    const lat = Number(DEMO_HOUSE.lat);
    const lon = Number(DEMO_HOUSE.long);
    const pts = [
      { label: 'S', latitude: lat, longitude: lon },
      ...grid.map((c, i) => ({ label: String(i + 1), latitude: c.latitude!, longitude: c.longitude! })),
    ];
    const anchored = pts.filter((p) => at.has(p.label));
    expect(anchored.length).toBeGreaterThanOrEqual(3);
    for (const a of anchored)
      for (const b of anchored) {
        if (b.longitude > a.longitude + 1e-4) expect(at.get(b.label)!.x, `${b.label} east of ${a.label}`).toBeGreaterThan(at.get(a.label)!.x);
        if (b.latitude > a.latitude + 1e-4) expect(at.get(b.label)!.top, `${b.label} north of ${a.label}`).toBeLessThan(at.get(a.label)!.top);
      }
    // Distances on the page are in proportion to the comparables' great-circle distances from the subject.
    const far = [...grid.keys()]
      .filter((i) => at.has(String(i + 1)))
      .sort((i, j) => grid[j].distanceKm! - grid[i].distanceKm!)
      .slice(0, 3);
    expect(far.length).toBeGreaterThanOrEqual(2);
    const s0 = at.get('S')!;
    const ptPerKm = far.map((i) => {
      const l = at.get(String(i + 1))!;
      return Math.hypot(l.x - s0.x, l.top - s0.top) / grid[i].distanceKm!;
    });
    for (const r of ptPerKm) expect(Math.abs(r / ptPerKm[0] - 1)).toBeLessThan(0.03);
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toMatch(/the bar is (\d+(\.\d+)? km|\d+ m) long/);
    expect(flat).toContain('hollow: excluded by the appraiser');
  });
});
