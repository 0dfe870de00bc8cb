import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createAppHost, type AppHost } from '../core/app/app-host.js';
import { openServices, type AppServices } from '../core/services/open-workspace.js';
import { DEFAULT_CERTIFICATION, DEFAULT_REPORT_SETTINGS } from '../core/valuation/report-settings-schemas.js';
import { tempDir } from './helpers/temp-workspace.js';

/**
 * Report settings live in the workspace (migration 12), read and written through the contract: they survive
 * closing and reopening the workspace, every change is a `settings.change` entry in the audit trail, an
 * appraiser session can read them but not change them, and a bad value is a typed error naming the field.
 */
describe('report settings in the workspace', () => {
  const { dir, cleanup } = tempDir();
  const ws = join(dir, 'ws');
  let services: AppServices;
  let analyst: AppHost;
  const opts = { jobsInWorkers: false, processName: 'none', sync: { background: false } } as const;
  const mine = {
    assumptions: 'The house was seen from the street only.\nNo survey was made.',
    certification: 'I certify that I have no interest in this property.',
    roundTo: 5000,
    appraiserName: 'Jordan Appraiser',
    appraiserLicence: 'WA-27011',
  };

  beforeAll(async () => {
    services = openServices(ws, { actor: 'jordan (analyst)' });
    analyst = await createAppHost({ ...opts, validateOutput: true, services });
  });
  afterAll(async () => {
    await analyst?.close();
    await services?.close();
    cleanup();
  });

  it('answers the defaults, marked never changed, on a fresh workspace', async () => {
    const s = await analyst.dispatcher.call('reports.settings', {});
    expect(s).toEqual({ ...DEFAULT_REPORT_SETTINGS, updatedAt: null, updatedBy: null, defaults: DEFAULT_REPORT_SETTINGS });
    expect((s as { certification: string }).certification).toBe(DEFAULT_CERTIFICATION);
  });

  it('stores a change with who and when, records it in the audit trail, and keeps it across a reopen', async () => {
    const before = services.audit.all().length;
    const saved = await analyst.dispatcher.call('settings.setReport', mine);
    expect(saved).toMatchObject({ ...mine, updatedBy: 'jordan (analyst)' });
    const entries = services.audit.all().slice(before);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ action: 'settings.change', outcome: 'ok', actor: 'jordan (analyst)', ids: { setting: 'report' } });
    expect(String(entries[0].ids.fields).split(',').sort()).toEqual(Object.keys(mine).sort());

    await analyst.close();
    await services.close();
    services = openServices(ws, { actor: 'jordan (analyst)' });
    analyst = await createAppHost({ ...opts, validateOutput: true, services });
    expect(await analyst.dispatcher.call('reports.settings', {})).toMatchObject(mine);
    // Changing one field records only that field.
    const n = services.audit.all().length;
    await analyst.dispatcher.call('settings.setReport', { ...mine, roundTo: null });
    expect(services.audit.all().slice(n)[0].ids.fields).toBe('roundTo');
  });

  it('refuses a bad value with INVALID_INPUT naming the field, and changes nothing', async () => {
    const n = services.audit.all().length;
    for (const [field, bad] of [
      ['roundTo', -5],
      ['certification', '   '],
      ['assumptions', 'x'.repeat(20_001)],
    ] as const) {
      await expect(analyst.dispatcher.call('settings.setReport', { ...mine, [field]: bad }), field).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringContaining(field),
      });
    }
    expect(services.audit.all().length).toBe(n);
    expect(await analyst.dispatcher.call('reports.settings', {})).toMatchObject({ ...mine, roundTo: null });
  });

  it('lets an appraiser session read them but not change them', async () => {
    const appraiser = await createAppHost({ ...opts, validateOutput: true, services, role: 'appraiser' });
    try {
      expect(await appraiser.dispatcher.call('reports.settings', {})).toMatchObject({ appraiserName: mine.appraiserName });
      await expect(appraiser.dispatcher.call('settings.setReport', { ...mine, appraiserName: 'Someone else' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(await appraiser.dispatcher.call('reports.settings', {})).toMatchObject({ appraiserName: mine.appraiserName });
    } finally {
      await appraiser.close();
    }
  });
});
