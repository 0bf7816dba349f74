// How a recorded session's state reads on the pages, from what gate-ca
// computed (GET /v1/sessions): never more than the server said. A session
// is live while its recording is still uploading; a finished one without
// the recording's exit event ("exit": null, verify_detail "cut short at
// ...") was cut short. "verified" only when the server says so.

// {key, label}: key is 'live', 'finished' or 'cut-short'.
export function sessionState(s) {
  if (s.live) return { key: 'live', label: 'live' };
  const detail = String(s.verify_detail || '');
  if (s.exit === null || s.exit === undefined || detail.includes('cut short')) {
    return { key: 'cut-short', label: 'cut short' };
  }
  return { key: 'finished', label: 'finished' };
}

// {key, label, detail}: key is 'verified', 'unverified' or 'pending' (a
// live session's recording is verified once it is complete).
export function recordingState(s) {
  const detail = String(s.verify_detail || '');
  if (s.live) return { key: 'pending', label: 'not verified yet', detail: 'still being recorded' };
  if (s.verified === true) return { key: 'verified', label: 'verified', detail };
  return { key: 'unverified', label: 'unverified', detail: detail || 'not verified' };
}

// "1 h 02 min", "3 min 05 s", "12 s".
export function durationText(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, '0');
  if (h) return `${h} h ${pad(m)} min`;
  if (m) return `${m} min ${pad(s % 60)} s`;
  return `${s} s`;
}

// The session's length so far (live) or in all.
export function sessionDuration(s) {
  const end = s.live ? Date.now() / 1000 : Number(s.ended_at);
  return durationText(end - Number(s.started_at));
}

// "2026-12-07 20:31:05", in the browser's time zone.
export function dateTime(unixSeconds) {
  const d = new Date(unixSeconds * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
