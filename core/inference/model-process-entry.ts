/** Entry of the model process (model-process.ts): exposes one OnnxModelHost to its parent over the IPC channel. */
import { OnnxModelHost } from './onnx-model-host.js';
import type { ModelProcessReply } from './model-process.js';

if (!process.send) throw new Error('model-process-entry must run as a child process with an IPC channel');
const host = new OnnxModelHost();
const send = process.send.bind(process);

process.on('message', (m: { id: number; method: 'load' | 'predict' | 'unload' | 'close'; args: unknown[] }) => {
  const started = performance.now();
  const call = (host[m.method] as (...a: unknown[]) => Promise<ModelProcessReply['result']>).apply(host, m.args);
  // The time spent here lets the parent tell scoring time from the cost of the hop (it decides how to split batches).
  void call.then((result) => send({ id: m.id, result, runMs: performance.now() - started } satisfies ModelProcessReply));
});
// The parent is gone (or closed the channel): nothing can ask for work any more.
process.on('disconnect', () => process.exit(0));
