// The top bar every signed-in page shares: cluster, who I am, when the
// session ends, and the log-out button. Without a valid session (401) the
// page goes to /web/login.
import { api, describeError, setCsrfToken } from './api.js';
import { byId, clockTime, setAlert } from './dom.js';

// The login page, which comes back here once logged in.
export function toLogin() {
  const here = window.location.pathname + window.location.search;
  window.location.replace(here === '/web/' ? '/web/login' : `/web/login?next=${encodeURIComponent(here)}`);
}

async function logout() {
  const button = byId('logout');
  button.disabled = true;
  try {
    await api('POST', '/v1/web/logout', {});
    toLogin();
  } catch (err) {
    if (err.status === 401) return toLogin();
    setAlert(byId('page-error'), `Logging out failed: ${describeError(err)}`);
    button.disabled = false;
  }
  return undefined;
}

// aria-current="page" on the nav link of the page shown (a session's own
// page belongs to Sessions).
function markCurrentNav() {
  const path = window.location.pathname;
  for (const link of document.querySelectorAll('.nav a')) {
    const href = link.getAttribute('href');
    const current = href === '/web/' ? path === '/web/' : path === href || path.startsWith(`${href}/`);
    if (current) link.setAttribute('aria-current', 'page');
  }
}

// Loads GET /v1/web/session and fills the bar. Resolves to the SessionBody,
// or to null when the page cannot go on (it went to the login page, or the
// error is shown in #page-error).
export async function startSessionBar() {
  byId('logout').addEventListener('click', logout);
  markCurrentNav();
  let session;
  try {
    session = await api('GET', '/v1/web/session');
  } catch (err) {
    if (err.status === 401) {
      toLogin();
      return null;
    }
    setAlert(byId('page-error'), `Your session could not be loaded: ${describeError(err)}`);
    return null;
  }
  setCsrfToken(session.csrf_token);
  byId('cluster').textContent = session.cluster_name || '';
  byId('whoami').textContent = session.user;
  byId('session-ends').textContent = `session ends ${clockTime(session.expires_at)}`;
  byId('session-ends').setAttribute('title', new Date(session.expires_at * 1000).toString());
  byId('session-bar').hidden = false;
  return session;
}
