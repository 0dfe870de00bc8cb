import { z } from 'zod';
import { qualityReportSchema } from '../quality/quality-schemas.js';

/** A dataset version as lists show it. */
export const datasetSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  rows: z.number(),
  columns: z.number(),
  config: z.string(),
  createdAt: z.string(),
  source: z.string().nullable(),
  quarantined: z.number(),
});
export type DatasetSummary = z.output<typeof datasetSummarySchema>;

export const datasetColumnSchema = z.object({ name: z.string(), type: z.string(), sqlType: z.string() });

export const datasetDetailSchema = datasetSummarySchema.extend({
  columnsDetail: z.array(datasetColumnSchema),
  parentId: z.string().nullable(),
  quality: qualityReportSchema.nullable(),
});
export type DatasetDetail = z.output<typeof datasetDetailSchema>;

/** A row an ingest refused, with the file line it came from and every reason. */
export const quarantinedRowSchema = z.object({ runId: z.string(), line: z.number(), raw: z.string(), reasons: z.array(z.string()) });
export type QuarantinedRow = z.output<typeof quarantinedRowSchema>;

export const quarantinePageSchema = z.object({ total: z.number(), rows: z.array(quarantinedRowSchema) });
export type QuarantinePage = z.output<typeof quarantinePageSchema>;
