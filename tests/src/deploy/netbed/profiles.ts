// The patient's network profiles as nftables rules inside the patient's namespace (the body of
// table `inet tmd_profile`, see netns.ts). Loopback stays open: the browser's own driver talks to it.
import { TURN_PORT } from './clinic.js';
import type { NetBed } from './netns.js';

export type ProfileName = 'open' | 'udp-blocked' | 'turn-udp-only' | 'tcp443-only';

export const PROFILES: readonly ProfileName[] = ['open', 'udp-blocked', 'turn-udp-only', 'tcp443-only'];

/** How media may go in each profile (the selected ICE candidate pair, seen from the patient), the usual way first. */
export const EXPECTED_PATH: Record<ProfileName, readonly string[]> = {
  // Straight to the media server's WebRtcServer over UDP.
  open: ['host/udp'],
  // ICE-TCP to the WebRtcServer's TCP port: a direct path ranks above any relay, and the media
  // server listens on TCP as well. TURN over TLS is the other path left: Chromium once kept it for
  // its receiving connection for 30 s with host/tcp up on the sending one (run N, idle machine).
  'udp-blocked': ['host/tcp', 'relay/tls'],
  // DNS, HTTPS to the clinic's web address and UDP to coturn's port 3478, nothing else (not
  // coturn's TLS port either, so TURN over UDP is the one path: with the containers Chromium sees
  // its relayed candidates as peer-reflexive, which hides their ranking, and once chose TLS).
  'turn-udp-only': ['relay/udp'],
  // DNS, and nothing but TCP 443 to the clinic: TURN over TLS on coturn's own address.
  'tcp443-only': ['relay/tls'],
};

/** Where a profile lets the patient go: the clinic's addresses (web first, then coturn's) and the bed's DNS server. */
export interface ProfileNetwork {
  clinic: readonly string[];
  resolver: string;
}

/** The bed's clinic and resolver, as the profiles name them. */
export function profileNetwork(bed: NetBed): ProfileNetwork {
  const clinic = bed.hosts.clinic?.addresses;
  if (!clinic || !bed.resolver) throw new Error('the profiles need a bed with a clinic host and names (its resolver)');
  return { clinic, resolver: bed.resolver };
}

/** The ruleset for `profile` ('' = no rules: open). */
export function profileRules(profile: ProfileName, { clinic, resolver }: ProfileNetwork): string {
  const dns = `ip daddr ${resolver} meta l4proto { udp, tcp } th dport 53 accept;`;
  switch (profile) {
    case 'open':
      return '';
    case 'udp-blocked':
      return [
        `  chain out { type filter hook output priority 0; policy accept; oifname "lo" accept; ${dns} meta l4proto udp drop; }`,
        `  chain in { type filter hook input priority 0; policy accept; iifname "lo" accept; ip saddr ${resolver} th sport 53 accept; meta l4proto udp drop; }`,
      ].join('\n');
    case 'turn-udp-only':
      return [
        `  chain out { type filter hook output priority 0; policy drop; oifname "lo" accept; ct state established,related accept; ${dns} ip daddr ${clinic[0]} tcp dport 443 accept; ip daddr ${turnAddress(clinic)} udp dport ${TURN_PORT} accept; }`,
        '  chain in { type filter hook input priority 0; policy drop; iifname "lo" accept; ct state established,related accept; }',
      ].join('\n');
    case 'tcp443-only':
      return [
        `  chain out { type filter hook output priority 0; policy drop; oifname "lo" accept; ct state established,related accept; ${dns} ip daddr { ${clinic.join(', ')} } tcp dport 443 accept; }`,
        '  chain in { type filter hook input priority 0; policy drop; iifname "lo" accept; ct state established,related accept; }',
      ].join('\n');
  }
}

function turnAddress(clinic: readonly string[]): string {
  const address = clinic[1];
  if (!address) throw new Error('the clinic needs a second address (coturn) for the turn-udp-only profile');
  return address;
}
