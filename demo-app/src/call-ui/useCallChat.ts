// In-call chat: delivered live over the room's data channel and kept in the call's conversation.
// The sender stores each line under its data-channel id (the message's client id, so a retry is
// stored once); receivers merge the live line and the stored copy by that id, so each line shows
// once, whichever arrives first (a line sent while a data channel was down still arrives).
import type { ChatMessage, Room } from '@telemed/sdk';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Backend, Call, Message } from '../backend/types.js';

export interface ChatLine {
  id: string;
  text: string;
  fromName: string;
  /** When it was sent (ms since epoch). */
  at: number;
  mine: boolean;
  /** Kept in the call's conversation (stored by the server). */
  stored: boolean;
  /** The stored copy's place in the conversation (others' lines, once stored). */
  seq?: number;
}

export interface CallChat {
  lines: ChatLine[];
  send: (text: string) => Promise<void>;
}

/** `visible`: the chat panel is open, so what it shows counts as read in the conversation. */
export function useCallChat(room: Room, call: Call, backend: Backend, selfId: string, visible: boolean): CallChat {
  const [lines, setLines] = useState<ChatLine[]>([]);
  const nameOf = useRef(new Map(call.participants.map((p) => [p.userId, p.displayName])));
  const readUpTo = useRef(0);

  const merge = (line: ChatLine): void =>
    setLines((current) => {
      const at = current.findIndex((l) => l.id === line.id);
      if (at < 0) return [...current, line];
      if (!line.stored || current[at]!.stored) return current;
      return current.map((l, i) => (i === at ? { ...l, stored: true, ...(line.seq !== undefined ? { seq: line.seq } : {}) } : l));
    });

  const newest = Math.max(0, ...lines.map((l) => l.seq ?? 0));
  useEffect(() => {
    if (!visible || !call.conversationId || newest <= readUpTo.current) return;
    readUpTo.current = newest;
    void backend.markRead(call.conversationId, newest).catch(() => undefined);
  }, [visible, newest, call.conversationId]);

  useEffect(() => {
    const onLive = (message: ChatMessage, from: { name: string }): void =>
      merge({ id: message.id, text: message.text, fromName: from.name, at: message.timestamp, mine: false, stored: false });
    const onStored = (m: Message): void => {
      if (m.conversationId !== call.conversationId || m.senderId === selfId) return;
      merge({
        id: m.clientId,
        text: m.body,
        fromName: nameOf.current.get(m.senderId) ?? 'Someone',
        at: Date.parse(m.createdAt),
        mine: false,
        stored: true,
        seq: m.seq,
      });
    };
    room.on('chatMessage', onLive);
    backend.on('message', onStored);
    return () => {
      room.off('chatMessage', onLive);
      backend.off('message', onStored);
    };
  }, [room, backend, call.conversationId, selfId]);

  const send = async (text: string): Promise<void> => {
    const message = await room.sendChatMessage(text);
    merge({ id: message.id, text, fromName: room.localParticipant.name, at: message.timestamp, mine: true, stored: false });
    if (!call.conversationId) return;
    // The SDK retries a failed send with the same client id; the server stores it once. A line
    // that still could not be stored was delivered live: it keeps its single tick.
    const stored = await backend.sendMessage(call.conversationId, { clientId: message.id, body: text, attachmentIds: [] }).then(
      () => true,
      () => false,
    );
    if (stored) merge({ id: message.id, text, fromName: room.localParticipant.name, at: message.timestamp, mine: true, stored: true });
  };

  return { lines, send };
}
