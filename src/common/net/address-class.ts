import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * What kind of address an IP is, as the checks of where the platform may
 * connect on a user's behalf need it (AI base URLs, monitored servers):
 *
 * - `unspecified`: 0.0.0.0/8, :: (connecting to it reaches this host)
 * - `loopback`: 127.0.0.0/8, ::1
 * - `metadata`: cloud instance metadata outside link-local (Alibaba 100.100.100.200, AWS fd00:ec2::254)
 * - `link-local`: 169.254.0.0/16 (AWS/Azure/GCP/OpenStack metadata at 169.254.169.254), fe80::/10
 * - `multicast`: 224.0.0.0/4, ff00::/8
 * - `reserved`: 240.0.0.0/4, the broadcast address among them
 * - `private`: 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT), fc00::/7
 * - `public`: anything else
 *
 * IPv4 written inside IPv6 (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible
 * ::a.b.c.d, NAT64 64:ff9b::/96) is classified as the IPv4 address it carries.
 */
export type AddressClass = 'unspecified' | 'loopback' | 'metadata' | 'link-local' | 'multicast' | 'reserved' | 'private' | 'public';

/** Host names of cloud metadata services (they resolve to a metadata address only inside the cloud). */
export const METADATA_HOSTNAMES: ReadonlySet<string> = new Set(['metadata.google.internal']);

function listOf(v4: Array<[string, number]>, v6: Array<[string, number]>): BlockList {
  const list = new BlockList();
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, 'ipv6');
  return list;
}

/** In the order they are asked: the first that matches names the address. */
const CLASSES: Array<[AddressClass, BlockList]> = [
  ['metadata', listOf([['100.100.100.200', 32]], [['fd00:ec2::254', 128]])],
  ['unspecified', listOf([['0.0.0.0', 8]], [['::', 128]])],
  ['loopback', listOf([['127.0.0.0', 8]], [['::1', 128]])],
  ['link-local', listOf([['169.254.0.0', 16]], [['fe80::', 10]])],
  ['multicast', listOf([['224.0.0.0', 4]], [['ff00::', 8]])],
  ['reserved', listOf([['240.0.0.0', 4]], [])],
  ['private', listOf([['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10]], [['fc00::', 7]])],
];

/** The 32 low bits of an IPv6 address, as dotted IPv4. */
function lowIpv4(groups: number[]): string {
  return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
}

/** An IPv6 address's eight 16-bit groups (the address is valid IPv6). */
function groupsOf(address: string): number[] {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number);
    text = `${text.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const start = parse(head);
  const end = parse(tail);
  return tail === undefined ? start : [...start, ...new Array<number>(8 - start.length - end.length).fill(0), ...end];
}

/**
 * The address without an IPv6 zone, and IPv4 carried in IPv6 as that IPv4;
 * null when it is no IP address at all.
 */
export function normalizeAddress(address: string): { address: string; family: 4 | 6 } | null {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return { address: bare, family: 4 };
  if (family !== 6) return null;
  const groups = groupsOf(bare.toLowerCase());
  const zeroes = (count: number) => groups.slice(0, count).every((group) => group === 0);
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated; not :: or ::1), 64:ff9b::a.b.c.d (NAT64).
  if (zeroes(5) && groups[5] === 0xffff) return { address: lowIpv4(groups), family: 4 };
  if (zeroes(6) && (groups[6] !== 0 || groups[7] > 1)) return { address: lowIpv4(groups), family: 4 };
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((group) => group === 0)) return { address: lowIpv4(groups), family: 4 };
  return { address: bare, family: 6 };
}

/** What kind of address `address` is (see AddressClass); null when it is no IP address. */
export function classifyAddress(address: string): AddressClass | null {
  const normal = normalizeAddress(address);
  if (!normal) return null;
  const type = normal.family === 4 ? 'ipv4' : 'ipv6';
  for (const [name, list] of CLASSES) if (list.check(normal.address, type)) return name;
  return 'public';
}

let own: { at: number; addresses: Set<string> } | undefined;
/** How long the host's own addresses are remembered (interfaces rarely change). */
const OWN_TTL_MS = 60_000;

/** Whether `address` is one of this host's own interfaces' addresses (IPv4 carried in IPv6 compared as IPv4). */
export function isOwnAddress(address: string): boolean {
  const normal = normalizeAddress(address);
  if (!normal) return false;
  if (!own || Date.now() - own.at > OWN_TTL_MS) {
    const addresses = new Set<string>();
    for (const entries of Object.values(networkInterfaces())) {
      for (const entry of entries ?? []) {
        const mine = normalizeAddress(entry.address);
        if (mine) addresses.add(mine.family === 6 ? groupsOf(mine.address.toLowerCase()).join(':') : mine.address);
      }
    }
    own = { at: Date.now(), addresses };
  }
  return own.addresses.has(normal.family === 6 ? groupsOf(normal.address.toLowerCase()).join(':') : normal.address);
}
