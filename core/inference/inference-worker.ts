/** Worker thread entry of the inference pool: exposes one OnnxModelHost to the pool over comlink. */
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { OnnxModelHost } from './onnx-model-host.js';

if (!parentPort) throw new Error('inference-worker must run in a worker thread');
Comlink.expose(new OnnxModelHost(), nodeEndpoint(parentPort));
