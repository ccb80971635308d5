// What the demo app needs from the platform, in the app's own words. The views depend on this
// port only; `telemed-backend.ts` implements it with the SDK's TelemedClient.
import type { CallRecording, IceServer, TypedEmitter } from '@telemed/sdk';
import type { ClientTrackStatsSample } from '@telemed/sdk/protocol';

/** A call recording and its consent state (the SDK's shape). */
export type Recording = CallRecording;

export type Role = 'patient' | 'doctor' | 'admin';
export type PresenceStatus = 'online' | 'away' | 'busy' | 'in-call' | 'offline';
export type CallType = 'video' | 'voice';
export type CallStatus = 'scheduled' | 'ringing' | 'active' | 'ended' | 'missed' | 'declined' | 'cancelled';

export interface User {
  id: string;
  name: string;
  email: string;
  role: Role;
}

export interface Contact extends User {
  presence: PresenceStatus;
  lastSeenAt: string | undefined;
}

/** A seeded account the login page offers in demo mode. */
export interface DemoAccount {
  email: string;
  password: string;
  name: string;
  role: Role;
}

export interface CallParticipant {
  userId: string;
  name: string;
  /** Calls only: invited, accepted, declined, missed, left, or waiting / denied in the lobby. */
  status?: string;
}

export interface Call {
  id: string;
  type: CallType;
  status: CallStatus;
  callerId: string;
  participants: CallParticipant[];
  /** The conversation that keeps this call's in-call chat. */
  conversationId: string | undefined;
  createdAt: string;
  startedAt: string | undefined;
  endedAt: string | undefined;
  durationSeconds: number | undefined;
  /** Why it ended (e.g. timeout, not_started), once it has. */
  endReason: string | undefined;
  /** A scheduled call's booked time, from when it can be started or joined, and its title. */
  scheduledFor: string | undefined;
  opensAt: string | undefined;
  title: string | undefined;
}

/** What joining a call's room takes. */
export interface RoomAccess {
  url: string;
  token: string;
  /** TURN relays with time-limited credentials, for Room.connect(). */
  iceServers: IceServer[];
}

export interface Conversation {
  id: string;
  title: string;
  members: CallParticipant[];
  unreadCount: number;
  lastMessageAt: string | undefined;
}

export type ReceiptStatus = 'sending' | 'sent' | 'delivered' | 'read';

export interface Attachment {
  id: string;
  name: string;
  size: number;
  contentType: string;
}

export interface Message {
  id: string;
  /** Server order within the conversation (0 while sending); receipts cover every message up to one. */
  seq: number;
  /** Client-generated id: the same id sent twice is stored once. */
  clientId: string;
  conversationId: string;
  senderId: string;
  body: string;
  attachments: Attachment[];
  createdAt: string;
  /** For the sender: how far the other members got. */
  status: ReceiptStatus;
}

export interface Page<T> {
  items: T[];
  /** Pass as `before` to get the next (older) page; undefined at the end. */
  nextCursor: string | undefined;
}

/** A client-side sample of one track, from the browser's getStats() (the call is given apart). */
export type ClientQualitySample = Omit<ClientTrackStatsSample, 'callId'>;

export type BackendEvents = {
  presence: [userId: string, status: PresenceStatus];
  message: [Message];
  receipt: [conversationId: string, upToSeq: number, status: ReceiptStatus];
  callRinging: [Call];
  /** A call was booked with this user (or by them); it changes with the other call events. */
  callScheduled: [Call];
  /** The doctor started a scheduled call: its invitees may join. */
  callStarted: [Call];
  /** `userId` is in the call now (answered, joined, or admitted from the lobby). */
  callAccepted: [Call, userId: string];
  /** To the doctors in a call: `userId` waits in its lobby. */
  callAdmissionRequested: [Call, userId: string];
  /** `userId` was turned away from the lobby (told to them and the doctors). */
  callAdmissionDenied: [Call, userId: string];
  callDeclined: [Call];
  callCancelled: [Call];
  callMissed: [Call];
  callEnded: [Call];
  /** A call's recording was asked for, answered, started, paused, stopped or stored. */
  recordingUpdated: [Recording];
  /** The session ended (logged out, refresh expired). */
  signedOut: [];
};

