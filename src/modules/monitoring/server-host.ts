import { isIP } from 'node:net';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * Whether `value` names a host a probe can connect to: an IPv4 or IPv6
 * address (no brackets, no zone), or a DNS name of letters, digits and
 * hyphens in dot-separated labels of 1–63 characters, at most 253 in all,
 * whose last label is not all digits (999.1.1.1 is neither a name nor an
 * address). Never a URL: no scheme, port, path, user or spaces.
 */
export function isServerHost(value: unknown): boolean {
  if (typeof value !== 'string' || value.length === 0 || value.length > 253) return false;
  if (isIP(value) !== 0) return !value.includes('%');
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const labels = name.split('.');
  return labels.every((label) => LABEL.test(label)) && !/^\d+$/.test(labels[labels.length - 1]);
}
