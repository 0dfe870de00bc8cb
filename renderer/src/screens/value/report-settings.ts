/**
 * The appraiser's report texts and rounding, kept in the window's local storage (per installation, like the
 * theme): the assumptions and limiting conditions, the certification printed above the signature line, and the
 * rounding of estimates. Every field has a default an appraiser can sign as it stands and edit once.
 */
export interface ReportSettings {
  assumptions: string;
  certification: string;
  /** Estimates and ranges are reported to this many currency units; null: the dataset config's (default 1,000). */
  roundTo: number | null;
}

export const DEFAULT_ASSUMPTIONS = [
  'The estimate is produced by a statistical model trained on recorded sales; it is not an inspection of the property.',
  'The property is assumed to be as described in this report, free of defects, encroachments and environmental hazards not stated here.',
  'The comparable sales are taken from the recorded sales the model learned from; their adjustments are derived from the model and, where marked, changed by the appraiser.',
  'The ranges state how far off similar estimates were on sales the model did not see; they are not a guarantee.',
  'This report is for the client and intended use stated in it and for no other purpose.',
].join('\n');

export const DEFAULT_CERTIFICATION = [
  'I certify that, to the best of my knowledge and belief: the statements of fact in this report are true and correct;',
  'the analyses, opinions and conclusions are limited only by the reported assumptions and limiting conditions and are my',
  'personal, impartial and unbiased professional analyses, opinions and conclusions; I have no present or prospective',
  'interest in the property that is the subject of this report; and my compensation is not contingent on the value reported.',
].join(' ');

export const DEFAULT_REPORT_SETTINGS: ReportSettings = { assumptions: DEFAULT_ASSUMPTIONS, certification: DEFAULT_CERTIFICATION, roundTo: null };

const KEY = 'appraise.reportSettings';
/** The window's local storage; absent where the report is built outside a window (tests, Node). */
const storage = (globalThis as { localStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage;

/** The saved settings, each missing or unreadable field at its default. */
export function loadReportSettings(): ReportSettings {
  try {
    const raw = storage ? storage.getItem(KEY) : null;
    if (!raw) return DEFAULT_REPORT_SETTINGS;
    const v = JSON.parse(raw) as Partial<ReportSettings>;
    return {
      assumptions: typeof v.assumptions === 'string' && v.assumptions.trim() ? v.assumptions : DEFAULT_ASSUMPTIONS,
      certification: typeof v.certification === 'string' && v.certification.trim() ? v.certification : DEFAULT_CERTIFICATION,
      roundTo: typeof v.roundTo === 'number' && v.roundTo > 0 ? v.roundTo : null,
    };
  } catch {
    return DEFAULT_REPORT_SETTINGS;
  }
}

export function saveReportSettings(s: ReportSettings): void {
  storage?.setItem(KEY, JSON.stringify(s));
}
