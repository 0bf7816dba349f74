// /web/: who I am and the nodes I may log into. Without a valid session
// (401) the page goes to /web/login.
import { api, describeError, setCsrfToken } from './api.js';
import { byId, clockTime, el, setAlert } from './dom.js';

function toLogin() {
  window.location.replace('/web/login');
}

function fillList(list, items, empty) {
  list.replaceChildren();
  if (!items.length) {
    list.append(el('li', { class: 'muted' }, empty));
    return;
  }
  for (const item of items) list.append(el('li', {}, el('code', {}, item)));
}

function labelText(labels) {
  return Object.keys(labels || {}).sort().map((k) => `${k}=${labels[k]}`);
}

function showSession(session) {
  setCsrfToken(session.csrf_token);
  byId('cluster').textContent = session.cluster_name || '';
  byId('whoami').textContent = session.user;
  byId('user-name').textContent = session.user;
  byId('session-ends').textContent = `session ends ${clockTime(session.expires_at)}`;
  byId('session-ends').setAttribute('title', new Date(session.expires_at * 1000).toString());
  fillList(byId('roles'), session.roles || [], 'none');
  fillList(byId('logins'), session.logins || [], 'none');
  byId('account').hidden = false;
  byId('session-bar').hidden = false;
}

function nodeRow(node) {
  const labels = el('td', {});
  for (const label of labelText(node.labels)) labels.append(el('span', { class: 'tag' }, label), ' ');
  const logins = el('td', {});
  (node.logins || []).forEach((login, i) => {
    if (i) logins.append(', ');
    logins.append(el('code', {}, login));
  });
  return el('tr', {}, el('th', { scope: 'row' }, node.name || ''), labels, logins);
}

function applyFilter() {
  const words = byId('node-filter').value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const row of byId('nodes-body').rows) {
    const text = row.textContent.toLowerCase();
    row.hidden = !words.every((w) => text.includes(w));
    if (!row.hidden) shown++;
  }
  byId('nodes-count').textContent = `${shown} of ${byId('nodes-body').rows.length} nodes`;
}

async function showNodes() {
  const status = byId('nodes-status');
  try {
    const reply = await api('GET', '/v1/nodes');
    const nodes = Array.isArray(reply.nodes) ? reply.nodes : [];
    nodes.sort((a, b) => String(a.name).localeCompare(String(b.name)));
    const body = byId('nodes-body');
    body.replaceChildren(...nodes.map(nodeRow));
    byId('nodes-table').hidden = nodes.length === 0;
    byId('nodes-filter-bar').hidden = nodes.length === 0;
    status.textContent = nodes.length === 0
      ? 'No node lets you log in yet. Ask your administrator for a role that reaches one.'
      : '';
    applyFilter();
  } catch (err) {
    if (err.status === 401) return toLogin();
    status.textContent = `The node list could not be loaded: ${describeError(err)}`;
  }
  return undefined;
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

async function main() {
  byId('logout').addEventListener('click', logout);
  byId('node-filter').addEventListener('input', applyFilter);
  let session;
  try {
    session = await api('GET', '/v1/web/session');
  } catch (err) {
    if (err.status === 401) return toLogin();
    setAlert(byId('page-error'), `Your session could not be loaded: ${describeError(err)}`);
    return undefined;
  }
  showSession(session);
  return showNodes();
}

main();
