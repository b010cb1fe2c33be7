/** Small DOM helpers: elements from tags and children, tables, links, notices. */
export type Child = Node | string | number | bigint | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | ((e: Event) => void)> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export const link = (href: string, text: Child, attrs: Record<string, string> = {}) => h('a', { href, ...attrs }, text);

/** A table with a header row; `rows` of cells. */
export function table(head: string[], rows: Child[][], attrs: Record<string, string> = {}) {
  return h('table', attrs,
    h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))),
    h('tbody', {}, rows.length
      ? rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))
      : h('tr', {}, h('td', { colspan: String(head.length), class: 'muted' }, 'none'))));
}

/** Label/value pairs. */
export function facts(pairs: [string, Child][], attrs: Record<string, string> = {}) {
  return h('dl', { class: 'facts', ...attrs }, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export function notice(kind: 'error' | 'ok' | 'info', text: Child, attrs: Record<string, string> = {}) {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status', ...attrs }, text);
}

export function replace(target: Element, ...children: Child[]) {
  target.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false).map((c) => (c instanceof Node ? c : String(c))));
}
