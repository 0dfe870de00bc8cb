import { describe, expect, it } from 'vitest';
import type { ApiValuation, FormSchema } from '../../core/contract/contract.js';
import { locationPlot, niceLength } from './pdf-location-plot.js';

const box = { left: 0, bottom: 0, width: 400, height: 200 };
const form = (types: string[]) => ({ fields: types.map((type, i) => ({ name: `c${i}`, type, label: `Col ${i}` })) }) as unknown as FormSchema;
const valuation = (input: Record<string, unknown>) => ({ input }) as unknown as ApiValuation;

describe('the location plot', () => {
  it('states why there is no plot when the schema has no coordinates or the subject none', () => {
    const none = locationPlot(valuation({ c0: 3 }), form(['numeric']), [], box);
    expect(none).toEqual({ note: expect.stringContaining('no latitude and longitude columns') });
    const blank = locationPlot(valuation({ c0: null, c1: -122 }), form(['latitude', 'longitude']), [], box);
    expect(blank).toEqual({ note: expect.stringContaining('The subject has no Col 0 and Col 1') });
  });

  it('keeps every point inside the frame, north up and east right, and lists comparables without coordinates', () => {
    const comps = [
      { latitude: 47.62, longitude: -122.3 },
      { latitude: null, longitude: null },
      { latitude: 47.6, longitude: -122.35 },
    ];
    const plot = locationPlot(valuation({ c0: 47.61, c1: -122.32 }), form(['latitude', 'longitude']), comps, box);
    if ('note' in plot) throw new Error(plot.note);
    expect(plot.missing).toEqual(['2']);
    expect(plot.points.map((p) => p.label)).toEqual(['S', '1', '3']);
    for (const p of plot.points) {
      expect(p.x).toBeGreaterThan(box.left);
      expect(p.x).toBeLessThan(box.width);
      expect(p.y).toBeGreaterThan(box.bottom);
      expect(p.y).toBeLessThan(box.height);
    }
    const [s, c1, c3] = plot.points;
    expect(c1.y).toBeGreaterThan(s.y);
    expect(c1.x).toBeGreaterThan(s.x);
    expect(c3.x).toBeLessThan(s.x);
    // 0.01° of latitude is 1.11 km anywhere.
    expect((c1.y - s.y) / plot.ptPerKm).toBeCloseTo(1.112, 2);
    expect(plot.scalePt).toBeLessThanOrEqual(box.width * 0.25);
  });

  it('scale bars are 1, 2 or 5 times a power of ten', () => {
    expect(niceLength(0.74)).toBe(0.5);
    expect(niceLength(1.9)).toBe(1);
    expect(niceLength(3)).toBe(2);
    expect(niceLength(12)).toBe(10);
  });
});
