import { AppraiseError } from '../core/common/errors.js';
import { errorResponse, type ApiResponse } from '../core/contract/api-response.js';
import { isTrustedSender } from './security-policy.js';

/**
 * The body of the `appraise:invoke` IPC handler: refuses frames other than the app's own main frame, and
 * anything but a method name string; everything else goes to the dispatcher in the core process, which
 * validates the input against the contract.
 */
export async function handleInvoke(
  frame: { url: string; parent: unknown } | null | undefined,
  method: unknown,
  input: unknown,
  callCore: (method: string, input: unknown) => Promise<ApiResponse>,
): Promise<ApiResponse> {
  if (!isTrustedSender(frame)) return errorResponse(new AppraiseError('FORBIDDEN', 'IPC from an untrusted frame was refused'));
  if (typeof method !== 'string' || method.length === 0 || method.length > 100) {
    return errorResponse(new AppraiseError('INVALID_INPUT', 'method must be a method name of the API contract'));
  }
  return callCore(method, input);
}
