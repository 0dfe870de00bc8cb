/**
 * An API error as the UI sees it: a code to branch on and a message in words to show. Its own file (no window
 * access) so that code which only needs the error type, and its tests, do not start a transport.
 */
export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}
