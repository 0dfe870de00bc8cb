import { isTrustedSender } from './security-policy.js';

type Response = { ok: true; result: unknown } | { ok: false; error: { name: string; code: string; message: string; details?: unknown } };

/**
 * The body of the `appraise:invoke` IPC handler: refuses frames other than the app's own main frame, and
 * anything but a method name string; everything else goes to the dispatcher in the core process, which
 * validates the input against the contract.
 */
export async function handleInvoke(
  frame: { url: string; parent: unknown } | null | undefined,
  method: unknown,
  input: unknown,
  callCore: (method: string, input: unknown) => Promise<unknown>,
): Promise<Response> {
  if (!isTrustedSender(frame)) return { ok: false, error: { name: 'AppraiseError', code: 'FORBIDDEN', message: 'IPC from an untrusted frame was refused' } };
  if (typeof method !== 'string' || method.length === 0 || method.length > 100) {
    return { ok: false, error: { name: 'AppraiseError', code: 'INVALID_INPUT', message: 'method must be a method name of the API contract' } };
  }
  return (await callCore(method, input)) as Response;
}
