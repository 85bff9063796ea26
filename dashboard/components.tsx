// Pieces every page uses: links that stay in the page, status badges, a data table, a confirmation dialog, a host for
// the plain-DOM components shared with the VS Code panels (ui/), and a virtualised list.
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { navigate } from './hooks';

export function Link(props: { href: string; children: ComponentChildren; class?: string; 'aria-current'?: 'page' | undefined }) {
  return (
    <a
      href={props.href}
      class={props.class}
      aria-current={props['aria-current']}
      onClick={(e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}

export function Status(props: { status: string }) {
  return <span class={`status status-${props.status}`}>{props.status}</span>;
}

/** Mounts a DOM node made outside Preact (the shared log view, the timeline). */
export function DomNode(props: { node: Node; class?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    ref.current?.replaceChildren(props.node);
  }, [props.node]);
  return <div ref={ref} class={props.class} />;
}

/** A modal dialog asking to confirm an action; `body` says exactly what will happen. */
export function Confirm(props: { title: string; body: ComponentChildren; action: string; danger?: boolean; onConfirm(): void; onClose(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onClose={props.onClose} class="confirm">
      <h2 id="confirm-title">{props.title}</h2>
      <div class="confirm-body">{props.body}</div>
      <div class="actions">
        <button type="button" onClick={() => ref.current?.close()}>
          Back
        </button>
        <button
          type="button"
          class={props.danger ? 'danger' : 'primary'}
          onClick={() => {
            props.onConfirm();
            ref.current?.close();
          }}
        >
          {props.action}
        </button>
      </div>
    </dialog>
  );
}

/**
 * Only the rows in view are rendered (fixed row height, read from the first row), so ten thousand
 * requests scroll as smoothly as ten.
 */
export function VirtualList<T>(props: { items: T[]; row(item: T, index: number): ComponentChildren; label: string; header?: ComponentChildren; empty?: ComponentChildren }) {
  const scroller = useRef<HTMLDivElement>(null);
  const [rowHeight, setRowHeight] = useState(0);
  const [view, setView] = useState({ top: 0, height: 800 });
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const update = () => setView({ top: el.scrollTop, height: el.clientHeight || 800 });
    update();
    el.addEventListener('scroll', update, { passive: true });
    const observer = new ResizeObserver(update);
    observer.observe(el);
    return () => {
      el.removeEventListener('scroll', update);
      observer.disconnect();
    };
  }, []);
  useLayoutEffect(() => {
    const first = scroller.current?.querySelector<HTMLElement>('.vrow');
    const h = first?.getBoundingClientRect().height ?? 0;
    if (h > 0 && Math.abs(h - rowHeight) > 0.5) setRowHeight(h);
  });
  const h = rowHeight || 40;
  const overscan = 10;
  const start = Math.max(0, Math.floor(view.top / h) - overscan);
  const end = Math.min(props.items.length, Math.ceil((view.top + view.height) / h) + overscan);
  return (
    <div class="vlist" role="table" aria-label={props.label} aria-rowcount={props.items.length}>
      {props.header}
      <div class="vlist-scroll" ref={scroller} tabIndex={-1}>
        {props.items.length === 0 && props.empty}
        <div style={{ height: `${start * h}px` }} />
        {props.items.slice(start, end).map((item, i) => props.row(item, start + i))}
        <div style={{ height: `${(props.items.length - end) * h}px` }} />
      </div>
    </div>
  );
}

/** A scrolling data table: its column headers (and a last one read only by screen readers, over row actions) and rows. */
export function Grid(props: { label: string; columns: string[]; hiddenColumn?: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table class="grid" aria-label={props.label}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th scope="col">{c}</th>
            ))}
            {props.hiddenColumn && (
              <th scope="col">
                <span class="sr-only">{props.hiddenColumn}</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
