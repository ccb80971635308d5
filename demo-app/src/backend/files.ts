// Attachment transfer the SDK's client does not cover yet: upload progress (fetch has none;
// XMLHttpRequest does) and the server's file name on download (Content-Disposition).
import { ApiRequestError, type ApiErrorCode, type Attachment, type TelemedClient } from '@telemed/sdk';

function errorFrom(status: number, body: unknown): ApiRequestError {
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  return new ApiRequestError((error?.code ?? 'INTERNAL') as ApiErrorCode, status, error?.message ?? `HTTP ${status}`);
}

/** Runs `attempt` with the current access token; after a 401 refreshes once and tries again. */
async function withToken<T>(client: TelemedClient, attempt: (token: string) => Promise<{ status: number; value: T; body?: unknown }>): Promise<T> {
  const token = client.session?.accessToken;
  if (!token) throw new ApiRequestError('UNAUTHORIZED', 401, 'not logged in');
  let result = await attempt(token);
  if (result.status === 401) result = await attempt((await client.refresh()).accessToken);
  if (result.status >= 400) throw errorFrom(result.status, result.body);
  return result.value;
}

export function uploadWithProgress(
  client: TelemedClient,
  baseUrl: string,
  conversationId: string,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<Attachment> {
  const form = new FormData();
  form.append('file', file, file.name);
  return withToken(
    client,
    (token) =>
      new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', new URL(`/api/conversations/${encodeURIComponent(conversationId)}/attachments`, baseUrl));
        xhr.setRequestHeader('authorization', `Bearer ${token}`);
        xhr.upload.onprogress = (e) => {
          if (e.lengthComputable) onProgress(e.loaded / e.total);
        };
        xhr.onload = () => {
          const body: unknown = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
          resolve({ status: xhr.status, value: body as Attachment, body });
        };
        xhr.onerror = () => reject(new ApiRequestError('NETWORK', 0, 'the upload failed'));
        xhr.send(form);
      }),
  );
}

export function downloadWithName(client: TelemedClient, baseUrl: string, attachmentId: string): Promise<{ blob: Blob; fileName: string | undefined }> {
  return withToken(client, async (token) => {
    const res = await fetch(new URL(`/api/attachments/${encodeURIComponent(attachmentId)}`, baseUrl), { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) return { status: res.status, value: { blob: new Blob(), fileName: undefined }, body: await res.json().catch(() => undefined) };
    const disposition = res.headers.get('content-disposition') ?? '';
    const encoded = /filename\*=UTF-8''([^;]+)/.exec(disposition)?.[1];
    return {
      status: res.status,
      value: { blob: await res.blob(), fileName: encoded ? decodeURIComponent(encoded) : /filename="([^"]+)"/.exec(disposition)?.[1] },
    };
  });
}
