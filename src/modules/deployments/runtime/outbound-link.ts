import { ChildProcess, spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { isIPv4 } from 'node:net';

/** The address slirp4netns answers DNS on inside the sandbox (its resolv.conf's nameserver). */
export const SANDBOX_DNS = '10.0.2.3';

/**
 * IPv4 ranges an app with outbound access still may not reach: this host's
 * loopback and link-local (cloud metadata) addresses, private and shared
 * networks (where the platform's database, Redis, other replicas live),
 * documentation, benchmark, multicast and reserved ranges. What is left is the
 * public internet.
 */
export const BLOCKED_RANGES = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/3',
];

/**
 * The nftables rules loaded into an app's network namespace: its own
 * loopback and slirp4netns' DNS pass, the blocked ranges and every address of
 * this host (a public one included: the platform listens there) are refused
 * at once, IPv6 is refused (the link has none), the rest goes out.
 */
export function firewallRules(hostAddresses: string[]): string {
  const own = hostAddresses.filter((address) => isIPv4(address));
  return [
    'table inet coderunner_app {',
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    '    oif "lo" accept',
    `    ip daddr ${SANDBOX_DNS} udp dport 53 accept`,
    `    ip daddr ${SANDBOX_DNS} tcp dport 53 accept`,
    `    ip daddr { ${[...BLOCKED_RANGES, ...own].join(', ')} } reject with icmp type admin-prohibited`,
    '    meta nfproto ipv6 reject',
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * Runs slirp4netns for the network namespace of `pid`. It must join the user
 * namespace that owns that network namespace, which bubblewrap does not show
 * in /proc (its child sits in a nested one): NS_GET_USERNS on the network
 * namespace gives it, which takes an ioctl — hence a few lines of Python that
 * open both and exec slirp4netns with them as /proc/self/fd paths.
 */
const LAUNCHER = `
import fcntl, os, sys
pid, ready = sys.argv[1], sys.argv[2]
net = os.open('/proc/%s/ns/net' % pid, os.O_RDONLY)
owner = fcntl.ioctl(net, 0xb701)  # NS_GET_USERNS
os.set_inheritable(net, True)
os.set_inheritable(owner, True)
os.execvp('slirp4netns', ['slirp4netns', '--configure', '--mtu=65520', '--disable-host-loopback', '--ready-fd=' + ready,
  '--userns-path=/proc/self/fd/%d' % owner, '--netns-type=path', '/proc/self/fd/%d' % net, 'tap0'])
`;

export interface OutboundOptions {
  pythonBinary: string;
  /** How long the link may take to come up. */
  timeoutMs: number;
}

/**
 * An app's way out (DEPLOY_OUTBOUND=internet): slirp4netns gives the
 * sandbox's network namespace a tap device, a default route and DNS through
 * user-mode networking on the host (connections are the platform's own
 * sockets, never a bridge), with the host's loopback cut off; nftables inside
 * the namespace then refuses every private, reserved and host address.
 */
export class OutboundLink {
  private constructor(private readonly slirp: ChildProcess) {}

  static async attach(pid: number, options: OutboundOptions): Promise<OutboundLink> {
    const slirp = spawn(options.pythonBinary, ['-c', LAUNCHER, String(pid), '3'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    const link = new OutboundLink(slirp);
    try {
      await link.ready(options.timeoutMs);
      await loadFirewall(pid, firewallRules(hostAddresses()));
    } catch (error) {
      link.close();
      throw error;
    }
    return link;
  }

  close(): void {
    if (this.slirp.exitCode === null && this.slirp.signalCode === null) this.slirp.kill('SIGKILL');
  }

  /** Resolves once slirp4netns has written to its ready descriptor; rejects with what it said if it exits first. */
  private ready(timeoutMs: number): Promise<void> {
    let said = '';
    this.slirp.stderr!.on('data', (chunk: Buffer) => (said = `${said}${chunk.toString()}`.slice(-2000)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`slirp4netns was not ready within ${timeoutMs} ms`)), timeoutMs);
      (this.slirp.stdio[3] as NodeJS.ReadableStream).once('data', () => {
        clearTimeout(timer);
        resolve();
      });
      this.slirp.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`slirp4netns could not start: ${error.message}`));
      });
      this.slirp.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`slirp4netns exited (${code}): ${said.trim() || 'no message'}`));
      });
    });
  }
}

function hostAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((addresses) => (addresses ?? []).map((address) => address.address));
}

/** Loads the rules into the namespace of `pid` (nft, entered with nsenter). */
function loadFirewall(pid: number, rules: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const nft = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, 'nft', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let said = '';
    nft.stderr!.on('data', (chunk: Buffer) => (said += chunk.toString()));
    nft.once('error', (error) => reject(new Error(`nft could not start: ${error.message}`)));
    nft.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nft refused the app's firewall (${code}): ${said.trim()}`))));
    nft.stdin!.end(rules);
  });
}
