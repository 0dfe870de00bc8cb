/**
 * Quotes a value the user (or a file) gave, for an error message, cut to `max` characters (issue 14, finding 5):
 * a config path pointing at /etc/passwd put the whole file into the message, and messages travel to logs, the
 * window and the terminal. Strings are quoted as JSON; longer ones keep their first `max` characters and say how
 * long they were, which is what a user needs to recognise their own input. Non-strings are quoted as JSON too.
 */
export function quoteForMessage(value: unknown, max = 24): string {
  const limit = Math.max(1, Math.floor(max));
  if (typeof value === 'string') {
    const chars = [...value];
    if (chars.length <= limit) return JSON.stringify(value);
    return `${JSON.stringify(chars.slice(0, limit).join(''))}… (${chars.length} characters)`;
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  const chars = [...text];
  return chars.length <= limit ? text : `${chars.slice(0, limit).join('')}… (${kindOf(value)})`;
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value !== null && typeof value === 'object') return `an object with ${Object.keys(value).length} keys`;
  return typeof value;
}
