import { BaseFetcher } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';

/**
 * tuf-js's fetcher with the device's bearer token: the registry serves each region's metadata and targets only to
 * that region's devices. tuf-js still bounds every download by the length the metadata allows (endless data).
 */
export class AuthenticatedFetcher extends BaseFetcher {
  constructor(
    private readonly token: string,
    private readonly timeoutMs = 30_000,
    /** Ends every download at once (the app host closing). */
    private readonly signal?: AbortSignal,
  ) {
    super();
  }

  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${this.token}` },
      signal: this.signal ? AbortSignal.any([this.signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new DownloadHTTPError(`the registry answered ${response.status} for ${new URL(url).pathname}`, response.status);
    }
    return response.body as ReadableStream<Uint8Array<ArrayBuffer>>;
  }
}
