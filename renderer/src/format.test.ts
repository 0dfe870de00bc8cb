import { describe, expect, it } from 'vitest';
import { moneyFormatter } from './format.js';

describe('moneyFormatter', () => {
  it('formats whole US dollars by default, as the app always has', () => {
    const usd = moneyFormatter();
    expect(usd.currency).toBe('USD');
    expect(usd.format(540_123.6)).toBe('$540,124');
    expect(usd.signed(12_000)).toBe('+$12,000');
    expect(usd.signed(-3_500.4)).toBe('−$3,500');
  });

  it('uses the currency it is given', () => {
    expect(moneyFormatter('EUR').format(1_234_567)).toBe('€1,234,567');
    expect(moneyFormatter('GBP').signed(-250)).toBe('−£250');
    expect(moneyFormatter('JPY').format(98_000)).toBe('¥98,000');
    expect(moneyFormatter('eur').currency).toBe('EUR');
  });

  it('writes the code instead of the symbol on request', () => {
    expect(moneyFormatter('EUR', 'code').format(1000).replace(/\s/g, ' ')).toBe('EUR 1,000');
    expect(moneyFormatter('EUR', 'code')).not.toBe(moneyFormatter('EUR'));
  });

  it('shows a dash for a missing or non-finite amount', () => {
    const eur = moneyFormatter('EUR');
    for (const v of [null, undefined, NaN, Infinity]) expect(eur.format(v)).toBe('—');
    expect(eur.signed(NaN)).toBe('—');
  });

  it('still shows the amount for a code Intl refuses', () => {
    expect(moneyFormatter('US').format(1000)).toBe('1,000 US');
  });

  it('builds one formatter per currency and reuses it (stable identity for memoized charts)', () => {
    expect(moneyFormatter('CHF')).toBe(moneyFormatter('CHF'));
  });
});
