// The patient's network profiles as nftables rules inside the patient's namespace (the body of
// table `inet tmd_profile`, see netns.ts). Loopback stays open: the browser's own driver talks to it.
export type ProfileName = 'open' | 'udp-blocked' | 'tcp443-only';

export const PROFILES: readonly ProfileName[] = ['open', 'udp-blocked', 'tcp443-only'];

/** How media may go in each profile (the selected ICE candidate pair, seen from the patient), the usual way first. */
export const EXPECTED_PATH: Record<ProfileName, readonly string[]> = {
  // Straight to the media server's WebRtcServer over UDP.
  open: ['host/udp'],
  // ICE-TCP to the WebRtcServer's TCP port: a direct path ranks above any relay, and the media
  // server listens on TCP as well. TURN over TLS is the other path left: Chromium once kept it for
  // its receiving connection for 30 s with host/tcp up on the sending one (run N, idle machine).
  'udp-blocked': ['host/tcp', 'relay/tls'],
  // Nothing but TCP 443 to the clinic: TURN over TLS on coturn's own address.
  'tcp443-only': ['relay/tls'],
};

/** The ruleset for `profile`; `clinic` are the clinic's addresses ('' = no rules: open). */
export function profileRules(profile: ProfileName, clinic: readonly string[]): string {
  switch (profile) {
    case 'open':
      return '';
    case 'udp-blocked':
      return [
        '  chain out { type filter hook output priority 0; policy accept; oifname "lo" accept; meta l4proto udp drop; }',
        '  chain in { type filter hook input priority 0; policy accept; iifname "lo" accept; meta l4proto udp drop; }',
      ].join('\n');
    case 'tcp443-only':
      return [
        `  chain out { type filter hook output priority 0; policy drop; oifname "lo" accept; ct state established,related accept; ip daddr { ${clinic.join(', ')} } tcp dport 443 accept; }`,
        '  chain in { type filter hook input priority 0; policy drop; iifname "lo" accept; ct state established,related accept; }',
      ].join('\n');
  }
}
