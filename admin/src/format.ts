import type { QualitySample } from '@telemed/sdk';

export function formatDuration(totalSeconds: number | null): string {
  if (totalSeconds === null) return '—';
  const s = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function formatDateTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '—';
}

export function formatNumber(value: number | null, digits = 1): string {
  return value === null || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

export function startOfToday(): Date {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d;
}

/**
 * Which way a quality sample's media goes for its participant: the SFU's inbound stream of a
 * participant is what they send, while their browser's inbound stream is what they receive.
 */
export function participantDirection(s: Pick<QualitySample, 'source' | 'direction'>): 'send' | 'receive' {
  return (s.source === 'server') === (s.direction === 'in') ? 'send' : 'receive';
}