/** Who a one-time set-password link (an invitation or a reset) is for. */
export interface AccountLink {
  email: string;
  displayName: string;
  purpose: 'invite' | 'reset';
  expiresAt: string;
}

export interface Backend extends Pick<TypedEmitter<BackendEvents>, 'on' | 'off' | 'once'> {
  readonly user: User | undefined;
  /** Demo accounts when the server is in demo mode, otherwise none. */
  demoAccounts(): Promise<DemoAccount[]>;
  /** Restores a session kept from an earlier page load; undefined when there is none. */
  resume(): Promise<User | undefined>;
  login(email: string, password: string): Promise<User>;
  logout(): Promise<void>;
  /** Who a set-password link is for; rejects when it is used, expired or unknown. */
  accountLink(token: string): Promise<AccountLink>;
  /** Sets the password through the link (once); every other session of the account ends. */
  setPassword(token: string, password: string): Promise<void>;
  contacts(): Promise<Contact[]>;
  conversations(): Promise<Conversation[]>;
  /** Opens (or finds) the direct conversation with a user. */
  directConversation(userId: string): Promise<Conversation>;
  calls(options: { limit: number; before?: string }): Promise<Page<Call>>;
  call(callId: string): Promise<Call>;
  /** Rings one invitee, or several for a group call. */
  startCall(inviteeIds: string[], type: CallType): Promise<{ call: Call; access: RoomAccess | undefined }>;
  acceptCall(callId: string): Promise<RoomAccess>;
  /** A doctor books a call with patients for later. */
  scheduleCall(input: { inviteeIds: string[]; type: CallType; scheduledFor: string; title?: string }): Promise<Call>;
  /** Scheduled calls not over yet (booked, or started and running), soonest first. */
  upcomingCalls(options: { limit: number; before?: string }): Promise<Page<Call>>;
  /** The doctor who booked a scheduled call starts it: their room token. */
  startScheduledCall(callId: string): Promise<RoomAccess>;
  /**
   * A room token for a running call (the caller's, once the callee accepts; or joining again).
   * Undefined when the user waits in the call's lobby for a doctor to admit them.
   */
  joinCall(callId: string): Promise<RoomAccess | undefined>;
  /** A fresh room access of a call the user is in: the media node the room lives on now (after a failover another one). */
  callAccess(callId: string): Promise<RoomAccess>;
  /** A doctor in the call lets a waiting participant in, or turns them away. */
  admit(callId: string, userId: string): Promise<void>;
  deny(callId: string, userId: string): Promise<void>;
  declineCall(callId: string): Promise<void>;
  cancelCall(callId: string): Promise<void>;
  endCall(callId: string): Promise<void>;
  /** Leaves a group call; it ends when the last participant leaves. */
  leaveCall(callId: string): Promise<void>;
  reportQuality(callId: string, samples: ClientQualitySample[]): Promise<void>;
  messages(conversationId: string, options: { limit: number; before?: string }): Promise<Page<Message>>;
  sendMessage(conversationId: string, message: { clientId: string; body: string; attachmentIds: string[] }): Promise<Message>;
  uploadAttachment(conversationId: string, file: File, onProgress: (fraction: number) => void): Promise<Attachment>;
  /** A local object URL with the file's bytes (the download needs the session's token). */
  attachmentUrl(attachment: Attachment): Promise<{ url: string; name: string }>;
  markRead(conversationId: string, upToSeq: number): Promise<void>;
  /** Whether this installation records calls. */
  recordingEnabled(): Promise<boolean>;
  /** The call's latest recording request; undefined when there is none. */
  recording(callId: string): Promise<Recording | undefined>;
  /** A doctor in the call asks to record it; everyone present is asked to consent. */
  requestRecording(callId: string): Promise<Recording>;
  answerRecording(callId: string, granted: boolean): Promise<Recording>;
  stopRecording(callId: string): Promise<Recording>;
}
