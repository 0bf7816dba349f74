// Draws a QR code from the module matrix gate-ca sends (totp_qr: size N and
// N rows of '0'/'1', '1' dark) as an inline SVG, dark on white with the
// four-module quiet zone scanners need, in light and dark themes alike.

const SVG = 'http://www.w3.org/2000/svg';
const QUIET = 4;

// The SVG element, or null when qr is not a well-formed matrix (the caller
// then shows the URI alone).
export function qrSvg(qr, label) {
  if (!qr || !Number.isInteger(qr.size) || qr.size < 21 || qr.size > 177) return null;
  if (!Array.isArray(qr.rows) || qr.rows.length !== qr.size) return null;
  const n = qr.size;
  let d = '';
  for (let y = 0; y < n; y++) {
    const row = qr.rows[y];
    if (typeof row !== 'string' || row.length !== n || !/^[01]+$/.test(row)) return null;
    // One rectangle per run of dark modules keeps the path short.
    for (let x = 0; x < n;) {
      if (row[x] !== '1') { x++; continue; }
      let end = x;
      while (end < n && row[end] === '1') end++;
      d += `M${x + QUIET} ${y + QUIET}h${end - x}v1h${x - end}z`;
      x = end;
    }
  }
  const total = n + 2 * QUIET;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${total} ${total}`);
  svg.setAttribute('class', 'qr');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('shape-rendering', 'crispEdges');
  const background = document.createElementNS(SVG, 'rect');
  background.setAttribute('width', String(total));
  background.setAttribute('height', String(total));
  background.setAttribute('fill', '#ffffff');
  const modules = document.createElementNS(SVG, 'path');
  modules.setAttribute('d', d);
  modules.setAttribute('fill', '#000000');
  svg.append(background, modules);
  return svg;
}
