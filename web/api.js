// The client of the public API: the session (token in sessionStorage, never a cookie), requests
// with the bearer token, RFC 9457 problems as errors, and list shapes old and new.

import { clerkMessage } from './labels.js';

const SESSION_KEY = 'municipal-kpi.session';
const API = '/api/v1';

/** An error answer of the API: `status`, the problem's `title`/`detail`, and field messages. */
export class ApiError extends Error {
  constructor(status, problem, response) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem ?? {};
    this.retryAfter = Number.parseInt(response?.headers.get('Retry-After') ?? '', 10) || null;
  }

  /** `[{field, message}]` from a 422, keyed for the form that sent the body. */
  get fieldErrors() {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

/** Lists are `{items,total,limit,offset}`; some endpoints used to answer bare arrays. */
export function items(list) {
  if (Array.isArray(list)) return list;
  return Array.isArray(list?.items) ? list.items : [];
}

let session = readSession();
let expiryTimer = null;
let expiredListener = () => {};

function readSession() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    return stored && stored.token && stored.expiresAt > Date.now() ? stored : null;
  } catch {
    return null;
  }
}

export function currentSession() {
  return session;
}

/** Called once the token has expired or the server no longer accepts it. */
export function onSessionExpired(listener) {
  expiredListener = listener;
  armExpiry();
}

function armExpiry() {
  clearTimeout(expiryTimer);
  if (!session) return;
  // setTimeout takes at most ~24.8 days; a token lives far less.
  const wait = Math.min(Math.max(session.expiresAt - Date.now(), 0), 2 ** 31 - 1);
  expiryTimer = setTimeout(() => expire('セッションの有効期限が切れました。もう一度ログインしてください。'), wait);
}

function expire(message) {
  if (!session) return;
  endSession();
  expiredListener(message);
}

export function endSession() {
  session = null;
  clearTimeout(expiryTimer);
  sessionStorage.removeItem(SESSION_KEY);
}

async function readProblem(response) {
  const type = response.headers.get('Content-Type') ?? '';
  if (type.includes('json')) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Exchanges a username and password (and the municipality's code, when given) for a token; 401
 * and 429 come back as ApiError.
 */
export async function login(username, password, municipality) {
  const response = await fetch(`${API}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ username, password, municipality }),
    credentials: 'omit',
  });
  if (!response.ok) throw new ApiError(response.status, await readProblem(response), response);
  return beginSession(await response.json(), username);
}

/** Keeps a token answer (`POST /auth/token` or `/auth/oidc/ticket`) as the session. */
export function beginSession(token, username) {
  session = { token: token.access_token, expiresAt: Date.now() + token.expires_in * 1000, username };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  armExpiry();
  return session;
}

/**
 * One API call. Returns `{data, etag, status}`; `data` is parsed JSON, or a Blob with `blob: true`.
 * A 401 ends the session (the token expired, was revoked, or was signed by a previous server).
 */
export async function call(method, path, { body, headers = {}, blob = false, accept } = {}) {
  if (!session) throw new ApiError(401, { detail: 'ログインしていません。' });
  const init = {
    method,
    headers: { Authorization: `Bearer ${session.token}`, Accept: accept ?? 'application/json', ...headers },
    credentials: 'omit',
    cache: 'no-store',
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`${API}${path}`, init);
  if (response.status === 401) {
    const problem = await readProblem(response);
    // The API explains a refused token for developers, in English: the clerk is told in Japanese.
    expire(`ログインし直してください（${clerkMessage(problem?.detail) ?? '認証の有効期限が切れたか、無効になりました'}）。`);
    throw new ApiError(401, problem, response);
  }
  if (!response.ok) throw new ApiError(response.status, await readProblem(response), response);
  const etag = response.headers.get('ETag');
  if (blob) return { data: await response.blob(), etag, status: response.status, response };
  const type = response.headers.get('Content-Type') ?? '';
  const data = type.includes('json') ? await response.json() : await response.text();
  return { data, etag, status: response.status };
}

export const get = (path, options) => call('GET', path, options);

/** Runs `task` over `values` with at most `limit` requests in flight. */
export async function mapLimited(values, limit, task) {
  const results = new Array(values.length);
  let next = 0;
  const worker = async () => {
    while (next < values.length) {
      const index = next++;
      results[index] = await task(values[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, values.length) }, worker));
  return results;
}
