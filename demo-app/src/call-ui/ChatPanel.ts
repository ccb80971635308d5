// In-call chat: sender and time on every line, and a tick once a line is kept in the conversation.
import { html } from 'htm/preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, formatTime } from '../format.js';
import type { ChatLine } from './useCallChat.js';
import { Icon } from '../icons.js';

export function ChatPanel({ lines, onSend, onClose }: { lines: ChatLine[]; onSend: (text: string) => Promise<void>; onClose: () => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const list = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [lines.length]);
  const submit = (e: Event): void => {
    e.preventDefault();
    const value = text.trim();
    if (!value) return;
    setText('');
    onSend(value).catch((err: unknown) => {
      setError(errorMessage(err));
      setText(value);
    });
  };
  return html`
    <aside class="side-panel chat-panel" aria-label="In-call chat" data-testid="chat-panel">
      <header><h2>Chat</h2><button type="button" class="icon" aria-label="Close chat" onClick=${onClose}><${Icon} name="close" /></button></header>
      <div class="messages" ref=${list} role="log" aria-label="In-call messages" aria-live="polite" tabindex="0">
        ${lines.length === 0 && html`<p class="hint center">Messages here are seen by everyone in the call.</p>`}
        ${lines.map(
          ({ id, text, fromName, at, mine, stored }) => html`
          <div key=${id} class=${`message ${mine ? 'mine' : 'theirs'}`} data-chat=${id} data-stored=${stored ? 'true' : 'false'}>
            ${!mine && html`<span class="from">${fromName}</span>`}
            <p class="body">${text}</p>
            <span class="meta">${formatTime(new Date(at).toISOString())}${mine && html` <span class="tick" role="img" title=${stored ? 'Kept in the conversation' : 'Sent'} aria-label=${stored ? 'Kept in the conversation' : 'Sent'}>${stored ? '✓✓' : '✓'}</span>`}</span>
          </div>`,
        )}
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <form class="composer" onSubmit=${submit} aria-label="Send a chat message">
        <div class="row">
          <label class="sr-only" for="call-chat-text">Chat message</label>
          <input id="call-chat-text" class="grow" type="text" maxlength="4000" autocomplete="off" placeholder="Message everyone…" value=${text}
            onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} />
          <button type="submit" class="primary">Send</button>
        </div>
      </form>
    </aside>`;
}
