// azure://container targets: one Blob Storage container, blob names = file names. A put is a single
// Put Blob (up to --azure-max-single-put-size) or staged blocks committed at the end; either way the
// service makes the blob visible only when all of it arrived, so a failed or aborted put leaves
// nothing (staged blocks that are never committed are discarded by the service).
import type { Readable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import type { Backend, OperationOptions, PutSource } from '../types.js';
import { BackendError } from '../errors.js';
import { exactLength } from '../exact-length.js';

export interface AzurePutSettings {
  /** sizes up to this go in one Put Blob request */
  maxSinglePutSize: number;
  /** block size of larger uploads; uploadStream holds up to `connections` blocks in memory */
  blockSize: number;
  connections: number;
  /** Hot, Cool, Cold, Archive */
  tier?: string;
}

export class AzureBackend implements Backend {
  readonly displayUrl: string;
  readonly capabilities: { connections: number; atomicPut: boolean };
  readonly #container: ContainerClient;
  readonly #settings: AzurePutSettings;
  /** strings that must never reach a message: the account key, a SAS */
  readonly #secrets: string[];
  #containerReady: Promise<void> | undefined;

  constructor(container: ContainerClient, settings: AzurePutSettings, displayUrl: string, secrets: string[]) {
    this.#container = container;
    this.#settings = settings;
    this.displayUrl = displayUrl;
    this.#secrets = secrets.filter((s) => s.length > 0);
    this.capabilities = { connections: 4, atomicPut: true };
  }

  async *list(options: OperationOptions & { prefix?: string } = {}): AsyncIterable<{ name: string; size: number }> {
    try {
      const pages = this.#container.listBlobsFlat({ prefix: options.prefix || undefined, abortSignal: options.signal });
      for await (const blob of pages) yield { name: blob.name, size: Number(blob.properties.contentLength ?? 0) };
    } catch (err) {
      if (statusOf(err) === 404) return;
      throw this.#classify(err, 'list');
    }
  }

  async put(name: string, source: PutSource, options: OperationOptions = {}): Promise<void> {
    checkName(name);
    await this.#ensureContainer(options.signal);
    const blob = this.#container.getBlockBlobClient(name);
    // the SDK does not notice a failing body stream (it waits for the server to time out): a failed
    // source aborts the request itself, and the first failure is the one reported
    const failed = new AbortController();
    let failure: unknown;
    const opened: Readable[] = [];
    const body = () => {
      const stream = exactLength(source, name).once('error', (err) => {
        failure ??= err;
        failed.abort(err);
      });
      opened.push(stream);
      return stream;
    };
    const common = {
      abortSignal: options.signal ? AbortSignal.any([options.signal, failed.signal]) : failed.signal,
      tier: this.#settings.tier,
      blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
    };
    try {
      if (source.size <= this.#settings.maxSinglePutSize) {
        await blob.upload(body, source.size, common);
      } else {
        await blob.uploadStream(body(), this.#settings.blockSize, this.#settings.connections, common);
      }
    } catch (err) {
      // a refused upload (403, 409) leaves the source open and paused: close it
      for (const stream of opened) stream.destroy();
      throw this.#classify(failure ?? err, `put ${name}`);
    }
  }

  async read<T>(name: string, consume: (body: Readable) => Promise<T>, options: OperationOptions = {}): Promise<T> {
    checkName(name);
    let body: Readable;
    try {
      const response = await this.#container.getBlobClient(name).download(0, undefined, { abortSignal: options.signal });
      body = response.readableStreamBody as Readable;
    } catch (err) {
      throw this.#classify(err, `read ${name}`);
    }
    try {
      return await consume(body);
    } finally {
      body.destroy();
    }
  }

  async delete(names: readonly string[], options: OperationOptions = {}): Promise<void> {
    for (const name of names) {
      checkName(name);
      try {
        await this.#container.getBlobClient(name).deleteIfExists({ deleteSnapshots: 'include', abortSignal: options.signal });
      } catch (err) {
        if (statusOf(err) === 404) continue; // the container itself is gone: nothing to delete
        throw this.#classify(err, `delete ${name}`);
      }
    }
  }

  async close(): Promise<void> {}

  /** duplicity creates the container on first use; once per backend, again after a failure */
  #ensureContainer(signal?: AbortSignal): Promise<void> {
    this.#containerReady ??= this.#container.createIfNotExists({ abortSignal: signal }).then(() => undefined, (err) => {
      this.#containerReady = undefined;
      throw this.#classify(err, `create container ${this.#container.containerName}`);
    });
    return this.#containerReady;
  }

  #redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out.replace(/([?&]sig=)[^&\s"']+/gi, '$1***');
  }

  #classify(err: unknown, what: string): BackendError {
    if (err instanceof BackendError) return err;
    const e = err as { name?: string; code?: string; message?: string; statusCode?: number };
    const status = statusOf(err);
    const detail = this.#redact(String(e?.message ?? err).split('\n')[0]);
    const message = `Azure ${what}: ${status ? `${status} ` : ''}${e?.code && !detail.includes(e.code) ? `${e.code}: ` : ''}${detail}`;
    if (e?.name === 'AbortError') return new BackendError('permanent', `Azure ${what}: aborted`);
    if (status === 401 || status === 403) {
      return new BackendError('auth', message, { hint: 'check AZURE_CONNECTION_STRING (or AZURE_ACCOUNT_NAME and AZURE_ACCOUNT_KEY)' });
    }
    if (status === 404) return new BackendError('not-found', message, { hint: 'check the container in the target URL' });
    if (status === 408 || status === 429 || (status !== undefined && status >= 500)) return new BackendError('transient', message);
    if (status === undefined && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND|REQUEST_SEND_ERROR)$/.test(e?.code ?? '')) {
      return new BackendError('transient', message, { hint: 'check that the storage endpoint is reachable' });
    }
    return new BackendError('permanent', message);
  }
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function checkName(name: string): void {
  if (name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new BackendError('permanent', `bad file name "${name}" for a backend`);
  }
}
