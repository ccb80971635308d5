// A scrolling message list: loads older pages when the top comes into view, keeps the bottom in
// view for new messages, shows delivered/read ticks on one's own messages.
import { html } from 'htm/preact';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import type { Attachment, ReceiptStatus } from '../backend/types.js';
import { useSession } from '../context.js';
import { formatBytes, formatTime } from '../format.js';
import type { MessagesState } from './useMessages.js';
import { Icon } from '../icons.js';

const TICKS: Record<ReceiptStatus, { mark: string; label: string }> = {
  sending: { mark: '…', label: 'Sending' },
  sent: { mark: '✓', label: 'Sent' },
  delivered: { mark: '✓✓', label: 'Delivered' },
  read: { mark: '✓✓', label: 'Read' },
};

export function MessageList({ state, label }: { state: MessagesState; label: string }) {
  const { user } = useSession();
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const previousHeight = useRef(0);
  const firstId = useRef<string | undefined>(undefined);

  useEffect(() => {
    const element = sentinel.current;
    if (!element || !state.hasOlder) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) void state.loadOlder();
      },
      { root: scroller.current },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [state.hasOlder, state.loadOlder]);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const first = state.messages[0]?.id;
    if (firstId.current && first !== firstId.current && !stick.current) {
      // Older messages were prepended: keep what the reader was looking at in place.
      element.scrollTop += element.scrollHeight - previousHeight.current;
    } else if (stick.current) {
      element.scrollTop = element.scrollHeight;
    }
    firstId.current = first;
    previousHeight.current = element.scrollHeight;
  }, [state.messages]);

  return html`
    <div class="messages" ref=${scroller} role="log" aria-label=${label} aria-live="polite" tabindex="0"
      onScroll=${(e: Event) => {
        const el = e.currentTarget as HTMLDivElement;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        previousHeight.current = el.scrollHeight;
      }}>
      ${state.hasOlder && html`<div ref=${sentinel} class="hint center">${state.loadingOlder ? 'Loading older messages…' : ''}</div>`}
      ${state.messages.length === 0 && html`<p class="hint center">No messages yet.</p>`}
      ${state.messages.map((m) => {
        const mine = m.senderId === user.id;
        return html`
          <div key=${m.clientId} class=${`message ${mine ? 'mine' : 'theirs'}`} data-message=${m.clientId} data-status=${m.status}>
            ${m.body && html`<p class="body">${m.body}</p>`}
            ${m.attachments.map((a) => html`<${AttachmentLink} key=${a.id} attachment=${a} />`)}
            <span class="meta">${formatTime(m.createdAt)}
              ${mine && html` <span class=${`ticks ticks-${m.status}`} data-testid="ticks" role="img" aria-label=${TICKS[m.status].label} title=${TICKS[m.status].label}>${TICKS[m.status].mark}</span>`}
            </span>
          </div>`;
      })}
    </div>`;
}

function AttachmentLink({ attachment }: { attachment: Attachment }) {
  const { backend } = useSession();
  const open = async (e: Event): Promise<void> => {
    e.preventDefault();
    const { url, name } = await backend.attachmentUrl(attachment);
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };
  return html`
    <a class="attachment" href="#" data-attachment=${attachment.id} onClick=${(e: Event) => void open(e)}
      aria-label=${`Download ${attachment.fileName}${attachment.sizeBytes ? `, ${formatBytes(attachment.sizeBytes)}` : ''}`}><${Icon} name="paperclip" size=${14} /> ${attachment.fileName}
      ${attachment.sizeBytes > 0 && html`<span class="sub">${formatBytes(attachment.sizeBytes)}</span>`}</a>`;
}
