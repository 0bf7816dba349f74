// xterm.js writes the CSS it computes at run time (theme colours, cell
// sizes, scrollbar colours) into <style> elements it makes with
// document.createElement('style'). The pages' CSP (style-src 'self', no
// 'unsafe-inline') refuses the text of such elements: the terminal would
// lose its colours and the console would log violations. Here, on the pages
// that hold a terminal, every <style> element a script makes keeps its text
// in a constructed stylesheet the document adopts instead: CSS from this
// page's own bundled code, which CSP lets a script add through CSSOM.
// Markup can still not bring its own <style> (the HTML parser does not go
// through document.createElement), so the CSP's protection stays whole.
//
// What xterm.js sets as a style *attribute* (24-bit RGB colours) is still
// refused; such text shows in the terminal's palette colours instead
// (docs/web.md).

// The stand-in for a <style> element: an inert, hidden element whose
// textContent is the adopted sheet's text and whose remove() drops the
// sheet with it.
function styleStandIn(doc, create) {
  const holder = create('template');
  holder.setAttribute('data-adopted-style', '');
  const sheet = new doc.defaultView.CSSStyleSheet();
  let text = '';
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  Object.defineProperty(holder, 'textContent', {
    get() { return text; },
    set(value) {
      text = value === null || value === undefined ? '' : String(value);
      sheet.replaceSync(text);
    },
  });
  const remove = holder.remove.bind(holder);
  holder.remove = () => {
    doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet);
    remove();
  };
  return holder;
}

// Makes doc.createElement('style') return the stand-in above, once per
// document.
export function adoptScriptStyles(doc = document) {
  if (doc.gateAdoptsScriptStyles) return;
  const create = doc.createElement.bind(doc);
  doc.createElement = (tag, options) => (String(tag).toLowerCase() === 'style'
    ? styleStandIn(doc, create)
    : create(tag, options));
  doc.gateAdoptsScriptStyles = true;
}
