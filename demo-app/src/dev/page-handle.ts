import type { ChatMessage, Room } from '@telemed/sdk';

/**
 * What the dev call page exposes as `window.telemed` for automation and debugging: the room and the
 * last join error. The browser tests read it through this type.
 */
export interface DevCallPageHandle {
  room: Room | undefined;
  error: { code: string; message: string } | undefined;
  /** The last error of a control (publish, mute, screen share), e.g. FORBIDDEN without canPublish. */
  controlError: { code: string; message: string } | undefined;
  /** Every chat message received, in order. */
  chat: ChatMessage[];
  /** Every connection state the room went through. */
  states: string[];
  /** performance.now() when Join started, when connected, and when the first remote video frame was shown. */
  timing: { joinStartedAt?: number; connectedAt?: number; firstFrameAt?: number };
  /** Identity of the current dominant speaker, and how many non-silent audio-level updates arrived. */
  activeSpeaker: string | undefined;
  audioLevelUpdates: number;
}
