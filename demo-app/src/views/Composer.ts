// Text box, attach button with upload progress, send.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { Attachment } from '../backend/types.js';
import { useSession } from '../context.js';
import { errorMessage } from '../format.js';
import { Icon } from '../icons.js';

interface Upload {
  name: string;
  progress: number;
}

export function Composer({
  conversationId,
  onSend,
  allowAttachments = true,
  idPrefix,
}: {
  conversationId: string;
  onSend: (body: string, attachments: Attachment[]) => Promise<void>;
  allowAttachments?: boolean;
  idPrefix: string;
}) {
  const { backend } = useSession();
  const [body, setBody] = useState('');
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [error, setError] = useState<string | undefined>();

  const attach = async (files: FileList | null): Promise<void> => {
    for (const file of Array.from(files ?? [])) {
      setUploads((list) => [...list, { name: file.name, progress: 0 }]);
      try {
        const attachment = await backend.uploadAttachment(conversationId, file, (progress) =>
          setUploads((list) => list.map((u) => (u.name === file.name ? { ...u, progress } : u))),
        );
        setAttachments((list) => [...list, attachment]);
      } catch (e) {
        setError(`${file.name}: ${errorMessage(e)}`);
      } finally {
        setUploads((list) => list.filter((u) => u.name !== file.name));
      }
    }
  };

  const submit = (e: Event): void => {
    e.preventDefault();
    // A message needs text: a file sent alone is described by its name.
    const text = body.trim() || attachments.map((a) => a.fileName).join(', ');
    if (!text) return;
    setBody('');
    setAttachments([]);
    setError(undefined);
    void onSend(text, attachments);
  };

  return html`
    <form class="composer" onSubmit=${submit} aria-label="Send a message">
      ${uploads.map(
        (u) => html`
        <div class="upload" key=${u.name}><span>${u.name}</span>
          <progress max="1" value=${u.progress} aria-label=${`Uploading ${u.name}`}></progress></div>`,
      )}
      ${
        attachments.length > 0 &&
        html`
        <ul class="pending-attachments" aria-label="Attached files">
          ${attachments.map(
            (a) => html`<li key=${a.id}><${Icon} name="paperclip" size=${14} /> ${a.fileName}
            <button type="button" class="icon" aria-label=${`Remove ${a.fileName}`} onClick=${() => setAttachments((l) => l.filter((x) => x.id !== a.id))}><${Icon} name="close" size=${14} /></button></li>`,
          )}
        </ul>`
      }
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="row">
        ${
          allowAttachments &&
          html`
          <input id=${`${idPrefix}-file`} class="sr-only" type="file" disabled=${attachments.length > 0 || uploads.length > 0}
            onChange=${(e: Event) => {
              const input = e.target as HTMLInputElement;
              void attach(input.files).then(() => (input.value = ''));
            }} />
          <label class="icon-button" for=${`${idPrefix}-file`} title="Attach a file"><${Icon} name="paperclip" /><span class="sr-only">Attach a file</span></label>`
        }
        <label class="sr-only" for=${`${idPrefix}-text`}>Message</label>
        <input id=${`${idPrefix}-text`} class="grow" type="text" placeholder="Write a message…" maxlength="4000" autocomplete="off" value=${body}
          onInput=${(e: Event) => setBody((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary" disabled=${uploads.length > 0}>Send</button>
      </div>
    </form>`;
}
