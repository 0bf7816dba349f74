// Small DOM helpers. Text from the server only ever enters the page as text
// nodes or attribute values, never as markup.

// A new element: attrs are set with setAttribute (or as the property for
// 'hidden'), children are nodes or strings (as text).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`page is missing #${id}`);
  return node;
}

export function showOnly(visible, ...hidden) {
  for (const node of hidden) node.hidden = true;
  visible.hidden = false;
}

// Shows message in the alert region (role="alert" announces it), or hides
// the region when message is empty.
export function setAlert(region, message) {
  region.textContent = message;
  region.hidden = !message;
}

// A "Copy" button for the text of source, with a spoken result.
export function copyButton(source, label) {
  const button = el('button', { type: 'button', class: 'secondary copy', 'aria-label': label }, 'Copy');
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(source.textContent);
      button.textContent = 'Copied';
    } catch {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      button.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => { button.textContent = 'Copy'; }, 2500);
  });
  return button;
}

// "18:02" for a unix time in seconds, in the browser's time zone.
export function clockTime(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
