// /web/sessions/ID: one session. A finished one replays in
// asciinema-player, which only this page bundles; its recording is fetched
// whole through the chunked recording API and handed to the player as
// text. A live one opens the live join (xterm.js over the join WebSocket),
// observer first, with the `gate join` command as the terminal's
// alternative. An unknown id and one I may not see are the same "not
// found" (gate-ca answers 404 alike).
import 'asciinema-player/dist/bundle/asciinema-player.css';
import '@xterm/xterm/css/xterm.css';
import { ApiError, api, describeError } from './api.js';
import { byId, copyButton, el, setAlert } from './dom.js';
import { startSessionBar, toLogin } from './session_bar.js';
import { dateTime, recordingState, sessionDuration, sessionState } from './session_state.js';

const PREFIX = '/web/sessions/';
// Bytes per recording request: small enough that the page can say how far
// it got, large enough that a long session takes few round trips.
const PAGE_BYTES = 1024 * 1024;
// A recording bigger than this would not play well in a tab anyway; the
// page says to use `gate play` instead of loading it.
const MAX_BROWSER_RECORDING = 256 * 1024 * 1024;

function sessionIdFromPath() {
  const rest = window.location.pathname.slice(PREFIX.length);
  try {
    const id = decodeURIComponent(rest);
    return id && !id.includes('/') ? id : '';
  } catch {
    return '';
  }
}

function showCommand(id, text) {
  const code = byId(id);
  code.textContent = text;
  code.after(copyButton(code, `Copy the command ${text}`));
}

function exitText(exit) {
  if (!exit || typeof exit !== 'object') return 'none recorded';
  if (typeof exit.exit_status === 'number') return `status ${exit.exit_status}`;
  if (typeof exit.signal === 'string') return `signal ${exit.signal}`;
  return JSON.stringify(exit);
}

function verificationText(s, rec) {
  switch (rec.key) {
    case 'verified':
      return sessionState(s).key === 'cut-short'
        ? `Recording verified up to where it was cut short (${rec.detail}): every byte is signed by the node's recorder key.`
        : `Recording verified (${rec.detail}): every byte is signed by the node's recorder key.`;
    case 'pending':
      return 'The recording is still being recorded; gate-ca verifies it once it is complete.';
    default:
      return `Recording unverified: ${rec.detail.replace(/^not verified: /, '')}. Treat what it shows with care.`;
  }
}

function showFacts(s) {
  const state = sessionState(s);
  const rec = recordingState(s);
  byId('session-who').textContent = `${s.user} as ${s.login} on ${s.node_name || s.node}`;
  const badge = byId('session-state');
  badge.textContent = state.label;
  badge.className = `badge state-${state.key}`;
  byId('fact-node').textContent = s.node_name || s.node || '';
  byId('fact-user').textContent = s.user || '';
  byId('fact-login').textContent = s.login || '';
  byId('fact-started').textContent = dateTime(s.started_at);
  byId('fact-duration').textContent = sessionDuration(s) + (s.live ? ' so far' : '');
  byId('fact-exit').textContent = s.live ? 'still running' : exitText(s.exit);
  byId('fact-id').textContent = s.id;
  const verification = byId('verification');
  verification.replaceChildren(
    el('span', { id: 'verified-badge', class: `badge rec-${rec.key}`, 'data-verified': String(s.verified === true) }, rec.label),
    ' ', verificationText(s, rec));
  document.title = `${s.user}@${s.node_name || s.node} · gate`;
  byId('session').hidden = false;
}

