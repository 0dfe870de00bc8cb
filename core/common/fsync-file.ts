import { closeSync, fsyncSync, openSync } from 'node:fs';

/** Flushes a written file to disk before it is renamed into place, so a crash cannot leave a renamed empty file. */
export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
