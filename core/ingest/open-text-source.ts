import { createReadStream, statSync, openSync, readSync, closeSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { badFile, AppraiseError } from '../common/errors.js';

export interface TextSource {
  /** Decoded text chunks, in order. Throws BAD_FILE on invalid UTF-8 or binary content. */
  chunks: AsyncIterable<string>;
  /** Bytes of the file read so far (compressed bytes for .gz), for progress. */
  bytesRead(): number;
  totalBytes: number;
  compressed: boolean;
}

/**
 * Opens a CSV or CSV.gz file as a stream of UTF-8 text and refuses, before anything is parsed, files that cannot
 * be CSV text: empty files, ZIP/XLSX workbooks, UTF-16 text, binary data. Encoding errors later in the file
 * are reported with their byte offset.
 */
export function openTextSource(file: string, chunkBytes = 1 << 20): TextSource {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw badFile(`${file} is a folder, not a CSV file`);
    size = st.size;
  } catch (e) {
    if (e instanceof AppraiseError) throw e;
    throw new AppraiseError('INVALID_INPUT', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (size === 0) throw badFile(`${file} is empty: expected a CSV file with a header row and data rows`);
  const head = Buffer.alloc(Math.min(size, 4));
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const compressed = head[0] === 0x1f && head[1] === 0x8b;
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    throw badFile(`${file} is a ZIP archive (an Excel workbook?), not CSV: export or unzip it as a .csv file first`);
  }
  const fileStream = createReadStream(file, { highWaterMark: chunkBytes });
  const byteStream: Readable = compressed ? fileStream.pipe(createGunzip({ chunkSize: chunkBytes })) : fileStream;
  if (compressed) fileStream.on('error', (e) => byteStream.destroy(e));
  return {
    chunks: decodeUtf8(byteStream, file),
    bytesRead: () => fileStream.bytesRead,
    totalBytes: size,
    compressed,
  };
}

async function* decodeUtf8(stream: Readable, file: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  let first = true;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (first) {
        first = false;
        if ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff)) {
          throw badFile(`${file} is UTF-16 text; save it as UTF-8 CSV (in Excel: "CSV UTF-8")`);
        }
      }
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        throw badFile(
          `${file} is not valid UTF-8 text (bad byte sequence in the ${Math.floor(offset / 1024)} KiB after the start); ` +
            `if it comes from Excel or an old system, re-save it as "CSV UTF-8", or it may be binary data`,
        );
      }
      if (text.includes('\u0000')) throw badFile(`${file} contains binary data (NUL bytes near byte ${offset}): not a CSV text file`);
      offset += chunk.length;
      if (text.length > 0) yield text;
    }
    let tail: string;
    try {
      tail = decoder.decode();
    } catch {
      throw badFile(`${file} ends in the middle of a UTF-8 character: the file is truncated or not UTF-8`);
    }
    if (tail.length > 0) yield tail;
  } catch (e) {
    if (e instanceof AppraiseError) throw e;
    if ((e as { code?: string }).code === 'Z_DATA_ERROR' || (e as { code?: string }).code === 'Z_BUF_ERROR') {
      throw badFile(`${file} is a corrupt or truncated gzip file: ${(e as Error).message}`);
    }
    throw e;
  } finally {
    stream.destroy();
  }
}
