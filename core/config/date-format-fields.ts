/**
 * The fields a date format reads, in order, by the same token rules as `compileDateFormat` (core/schema, a layer
 * above config): YYYY, MM / DD, M / D, text in single quotes and any other character literal. The config schema
 * checks a format with it, so a format without a year, month or day is an INVALID_CONFIG with its line instead of
 * a plain Error (exit 2, "bug") at ingest. Keep the two scanners in step; date-format.test.ts compares them.
 */
export function dateFormatFields(format: string): ('Y' | 'M' | 'D')[] {
  const fields: ('Y' | 'M' | 'D')[] = [];
  for (let i = 0; i < format.length;) {
    const rest = format.slice(i);
    if (rest.startsWith('YYYY')) {
      fields.push('Y');
      i += 4;
    } else if (rest.startsWith('MM') || rest.startsWith('DD')) {
      fields.push(rest[0] as 'M' | 'D');
      i += 2;
    } else if (rest[0] === 'M' || rest[0] === 'D') {
      fields.push(rest[0]);
      i += 1;
    } else if (rest[0] === "'") {
      const close = format.indexOf("'", i + 1);
      i = close === -1 ? format.length : close + 1;
    } else i += 1;
  }
  return fields;
}

/** Why a date format cannot be used, or null. */
export function dateFormatProblem(format: string): string | null {
  const f = dateFormatFields(format);
  return f.includes('Y') && f.includes('M') && f.includes('D') ? null : 'a date format must contain a year (YYYY), a month (M or MM) and a day (D or DD)';
}