// The whole recording: pages of GET /v1/sessions/ID/recording from offset
// 0 until 204 or the size gate-ca reports. Resolves to its bytes.
async function fetchRecording(id, onProgress) {
  const parts = [];
  let offset = 0;
  for (;;) {
    let res;
    try {
      res = await fetch(`/v1/sessions/${encodeURIComponent(id)}/recording?offset=${offset}&limit=${PAGE_BYTES}`,
        { credentials: 'same-origin', cache: 'no-store', redirect: 'error' });
    } catch {
      throw new ApiError(0, 'unavailable', 'gate-ca could not be reached. Check your connection and try again.', '');
    }
    if (res.status === 204) break;
    if (!res.ok) {
      let message = `gate-ca answered HTTP ${res.status}.`;
      try {
        const body = await res.json();
        if (body && body.error && body.error.message) message = body.error.message;
      } catch { /* keep the status */ }
      throw new ApiError(res.status, '', message, '');
    }
    const size = Number(res.headers.get('X-Gate-Recording-Size'));
    if (Number.isFinite(size) && size > MAX_BROWSER_RECORDING) {
      throw new ApiError(413, '', `The recording is ${size} bytes, too big to replay in the browser: use gate play.`, '');
    }
    const chunk = new Uint8Array(await res.arrayBuffer());
    if (chunk.length === 0) break;
    parts.push(chunk);
    offset += chunk.length;
    onProgress(offset, size);
    if (Number.isFinite(size) && offset >= size) break;
  }
  const whole = new Uint8Array(offset);
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.length;
  }
  return whole;
}

// What the player gets: the header and the terminal's output and resizes.
// Input, gate's checkpoints, joins and the exit are not shown (as `gate
// play` does); joins and leaves become markers on the seek bar. A line
// that does not parse (a partial last line of a recording cut short) ends
// the replay there.
function playable(text) {
  const lines = text.split('\n');
  const out = [lines[0]];
  const markers = [];
  for (const line of lines.slice(1)) {
    if (!line) continue;
    let event;
    try {
      event = JSON.parse(line);
    } catch {
      break;
    }
    if (!Array.isArray(event) || typeof event[0] !== 'number') break;
    if (event[1] === 'o' || event[1] === 'r') {
      out.push(line);
    } else if (event[1] === 'j') {
      try {
        const j = JSON.parse(event[2]);
        markers.push([event[0], `${j.user} ${j.event === 'leave' ? 'left' : 'joined'} (${j.mode})`]);
      } catch { /* a malformed join note is not a marker */ }
    }
  }
  return { cast: `${out.join('\n')}\n`, markers };
}

// The player and the terminal are most of the page's weight, and a session
// needs only one of them: each is fetched when the page knows which.
const loadPlayer = () => import('asciinema-player');
const loadTerminal = () => import('./web_terminal.js');

function startPlayer(create, recording, startAt) {
  const holder = byId('player');
  holder.replaceChildren();
  const idle = Number(byId('replay-idle').value);
  const opts = {
    controls: true,
    fit: 'width',
    preload: true,
    speed: Number(byId('replay-speed').value),
    markers: recording.markers,
    terminalFontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
  };
  if (idle > 0) opts.idleTimeLimit = idle;
  const player = create({ data: recording.cast }, holder, opts);
  if (startAt > 0) player.seek(startAt).catch(() => {});
  return player;
}

async function showReplay(s) {
  byId('replay').hidden = false;
  showCommand('play-command', `gate play ${s.id}`);
  const status = byId('replay-status');
  status.textContent = 'Loading the recording…';
  const playerModule = loadPlayer();
  playerModule.catch(() => {}); // reported below, once the recording is in
  let bytes;
  let create;
  try {
    bytes = await fetchRecording(s.id, (done, size) => {
      status.textContent = `Loading the recording… ${done} of ${size} bytes`;
    });
    ({ create } = await playerModule);
  } catch (err) {
    if (err.status === 401) return toLogin();
    status.textContent = `The recording could not be loaded: ${describeError(err)}`;
    return undefined;
  }
  const text = new TextDecoder().decode(bytes);
  const recording = playable(text);
  const download = byId('download');
  download.setAttribute('href', URL.createObjectURL(new Blob([bytes], { type: 'application/x-asciicast' })));
  download.setAttribute('download', `${s.id}.cast`);
  download.hidden = false;
  status.textContent = `${bytes.length} bytes.`;
  let player = startPlayer(create, recording, 0);
  // Speed and the idle limit are fixed when a player is made: make a new
  // one where the old one was.
  const restart = () => {
    const at = player.getCurrentTime() || 0;
    player.dispose();
    player = startPlayer(create, recording, at);
  };
  byId('replay-speed').addEventListener('change', restart);
  byId('replay-idle').addEventListener('change', restart);
  return undefined;
}

