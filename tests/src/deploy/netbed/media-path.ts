// How a page's media went, from its own RTCPeerConnections' getStats(): the selected candidate
// pair (host/udp, host/tcp = ICE-TCP, relay/udp|tcp|tls = TURN) and what it decoded. The page's
// peer connections are recorded by wrapping the RTCPeerConnection constructor (before the app makes
// any); the app itself is not changed.
import type { TestPage } from '../../browser.js';

export interface CandidateInfo {
  type: string;
  protocol: string;
  relayProtocol?: string;
  address?: string;
  port?: number;
}
export interface PcPath {
  state: string;
  local?: CandidateInfo;
  remote?: CandidateInfo;
  /** Receiving side: frames decoded and audio samples received on this connection. */
  framesDecoded: number;
  audioPackets: number;
  audioSamples: number;
}

/** Call after the app's page has loaded and before it makes a call (the app is one page). */
export function recordPeerConnections(page: TestPage): Promise<void> {
  return page.evaluate(() => {
    const w = window as typeof window & { tmdPcs?: RTCPeerConnection[] };
    if (w.tmdPcs) return;
    const pcs: RTCPeerConnection[] = [];
    w.tmdPcs = pcs;
    const Native = window.RTCPeerConnection;
    const Recorded = function (this: unknown, ...args: ConstructorParameters<typeof RTCPeerConnection>) {
      const pc = new Native(...args);
      pcs.push(pc);
      return pc;
    } as unknown as typeof RTCPeerConnection;
    Recorded.prototype = Native.prototype;
    Object.defineProperty(Recorded, 'generateCertificate', { value: Native.generateCertificate.bind(Native) });
    window.RTCPeerConnection = Recorded;
  });
}

/** Every recorded, not closed, peer connection's path and what it received. */
export function mediaPaths(page: TestPage): Promise<PcPath[]> {
  return page.evaluate(async () => {
    const pcs = (window as typeof window & { tmdPcs?: RTCPeerConnection[] }).tmdPcs ?? [];
    const out: PcPath[] = [];
    for (const pc of pcs) {
      if (pc.connectionState === 'closed') continue;
      const stats = new Map<string, Record<string, unknown>>();
      // Firefox's getStats() has been seen never to settle on a loaded machine (CI stop 23): a
      // bounded wait lets the caller's poll ask again instead of blocking until the protocol times out.
      const report = await Promise.race([pc.getStats(), new Promise<undefined>((resolve) => setTimeout(resolve, 5_000))]);
      if (!report) {
        out.push({ state: `${pc.connectionState} (getStats did not answer within 5 s)`, framesDecoded: 0, audioPackets: 0, audioSamples: 0 });
        continue;
      }
      report.forEach((s: Record<string, unknown>) => stats.set(String(s.id), s));
      const all = [...stats.values()];
      const transport = all.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
      // Chromium names the pair on the transport; Firefox marks it `selected`.
      const pair =
        (transport && stats.get(String(transport.selectedCandidatePairId))) ??
        all.find((s) => s.type === 'candidate-pair' && s.selected === true) ??
        all.find((s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded');
      const candidate = (id: unknown): CandidateInfo | undefined => {
        const c = stats.get(String(id));
        if (!c) return undefined;
        return {
          type: String(c.candidateType),
          protocol: String(c.protocol),
          ...(c.relayProtocol ? { relayProtocol: String(c.relayProtocol) } : {}),
          ...((c.address ?? c.ip) ? { address: String(c.address ?? c.ip) } : {}),
          ...(c.port !== undefined ? { port: Number(c.port) } : {}),
        };
      };
      const inbound = all.filter((s) => s.type === 'inbound-rtp');
      const local = pair ? candidate(pair.localCandidateId) : undefined;
      const remote = pair ? candidate(pair.remoteCandidateId) : undefined;
      out.push({
        state: pc.connectionState,
        ...(local ? { local } : {}),
        ...(remote ? { remote } : {}),
        framesDecoded: inbound.filter((s) => s.kind === 'video').reduce((n, s) => n + Number(s.framesDecoded ?? 0), 0),
        audioPackets: inbound.filter((s) => s.kind === 'audio').reduce((n, s) => n + Number(s.packetsReceived ?? 0), 0),
        audioSamples: inbound.filter((s) => s.kind === 'audio').reduce((n, s) => n + Number(s.totalSamplesReceived ?? 0), 0),
      });
    }
    return out;
  });
}

/** `host/udp`, `host/tcp`, `relay/tls`…: the local candidate of the pair, as EXPECTED_PATH names it. */
export function pathName(local: CandidateInfo | undefined): string {
  if (!local) return 'none';
  // A relayed path can show a peer-reflexive local candidate: with the compose stack coturn reaches
  // the media server through the host's port mapping, which masquerades its packets, so the media
  // server's STUN answers name the bridge's address instead of coturn's relayed one, and Chromium
  // learns a prflx candidate on that relay (it keeps the relay's relayProtocol).
  if (local.type === 'relay' || local.relayProtocol) return `relay/${local.relayProtocol ?? '?'}`;
  return `${local.type === 'prflx' ? 'host' : local.type}/${local.protocol}`;
}
