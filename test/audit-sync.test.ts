import { afterAll, expect, test } from 'vitest';
import { enrolDevice } from '../core/sync/device-enrolment.js';
import { startRegistry, type TestRegistry } from './helpers/registry-fixture.js';
import { tempServices } from './helpers/temp-workspace.js';
import { createAppHost } from '../core/app/app-host.js';

let reg: TestRegistry | null = null;
afterAll(async () => {
  await reg?.close();
});

test('each sync cycle is recorded in the audit trail, with its outcome and the error code when the registry is unreachable', async () => {
  reg = await startRegistry();
  await reg.createRepository('north');
  const services = tempServices();
  const { code } = await reg.admin.createEnrolmentCode('north', 'stable');
  await enrolDevice(services.workspace.dir, reg.url, code, 'laptop in north');
  const host = await createAppHost({ services, processName: 'none', jobsInWorkers: false, sync: { background: false } });
  try {
    const first = await host.dispatcher.callSafe('sync.now', {});
    expect(first.ok).toBe(true);
    await reg.close();
    reg = null;
    await host.dispatcher.callSafe('sync.now', {});
    const cycles = services.audit.all().filter((e) => e.action === 'sync.cycle');
    expect(cycles.map((e) => e.outcome)).toEqual(['ok', 'failed']);
    expect(cycles[0].ids).toMatchObject({ trigger: 'manual', pulled: 0 });
    expect(cycles[1].detail).toMatch(/^OFFLINE: /);
  } finally {
    await host.close();
    await services.cleanup();
  }
}, 60_000);
