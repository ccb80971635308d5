/** Every Room option, with its default below. */
export interface InternalRoomOptions {
  /** How long to wait for the server's welcome and for each signaling response, in ms. */
  signalTimeoutMs: number;
  /** Open a data channel transport (SCTP) for in-call chat. */
  enableDataChannel: boolean;
}

export type RoomOptions = Partial<InternalRoomOptions>;

export const roomDefaults: InternalRoomOptions = {
  signalTimeoutMs: 10_000,
  enableDataChannel: false,
};
