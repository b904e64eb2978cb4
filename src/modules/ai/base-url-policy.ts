import { Inject, Injectable } from '@nestjs/common';
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { AddressClass, classifyAddress, METADATA_HOSTNAMES } from '../../common/net/address-class';
import { within } from '../../common/within';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

/** How long resolving a base_url's host may take before the write is refused. */
const LOOKUP_TIMEOUT_MS = 5000;

/**
 * Hosts a base_url may not name: the server would send users' prompts and
 * keys to them, and on a cloud machine they answer with the machine's own
 * credentials (instance metadata): link-local and metadata addresses
 * (common/net/address-class.ts, IPv4 in IPv6 included). Loopback and private
 * addresses stay allowed: ollama and self-hosted gateways live there.
 */
const REFUSED_CLASSES: ReadonlySet<AddressClass> = new Set<AddressClass>(['link-local', 'metadata']);

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
    const kind = classifyAddress(address); // an IPv6 zone (fe80::1%eth0) is dropped there
    return kind === null || REFUSED_CLASSES.has(kind);
  }

  /** Every address of the host, or why it could not be resolved. */
  private async resolve(host: string): Promise<string[] | string> {
    const lookup = dns
      .lookup(host, { all: true, verbatim: true })
      .then((answers) => (answers.length > 0 ? answers.map((answer) => answer.address) : `base_url's host ${host} has no address`))
      .catch((error: NodeJS.ErrnoException) =>
        // ENOTFOUND and ENODATA are answers (no such name); anything else (EAI_AGAIN, a resolver down) may pass.
        error.code === 'ENOTFOUND' || error.code === 'ENODATA'
          ? `base_url's host ${host} does not resolve`
          : `base_url's host ${host} could not be resolved just now (${error.code ?? 'lookup failed'}); try again`,
      );
    return within(lookup, LOOKUP_TIMEOUT_MS, () => `base_url's host ${host} did not resolve within ${LOOKUP_TIMEOUT_MS / 1000} s`);
  }
}
