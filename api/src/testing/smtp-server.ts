// A real SMTP server for tests (smtp-server): every mail it accepts is kept for the test to read.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Mail {
  to: string[];
  raw: string;
}

/** A real SMTP server on a free port that refuses the next messages when told to. */
export async function startSmtp(): Promise<{ server: SMTPServer; port: number; mails: Mail[]; refused: () => number; refuseNext: (n: number) => void }> {
  const mails: Mail[] = [];
  let refused = 0;
  let toRefuse = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (toRefuse > 0) {
          toRefuse--;
          refused++;
          const error = Object.assign(new Error('try again later'), { responseCode: 451 });
          callback(error);
          return;
        }
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.server.address() as AddressInfo).port, mails, refused: () => refused, refuseNext: (n) => (toRefuse = n) };
}

export type TestSmtp = Awaited<ReturnType<typeof startSmtp>>;

/** A mail's body as text: headers dropped, quoted-printable undone (long lines are wrapped, `=` is `=3D`). */
export function mailText(mail: Mail): string {
  const body = mail.raw.slice(mail.raw.indexOf('\r\n\r\n') + 4);
  if (!/content-transfer-encoding:\s*quoted-printable/i.test(mail.raw)) return body;
  return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The set-password link in an account mail. */
export function accountLink(mail: Mail): { url: string; token: string } {
  const url = /https?:\/\/\S+#\/set-password\?token=([A-Za-z0-9_-]+)/.exec(mailText(mail));
  if (!url) throw new Error(`no set-password link in the mail:\n${mail.raw}`);
  return { url: url[0], token: url[1]! };
}
