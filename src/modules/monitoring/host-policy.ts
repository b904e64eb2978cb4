import { isIP } from 'node:net';
import { AddressClass, classifyAddress, isOwnAddress, METADATA_HOSTNAMES } from '../../common/net/address-class';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';

/**
 * Where a user's server may point. A probe is a TCP connect from the
 * platform's host: pointed at the host itself, its private network or a
 * cloud metadata service it would make the platform a port scanner of its
 * own surroundings. So a user's server (not an admin's, not `local`) may not
 * be an address that is unspecified, loopback, link-local (metadata
 * 169.254.169.254 among them), another metadata address, multicast or
 * reserved, nor one of the host's own addresses; private ranges only with
 * MONITOR_ALLOW_PRIVATE_HOSTS=true. IPv4 written in IPv6 counts as that IPv4
 * (common/net/address-class.ts). Checked on the literal address when a server
 * is written, and on the resolved address at every probe (tcp-probe.ts).
 */
const ALWAYS_REFUSED: ReadonlySet<AddressClass> = new Set<AddressClass>(['unspecified', 'loopback', 'link-local', 'metadata', 'multicast', 'reserved']);

/** Why a user's server may not be probed at `address` (an IP), or null when it may. */
export function refusedAddress(address: string, allowPrivate: boolean): string | null {
  const kind = classifyAddress(address);
  if (kind === null) return `${address} is not an IP address`;
  if (ALWAYS_REFUSED.has(kind)) return `${address} is a ${kind} address`;
  if (kind === 'private' && !allowPrivate) return `${address} is a private address`;
  if (isOwnAddress(address)) return `${address} is an address of the platform's own host`;
  return null;
}

/**
 * Throws 400 VALIDATION_ERROR on `host` when a user's server may not name
 * this host: a refused literal address, or a cloud metadata host name. Other
 * names are checked when they are resolved, at each probe.
 */
export function checkServerHost(host: string, allowPrivate: boolean): void {
  const name = host.replace(/\.$/, '').toLowerCase();
  let problem: string | null = null;
  if (METADATA_HOSTNAMES.has(name)) problem = `host may not be ${name}, a cloud metadata service`;
  else if (isIP(name)) {
    const why = refusedAddress(name, allowPrivate);
    if (why) problem = `host may not be ${why.replace(`${name} is `, '')}${why.includes('private') ? ' (MONITOR_ALLOW_PRIVATE_HOSTS is off)' : ''}`;
  }
  if (problem) throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields: { host: [problem] } });
}
