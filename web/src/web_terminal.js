// A terminal in the page, bridged over one of gate-ca's WebSockets
// (docs/api.md, "Browser terminal and live join"): the browser terminal
// (/v1/web/terminal) and the live join (/v1/web/sessions/ID/join). Both
// pages use this one module.
//
// The protocol: once the socket is open, one TEXT frame
// {"type":"start","csrf_token","cols","rows"} (a browser cannot set headers
// on a WebSocket, so the CSRF token travels here); then BINARY frames are
// terminal bytes both ways and TEXT frames are control messages:
// {"type":"resize"} from the page, {"type":"ready"|"end"|"error"} from
// gate-ca.
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { adoptScriptStyles } from './script_styles.js';

// gate-ca refuses a browser frame over 64 KiB; a paste goes in pieces.
const MAX_FRAME_BYTES = 32 * 1024;
// What gate-ca accepts as a window size.
const MAX_DIMENSION = 1000;

const THEME = {
  background: '#111418',
  foreground: '#e8eaed',
  cursor: '#e8eaed',
  selectionBackground: '#3b5b8f',
};

function clampDimension(n) {
  return Math.min(MAX_DIMENSION, Math.max(1, Math.floor(n) || 1));
}

// wss://<this host><path>: the page's own origin, whose Origin header
// gate-ca checks at the upgrade.
function socketUrl(path) {
  return `wss://${window.location.host}${path}`;
}

// How the end of a session reads: "ended with exit status 0".
export function endText(message) {
  if (typeof message.exit_status === 'number') return `ended with exit status ${message.exit_status}`;
  if (typeof message.signal === 'string' && message.signal) return `ended by signal ${message.signal}`;
  return 'ended';
}

// Ctrl+Shift+C copies the selection and Ctrl+Shift+V pastes (through the
// browser's own paste, which reaches the terminal as a paste event), as in
// terminal emulators; Ctrl+C and Ctrl+V stay keys for the remote program.
function clipboardKeys(term) {
  return (event) => {
    if (event.type !== 'keydown' || !event.ctrlKey || !event.shiftKey || event.altKey) return true;
    const key = event.key.toLowerCase();
    if (key === 'c') {
      const text = term.getSelection();
      if (text && navigator.clipboard) navigator.clipboard.writeText(text).catch(() => {});
      return false;
    }
    return key !== 'v';
  };
}

// Opens a terminal in holder (emptied first) connected to path.
//   csrfToken: the browser session's token (from GET /v1/web/session).
//   readOnly: keystrokes are never sent (the live join's observer mode).
//   onState(state): called with {state: 'connecting'} first, then
//     {state: 'connected', ready} (ready: gate-ca's "ready" message),
//     {state: 'ended', text, message} (the session ended; message: "end"),
//     {state: 'error', text} (gate-ca's refusal or failure), or
//     {state: 'refused'} (the socket closed before it ever opened: gate-ca
//     refused the upgrade; a browser is not told why, the page asks the API).
// Returns {terminal, close(), dispose()}: close() ends the connection (and
// so the SSH session behind it) and keeps what the terminal shows; dispose()
// also removes the terminal.
export function openWebTerminal({ holder, path, csrfToken, readOnly = false, onState }) {
  adoptScriptStyles();
  holder.replaceChildren();
  const terminal = new Terminal({
    cursorBlink: !readOnly,
    disableStdin: readOnly,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
    fontSize: 14,
    // A little room below the baseline: at 1 the DOM renderer's rows clip
    // underscores in common monospace fonts.
    lineHeight: 1.2,
    scrollback: 5000,
    theme: THEME,
  });
  const fit = new FitAddon();
  terminal.loadAddon(fit);
  terminal.open(holder);
  terminal.attachCustomKeyEventHandler(clipboardKeys(terminal));
  fit.fit();

  let finished = false; // an end, error or refusal was reported
  let opened = false;
  // gate-ca drops what arrives between the start message and "ready" (the
  // SSH channel is not open yet): input waits for ready, and ready re-sends
  // the size in case the window changed meanwhile.
  let ready = false;
  let disposed = false;
  const encoder = new TextEncoder();
  const report = (state) => {
    if (finished) return;
    if (state.state !== 'connecting' && state.state !== 'connected') finished = true;
    onState(state);
  };
  report({ state: 'connecting' });

  const socket = new WebSocket(socketUrl(path));
  socket.binaryType = 'arraybuffer';
  const sendJson = (message) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  };
  const sendResize = () => {
    if (!ready) return;
    sendJson({ type: 'resize', cols: clampDimension(terminal.cols), rows: clampDimension(terminal.rows) });
  };
  const sendBytes = (bytes) => {
    if (!ready || socket.readyState !== WebSocket.OPEN) return;
    for (let at = 0; at < bytes.length; at += MAX_FRAME_BYTES) {
      socket.send(bytes.subarray(at, at + MAX_FRAME_BYTES));
    }
  };

  socket.addEventListener('open', () => {
    opened = true;
    sendJson({
      type: 'start',
      csrf_token: csrfToken,
      cols: clampDimension(terminal.cols),
      rows: clampDimension(terminal.rows),
    });
  });
  socket.addEventListener('message', (event) => {
    if (event.data instanceof ArrayBuffer) {
      terminal.write(new Uint8Array(event.data));
      return;
    }
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return; // not a message of the protocol: ignored
    }
    if (!message || typeof message !== 'object') return;
    if (message.type === 'ready') {
      ready = true;
      sendResize();
      report({ state: 'connected', ready: message });
      if (!readOnly) terminal.focus();
    } else if (message.type === 'end') {
      report({ state: 'ended', text: endText(message), message });
    } else if (message.type === 'error') {
      report({ state: 'error', text: String(message.message || 'gate-ca ended the connection.') });
    }
  });
  socket.addEventListener('close', (event) => {
    if (!opened) {
      report({ state: 'refused' });
    } else if (event.reason) {
      report({ state: 'error', text: event.reason });
    } else if (event.code === 1000) {
      report({ state: 'ended', text: 'ended', message: {} });
    } else {
      report({ state: 'error', text: `The connection to gate-ca was lost (code ${event.code}).` });
    }
    if (disposed) return;
    terminal.options.disableStdin = true;
    terminal.options.cursorBlink = false;
  });

  if (!readOnly) {
    terminal.onData((data) => sendBytes(encoder.encode(data)));
    // Mouse reports in the legacy encoding: one byte per character.
    terminal.onBinary((data) => sendBytes(Uint8Array.from(data, (c) => c.charCodeAt(0))));
  }
  terminal.onResize(sendResize);
  // The terminal fills its holder: refit when the window (or the layout
  // around the holder) changes size, once per frame at most.
  let pending = 0;
  const observer = new ResizeObserver(() => {
    if (pending) return;
    pending = requestAnimationFrame(() => {
      pending = 0;
      if (holder.clientWidth > 0 && holder.clientHeight > 0) fit.fit();
    });
  });
  observer.observe(holder);

  const close = () => {
    finished = true;
    observer.disconnect();
    if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) {
      socket.close(1000, 'closed by the page');
    }
  };
  return {
    terminal,
    close,
    dispose() {
      close();
      disposed = true;
      terminal.dispose();
      holder.replaceChildren();
    },
  };
}
