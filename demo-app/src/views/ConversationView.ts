import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { Conversation } from '../backend/types.js';
import { useSession } from '../context.js';
import { Composer } from './Composer.js';
import { MessageList } from './MessageList.js';
import { useMessages } from './useMessages.js';
import { Icon } from '../icons.js';

export function ConversationView({ conversationId }: { conversationId: string }) {
  const { backend } = useSession();
  const [conversation, setConversation] = useState<Conversation | undefined>();
  const state = useMessages(conversationId);
  useEffect(() => {
    backend.conversations().then(
      (list) => setConversation(list.find((c) => c.id === conversationId)),
      () => undefined,
    );
  }, [backend, conversationId]);
  const title = conversation?.title ?? 'Conversation';
  return html`
    <main class="conversation-view">
      <header class="subbar">
        <a href="#/" class="back" aria-label="Back to home"><${Icon} name="back" /></a>
        <h2>${title}</h2>
      </header>
      ${state.error && html`<p class="error" role="alert">${state.error}</p>`}
      <${MessageList} state=${state} label=${`Messages with ${title}`} />
      <${Composer} conversationId=${conversationId} onSend=${state.send} idPrefix="conversation" />
    </main>`;
}
