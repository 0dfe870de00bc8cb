/** SQL identifier quoting for column names that come from user configs (they may contain spaces or dots). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Each dataset version's rows live in their own table, named after the content hash. */
export function datasetTableName(datasetId: string): string {
  if (!/^[0-9a-f]{64}$/.test(datasetId)) throw new Error(`bad dataset id ${datasetId}`);
  return `ds_${datasetId.slice(0, 24)}`;
}
