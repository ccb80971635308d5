// One conversation's messages: older pages on demand, live new messages and receipts, optimistic
// sends with a client id (a retry of the same id is stored once), and read marking.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Attachment, Message, ReceiptStatus } from '../backend/types.js';
import { useSession } from '../context.js';
import { errorMessage } from '../format.js';

const PAGE_SIZE = 30;
const RANK: Record<ReceiptStatus, number> = { sending: 0, sent: 1, delivered: 2, read: 3 };

export interface MessagesState {
  messages: Message[];
  hasOlder: boolean;
  loadingOlder: boolean;
  error: string | undefined;
  loadOlder: () => Promise<void>;
  send: (body: string, attachments: Attachment[]) => Promise<void>;
}

export function useMessages(conversationId: string | undefined): MessagesState {
  const { backend, user } = useSession();
  const [messages, setMessages] = useState<Message[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasOlder, setHasOlder] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const lastRead = useRef<number | undefined>(undefined);

  const markRead = useCallback(
    (list: Message[]) => {
      const last = [...list].reverse().find((m) => m.senderId !== user.id);
      if (!conversationId || !last || (lastRead.current ?? 0) >= last.seq || document.visibilityState === 'hidden') return;
      lastRead.current = last.seq;
      backend.markRead(conversationId, last.seq).catch((e: unknown) => setError(errorMessage(e)));
    },
    [backend, conversationId, user.id],
  );

  useEffect(() => {
    if (!conversationId) return;
    let cancelled = false;
    setMessages([]);
    lastRead.current = undefined;
    backend.messages(conversationId, { limit: PAGE_SIZE }).then(
      (page) => {
        if (cancelled) return;
        const list = [...page.items].reverse();
        setMessages(list);
        setCursor(page.nextCursor);
        setHasOlder(page.nextCursor !== null);
        markRead(list);
      },
      (e: unknown) => setError(errorMessage(e)),
    );
    const onMessage = (message: Message): void => {
      if (message.conversationId !== conversationId) return;
      setMessages((list) => {
        const next = upsert(list, message);
        markRead(next);
        return next;
      });
    };
    // Messages sent before the socket (re)opened may not have come live: the newest page is read
    // again and merged in conversation order.
    const onConnected = (): void => {
      backend.messages(conversationId, { limit: PAGE_SIZE }).then(
        (page) => {
          if (cancelled) return;
          setMessages((list) => {
            const next = page.items.reduce(upsert, list).sort(byConversationOrder);
            markRead(next);
            return next;
          });
        },
        () => undefined,
      );
    };
    const onReceipt = (conversation: string, upToSeq: number, status: ReceiptStatus): void => {
      if (conversation !== conversationId) return;
      setMessages((list) => list.map((m) => (m.seq > 0 && m.seq <= upToSeq && m.senderId === user.id ? { ...m, status: higher(m.status, status) } : m)));
    };
    backend.on('message', onMessage).on('receipt', onReceipt).on('realtimeConnected', onConnected);
    return () => {
      cancelled = true;
      backend.off('message', onMessage).off('receipt', onReceipt).off('realtimeConnected', onConnected);
    };
  }, [backend, conversationId, markRead, user.id]);

  const loadOlder = useCallback(async () => {
    if (!conversationId || !cursor || loadingOlder) return;
    setLoadingOlder(true);
    try {
      const page = await backend.messages(conversationId, { limit: PAGE_SIZE, before: cursor });
      setMessages((list) => [...[...page.items].reverse(), ...list]);
      setCursor(page.nextCursor);
      setHasOlder(page.nextCursor !== null);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoadingOlder(false);
    }
  }, [backend, conversationId, cursor, loadingOlder]);

  const send = useCallback(
    async (body: string, attachments: Attachment[]) => {
      if (!conversationId) return;
      const clientId = crypto.randomUUID();
      const pending: Message = {
        id: clientId,
        seq: 0,
        clientId,
        conversationId,
        senderId: user.id,
        body,
        attachments,
        createdAt: new Date().toISOString(),
        status: 'sending',
      };
      setMessages((list) => [...list, pending]);
      try {
        const stored = await backend.sendMessage(conversationId, { clientId, body, attachmentIds: attachments.map((a) => a.id) });
        setMessages((list) => list.map((m) => (m.clientId === clientId ? { ...stored, status: higher(m.status, stored.status) } : m)));
      } catch (e) {
        setMessages((list) => list.filter((m) => m.clientId !== clientId));
        setError(errorMessage(e));
      }
    },
    [backend, conversationId, user.id],
  );

  return { messages, hasOlder, loadingOlder, error, loadOlder, send };
}

function higher(a: ReceiptStatus, b: ReceiptStatus): ReceiptStatus {
  return RANK[a] >= RANK[b] ? a : b;
}

/** `list` with `message` in place of its earlier copy (same id or client id), or appended. */
function upsert(list: Message[], message: Message): Message[] {
  const index = list.findIndex((m) => m.clientId === message.clientId || m.id === message.id);
  return index >= 0 ? list.map((m, i) => (i === index ? { ...message, status: higher(m.status, message.status) } : m)) : [...list, message];
}

/** Stored messages by their sequence number; ones still being sent (seq 0) after them, in send order. */
function byConversationOrder(a: Message, b: Message): number {
  return (a.seq || Number.MAX_SAFE_INTEGER) - (b.seq || Number.MAX_SAFE_INTEGER);
}
