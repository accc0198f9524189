// Building the page: elements are made from properties and children, text is always set as text
// (never parsed as HTML), so nothing the API sends can inject markup.

export const $ = (id) => document.getElementById(id);

/** Builds an element; text is always set as text, never parsed as HTML. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'text') element.textContent = value;
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** A panel of the page with its heading. */
export function section(id, heading, ...content) {
  return h('section', { id, class: 'panel', 'aria-labelledby': `${id}-heading` }, h('h2', { id: `${id}-heading` }, heading), ...content);
}

/** Term–value pairs; empty values are left out. */
export function definitionList(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, value]) => value !== null && value !== undefined && value !== '').map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

/** How a record reads its sources (its `reading_note`), shown beside the record; nothing when it has none. */
export function readingNote(note) {
  if (!note) return null;
  return h('p', { class: 'reading-note' }, h('span', { class: 'reading-note-label' }, '資料の読み方: '), note);
}
