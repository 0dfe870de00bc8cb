import { describe, expect, it } from 'vitest';
import type { JobProgress } from '../../../core/contract/contract.js';
import { FINAL_FIT, lossCurve } from './loss-curve.js';

type P = JobProgress<'train'>;
const cv = (fold: number, round: number, validLoss?: number, trainLoss?: number): P => ({
  phase: 'cross-validation',
  fold,
  folds: 2,
  round,
  nRounds: 10,
  trainLoss,
  validLoss,
});

describe('lossCurve', () => {
  it('is empty before any report', () => {
    expect(lossCurve([])).toEqual({ fit: -1, points: [] });
    expect(lossCurve([{ phase: 'loading' }])).toEqual({ fit: -1, points: [] });
  });

  it('keeps one point per round of the current fit, and starts again with each fold and the final model', () => {
    const log: P[] = [{ phase: 'loading' }, cv(0, 1, 0.5, 0.49), cv(0, 2, 0.4, 0.39), cv(0, 2, 0.4, 0.39), cv(1, 1, 0.6, 0.59), cv(1, 2, 0.45, 0.44)];
    expect(lossCurve(log)).toEqual({
      fit: 1,
      points: [
        { x: 1, train: 0.59, valid: 0.6 },
        { x: 2, train: 0.44, valid: 0.45 },
      ],
    });
    const final = lossCurve([...log, { phase: 'final-model', round: 1, nRounds: 10, trainLoss: 0.3 }]);
    expect(final.fit).toBe(FINAL_FIT);
    expect(final.points).toEqual([{ x: 1, train: 0.3, valid: undefined }]);
  });

  it("keeps each fold's points when the reports of folds fitted in parallel interleave, and shows the latest fold", () => {
    const log: P[] = [cv(0, 1, 0.5), cv(1, 1, 0.6), cv(0, 2, 0.4), cv(1, 2, 0.55), cv(0, 3, 0.35), cv(1, 3, 0.5)];
    expect(lossCurve(log)).toEqual({ fit: 1, points: [1, 2, 3].map((x, i) => ({ x, train: undefined, valid: [0.6, 0.55, 0.5][i] })) });
  });

  it('ignores reports without a loss', () => {
    expect(lossCurve([cv(0, 1), cv(0, 2, 0.4)]).points.map((p) => p.x)).toEqual([2]);
  });
});
