import { join } from 'node:path';
import { AppraiseError } from '../core/common/errors.js';
import { errorResponse, okResponse, type ApiResponse } from '../core/contract/api-response.js';
import { fileDialogRequestSchema, type FileDialogResult } from '../core/contract/file-transfer.js';
import { isTrustedSender } from './security-policy.js';

/** The IPC channel of the native file dialog (repeated in preload.cts, which cannot import project files). */
export const IPC_FILE_DIALOG = 'appraise:file-dialog';

/** What main.ts passes to Electron's `dialog.showOpenDialog` / `showSaveDialog` (the fields used here). */
export interface NativeDialogOptions {
  title: string;
  defaultPath?: string;
  filters?: { name: string; extensions: string[] }[];
}

/** The dialogs main.ts wires to Electron's `dialog` for the window; each answers with the chosen path or null. */
export interface NativeDialogs {
  open(options: NativeDialogOptions & { properties: 'openFile'[] }): Promise<string | null>;
  save(options: NativeDialogOptions & { properties: ('createDirectory' | 'showOverwriteConfirmation')[] }): Promise<string | null>;
}

/**
 * The body of the `appraise:file-dialog` IPC handler (issue 11, Batch). The desktop app's files come from the
 * person's own choice in a native dialog (issue 14, #3: files only where the user chose them), so the window asks
 * main for a dialog rather than typing a path. Only the app's own main frame may ask, and only for a dialog built
 * from a checked request (title, a file name to start from, type filters): the window never sets the folder or
 * reads anything; it gets back the path the person picked, which it hands to the API like a typed one.
 */
export async function handleFileDialog(
  frame: { url: string; parent: unknown } | null | undefined,
  request: unknown,
  dialogs: NativeDialogs,
  defaultFolder: string,
): Promise<ApiResponse<FileDialogResult>> {
  if (!isTrustedSender(frame)) return errorResponse(new AppraiseError('FORBIDDEN', 'a file dialog asked for by an untrusted frame was refused'));
  const parsed = fileDialogRequestSchema.safeParse(request);
  if (!parsed.success) return errorResponse(new AppraiseError('INVALID_INPUT', `not a file dialog request: ${parsed.error.issues[0]?.message ?? 'bad shape'}`));
  const r = parsed.data;
  const options: NativeDialogOptions = {
    title: r.title,
    ...(r.filters ? { filters: [...r.filters, { name: 'All files', extensions: ['*'] }] } : {}),
  };
  try {
    const path =
      r.kind === 'open'
        ? await dialogs.open({ ...options, defaultPath: defaultFolder, properties: ['openFile'] })
        : await dialogs.save({
            ...options,
            defaultPath: r.defaultName ? join(defaultFolder, r.defaultName) : defaultFolder,
            properties: ['createDirectory', 'showOverwriteConfirmation'],
          });
    return okResponse({ path });
  } catch (e) {
    return errorResponse(new AppraiseError('INTERNAL', `the file dialog could not open: ${e instanceof Error ? e.message : String(e)}`));
  }
}
