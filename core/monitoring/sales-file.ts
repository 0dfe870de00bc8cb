import type { DatasetConfig } from '../config/dataset-config.schema.js';
import { AppraiseError, badFile, invalidInput } from '../common/errors.js';
import { CsvTokenizer, type TokenizedRecord } from '../ingest/csv-tokenizer.js';
import { openTextSource } from '../ingest/open-text-source.js';
import { compileColumnParser, FieldProblem } from '../schema/column-parser.js';
import type { SaleRecord } from './prediction-log.js';

/**
 * Reads actual sales from a CSV in the model's schema: the identifier column, the target (price) column and,
 * when the schema has one, the sale-date column, parsed with the schema's own parsers (formats, missing tokens,
 * ranges). Other columns are ignored, so a full sales export works as well as a three-column file. Rows without
 * an id or a valid price are returned as problems, never silently dropped.
 */
export async function readSalesFile(file: string, config: DatasetConfig): Promise<{ sales: SaleRecord[]; problems: { line: number; message: string }[] }> {
  const columns = config.dataset.columns;
  const idColumn = Object.keys(columns).find((c) => columns[c].type === 'identifier');
  if (!idColumn)
    throw invalidInput(
      `the schema "${config.name}" has no identifier column, so sales cannot be matched to valuations by property; link them by prediction id instead`,
    );
  const priceColumn = config.target.column;
  const dateColumn = config.features.saleDate ?? null;
  const header = (name: string) => columns[name].source ?? name;
  const parsers = {
    id: compileColumnParser(idColumn, columns[idColumn], config.dataset.missing),
    price: compileColumnParser(priceColumn, { ...columns[priceColumn], required: true }, config.dataset.missing),
    date: dateColumn ? compileColumnParser(dateColumn, { ...columns[dateColumn], required: false }, config.dataset.missing) : null,
  };
  const source = openTextSource(file);
  const tokenizer = new CsvTokenizer({ delimiter: config.dataset.delimiter, maxRecordBytes: 1 << 20 });
  const sales: SaleRecord[] = [];
  const problems: { line: number; message: string }[] = [];
  let at: { id: number; price: number; date: number } | null = null;
  const take = (records: TokenizedRecord[]) => {
    for (const rec of records) {
      if ('oversized' in rec) {
        problems.push({ line: rec.line, message: 'record too long' });
        continue;
      }
      if (!at) {
        const names = rec.fields.map((f) => f.trim().replace(/^\uFEFF/, ''));
        const find = (c: string) => names.indexOf(header(c));
        at = { id: find(idColumn), price: find(priceColumn), date: dateColumn ? find(dateColumn) : -1 };
        const lacking = [at.id < 0 ? header(idColumn) : null, at.price < 0 ? header(priceColumn) : null].filter((x) => x !== null);
        if (lacking.length)
          throw badFile(`${file} has no column ${lacking.map((c) => `"${c}"`).join(' or ')}; a sales file needs the property id and the sale price`);
        continue;
      }
      const id = parsers.id(rec.fields[at.id] ?? '');
      const price = parsers.price(rec.fields[at.price] ?? '');
      const date = parsers.date && at.date >= 0 ? parsers.date(rec.fields[at.date] ?? '') : null;
      const bad = [id, price, date].find((v) => v instanceof FieldProblem);
      if (bad instanceof FieldProblem) problems.push({ line: rec.line, message: bad.reason });
      else if (id === null || id === '') problems.push({ line: rec.line, message: `${idColumn}: value is required` });
      else if (typeof price !== 'number') problems.push({ line: rec.line, message: `${priceColumn}: not a number` });
      else sales.push({ propertyId: String(id), price, saleDate: typeof date === 'string' ? date : null });
    }
  };
  try {
    for await (const chunk of source.chunks) take(tokenizer.push(chunk));
    take(tokenizer.end());
  } catch (e) {
    if (e instanceof AppraiseError) throw e;
    throw badFile(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (!at) throw badFile(`${file} has no header row`);
  return { sales, problems };
}
