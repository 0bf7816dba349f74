// /web/: who I am and the nodes I may log into. Without a valid session
// (401) the page goes to /web/login.
import { api, describeError } from './api.js';
import { byId, el } from './dom.js';
import { startSessionBar, toLogin } from './session_bar.js';

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

function showAccount(session) {
  byId('user-name').textContent = session.user;
  fillList(byId('roles'), session.roles || [], 'none');
  fillList(byId('logins'), session.logins || [], 'none');
  byId('account').hidden = false;
}

function nodeRow(node) {
  const labels = el('td', {});
  for (const label of labelText(node.labels)) labels.append(el('span', { class: 'tag' }, label), ' ');
  const logins = el('td', {});
  (node.logins || []).forEach((login, i) => {
    if (i) logins.append(', ');
    logins.append(el('code', {}, login));
  });
  // A browser terminal per login (/web/terminal), opened in this tab.
  const connect = el('div', { class: 'connect-list' });
  for (const login of node.logins || []) {
    const query = new URLSearchParams({ node: node.host_uuid || '', login });
    connect.append(el('a', {
      class: 'connect', href: `/web/terminal?${query}`, 'data-login': login,
      'aria-label': `Connect to ${node.name || 'the node'} as ${login}`,
    }, `connect as ${login}`));
  }
  return el('tr', { 'data-node': node.host_uuid || '' },
    el('th', { scope: 'row' }, node.name || ''), labels, logins, el('td', {}, connect));
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

async function main() {
  byId('node-filter').addEventListener('input', applyFilter);
  const session = await startSessionBar();
  if (!session) return undefined;
  showAccount(session);
  return showNodes();
}

main();
