// /web/terminal?node=HOST_UUID&login=LOGIN: a new SSH session on the node,
// in the browser. gate-ca opens it to the node's own sshd with a
// certificate for this user alone; the node records it like any other.
// Before connecting, the page checks the node and login against the nodes
// list (the same policy gate-ca applies at the upgrade), because a browser
// is never told why a WebSocket upgrade was refused.
import '@xterm/xterm/css/xterm.css';
import { api, describeError } from './api.js';
import { byId } from './dom.js';
import { startSessionBar, toLogin } from './session_bar.js';
import { openWebTerminal } from './web_terminal.js';

function setStatus(state, text) {
  const status = byId('terminal-status');
  status.textContent = text;
  status.dataset.state = state;
}

// Nothing to connect to: no terminal, and the way back to the nodes.
function refuseBeforeConnecting(text) {
  setStatus('error', text);
  byId('terminal').hidden = true;
  byId('terminal-back').hidden = false;
}

// null when the user may log in as login on the node, else why not.
async function whyNot(hostUuid, login) {
  const reply = await api('GET', '/v1/nodes');
  const nodes = Array.isArray(reply.nodes) ? reply.nodes : [];
  const node = nodes.find((n) => n.host_uuid === hostUuid);
  if (!node) return { text: 'There is no node with this id that you may log into. Pick one on your home page.' };
  const logins = Array.isArray(node.logins) ? node.logins : [];
  if (!logins.includes(login)) {
    const allowed = logins.length ? `Logins you may use there: ${logins.join(', ')}.` : 'No login of yours is allowed there.';
    return { node, text: `login '${login}' not allowed on ${node.name}. ${allowed}` };
  }
  return null;
}

// The socket closed before it opened: say why, as far as the API can tell.
async function explainRefusal(hostUuid, login) {
  try {
    await api('GET', '/v1/web/session');
    const problem = await whyNot(hostUuid, login);
    if (problem) return problem.text;
  } catch (err) {
    if (err.status === 401) {
      toLogin();
      return 'Your session has ended. Log in again.';
    }
    return `gate-ca refused the connection: ${describeError(err)}`;
  }
  return 'gate-ca refused the connection: the node may not be set up for browser terminals yet ' +
    '(an administrator sets its SSH address), or gate-ca is serving as many as it allows. ' +
    'Try again in a moment, or ask your administrator.';
}

async function main() {
  const session = await startSessionBar();
  if (!session) return;
  const params = new URLSearchParams(window.location.search);
  const hostUuid = params.get('node') || '';
  const login = params.get('login') || '';
  if (!hostUuid || !login) {
    refuseBeforeConnecting('This address names no node and login. Pick one on your home page.');
    return;
  }
  let problem;
  try {
    problem = await whyNot(hostUuid, login);
  } catch (err) {
    if (err.status === 401) {
      toLogin();
      return;
    }
    refuseBeforeConnecting(`The node list could not be loaded: ${describeError(err)}`);
    return;
  }
  if (problem) {
    refuseBeforeConnecting(problem.text);
    return;
  }
  document.title = `${login} on a node · gate`;
  const query = new URLSearchParams({ node: hostUuid, login });
  openWebTerminal({
    holder: byId('terminal'),
    path: `/v1/web/terminal?${query}`,
    csrfToken: session.csrf_token,
    onState: async (s) => {
      if (s.state === 'connecting') {
        setStatus('connecting', `Connecting as ${login}…`);
      } else if (s.state === 'connected') {
        const node = s.ready.node || hostUuid;
        setStatus('connected', `Connected as ${s.ready.login || login} on ${node}.`);
        document.title = `${s.ready.login || login}@${node} · gate`;
      } else if (s.state === 'ended') {
        setStatus('ended', `The session ${s.text}.`);
      } else if (s.state === 'error') {
        setStatus('error', s.text);
      } else if (s.state === 'refused') {
        setStatus('error', await explainRefusal(hostUuid, login));
      }
    },
  });
}

main();
