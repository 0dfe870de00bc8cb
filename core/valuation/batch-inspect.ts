import { z } from 'zod';
import type { DatasetConfig } from '../config/dataset-config.schema.js';
import { openTextSource } from '../ingest/open-text-source.js';
import { CsvTokenizer, type CsvRecord, type TokenizedRecord } from '../ingest/csv-tokenizer.js';
import { validateProperty, renameHeader, cleanHeader } from '../schema/row-validator.js';
import { badFile } from '../common/errors.js';
import { fileAccess } from '../common/file-access.js';

const SAMPLE_ROWS = 50;

/** What `batch.inspect` finds in a CSV before it is scored. */
export const batchInspectionSchema = z.object({
  file: z.string(),
  /** The file's own column names, in order (for choosing a mapping). */
  fileColumns: z.array(z.string()),
  /** Each schema column (not the target) and whether the file has it. */
  columns: z.array(z.object({ name: z.string(), label: z.string(), required: z.boolean(), found: z.boolean() })),
  /** File columns the schema does not know (ignored when scoring). */
  ignored: z.array(z.string()),
  /** Required columns the file lacks: scoring would fail every row. */
  missingRequired: z.array(z.string()),
  /** The first rows checked against the schema, as scoring will check them. */
  sample: z.object({ rows: z.number(), valid: z.number(), problems: z.array(z.object({ line: z.number(), reasons: z.array(z.string()) })) }),
});
export type BatchInspection = z.output<typeof batchInspectionSchema>;

/**
 * Reads a CSV's header and first rows and matches them to the active schema by column name, before a batch is
 * scored: which columns are used, which are missing or ignored, and how the first rows validate.
 */
export async function inspectBatchFile(config: DatasetConfig, file: string, columnMap: Record<string, string> = {}): Promise<BatchInspection> {
  // It echoes the file's first lines: on a confined host only files in the allowed folders (issue 14, #5).
  fileAccess().checkRead(file, 'the file to value');
  const src = openTextSource(file, 64 * 1024);
  const tokenizer = new CsvTokenizer({ delimiter: config.dataset.delimiter, maxRecordBytes: config.pipeline.ingest.maxRecordBytes });
  const records: TokenizedRecord[] = [];
  let complete = false;
  const it = src.chunks[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await it.next();
      if (next.done) {
        complete = true;
        break;
      }
      tokenizer.push(next.value, records);
      if (records.length > SAMPLE_ROWS) break;
    }
    if (complete) tokenizer.end(records);
  } finally {
    await it.return?.(undefined);
  }
  const rows = records.filter((r): r is CsvRecord => !('oversized' in r));
  if (rows.length === 0) throw badFile(`${file} has no header row`);
  const fileColumns = cleanHeader(rows[0].fields);
  const header = renameHeader(config, rows[0].fields, columnMap);
  const target = config.target.column;
  // A column is read from its `source` header text when it has one, else from the header of its own name.
  const byHeader = new Map(Object.entries(config.dataset.columns).map(([name, c]) => [c.source ?? name, name]));
  const schemaNames = header.map((h) => byHeader.get(h));
  const have = new Set(schemaNames);
  const columns = Object.entries(config.dataset.columns)
    .filter(([name]) => name !== target)
    .map(([name, c]) => ({ name, label: c.label ?? name, required: c.required, found: have.has(name) }));
  const sampleRows = rows.slice(1, SAMPLE_ROWS + 1);
  const problems: { line: number; reasons: string[] }[] = [];
  let valid = 0;
  for (const r of sampleRows) {
    if (r.fields.length !== header.length) {
      problems.push({ line: r.line, reasons: [`has ${r.fields.length} fields, the header has ${header.length}`] });
      continue;
    }
    const input: Record<string, string> = {};
    schemaNames.forEach((name, i) => {
      if (name !== undefined && name !== target) input[name] = r.fields[i];
    });
    const v = validateProperty(config, input, { skip: [target] });
    if (v.ok) valid++;
    else problems.push({ line: r.line, reasons: v.errors.map((e) => e.message) });
  }
  return {
    file,
    fileColumns,
    columns,
    ignored: fileColumns.filter((h, i) => h !== '' && schemaNames[i] === undefined),
    missingRequired: columns.filter((c) => c.required && !c.found).map((c) => c.name),
    sample: { rows: sampleRows.length, valid, problems: problems.slice(0, 10) },
  };
}
