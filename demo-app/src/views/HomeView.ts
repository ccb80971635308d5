// Home: upcoming (scheduled) calls, contacts with live presence, conversations with unread counts, recent calls.
import { html } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Call, CallType, Contact, Conversation, PresenceStatus } from '../backend/types.js';
import { useSession } from '../context.js';
import { errorMessage, formatDuration, formatTime } from '../format.js';
import { navigate } from '../router.js';
import { Icon } from '../icons.js';
import { UpcomingCalls } from './UpcomingCalls.js';

const PRESENCE_LABEL: Record<PresenceStatus, string> = {
  online: 'Online',
  away: 'Away',
  busy: 'Busy',
  in_call: 'In a call',
  offline: 'Offline',
};

export function HomeView() {
  const { backend, user } = useSession();
  const [contacts, setContacts] = useState<Contact[] | undefined>();
  const [conversations, setConversations] = useState<Conversation[] | undefined>();
  const [calls, setCalls] = useState<Call[] | undefined>();
  const [error, setError] = useState<string | undefined>();

  const loadConversations = useCallback(() => backend.conversations().then(setConversations, (e: unknown) => setError(errorMessage(e))), [backend]);
  // Booked calls not started yet are listed under Upcoming.
  const loadCalls = useCallback(
    () =>
      backend.calls({ limit: 10 }).then(
        (page) => setCalls(page.items.filter((c) => c.status !== 'scheduled')),
        (e: unknown) => setError(errorMessage(e)),
      ),
    [backend],
  );

  useEffect(() => {
    // Presence changes that arrive while the contacts load are kept and applied to the list on arrival.
    const latestPresence = new Map<string, PresenceStatus>();
    const onPresence = (userId: string, presence: PresenceStatus): void => {
      latestPresence.set(userId, presence);
      setContacts((list) => list?.map((c) => (c.id === userId ? { ...c, presence } : c)));
    };
    backend.on('presence', onPresence);
    backend.contacts().then(
      (list) => setContacts(list.map((c) => ({ ...c, presence: latestPresence.get(c.id) ?? c.presence }))),
      (e: unknown) => setError(errorMessage(e)),
    );
    void loadConversations();
    void loadCalls();
    const onMessage = (): void => void loadConversations();
    const onCall = (): void => void loadCalls();
    // Events from before the socket (re)opened may not have come: the lists are read again.
    const onConnected = (): void => {
      onMessage();
      onCall();
    };
    backend.on('message', onMessage).on('receipt', onMessage).on('realtimeConnected', onConnected);
    for (const event of ['callEnded', 'callMissed', 'callDeclined', 'callCancelled', 'callAccepted'] as const) backend.on(event, onCall);
    return () => {
      backend.off('presence', onPresence).off('message', onMessage).off('receipt', onMessage).off('realtimeConnected', onConnected);
      for (const event of ['callEnded', 'callMissed', 'callDeclined', 'callCancelled', 'callAccepted'] as const) backend.off(event, onCall);
    };
  }, [backend, loadConversations, loadCalls]);

  const [selected, setSelected] = useState<string[]>([]);
  const startCall = (ids: string[], type: CallType): void => navigate(`/call/new?to=${ids.map(encodeURIComponent).join(',')}&type=${type}`);
  const toggleSelected = (id: string): void => setSelected((list) => (list.includes(id) ? list.filter((x) => x !== id) : [...list, id]));
  const openChat = async (contact: Contact): Promise<void> => {
    try {
      const conversation = await backend.directConversation(contact.id);
      navigate(`/conversations/${encodeURIComponent(conversation.id)}`);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return html`
    <main class="home">
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <${UpcomingCalls} contacts=${contacts} />
      <section class="panel" aria-labelledby="contacts-title">
        <h2 id="contacts-title">${user.role === 'doctor' ? 'My patients' : 'My doctors'}</h2>
        ${
          contacts === undefined
            ? html`<p class="hint">Loading…</p>`
            : contacts.length === 0
              ? html`<p class="hint">No contacts yet.</p>`
              : html`
          <ul class="list contacts">
            ${contacts.map(
              (c) => html`
              <li key=${c.id} class="contact" data-contact=${c.email}>
                <input type="checkbox" class="pick" checked=${selected.includes(c.id)} onChange=${() => toggleSelected(c.id)}
                  aria-label=${`Add ${c.displayName} to a group call`} title="Add to a group call" />
                <span class=${`dot presence-${c.presence}`} role="img" aria-label=${PRESENCE_LABEL[c.presence]} title=${PRESENCE_LABEL[c.presence]}></span>
                <span class="grow"><span class="name">${c.displayName}</span><span class="sub">${PRESENCE_LABEL[c.presence]}</span></span>
                <span class="actions">
                  <button type="button" class="icon" aria-label=${`Video call ${c.displayName}`} title="Video call" onClick=${() => startCall([c.id], 'video')}><${Icon} name="video" /></button>
                  <button type="button" class="icon" aria-label=${`Voice call ${c.displayName}`} title="Voice call" onClick=${() => startCall([c.id], 'voice')}><${Icon} name="phone" /></button>
                  <button type="button" class="icon" aria-label=${`Message ${c.displayName}`} title="Message" onClick=${() => void openChat(c)}><${Icon} name="chat" /></button>
                </span>
              </li>`,
            )}
          </ul>`
        }
        ${
          selected.length >= 2 &&
          html`
          <div class="row group-call">
            <button type="button" class="primary" id="group-video-call" onClick=${() => startCall(selected, 'video')}><${Icon} name="video" /> Group video call (${selected.length})</button>
            <button type="button" class="ghost" onClick=${() => setSelected([])}>Clear</button>
          </div>`
        }
      </section>

      <section class="panel" aria-labelledby="conversations-title">
        <h2 id="conversations-title">Conversations</h2>
        ${
          conversations === undefined
            ? html`<p class="hint">Loading…</p>`
            : conversations.length === 0
              ? html`<p class="hint">No conversations yet.</p>`
              : html`
          <ul class="list conversations">
            ${conversations.map(
              (c) => html`
              <li key=${c.id}>
                <a class="conversation" href=${`#/conversations/${encodeURIComponent(c.id)}`} data-conversation=${c.id} data-title=${c.title}>
                  <span class="grow"><span class="name">${c.title}</span>
                    <span class="sub">${c.unreadCount > 0 ? `${c.unreadCount} unread message${c.unreadCount > 1 ? 's' : ''}` : c.lastMessageAt ? `Last message ${formatTime(c.lastMessageAt)}` : 'No messages yet'}</span></span>
                  ${c.unreadCount > 0 && html`<span class="badge" data-testid="unread" aria-label=${`${c.unreadCount} unread`}>${c.unreadCount}</span>`}
                </a>
              </li>`,
            )}
          </ul>`
        }
      </section>

      <section class="panel" aria-labelledby="calls-title">
        <h2 id="calls-title">Recent calls</h2>
        ${
          calls === undefined
            ? html`<p class="hint">Loading…</p>`
            : calls.length === 0
              ? html`<p class="hint">No calls yet.</p>`
              : html`
          <ul class="list calls" data-testid="call-history">
            ${calls.map((call) => html`<${CallRow} key=${call.id} call=${call} selfId=${user.id} doctor=${user.role === 'doctor'} />`)}
          </ul>`
        }
      </section>
    </main>`;
}

function CallRow({ call, selfId, doctor }: { call: Call; selfId: string; doctor: boolean }) {
  const others =
    call.participants
      .filter((p) => p.userId !== selfId)
      .map((p) => p.displayName)
      .join(', ') || '—';
  const outgoing = call.initiatorId === selfId;
  const label = call.status === 'ended' && call.durationSeconds !== null ? formatDuration(call.durationSeconds) : call.status;
  // A running call this user is not in: a doctor joins it, a patient asks the doctor to let them in.
  const mine = call.participants.find((p) => p.userId === selfId);
  const canJoin = call.status === 'active' && mine?.status !== 'accepted' && mine?.status !== 'invited';
  const joinLabel = doctor ? 'Join' : 'Ask to join';
  return html`
    <li class=${`call-row status-${call.status}`} data-call=${call.id} data-status=${call.status}>
      <span class="call-kind"><${Icon} name=${call.type === 'video' ? 'video' : 'phone'} size=${18} /></span>
      <span class="grow"><span class="name">${others}</span>
        <span class="sub">${outgoing ? 'Outgoing' : 'Incoming'} · ${formatTime(call.createdAt)}</span></span>
      <span class="call-result" data-testid="call-result">${label}</span>
      ${
        canJoin &&
        html`<button type="button" class="primary join" aria-label=${`${joinLabel} the call with ${others}`}
        onClick=${() => navigate(`/call/${encodeURIComponent(call.id)}?mode=join`)}>${joinLabel}</button>`
      }
    </li>`;
}
