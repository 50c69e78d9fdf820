// How numbers read on screen. Tables show exact values; tiles and chart axes compact ones.
import type { MetricValue, Money } from './api';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export function isMoney(value: unknown): value is Money {
  return !!value && typeof value === 'object' && 'currency' in value && 'value' in value;
}

export function number(value: number): string {
  return integer.format(value);
}

export function compact(value: number): string {
  return Math.abs(value) < 10_000 ? integer.format(value) : compactFormat.format(value);
}

/** A percentage as the API rounded it (up to two decimals), never re-rounded coarser. */
export function percent(value: number): string {
  return `${Number(value.toFixed(2))}%`;
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

export function money(amount: number, currency: string, compactForm = false): string {
  const key = `${currency}|${compactForm}`;
  let format = moneyFormats.get(key);
  if (!format) {
    try {
      format = new Intl.NumberFormat('en-US', {
        style: 'currency',
        currency,
        ...(compactForm ? { notation: 'compact', maximumFractionDigits: 1 } : {}),
      });
    } catch {
      format = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
    }
    moneyFormats.set(key, format);
  }
  return format.format(amount);
}

/** A money metric as the API sent it: the exact long form when there is one. */
export function moneyText(value: Money, compactForm = false): string {
  if (!compactForm && value.long) return value.long;
  return money(value.value, value.currency, compactForm && Math.abs(value.value) >= 10_000);
}

/** `share` is a fraction (0–1) shown as a percentage; `percent` is already one. */
export type Kind = 'count' | 'percent' | 'share' | 'duration' | 'money' | 'decimal';

export function formatValue(value: MetricValue | undefined, kind: Kind, compactForm = false): string {
  if (value === null || value === undefined) return '—';
  if (isMoney(value)) return moneyText(value, compactForm);
  switch (kind) {
    case 'percent':
      return percent(value);
    case 'share':
      return percent(Math.round(value * 1000) / 10);
    case 'duration':
      return duration(value);
    case 'decimal':
      return value.toFixed(2);
    case 'money':
      return integer.format(value);
    default:
      return compactForm ? compact(value) : number(value);
  }
}

export function numeric(value: MetricValue | undefined): number | null {
  if (value === null || value === undefined) return null;
  return isMoney(value) ? value.value : value;
}

/** Relative change in percent (null when there is nothing to compare with). */
export function change(current: MetricValue | undefined, previous: MetricValue | undefined): number | null {
  const a = numeric(current);
  const b = numeric(previous);
  if (a === null || b === null) return null;
  if (isMoney(current) && isMoney(previous) && current.currency !== previous.currency) return null;
  if (b === 0) return a === 0 ? 0 : null;
  return Math.round(((a - b) / Math.abs(b)) * 1000) / 10;
}
