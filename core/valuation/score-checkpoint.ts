import { closeSync, fsyncSync, openSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { z } from 'zod';

/**
 * The checkpoint of a resumable CSV `score` run. `sourceKey` names the source by its content, so a source edited
 * between two runs (even keeping its path and size) never resumes into a mixed output.
 */
export const scoreCheckpointSchema = z.strictObject({
  modelId: z.string().min(1),
  sourceKey: z.string().min(1),
  rowsDone: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** The output's header: a run that would write other columns (another format, another file header) starts over. */
  header: z.array(z.string()).optional(),
});
export type ScoreCheckpoint = z.output<typeof scoreCheckpointSchema>;

/**
 * A content key for a score source. A CSV file is hashed whole (SHA-256 streams at ~1 GB/s here, far faster than
 * scoring reads it, so one extra pass costs a few percent); sampling the first and last chunks would miss an edit
 * in the middle that keeps the size. A workspace dataset version is immutable and named by its content hash.
 */
export function fileSourceKey(file: string): string {
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  let size = 0;
  try {
    let n: number;
    while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) {
      hash.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  return `file:${size}:${hash.digest('hex')}`;
}

export function datasetSourceKey(datasetId: string): string {
  return `dataset:${datasetId}`;
}

/**
 * Reads a checkpoint; a missing, empty, truncated or otherwise unreadable one is reported as `problem` (the run
 * then starts over), never thrown: a kill mid-write must not make every later run fail.
 */
export function readCheckpoint(file: string): { checkpoint: ScoreCheckpoint } | { problem: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { problem: 'missing' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: text.length === 0 ? 'empty' : 'not valid JSON' };
  }
  const parsed = scoreCheckpointSchema.safeParse(json);
  return parsed.success ? { checkpoint: parsed.data } : { problem: 'not a checkpoint of this version' };
}

/**
 * Replaces `file` atomically: the new text goes to a temporary file that is fsynced, then renamed over the old
 * one, and the folder is fsynced so the rename itself survives a power loss. A reader sees the old or the new
 * checkpoint, never a torn one.
 */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(dirname(file));
}

function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return; // Some platforms (Windows) cannot open a folder; the rename is still atomic there.
  }
  try {
    fsyncSync(fd);
  } catch {
    // Not supported on every file system; atomicity does not depend on it, only durability of the rename.
  } finally {
    closeSync(fd);
  }
}
