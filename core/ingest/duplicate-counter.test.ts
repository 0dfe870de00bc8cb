import { test, expect } from 'vitest';
import { DuplicateCounter } from './duplicate-counter.js';

test('counts rows equal to an earlier row exactly, through the temporary file and without it', () => {
  for (const n of [0, 1, 10, 5000, 600_000]) {
    const c = new DuplicateCounter();
    const seen = new Set<number>();
    let expected = 0;
    let x = 1;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      // 53-bit values with many repeats, some differing only in their high bits (same partition)
      const fp = (x % 1000) * 4294967296 + (i % 3 === 0 ? 7 : x % (n / 4 + 1));
      if (seen.has(fp)) expected++;
      else seen.add(fp);
      c.add(fp);
    }
    expect(c.count()).toBe(expected);
  }
});
