import { serializeError, type SerializedError } from '../common/errors.js';

/**
 * The one envelope every transport carries an API answer in (Electron IPC, the core host's port, the web host's
 * JSON body, the renderer's client): a result, or a serialized error matched by its `code`.
 */
export type ApiResponse<T = unknown> = { ok: true; result: T } | { ok: false; error: SerializedError };

export const okResponse = <T>(result: T): ApiResponse<T> => ({ ok: true, result });
export const errorResponse = (e: unknown): ApiResponse<never> => ({ ok: false, error: serializeError(e) });
