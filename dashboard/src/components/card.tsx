import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

export interface Tab<T extends string> {
  id: T;
  label: string;
}

interface CardProps<T extends string> {
  title: string;
  tabs?: Tab<T>[];
  tab?: T;
  onTab?: (tab: T) => void;
  busy?: boolean;
  wide?: boolean;
  testid?: string;
  children: ComponentChildren;
}

/** A titled panel; with tabs, a WAI-ARIA tab list (arrow keys move between tabs). */
export function Card<T extends string>({ title, tabs, tab, onTab, busy, wide, testid, children }: CardProps<T>) {
  const id = useId();
  const onKey = (event: KeyboardEvent) => {
    if (!tabs || !onTab || !['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) return;
    event.preventDefault();
    const i = tabs.findIndex((t) => t.id === tab);
    const next =
      event.key === 'Home' ? 0 : event.key === 'End' ? tabs.length - 1 : (i + (event.key === 'ArrowRight' ? 1 : -1) + tabs.length) % tabs.length;
    onTab(tabs[next].id);
    (event.currentTarget as HTMLElement).querySelectorAll<HTMLElement>('[role=tab]')[next]?.focus();
  };
  return (
    <section class={`card${wide ? ' wide' : ''}`} aria-labelledby={`${id}-title`} aria-busy={busy ? 'true' : 'false'} data-testid={testid}>
      <header class="card-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {tabs && (
          <div role="tablist" aria-label={`${title} views`} class="tabs" onKeyDown={onKey}>
            {tabs.map((t) => (
              <button
                type="button"
                role="tab"
                id={`${id}-tab-${t.id}`}
                aria-selected={t.id === tab}
                aria-controls={`${id}-panel`}
                tabIndex={t.id === tab ? 0 : -1}
                onClick={() => onTab?.(t.id)}
              >
                {t.label}
              </button>
            ))}
          </div>
        )}
      </header>
      <div id={`${id}-panel`} role={tabs ? 'tabpanel' : undefined} aria-labelledby={tabs ? `${id}-tab-${tab}` : undefined} class="card-body">
        {children}
      </div>
    </section>
  );
}

export function ErrorNote({ error }: { error: Error }) {
  return (
    <p class="error" role="alert">
      {error.message}
    </p>
  );
}

export function Empty({ children }: { children?: ComponentChildren }) {
  return <p class="empty">{children ?? 'No data for this period yet.'}</p>;
}
