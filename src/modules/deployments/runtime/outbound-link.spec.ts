import { spawnSync } from 'node:child_process';
import { BLOCKED_RANGES, firewallRules, SANDBOX_DNS } from './outbound-link';

describe('firewallRules', () => {
  const rules = firewallRules(['127.0.0.1', '192.0.2.2', '::1', 'fe80::1', '203.0.113.9', '8.8.4.4']);

  it('lets the loopback and slirp4netns\' DNS through, before refusing anything', () => {
    const lines = rules.split('\n').map((line) => line.trim());
    const refuse = lines.findIndex((line) => line.includes('reject'));
    expect(lines.indexOf('oif "lo" accept')).toBeLessThan(refuse);
    expect(lines.indexOf(`ip daddr ${SANDBOX_DNS} udp dport 53 accept`)).toBeLessThan(refuse);
    expect(lines).toContain('type filter hook output priority 0; policy accept;');
  });

  it('refuses every private, reserved and loopback range and each IPv4 address of the host, and IPv6', () => {
    const refused = /ip daddr \{ ([^}]+) \} reject/.exec(rules)![1].split(', ');
    for (const range of BLOCKED_RANGES) expect(refused).toContain(range);
    // The host's own public address too (the platform listens there); IPv6 addresses are refused by family.
    expect(refused).toEqual(expect.arrayContaining(['192.0.2.2', '8.8.4.4']));
    expect(refused.some((entry) => entry.includes(':'))).toBe(false);
    expect(rules).toContain('meta nfproto ipv6 reject');
    for (const range of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '127.0.0.0/8', '100.64.0.0/10']) expect(refused).toContain(range);
  });

  it('is a ruleset nft accepts', () => {
    // nft --check parses without loading. Where nft is not installed (it is only needed with
    // DEPLOY_OUTBOUND=internet; CI installs it) there is nothing to ask.
    const check = spawnSync('nft', ['--check', '-f', '-'], { input: rules });
    if (check.error) return expect((check.error as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect([check.status, check.stderr.toString()]).toEqual([0, '']);
  });
});