const MODE_TEXT = {
  observer: 'You are observing: you see the session as it happens, and your keystrokes are not sent.',
  peer: 'You joined as a peer: what you type goes to the session, as if typed by its owner.',
};

// The join socket closed before it opened: say why, as far as the API can
// tell (a browser is not told why an upgrade was refused).
async function explainRefusal(id) {
  try {
    const now = await api('GET', `/v1/sessions/${encodeURIComponent(id)}`);
    if (!now.live) return 'The session has ended. Reload the page for its replay.';
    // gate-ca joins as the first login the user may use on the node.
    const reply = await api('GET', '/v1/nodes');
    const node = (Array.isArray(reply.nodes) ? reply.nodes : []).find((n) => n.host_uuid === now.node);
    if (!node || !Array.isArray(node.logins) || node.logins.length === 0) {
      return `You have no login on ${now.node_name || 'this session\'s node'}, which joining in the browser needs. Join from a terminal with the command below.`;
    }
  } catch (err) {
    if (err.status === 401) {
      toLogin();
      return 'Your session has ended. Log in again.';
    }
    if (err.status === 404) return 'This session is no longer one you may see.';
  }
  return 'gate-ca refused to join this session: its node may not be set up for browser terminals ' +
    'yet (an administrator sets its SSH address), or gate-ca is serving as many as it allows. ' +
    'Reload the page to try again, or join from a terminal with the command below.';
}

// The live join, as observer or peer; the switch reconnects in the other
// mode (gate join records the leave and the new join).
async function startJoin(s, csrfToken, mode) {
  const text = byId('join-mode-text');
  text.textContent = MODE_TEXT[mode];
  text.dataset.mode = mode;
  const button = byId('join-switch');
  button.textContent = mode === 'observer' ? 'Join as peer' : 'Observe only';
  button.hidden = false;
  button.onclick = null; // until this mode's terminal exists
  const status = byId('join-status');
  const setStatus = (state, message) => {
    status.textContent = message;
    status.dataset.state = state;
  };
  const query = new URLSearchParams({ mode });
  let openWebTerminal;
  try {
    ({ openWebTerminal } = await loadTerminal());
  } catch {
    setStatus('error', 'The terminal could not be loaded from gate-ca. Reload the page to try again.');
    return;
  }
  const join = openWebTerminal({
    holder: byId('join-terminal'),
    path: `/v1/web/sessions/${encodeURIComponent(s.id)}/join?${query}`,
    csrfToken,
    readOnly: mode === 'observer',
    onState: (st) => {
      if (st.state === 'connecting') setStatus('connecting', `Joining as ${mode}…`);
      else if (st.state === 'connected') setStatus('connected', `Joined as ${mode}.`);
      else if (st.state === 'ended') setStatus('ended', `The join ${st.text}. Reload the page to see the session's state.`);
      else if (st.state === 'error') setStatus('error', st.text);
      else explainRefusal(s.id).then((why) => setStatus('error', why));
    },
  });
  button.onclick = () => {
    join.dispose();
    startJoin(s, csrfToken, mode === 'observer' ? 'peer' : 'observer');
  };
}

async function main() {
  const bar = await startSessionBar();
  if (!bar) return undefined;
  const status = byId('session-status');
  const id = sessionIdFromPath();
  let s = null;
  if (id) {
    try {
      s = await api('GET', `/v1/sessions/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err.status === 401) return toLogin();
      if (err.status !== 404 && err.status !== 400) {
        status.textContent = '';
        setAlert(byId('page-error'), `The session could not be loaded: ${describeError(err)}`);
        return undefined;
      }
    }
  }
  status.textContent = '';
  if (!s) {
    document.title = 'Session not found · gate';
    byId('not-found').hidden = false;
    return undefined;
  }
  showFacts(s);
  if (s.live) {
    byId('live').hidden = false;
    showCommand('join-command', `gate join ${s.id}`);
    startJoin(s, bar.csrf_token, 'observer');
    return undefined;
  }
  return showReplay(s);
}

main();
