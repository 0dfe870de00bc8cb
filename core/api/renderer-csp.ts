/**
 * The Content-Security-Policy every shell sends with the renderer's pages (as an HTTP header, not a meta tag):
 * only the app's own scripts, no eval, no plugins, no framing, and network access only back to the host that
 * served the page. Inline styles stay allowed because chart.js and React set element styles.
 */
export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
