// One B2 account session: b2_authorize_account, the JSON API calls, and B2's own retry rules, kept
// small and bounded: an expired token (401 expired_auth_token) is renewed and the call repeated; 408,
// 429 and 5xx answers and broken connections are retried after a backoff (Retry-After when B2 sends
// one). When these few attempts are used up the error leaves as a BackendError 'transient', and the
// generic retry wrapper (src/backend/retry.ts) may repeat the whole operation later: the B2 layer
// handles what only B2 can (tokens, upload URLs), the wrapper handles long outages.
import { setTimeout as sleep } from 'node:timers/promises';
import { B2ApiError, B2ConnectionError, errorFromResponse, isExpiredToken, isRetryable, toBackendError } from './b2-error.js';

export const DEFAULT_API_URL = 'https://api.backblazeb2.com';

export interface Authorization {
  accountId: string;
  token: string;
  apiUrl: string;
  downloadUrl: string;
  recommendedPartSize: number;
  absoluteMinimumPartSize: number;
  capabilities: string[];
  /** set when the key is restricted to one bucket */
  bucketId: string | null;
  bucketName: string | null;
  /** set when the key is restricted to names starting with it */
  namePrefix: string | null;
}

export interface RetryPolicy {
  /** attempts per call, the first included */
  attempts: number;
  /** first backoff; doubled per attempt, with jitter */
  baseDelayMs: number;
  /** a Retry-After longer than this is not waited for here (the generic wrapper may) */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 60_000 };

/** how many times one call may renew an expired token before giving up */
const TOKEN_RENEWALS = 2;

const USER_AGENT = 'lifeboat/0.1 (B2 native API v2)';

export class B2Session {
  readonly #baseUrl: string;
  readonly #keyId: string;
  readonly #applicationKey: string;
  readonly retry: RetryPolicy;
  #current: Promise<Authorization> | undefined;

  constructor(baseUrl: string, keyId: string, applicationKey: string, retry: RetryPolicy = DEFAULT_RETRY) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
    this.#keyId = keyId;
    this.#applicationKey = applicationKey;
    this.retry = retry;
  }

  authorization(): Promise<Authorization> {
    if (!this.#current) {
      const pending = this.#authorize();
      // a failed authorization is not kept: the next call tries again
      pending.catch(() => { if (this.#current === pending) this.#current = undefined; });
      this.#current = pending;
    }
    return this.#current;
  }

  /** Renews the token once for everyone holding `stale`: concurrent 401s share one b2_authorize_account. */
  async renew(stale: Authorization): Promise<Authorization> {
    const current = await this.#current?.catch(() => undefined);
    if (current === stale || current === undefined) this.#current = undefined;
    return this.authorization();
  }

  async #authorize(): Promise<Authorization> {
    return this.withRetries('b2_authorize_account', async () => {
      const basic = Buffer.from(`${this.#keyId}:${this.#applicationKey}`).toString('base64');
      const response = await send('b2_authorize_account', `${this.#baseUrl}/b2api/v2/b2_authorize_account`, {
        headers: { Authorization: `Basic ${basic}`, 'User-Agent': USER_AGENT },
      });
      const body = await response.json() as Record<string, unknown>;
      const allowed = (body.allowed ?? {}) as Record<string, unknown>;
      const auth: Authorization = {
        accountId: String(body.accountId),
        token: String(body.authorizationToken),
        apiUrl: String(body.apiUrl).replace(/\/+$/, ''),
        downloadUrl: String(body.downloadUrl).replace(/\/+$/, ''),
        recommendedPartSize: Number(body.recommendedPartSize),
        absoluteMinimumPartSize: Number(body.absoluteMinimumPartSize),
        capabilities: Array.isArray(allowed.capabilities) ? allowed.capabilities.map(String) : [],
        bucketId: typeof allowed.bucketId === 'string' ? allowed.bucketId : null,
        bucketName: typeof allowed.bucketName === 'string' ? allowed.bucketName : null,
        namePrefix: typeof allowed.namePrefix === 'string' ? allowed.namePrefix : null,
      };
      if (!auth.token || !auth.apiUrl.startsWith('http') || !(auth.recommendedPartSize > 0)) {
        throw new B2ApiError('b2_authorize_account', 200, 'bad_response', 'the answer lacks a token, apiUrl or part sizes');
      }
      return auth;
    }, { renewToken: false });
  }

  /** A JSON API call (POST apiUrl/b2api/v2/NAME) with token renewal and B2's retries. */
  async call<T>(api: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    return this.withRetries(api, async (auth) => {
      const response = await send(api, `${auth.apiUrl}/b2api/v2/${api}`, {
        method: 'POST',
        headers: { Authorization: auth.token, 'Content-Type': 'application/json', 'User-Agent': USER_AGENT },
        body: JSON.stringify(body),
        signal,
      });
      return await response.json() as T;
    }, { signal });
  }

  /** A GET on the download URL with the account token (b2_download_file_by_name). */
  async download(path: string, signal?: AbortSignal): Promise<Response> {
    return this.withRetries('b2_download_file_by_name', (auth) => send('b2_download_file_by_name', `${auth.downloadUrl}${path}`, {
      headers: { Authorization: auth.token, 'User-Agent': USER_AGENT },
      signal,
    }), { signal });
  }

  /**
   * Runs `attempt` under B2's rules: an expired account token is renewed (renewToken, the default);
   * retryable failures are tried again after a backoff. Anything else, or the last failure, leaves
   * as a BackendError. Uploads pass renewToken: false: their own attempt takes a fresh upload URL.
   */
  async withRetries<T>(
    api: string,
    attempt: (auth: Authorization) => Promise<T>,
    options: { signal?: AbortSignal; renewToken?: boolean; what?: string } = {},
  ): Promise<T> {
    let renewals = 0;
    for (let n = 1; ; n++) {
      let auth: Authorization | undefined;
      try {
        auth = api === 'b2_authorize_account' ? undefined : await this.authorization();
        return await attempt(auth as Authorization);
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason ?? err;
        if (isExpiredToken(err) && renewals < TOKEN_RENEWALS) {
          renewals++;
          n--;
          if (options.renewToken !== false && auth) await this.renew(auth);
          continue;
        }
        if (!isRetryable(err) || n >= this.retry.attempts) throw toBackendError(err, options.what);
        const wait = (err as B2ApiError).retryAfterMs ?? backoff(this.retry.baseDelayMs, n);
        if (wait > this.retry.maxDelayMs) throw toBackendError(err, options.what);
        await sleep(wait, undefined, { signal: options.signal });
      }
    }
  }
}

function backoff(base: number, attempt: number): number {
  const full = base * 2 ** (attempt - 1);
  return full / 2 + Math.random() * full / 2;
}

/** fetch, with failures turned into B2ApiError (an answer) or B2ConnectionError (no answer). */
export async function send(api: string, url: string, init: RequestInit & { duplex?: 'half' }): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    if (init.signal?.aborted) throw init.signal.reason ?? err;
    throw new B2ConnectionError(api, err);
  }
  if (!response.ok) throw await errorFromResponse(api, response);
  return response;
}
