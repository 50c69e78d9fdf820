// Calendar dates in the site's time zone, the periods of the date picker, and the previous
// period each is compared with. Dates are plain `YYYY-MM-DD` strings: a local day of the site,
// never an instant, so arithmetic is done on UTC midnights and cannot shift across DST.

export type Period =
  | 'day'
  | 'yesterday'
  | '7d'
  | '28d'
  | '30d'
  | '91d'
  | 'month'
  | 'lastmonth'
  | 'year'
  | '12mo'
  | 'all'
  | 'custom';

export type Interval = 'hour' | 'day' | 'week' | 'month';

export interface Range {
  from: string;
  to: string;
}

export const PERIODS: { id: Period; label: string; key: string }[] = [
  { id: 'day', label: 'Today', key: 'd' },
  { id: 'yesterday', label: 'Yesterday', key: 'e' },
  { id: '7d', label: 'Last 7 days', key: 'w' },
  { id: '28d', label: 'Last 28 days', key: 'f' },
  { id: '30d', label: 'Last 30 days', key: 't' },
  { id: '91d', label: 'Last 91 days', key: 'n' },
  { id: 'month', label: 'Month to date', key: 'm' },
  { id: 'lastmonth', label: 'Last month', key: 'l' },
  { id: 'year', label: 'Year to date', key: 'y' },
  { id: '12mo', label: 'Last 12 months', key: 'r' },
  { id: 'all', label: 'All time', key: 'a' },
];

export const DEFAULT_PERIOD: Period = '30d';

const ISO = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoDate(value: string | null | undefined): value is string {
  if (!value || !ISO.test(value)) return false;
  const d = new Date(value + 'T00:00:00Z');
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/** Today in `timeZone` (an IANA name; the site's). */
export function today(timeZone: string, now: Date = new Date()): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

export function addDays(date: string, days: number): string {
  const d = new Date(date + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to + 'T00:00:00Z') - Date.parse(from + 'T00:00:00Z')) / 86_400_000);
}

function monthStart(date: string, back = 0): string {
  const d = new Date(date.slice(0, 7) + '-01T00:00:00Z');
  d.setUTCMonth(d.getUTCMonth() - back);
  return d.toISOString().slice(0, 10);
}

/**
 * The local days a period covers. Rolling periods include today ("Last 7 days" is today and
 * the six days before it), as people read them on a live dashboard.
 */
export function periodRange(period: Period, timeZone: string, custom?: Range, now?: Date): Range | null {
  const t = today(timeZone, now);
  switch (period) {
    case 'day':
      return { from: t, to: t };
    case 'yesterday':
      return { from: addDays(t, -1), to: addDays(t, -1) };
    case '7d':
    case '28d':
    case '30d':
    case '91d':
      return { from: addDays(t, 1 - parseInt(period, 10)), to: t };
    case 'month':
      return { from: monthStart(t), to: t };
    case 'lastmonth':
      return { from: monthStart(t, 1), to: addDays(monthStart(t), -1) };
    case 'year':
      return { from: t.slice(0, 4) + '-01-01', to: t };
    case '12mo':
      return { from: monthStart(t, 11), to: t };
    case 'custom':
      return custom && isIsoDate(custom.from) && isIsoDate(custom.to) && custom.from <= custom.to
        ? custom
        : null;
    case 'all':
      return null;
  }
}

/** The period of the same length just before `range` (what "change" is measured against). */
export function previousRange(range: Range, period: Period): Range {
  if (period === 'lastmonth') {
    return { from: monthStart(range.from, 1), to: addDays(range.from, -1) };
  }
  const length = daysBetween(range.from, range.to) + 1;
  return { from: addDays(range.from, -length), to: addDays(range.from, -1) };
}

/** The intervals that make sense for a range, and the default one. */
export function intervalsFor(range: Range | null): { options: Interval[]; fallback: Interval } {
  const days = range ? daysBetween(range.from, range.to) + 1 : 400;
  if (days <= 1) return { options: ['hour'], fallback: 'hour' };
  if (days <= 31) return { options: ['hour', 'day', 'week'], fallback: 'day' };
  if (days <= 190) return { options: ['day', 'week', 'month'], fallback: 'day' };
  return { options: ['day', 'week', 'month'], fallback: 'month' };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function shortDate(date: string): string {
  return `${Number(date.slice(8, 10))} ${MONTHS[Number(date.slice(5, 7)) - 1]}`;
}

export function longDate(date: string): string {
  return `${shortDate(date)} ${date.slice(0, 4)}`;
}

export function describeRange(range: Range): string {
  if (range.from === range.to) return longDate(range.from);
  const sameYear = range.from.slice(0, 4) === range.to.slice(0, 4);
  return `${sameYear ? shortDate(range.from) : longDate(range.from)} – ${longDate(range.to)}`;
}
