import { z } from 'zod';

/**
 * The shapes of moving a file between the person and core/ without typing its path (issue 11, Batch): on the web
 * host an upload into the workspace's confined `files/uploads/` folder and a download of a result, in Electron a
 * native open or save dialog through the preload bridge. The paths that come back are handed to the API methods
 * (`batch.inspect`, `score`) like a typed path, and checked there by the same file-access policy (issue 14, #3).
 */

/** `POST /api/files/upload?name=NAME` answers with this (in the `ApiResponse` envelope). */
export const uploadResultSchema = z.object({
  /** Where the host stored the file (inside its uploads folder); pass it as `source`. */
  path: z.string(),
  /** The file's own name, as the person chose it. */
  name: z.string(),
  bytes: z.number().int().nonnegative(),
});
export type UploadResult = z.output<typeof uploadResultSchema>;

/** What the window may ask of Electron's file dialog; the main process builds the dialog from it, nothing else. */
export const fileDialogRequestSchema = z.strictObject({
  kind: z.enum(['open', 'save']),
  /** The dialog's title, e.g. "Choose the CSV to value". */
  title: z.string().trim().min(1).max(200),
  /** A file name to start from (save dialogs): a name only, never a folder. */
  defaultName: z
    .string()
    .trim()
    .max(255)
    .regex(/^[^/\\\0]*$/, 'a file name, without a folder')
    .optional(),
  /** File type filters, e.g. [{ name: 'CSV files', extensions: ['csv', 'gz'] }]. */
  filters: z
    .array(
      z.strictObject({
        name: z.string().trim().min(1).max(100),
        extensions: z
          .array(z.string().regex(/^[A-Za-z0-9*]{1,16}$/))
          .min(1)
          .max(10),
      }),
    )
    .max(5)
    .optional(),
});
export type FileDialogRequest = z.input<typeof fileDialogRequestSchema>;

/** The chosen path, or null when the person cancelled the dialog. */
export const fileDialogResultSchema = z.object({ path: z.string().nullable() });
export type FileDialogResult = z.output<typeof fileDialogResultSchema>;

/** The web host's default cap on one upload (a 1M-row sales CSV is ~150 MB). */
export const DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024;
