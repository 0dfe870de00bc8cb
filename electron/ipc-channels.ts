import type { ApiResponse } from '../core/contract/api-response.js';

/** IPC channel names shared by main, preload and the core host. The preload refuses anything else. */
export const IPC_INVOKE = 'appraise:invoke';
export const IPC_EVENT = 'appraise:event';

/** Messages between Electron's main process and the utility process that hosts core/. */
export type CoreHostRequest = { kind: 'call'; id: number; method: string; input: unknown };
export type CoreHostMessage =
  | { kind: 'ready'; workspace: string }
  | { kind: 'reply'; id: number; response: ApiResponse }
  | { kind: 'event'; event: unknown }
  | { kind: 'fatal'; message: string };
