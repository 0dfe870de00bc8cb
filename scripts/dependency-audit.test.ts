import { expect, test } from 'vitest';
import { judgeAudit } from './dependency-audit.js';

test('a report with high or critical advisories fails and names the packages', () => {
  const out = JSON.stringify({
    vulnerabilities: { tar: { severity: 'high' }, debug: { severity: 'low' }, pdfjs: { severity: 'critical' } },
    metadata: { vulnerabilities: { info: 0, low: 1, moderate: 0, high: 1, critical: 1, total: 3 } },
  });
  expect(judgeAudit(out)).toEqual({ kind: 'vulnerable', counts: { info: 0, low: 1, moderate: 0, high: 1, critical: 1, total: 3 }, names: ['tar', 'pdfjs'] });
});

test('low and moderate advisories pass; a refused or garbled answer is reported as not checked, never as clean', () => {
  expect(judgeAudit(JSON.stringify({ vulnerabilities: {}, metadata: { vulnerabilities: { low: 2, moderate: 1, high: 0, critical: 0 } } })).kind).toBe('clean');
  expect(judgeAudit(JSON.stringify({ message: '405 Method Not Allowed - POST …/advisories/bulk', statusCode: 405 }))).toEqual({
    kind: 'unavailable',
    reason: '405 Method Not Allowed - POST …/advisories/bulk',
  });
  expect(judgeAudit('npm error audit endpoint returned an error').kind).toBe('unavailable');
});
