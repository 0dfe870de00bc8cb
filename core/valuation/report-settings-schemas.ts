import { z } from 'zod';

/**
 * The workspace's report settings (issue 11): the assumptions and limiting conditions, the certification printed
 * above the signature line, the rounding of estimates and the appraiser's name and licence used when a valuation
 * names none. Kept in the workspace (not one window's storage), so every window, shell and user of it prints the
 * same report; changing them is an audited settings change.
 */
const text = (max: number) => z.string().max(max, `keep it under ${max} characters`);

export const reportSettingsInputSchema = z.strictObject({
  assumptions: text(20_000).refine((s) => s.trim() !== '', 'write at least one assumption (or go back to the defaults)'),
  certification: text(20_000).refine((s) => s.trim() !== '', 'write the certification text (or go back to the defaults)'),
  /** Estimates and ranges are reported to this many currency units; null: the dataset config's (default 1,000). */
  roundTo: z.number().positive('round to a positive amount, e.g. 1000').max(1e9).finite().nullable(),
  appraiserName: text(200),
  appraiserLicence: text(200),
});
export type ReportSettingsInput = z.output<typeof reportSettingsInputSchema>;

export const reportSettingsSchema = z.object({
  assumptions: z.string(),
  certification: z.string(),
  roundTo: z.number().nullable(),
  appraiserName: z.string(),
  appraiserLicence: z.string(),
  /** When and by whom they were last changed; null while the workspace still uses the defaults. */
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
  /** The texts "Back to the defaults" restores (the window cannot import them: it only talks to the contract). */
  defaults: z.object({
    assumptions: z.string(),
    certification: z.string(),
    roundTo: z.number().nullable(),
    appraiserName: z.string(),
    appraiserLicence: z.string(),
  }),
});
export type ReportSettings = z.output<typeof reportSettingsSchema>;

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

/** Texts an appraiser can sign as they stand and edit once; no name or licence until someone gives them. */
export const DEFAULT_REPORT_SETTINGS: ReportSettingsInput = {
  assumptions: DEFAULT_ASSUMPTIONS,
  certification: DEFAULT_CERTIFICATION,
  roundTo: null,
  appraiserName: '',
  appraiserLicence: '',
};
