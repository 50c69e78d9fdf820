// The period menu: presets (also on single-key shortcuts, as in Plausible: d, w, t, m, y, a…)
// and a custom range. Every choice is a link, so it opens in a new tab with a middle click.
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeRange, isIsoDate, PERIODS, today } from '../lib/dates';
import { href, navigate, type ViewState } from '../lib/route';
import type { View } from '../lib/view';

export function DatePicker({ view }: { view: View }) {
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState(view.range?.from ?? '');
  const [to, setTo] = useState(view.range?.to ?? '');
  const [error, setError] = useState('');
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const state = view.state;
  const current = PERIODS.find((p) => p.id === state.period);
  const label = state.period === 'custom' && view.range ? describeRange(view.range) : (current?.label ?? 'Custom range');

  useEffect(() => {
    setFrom(view.range?.from ?? '');
    setTo(view.range?.to ?? '');
  }, [view.range?.from, view.range?.to]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      if (event.metaKey || event.ctrlKey || event.altKey || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable) return;
      if (event.key === 'Escape' && open) {
        setOpen(false);
        button.current?.focus();
        return;
      }
      const preset = PERIODS.find((p) => p.key === event.key.toLowerCase());
      if (preset && !event.shiftKey) navigate(href(state, { period: preset.id, custom: undefined, interval: undefined }));
    };
    const onClick = (event: MouseEvent) => {
      if (open && root.current && !root.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('click', onClick);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('click', onClick);
    };
  }, [open, state]);

  const apply = (event: Event) => {
    event.preventDefault();
    if (!isIsoDate(from) || !isIsoDate(to)) return setError('Enter both dates.');
    if (from > to) return setError('The start must be on or before the end.');
    setError('');
    setOpen(false);
    navigate(href(state, { period: 'custom', custom: { from, to }, interval: undefined } as Partial<ViewState>));
  };

  return (
    <div class="datepicker" ref={root}>
      <button
        ref={button}
        type="button"
        class="picker-button"
        aria-expanded={open}
        aria-controls="period-menu"
        onClick={() => setOpen(!open)}
        data-testid="period"
      >
        <span class="sr-only">Period: </span>
        {label}
        <span aria-hidden="true"> ▾</span>
      </button>
      {open && (
        <div id="period-menu" class="popover" role="dialog" aria-label="Choose a period">
          <ul class="presets">
            {PERIODS.map((p) => (
              <li>
                <a
                  href={href(state, { period: p.id, custom: undefined, interval: undefined })}
                  aria-current={p.id === state.period ? 'true' : undefined}
                  onClick={() => setOpen(false)}
                >
                  <span>{p.label}</span>
                  <kbd aria-hidden="true">{p.key.toUpperCase()}</kbd>
                </a>
              </li>
            ))}
          </ul>
          <form class="custom-range" onSubmit={apply}>
            <fieldset>
              <legend>Custom range ({view.site.timezone})</legend>
              <label>
                From
                <input type="date" value={from} max={today(view.site.timezone)} onInput={(e) => setFrom(e.currentTarget.value)} required />
              </label>
              <label>
                To
                <input type="date" value={to} max={today(view.site.timezone)} onInput={(e) => setTo(e.currentTarget.value)} required />
              </label>
              {error && (
                <p class="error" role="alert">
                  {error}
                </p>
              )}
              <button type="submit">Apply</button>
            </fieldset>
          </form>
        </div>
      )}
    </div>
  );
}
