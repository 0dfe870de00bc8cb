import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AppraiseError, serializeError, type SerializedError } from '../common/errors.js';
import { fileAccess } from '../common/file-access.js';
import { errorResponse, okResponse, type ApiResponse } from '../contract/api-response.js';
import { DEFAULT_MAX_UPLOAD_BYTES, type UploadResult } from '../contract/file-transfer.js';

/**
 * Uploads and downloads of the web host (issue 11, Batch). A browser page cannot hand the host a path on the
 * person's disk, so the file chosen in `<input type=file>` is sent to the host, stored in the workspace's confined
 * `files/uploads/` folder (one folder per upload, so the file keeps its own name and its results land beside it),
 * and its stored path is what the page passes to `batch.inspect` and `score`. Results are downloaded back.
 *
 * Confinement (issue 14, #3): uploads are written only into `dir/uploads/`, and downloads are served only from
 * `dir` and the folders the host was allowed at start (`appraise serve --allow-dir`) — never the rest of the
 * workspace (its database) or the disk, even on a host started without confinement (tests, `npm run web`).
 */
export interface FileTransferOptions {
  /** The workspace's `files/` folder (the confined host writes there). */
  dir: string;
  /** Largest upload accepted, in bytes; default 512 MiB. */
  maxUploadBytes?: number;
}

/** Receives `POST /api/files/upload?name=NAME` (raw body, application/octet-stream) into a new folder of `dir/uploads/`. */
export async function receiveUpload(req: IncomingMessage, url: URL, o: FileTransferOptions): Promise<ApiResponse<UploadResult>> {
  try {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/octet-stream')
      throw new AppraiseError('INVALID_INPUT', 'send the file as the request body with Content-Type: application/octet-stream');
    const name = uploadName(url.searchParams.get('name'));
    const max = o.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > max) throw tooLarge(name, declared, max);
    const folder = join(resolve(o.dir), 'uploads', `${stamp()}-${randomBytes(3).toString('hex')}`);
    const target = join(folder, name);
    fileAccess().checkWrite(target, 'the uploaded file');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const partial = `${target}.partial`;
    try {
      const bytes = await writeBody(req, partial, max, name);
      // Renamed only once complete: a cut connection never leaves a file that looks whole.
      renameSync(partial, target);
      return okResponse({ path: target, name, bytes });
    } catch (e) {
      rmSync(folder, { recursive: true, force: true });
      throw e;
    }
  } catch (e) {
    // The rest of a refused body is read and dropped before answering: a browser still sending it would otherwise
    // see a reset connection instead of the reason (loopback, so even a large file drains in seconds).
    await drain(req);
    return errorResponse(e);
  }
}

function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((done) => {
    req.once('end', done);
    req.once('close', done);
    req.once('error', () => done());
    req.resume();
  });
}

/** Streams `GET /api/files/download?path=PATH` as an attachment; returns the error to send instead, or null once sent. */
export async function downloadFile(url: URL, res: ServerResponse, o: FileTransferOptions): Promise<{ ok: false; error: SerializedError } | null> {
  try {
    const path = url.searchParams.get('path') ?? '';
    if (path.trim() === '' || path.length > 4096 || path.includes('\0')) throw new AppraiseError('INVALID_INPUT', 'say which file to download (path=…)');
    let real: string;
    try {
      real = realpathSync.native(path);
    } catch {
      throw new AppraiseError('NOT_FOUND', `there is no file ${quote(path)} to download; value the file again`);
    }
    const roots = [resolve(o.dir), ...(fileAccess().allowedFolders ?? [])].flatMap((d) => {
      try {
        return [realpathSync.native(d)];
      } catch {
        return [];
      }
    });
    if (!roots.some((d) => inside(real, d)))
      throw new AppraiseError('FORBIDDEN', `${quote(path)} is not a file this app made or was given; only uploaded files and their results can be downloaded`);
    fileAccess().checkRead(path, 'the file to download');
    const st = statSync(real);
    if (!st.isFile()) throw new AppraiseError('INVALID_INPUT', `${quote(path)} is a folder, not a file`);
    res.writeHead(200, {
      'Content-Type': real.endsWith('.csv') ? 'text/csv; charset=utf-8' : 'application/octet-stream',
      'Content-Length': st.size,
      'Content-Disposition': `attachment; filename="${basename(real).replace(/[^\w.\- ]/g, '_')}"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    await new Promise<void>((done) => {
      const s = createReadStream(real);
      s.on('error', () => {
        res.destroy();
        done();
      });
      s.on('end', done);
      s.pipe(res);
    });
    return null;
  } catch (e) {
    return { ok: false, error: serializeError(e) };
  }
}

/** The file's own name, kept readable but reduced to a plain file name: no folders, no control or odd characters. */
function uploadName(raw: string | null): string {
  const given = (raw ?? '').trim();
  if (given === '') throw new AppraiseError('INVALID_INPUT', 'say the file name of the upload (name=…)');
  if (given.length > 255) throw new AppraiseError('INVALID_INPUT', 'the file name is over 255 characters; rename the file');
  const name = basename(given.replace(/\\/g, '/'))
    .replace(/[^\w.\- ()]/g, '_')
    .replace(/^\.+/, '');
  if (name === '' || name.endsWith('.partial')) throw new AppraiseError('INVALID_INPUT', `"${given.slice(0, 60)}" is not a usable file name; rename the file`);
  return name;
}

function writeBody(req: IncomingMessage, file: string, max: number, name: string): Promise<number> {
  return new Promise((done, fail) => {
    const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
    let bytes = 0;
    let settled = false;
    const stop = (e: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(out);
      out.destroy();
      out.once('close', () => fail(e));
    };
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes > max) stop(tooLarge(name, null, max));
    });
    req.on(
      'close',
      () => !req.complete && stop(new AppraiseError('INVALID_INPUT', `the upload of "${name}" was cut off before it finished; choose the file again`)),
    );
    req.on('error', (e) => stop(new AppraiseError('INVALID_INPUT', `the upload of "${name}" failed: ${e.message}`)));
    out.on('error', (e) => stop(new AppraiseError('INVALID_INPUT', `the upload of "${name}" could not be stored: ${e.message}`)));
    out.on('finish', () => {
      if (settled) return;
      settled = true;
      done(bytes);
    });
    req.pipe(out);
  });
}

function tooLarge(name: string, bytes: number | null, max: number): AppraiseError {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
  return new AppraiseError(
    'TOO_LARGE',
    `"${name}" is ${bytes === null ? 'larger than' : `${mb(bytes)}, over`} this app's upload limit of ${mb(max)}. Split the file into smaller files, or put it in a folder the app may read (restart it with: appraise serve --allow-dir "FOLDER") and type its path instead.`,
    { details: { limitBytes: max, ...(bytes === null ? {} : { bytes }) } },
  );
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*$/, '');
}

function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function quote(p: string): string {
  return JSON.stringify(p.length > 200 ? `${p.slice(0, 120)}…${p.slice(-60)}` : p);
}
