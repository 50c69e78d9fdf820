// What every settings section is made of, once: a list read from the management API and read
// again after a change (`useList`), a table of it with one action per row (`ListCard`,
// `RowAction`), and a form whose submission runs one API call and shows its answer — the API's
// own error message when it refuses (`useAction`, `ActionForm`, `Field`).
import type { ComponentChildren, InputHTMLAttributes } from 'preact';
import { useState } from 'preact/hooks';
import { Card, Empty, ErrorNote } from '../../components/card';
import { ApiError, request } from '../../lib/api';
import { type Loaded, useAsync } from '../../lib/async';

export interface ApiMessage {
  ok: boolean;
  text: string;
}

export type Run = (work: () => Promise<string>) => Promise<boolean>;

/** Runs one change at a time; its message is what `work` returns, or the API's error. */
export function useAction(): [ApiMessage | null, Run, boolean] {
  const [message, setMessage] = useState<ApiMessage | null>(null);
  const [busy, setBusy] = useState(false);
  const run: Run = async (work) => {
    setBusy(true);
    setMessage(null);
    try {
      setMessage({ ok: true, text: await work() });
      return true;
    } catch (e) {
      setMessage({ ok: false, text: e instanceof ApiError ? e.message : String(e) });
      return false;
    } finally {
      setBusy(false);
    }
  };
  return [message, run, busy];
}

/** GET `path` (per `key`), and `reload()` to read it again after a change. */
export function useList<T>(path: string, key: string): [Loaded<T>, () => void] {
  const [version, setVersion] = useState(0);
  const loaded = useAsync(() => request<T>('GET', path), `${key}:${version}`);
  return [loaded, () => setVersion((v) => v + 1)];
}

export function Message({ message }: { message: ApiMessage | null }) {
  if (!message) return null;
  return (
    <p class={message.ok ? 'ok' : 'error'} role={message.ok ? 'status' : 'alert'} data-testid="form-message">
      {message.text}
    </p>
  );
}

export function Secret({ label, value }: { label: string; value: string }) {
  return (
    <div class="secret" data-testid="secret">
      <p>
        <strong>{label}</strong> It is shown only now: copy it somewhere safe.
      </p>
      <code>{value}</code>{' '}
      <button type="button" class="link" onClick={() => navigator.clipboard?.writeText(value)}>
        Copy
      </button>
    </div>
  );
}

interface ActionFormProps {
  title: string;
  submit: string;
  /** The API call; its answer is the message shown. */
  onSubmit: () => Promise<string>;
  action: [ApiMessage | null, Run, boolean];
  /** Shown under the message (a secret shown once, a URL to paste). */
  after?: ComponentChildren;
  children: ComponentChildren;
}

export function ActionForm({ title, submit, onSubmit, action, after, children }: ActionFormProps) {
  const [message, run, busy] = action;
  return (
    <Card title={title} wide>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          run(onSubmit);
        }}
      >
        {children}
        <button type="submit" disabled={busy}>
          {submit}
        </button>
        <Message message={message} />
        {after}
      </form>
    </Card>
  );
}

interface FieldProps {
  label: string;
  name: string;
  value: string;
  set: (value: string) => void;
  type?: 'text' | 'number' | 'password' | 'email';
  required?: boolean;
  placeholder?: string;
  autoComplete?: string;
  inputMode?: 'decimal' | 'numeric';
  maxLength?: number;
  step?: string;
  /** A <datalist> of suggestions. */
  list?: string;
}

/** A labelled input bound to a state value. */
export function Field({ label, value, set, ...input }: FieldProps) {
  // Preact types <input> per `type` (a `list` only on text-like ones); these are plain attributes.
  const attributes = { ...input, value, onInput: (e: Event) => set((e.currentTarget as HTMLInputElement).value) } as InputHTMLAttributes<HTMLInputElement>;
  return (
    <label>
      {label}
      <input {...attributes} />
    </label>
  );
}

interface ListCardProps<T> {
  title: string;
  testid: string;
  caption: string;
  columns: string[];
  loaded: Loaded<T[]>;
  /** Which rows are shown (e.g. not revoked). */
  shown?: (row: T) => boolean;
  empty?: string;
  row: (item: T) => ComponentChildren;
  children?: ComponentChildren;
}

/** A card with the list's table (its last column the rows' actions), or why there is none. */
export function ListCard<T>({ title, testid, caption, columns, loaded, shown = () => true, empty, row, children }: ListCardProps<T>) {
  const rows = (loaded.data ?? []).filter(shown);
  return (
    <Card title={title} wide>
      {loaded.error && <ErrorNote error={loaded.error} />}
      {loaded.data && !rows.length && empty && <Empty>{empty}</Empty>}
      {rows.length > 0 && (
        <table class="models" data-testid={testid}>
          <caption class="sr-only">{caption}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th scope="col" class={c === 'Value' ? 'num' : undefined}>
                  {c}
                </th>
              ))}
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>{rows.map(row)}</tbody>
        </table>
      )}
      {children}
    </Card>
  );
}

/** A row's action button (remove, revoke): runs the call, reloads the list, says what it did. */
export function RowAction({ label, text, run, work }: { label: string; text: string; run: Run; work: () => Promise<string> }) {
  return (
    <td>
      <button type="button" class="link danger" aria-label={label} onClick={() => run(work)}>
        {text}
      </button>
    </td>
  );
}
