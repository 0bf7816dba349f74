// /web/sessions: the sessions gate-ca lets me see (GET /v1/sessions applies
// the visibility), newest first. The filters and the page live in the
// page's own query (live, user, node, limit, before), so every view has a
// real URL that survives reload and the back button.
import { api, describeError } from './api.js';
import { byId, el } from './dom.js';
import { startSessionBar, toLogin } from './session_bar.js';
import { dateTime, recordingState, sessionDuration, sessionState } from './session_state.js';

const FILTERS = ['live', 'user', 'node', 'limit'];

// The filters of the page's URL, without empty values.
function pageFilters() {
  const query = new URLSearchParams(window.location.search);
  const filters = new URLSearchParams();
  for (const name of FILTERS) {
    const value = (query.get(name) || '').trim();
    if (value) filters.set(name, value);
  }
  return { filters, before: (query.get('before') || '').trim() };
}

function pageUrl(filters, before) {
  const query = new URLSearchParams(filters);
  if (before) query.set('before', before);
  const text = query.toString();
  return text ? `/web/sessions?${text}` : '/web/sessions';
}

function badge(state, prefix) {
  return el('span', { class: `badge ${prefix}-${state.key}`, title: state.detail || null }, state.label);
}

function sessionRow(s) {
  const id = String(s.id || '');
  const link = el('a', { href: `/web/sessions/${encodeURIComponent(id)}`, title: id },
    el('code', {}, id.slice(0, 8)));
  // data-label: the column's name, shown beside each cell where the
  // table is stacked (phone width).
  return el('tr', { 'data-session': id },
    el('th', { scope: 'row', 'data-label': 'Node' }, s.node_name || s.node || ''),
    el('td', { 'data-label': 'User' }, s.user || ''),
    el('td', { 'data-label': 'Login' }, el('code', {}, s.login || '')),
    el('td', { 'data-label': 'Started' },
      el('time', { datetime: new Date(s.started_at * 1000).toISOString() }, dateTime(s.started_at))),
    el('td', { 'data-label': 'Duration' }, sessionDuration(s)),
    el('td', { 'data-label': 'State' }, badge(sessionState(s), 'state')),
    el('td', { 'data-label': 'Recording' }, badge(recordingState(s), 'rec')),
    el('td', { 'data-label': 'Session' }, link));
}

function fillForm(filters) {
  byId('filter-live').checked = filters.get('live') === '1';
  byId('filter-user').value = filters.get('user') || '';
  byId('filter-node').value = filters.get('node') || '';
  byId('filter-clear').hidden = ![...filters.keys()].some((k) => k !== 'limit');
}

// Submits only the filters that hold something, keeping the page size:
// "/web/sessions?user=alice" rather than "?live=&user=alice&node=".
function onFilter(event) {
  event.preventDefault();
  const { filters } = pageFilters();
  const next = new URLSearchParams();
  if (byId('filter-live').checked) next.set('live', '1');
  const user = byId('filter-user').value.trim();
  const node = byId('filter-node').value.trim();
  if (user) next.set('user', user);
  if (node) next.set('node', node);
  if (filters.get('limit')) next.set('limit', filters.get('limit'));
  window.location.assign(pageUrl(next, ''));
}

function loadSessions() {
  const { filters, before } = pageFilters();
  const query = new URLSearchParams(filters);
  if (before) query.set('before', before);
  return api('GET', `/v1/sessions${query.toString() ? `?${query}` : ''}`);
}

async function showSessions(loading) {
  const { filters, before } = pageFilters();
  fillForm(filters);
  const status = byId('sessions-status');
  let reply;
  try {
    reply = await loading;
  } catch (err) {
    if (err.status === 401) return toLogin();
    status.textContent = `The sessions could not be loaded: ${describeError(err)}`;
    return undefined;
  }
  const sessions = Array.isArray(reply.sessions) ? reply.sessions : [];
  byId('sessions-body').replaceChildren(...sessions.map(sessionRow));
  byId('sessions-table').hidden = sessions.length === 0;
  if (sessions.length === 0) {
    status.textContent = before ? 'No more sessions.' : 'No session matches.';
  } else {
    status.textContent = `${sessions.length} session${sessions.length === 1 ? '' : 's'}` +
      (before ? ' (a later page)' : '');
  }
  const next = byId('next-page');
  next.hidden = typeof reply.next_before !== 'string' || !reply.next_before;
  if (!next.hidden) next.setAttribute('href', pageUrl(filters, reply.next_before));
  const first = byId('first-page');
  first.hidden = !before;
  first.setAttribute('href', pageUrl(filters, ''));
  return undefined;
}

async function main() {
  byId('sessions-filter').addEventListener('submit', onFilter);
  // The list needs only the cookie, not the top bar's CSRF token: ask for
  // both at once. Without a session both answer 401 and the bar goes to login.
  const loading = loadSessions();
  loading.catch(() => {}); // handled by showSessions, once the bar is up
  const session = await startSessionBar();
  if (!session) return undefined;
  return showSessions(loading);
}

main();
