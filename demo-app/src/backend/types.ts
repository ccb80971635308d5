// What the demo app needs from the platform. The views depend on this port only;
// `telemed-backend.ts` implements it with the SDK's TelemedClient. The platform's records (users,
// calls, room access, attachments, pages) are the SDK's own types; what is defined here is what
// the app adds to them: a contact's presence, a conversation's display title, a message's receipt
// state, the events the views listen to.
import type {
  Attachment,
  Call,
  CallRecording,
  CallType,
  Conversation as ApiConversation,
  Page,
  PresenceStatus,
  RoomAccess,
  TypedEmitter,
  User,
} from '@telemed/sdk';
import type { ClientTrackStatsSample } from '@telemed/sdk/protocol';

export type { Attachment, Call, CallParticipant, CallStatus, CallType, Page, PresenceStatus, Role, RoomAccess, User } from '@telemed/sdk';

/** A call recording and its consent state (the SDK's shape). */
export type Recording = CallRecording;

/** A user the signed-in one can call or message, with their presence. */
export interface Contact extends User {
  presence: PresenceStatus;
  lastSeenAt: string | null;
}

/** A seeded account the login page offers in demo mode. */
export interface DemoAccount {
  email: string;
  password: string;
  name: string;
  role: User['role'];
}

/** A conversation as the app lists it: its title is the API's, or the other members' names. */
export interface Conversation extends Omit<ApiConversation, 'title'> {
  title: string;
}

export type ReceiptStatus = 'sending' | 'sent' | 'delivered' | 'read';

/** What a message shows of its attachment (an attachment uploaded elsewhere is known by its id only). */
export type MessageAttachment = Pick<Attachment, 'id' | 'fileName' | 'sizeBytes' | 'contentType'>;

export interface Message {
  id: string;
  /** Server order within the conversation (0 while sending); receipts cover every message up to one. */
  seq: number;
  /** Client-generated id: the same id sent twice is stored once. */
  clientId: string;
  conversationId: string;
  senderId: string;
  body: string;
  attachments: MessageAttachment[];
  createdAt: string;
  /** For the sender: how far the other members got. */
  status: ReceiptStatus;
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
  /**
   * The realtime events socket opened or reopened. What happened before may not have been
   * delivered (a first socket replays nothing): state a view shows should be read again.
   */
  realtimeConnected: [];
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
  /**
   * Calls ringing this user now (not answered on any of their devices), newest first: what the
   * incoming-call dialog shows when it opens after the ring went out.
   */
  ringingCalls(): Promise<Call[]>;
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
  attachmentUrl(attachment: MessageAttachment): Promise<{ url: string; name: string }>;
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
