import { z } from 'zod';
import { qualityReportSchema } from '../quality/quality-schemas.js';

export const ingestProgressSchema = z.object({
  bytesRead: z.number(),
  totalBytes: z.number(),
  rowsRead: z.number(),
  rowsAccepted: z.number(),
  rowsQuarantined: z.number(),
});
export type IngestProgress = z.output<typeof ingestProgressSchema>;

export const ingestResultSchema = z.object({
  datasetId: z.string(),
  /** sha256 of the normalized content; equals datasetId (kept separate so the id scheme can change). */
  sha256: z.string(),
  name: z.string(),
  runId: z.string(),
  rowsRead: z.number(),
  rowsAccepted: z.number(),
  rowsQuarantined: z.number(),
  /** True when an identical dataset version already existed: nothing new was stored. */
  reused: z.boolean(),
  seconds: z.number(),
  quality: qualityReportSchema,
});
export type IngestResult = z.output<typeof ingestResultSchema>;

/** An ingest job's result: the ingest result without the full quality report (read it from the dataset). */
export const ingestJobResultSchema = ingestResultSchema.omit({ quality: true }).extend({ duplicateRows: z.number().nullable() });
export type IngestJobResult = z.output<typeof ingestJobResultSchema>;
