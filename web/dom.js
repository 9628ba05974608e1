// A tiny element builder: every piece of text goes in as a text node, never as HTML.

const SVG = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key === 'className' ? 'class' : key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// h('p', {className: 'x'}, 'text', otherNode): an HTML element.
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// s('rect', {x: 0}): an SVG element.
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

// Replaces the children of `parent` with `nodes`. A refresh must not steal the keyboard focus nor
// close what a person opened: the element with the same data-focus gets the focus back, and
// <details> with the same data-key stay open.
export function replace(parent, nodes) {
  const active = document.activeElement;
  const focusKey = active && parent.contains(active) ? active.dataset.focus : undefined;
  const open = new Set([...parent.querySelectorAll('details[open][data-key]')].map((d) => d.dataset.key));
  parent.replaceChildren(...[nodes].flat(Infinity).filter(Boolean));
  for (const d of parent.querySelectorAll('details[data-key]')) if (open.has(d.dataset.key)) d.open = true;
  if (focusKey) {
    const again = parent.querySelector(`[data-focus="${CSS.escape(focusKey)}"]`);
    if (again) again.focus();
  }
}
