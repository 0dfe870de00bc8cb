/**
 * Entry of the Electron utilityProcess that hosts core/: the workspace, the services and the API dispatcher run
 * here, off Electron's main thread and outside the window's process. Thin on purpose: it only relays calls and
 * events between `process.parentPort` and the dispatcher.
 */
import { createAppHost } from '../core/app/app-host.js';
import { idleLockMinutesFromEnv } from '../core/app/idle-lock.js';
import type { CoreHostMessage, CoreHostRequest } from './ipc-channels.js';

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort) throw new Error('core-host runs only as an Electron utilityProcess');
const send = (m: CoreHostMessage) => parentPort.postMessage(m);

const workspaceArg = process.argv.find((a) => a.startsWith('--workspace='))?.slice('--workspace='.length);
const demoCsv = process.argv.find((a) => a.startsWith('--demo-csv='))?.slice('--demo-csv='.length);
const demoConfig = process.argv.find((a) => a.startsWith('--demo-config='))?.slice('--demo-config='.length);

try {
  const demo = demoCsv && demoConfig ? { csv: demoCsv, config: demoConfig } : null;
  // First run: a ready demo workspace (King County sales and the bundled model as champion).
  const idleMinutes = idleLockMinutesFromEnv();
  const app = await createAppHost({
    workspace: workspaceArg || undefined,
    demo,
    prepareDemo: demo !== null,
    processName: 'core-host',
    ...(idleMinutes ? { idleLock: { timeoutMs: Math.round(idleMinutes * 60_000) } } : {}),
  });
  const dispatcher = app.dispatcher;
  dispatcher.onEvent((event) => send({ kind: 'event', event }));
  parentPort.on('message', (e) => {
    const req = e.data as CoreHostRequest;
    if (!req || req.kind !== 'call' || typeof req.id !== 'number') return;
    void dispatcher.callSafe(req.method, req.input).then((response) => send({ kind: 'reply', id: req.id, response }));
  });
  const shutdown = async () => {
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  send({ kind: 'ready', workspace: app.services.workspace.dir });
  void dispatcher.warmUp();
} catch (e) {
  send({ kind: 'fatal', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}
