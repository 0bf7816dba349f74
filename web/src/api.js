// The one way the pages talk to gate-ca: same-origin JSON, the session
// cookie sent by the browser, and the session's CSRF token on every request
// that changes state (docs/web.md, docs/api.md).

let csrfToken = '';

// Remembers the CSRF token of the session (from a SessionBody).
export function setCsrfToken(token) {
  csrfToken = typeof token === 'string' ? token : '';
}

// A refused or failed request: HTTP status (0 when gate-ca could not be
// reached), the error's code, message and, for signup tokens, reason.
export class ApiError extends Error {
  constructor(status, code, message, reason) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.reason = reason;
  }
}

// Sends method path with body (an object, sent as JSON) and resolves to the
// reply's JSON object, or rejects with an ApiError.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
  if (method !== 'GET' && method !== 'HEAD') {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body === undefined ? {} : body);
    if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'unavailable',
      'gate-ca could not be reached. Check your connection and try again.', '');
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const error = (data && typeof data.error === 'object' && data.error) || {};
    const message = typeof error.message === 'string' && error.message
      ? error.message
      : `gate-ca answered HTTP ${res.status}.`;
    throw new ApiError(res.status, String(error.code || ''), message, String(error.reason || ''));
  }
  return data && typeof data === 'object' ? data : {};
}

// The message to show a person for a failed request. A server error's text
// is generic by design; say what to do instead.
export function describeError(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong in this page. Reload it and try again.';
  if (err.status === 429) return `${err.message} (Too many attempts from your address.)`;
  if (err.status >= 500) return 'gate-ca could not answer right now. Try again in a moment; if it persists, tell your administrator.';
  return err.message;
}
