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
// xterm.js also sets some colours (24-bit RGB ones) with
// element.setAttribute('style', ...), which the policy refuses as an inline
// style attribute. On these pages a script's setAttribute('style', text)
// sets the same declarations through CSSOM (element.style.cssText), which
// CSP allows a page's own script; a style attribute written in markup is
// still refused.

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

// Makes a script's setAttribute('style', text) on any element of the
// window go through CSSOM, as above.
function styleAttributesThroughCssom(win) {
  const proto = win.Element.prototype;
  const set = proto.setAttribute;
  proto.setAttribute = function setAttribute(name, value) {
    if (String(name).toLowerCase() === 'style' && this.style) {
      this.style.cssText = String(value);
      return;
    }
    set.call(this, name, value);
  };
}

// Makes doc.createElement('style') return the stand-in above, and style
// attributes set by scripts go through CSSOM, once per document.
export function adoptScriptStyles(doc = document) {
  if (doc.gateAdoptsScriptStyles) return;
  const create = doc.createElement.bind(doc);
  doc.createElement = (tag, options) => (String(tag).toLowerCase() === 'style'
    ? styleStandIn(doc, create)
    : create(tag, options));
  styleAttributesThroughCssom(doc.defaultView);
  doc.gateAdoptsScriptStyles = true;
}
