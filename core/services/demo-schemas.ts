import { z } from 'zod';

/** What loading the bundled demo did: the dataset it ingested (or found) and the model it made champion, if any. */
export const demoLoadResultSchema = z.object({
  datasetId: z.string(),
  datasetName: z.string(),
  rowsAccepted: z.number(),
  rowsQuarantined: z.number(),
  /** True when the demo data was already in the workspace (nothing new stored). */
  reused: z.boolean(),
  /** The bundled model imported and promoted; null when a champion existed already (it is left alone). */
  importedModel: z.object({ id: z.string(), name: z.string() }).nullable(),
  /** The champion after loading: the demo model, or the one that was champion before. */
  championId: z.string().nullable(),
  seconds: z.number(),
});
export type DemoLoadResult = z.output<typeof demoLoadResultSchema>;
