import { afterEach, describe, expect, it } from 'vitest';
import { ApiDispatcher } from './dispatcher.js';
import { JobTracker } from '../jobs/job-tracker.js';
import { silentLogger } from '../logging/logger.js';
import { tempServices } from '../../test/helpers/temp-workspace.js';

// The dispatcher calls contract methods named `<service>.<method>` on the service of that name when no explicit
// handler exists; these cases pin the two outcomes a caller can see: the service's answer, or a NOT_FOUND that
// names the missing service.
describe('methods bound by name', () => {
  const opened: { cleanup: () => Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0)) await o.cleanup();
  });

  function dispatcherOn(services: ReturnType<typeof tempServices>, withMonitoring: boolean): ApiDispatcher {
    opened.push(services);
    return new ApiDispatcher({
      services: {
        workspaceDir: services.workspace.dir,
        datasets: services.datasets,
        history: services.history,
        models: services.models,
        ...(withMonitoring ? { monitoring: services.monitoring } : {}),
      },
      jobs: new JobTracker(silentLogger().logger),
      runner: null,
      validateOutput: true,
    });
  }

  it('calls the service method of the same name with the parsed input', async () => {
    const d = dispatcherOn(tempServices(), true);
    await expect(d.call('datasets.list', {})).resolves.toEqual([]);
    await expect(d.call('models.list', {})).resolves.toEqual([]);
    // A bound method still validates its input against the contract before the service sees it.
    await expect(d.call('models.list', { extra: 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    // rollback with no champion is the service's own NOT_FOUND/CONFLICT, which proves the call reached it.
    const rollback = await d.callSafe('models.rollback', {});
    expect(rollback.ok).toBe(false);
    expect(rollback.ok === false && rollback.error.message).toMatch(/champion|model/i);
  });

  it('answers NOT_FOUND naming the service when that service is not part of this build', async () => {
    const d = dispatcherOn(tempServices(), false);
    const r = await d.callSafe('monitoring.report', {});
    expect(r).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(r.ok === false && r.error.message).toContain('monitoring service is not available');
  });
});

describe('input errors', () => {
  it('cut long keys and values short instead of echoing them whole', async () => {
    const services = tempServices();
    try {
      const d = new ApiDispatcher({
        services: { workspaceDir: services.workspace.dir, datasets: services.datasets, history: services.history },
        jobs: new JobTracker(silentLogger().logger),
        runner: null,
        validateOutput: true,
      });
      const key = 'k'.repeat(5000);
      const r = await d.callSafe('datasets.list', { [key]: 1 });
      expect(r.ok).toBe(false);
      const text = JSON.stringify(r);
      expect(text).not.toContain(key);
      expect(text.length).toBeLessThan(2000);
      expect(r.ok === false && r.error.code).toBe('INVALID_INPUT');
    } finally {
      await services.cleanup();
    }
  });
});
