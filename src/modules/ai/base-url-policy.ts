import { Inject, Injectable } from '@nestjs/common';
import { promises as dns } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

/** How long resolving a base_url's host may take before the write is refused. */
const LOOKUP_TIMEOUT_MS = 5000;

/**
 * Hosts a base_url may not name: the server would send users' prompts and
 * keys to them, and on a cloud machine they answer with the machine's own
 * credentials (instance metadata). Loopback and private addresses stay
 * allowed: ollama and self-hosted gateways live there.
 */
const METADATA_HOSTNAMES = new Set(['metadata.google.internal']);

function refusedAddresses(): BlockList {
  const list = new BlockList();
  list.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, AWS/Azure/GCP/OpenStack metadata at 169.254.169.254
  list.addSubnet('fe80::', 10, 'ipv6'); // link-local
  list.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
  list.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6
  // The same IPv4 addresses reached through NAT64 (64:ff9b::/96). BlockList itself
  // already matches IPv4-mapped addresses (::ffff:169.254.169.254) against the IPv4 rules.
  list.addSubnet('64:ff9b::a9fe:0', 112, 'ipv6');
  list.addAddress('64:ff9b::6464:64c8', 'ipv6');
  return list;
}

/**
 * Whether a base_url may be stored: the write-time check of where users'
 * requests to their provider would go. A hostname is resolved (every address
 * it has) and refused if any address is refused; one that does not resolve is
 * refused too, since it cannot be checked. AI_ALLOW_LINK_LOCAL_BASE_URLS=true
 * turns the check off (a model server on a link-local network).
 *
 * This is checked when the config is written; the calls made with it later
 * must check the address they connect to again, as DNS may answer otherwise then.
 */
@Injectable()
export class BaseUrlPolicy {
  private readonly refused = refusedAddresses();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Throws 400 VALIDATION_ERROR on `base_url` when the URL's host is refused. */
  async check(baseUrl: string): Promise<void> {
    const problem = await this.problemWith(baseUrl);
    if (problem) throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields: { base_url: [problem] } });
  }

  /** Why the URL is refused, or null when it is allowed. */
  async problemWith(baseUrl: string): Promise<string | null> {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      return 'base_url must be an http or https URL';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'base_url must be an http or https URL';
    if (this.config.ai.allowLinkLocalBaseUrls) return null;
    // WHATWG URL has already turned 0xA9FEA9FE, 2852039166 and the like into dotted IPv4.
    const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
    if (METADATA_HOSTNAMES.has(host)) return `base_url may not point at ${host}, a cloud metadata service`;
    const addresses = isIP(host) ? [host] : await this.resolve(host);
    if (typeof addresses === 'string') return addresses;
    const bad = addresses.find((address) => this.isRefused(address));
    if (bad === undefined) return null;
    return bad === host
      ? `base_url may not point at ${host}, a link-local or cloud metadata address`
      : `base_url's host ${host} resolves to ${bad}, a link-local or cloud metadata address`;
  }

  isRefused(address: string): boolean {
    const bare = address.replace(/%.*$/, ''); // an IPv6 zone (fe80::1%eth0)
    const family = isIP(bare);
    if (family === 0) return true;
    return this.refused.check(bare, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** Every address of the host, or why it could not be resolved. */
  private async resolve(host: string): Promise<string[] | string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`base_url's host ${host} did not resolve within ${LOOKUP_TIMEOUT_MS / 1000} s`), LOOKUP_TIMEOUT_MS);
    });
    const lookup = dns
      .lookup(host, { all: true, verbatim: true })
      .then((answers) => (answers.length > 0 ? answers.map((answer) => answer.address) : `base_url's host ${host} has no address`))
      .catch((error: NodeJS.ErrnoException) =>
        // ENOTFOUND and ENODATA are answers (no such name); anything else (EAI_AGAIN, a resolver down) may pass.
        error.code === 'ENOTFOUND' || error.code === 'ENODATA'
          ? `base_url's host ${host} does not resolve`
          : `base_url's host ${host} could not be resolved just now (${error.code ?? 'lookup failed'}); try again`,
      );
    try {
      return await Promise.race([lookup, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
