/**
 * Writing CSV that people open in spreadsheets. Text that a spreadsheet would run as a formula (OWASP "CSV
 * injection": a leading = + - @ tab or CR) gets a leading apostrophe, unless it is simply a number.
 */
export function neutralizeCsvCell(v: string): string {
  return /^[=+\-@\t\r]/.test(v) && !/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v) ? `'${v}` : v;
}

/** Quotes a field when it holds a delimiter, quote or line break (RFC 4180). */
export function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
