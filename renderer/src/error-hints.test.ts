import { describe, expect, it } from 'vitest';
import { ApiCallError } from './api-error.js';
import { windowMessage } from './error-hints.js';

describe('windowMessage', () => {
  it('says what to click instead of which command to type for a missing champion', () => {
    const e = new ApiCallError('NOT_FOUND', 'there is no champion model yet; train one (appraise train DATASET) and promote it (appraise models promote ID)', {
      hint: 'no-champion',
    });
    const text = windowMessage(e);
    expect(text).not.toMatch(/appraise /);
    expect(text).toContain('Load the demo data and model');
  });

  it('keeps the listed problems of an import with no valid row but drops the terminal command', () => {
    const e = new ApiCallError(
      'INVALID_INPUT',
      'none of the 3 rows of /x.csv is valid, so no dataset was created. Most common problems:\n  line 2: price: empty\nSee them all with: appraise datasets quarantine r1',
      {
        runId: 'r1',
        hint: 'no-valid-rows',
      },
    );
    const text = windowMessage(e);
    expect(text).toContain('line 2: price: empty');
    expect(text).not.toMatch(/appraise datasets/);
  });

  it('leaves errors without a known hint as they are', () => {
    expect(windowMessage(new ApiCallError('NOT_FOUND', 'plain', { hint: 'not-a-hint' }))).toBe('plain');
    expect(windowMessage(new ApiCallError('INVALID_INPUT', 'no details'))).toBe('no details');
    expect(windowMessage(new Error('a bug'))).toBe('a bug');
  });
});
