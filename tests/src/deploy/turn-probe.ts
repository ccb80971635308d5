// ICE gathering through TURN servers only, in a page: whether the servers hand out relay
// candidates for these credentials, and the errors they answer (401 for refused credentials).
import type { TestPage } from '../browser.js';
import type { RoomAccessJson } from './production.js';

export interface Gathered {
  candidates: string[];
  errors: number[];
}

/** ICE gathering through the TURN server only: the relay candidates a browser gets, and its errors. */
export function gatherRelay(page: TestPage, iceServers: RoomAccessJson['iceServers']): Promise<Gathered> {
  return page.evaluate(async (servers) => {
    const pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: 'relay' });
    const seen: { candidates: string[]; errors: number[] } = { candidates: [], errors: [] };
    pc.onicecandidate = (e) => {
      if (e.candidate?.type) seen.candidates.push(e.candidate.type);
    };
    pc.onicecandidateerror = (e) => seen.errors.push((e as RTCPeerConnectionIceErrorEvent).errorCode);
    pc.createDataChannel('probe');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 30_000);
      const check = (): void => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      };
      pc.onicegatheringstatechange = check;
      check();
    });
    pc.close();
    return seen;
  }, iceServers);
}
