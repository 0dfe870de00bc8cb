import { expect, test } from 'vitest';
import { restartDecision } from './app-installer.js';

test('restart to install only with a downloaded release; otherwise a CONFLICT that says why', () => {
  expect(restartDecision({ state: 'downloaded', version: '1.4.0' })).toEqual({ version: '1.4.0' });
  expect(() => restartDecision({ state: 'preparing', version: '1.4.0' })).toThrow(/1\.4\.0 is verified and still being prepared/);
  expect(() => restartDecision({ state: 'failed', message: 'updates install only into a packaged Appraise' })).toThrow(
    /cannot be installed from here: updates install only into a packaged Appraise/,
  );
  expect(() => restartDecision({ state: 'idle' })).toThrow(expect.objectContaining({ code: 'CONFLICT', message: expect.stringMatching(/No verified update/) }));
});
