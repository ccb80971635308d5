import type { Kysely } from 'kysely';
import type { Encryptor } from '../crypto/encryption.js';
import { hashPassword } from '../crypto/password.js';
import { insertConversation } from '../conversation/conversation.repository.js';
import { insertMessageOnce } from '../message/message.repository.js';
import { addCareRelationship, countUsers, insertUser } from '../user/user.repository.js';
import type { Database } from './database.js';
import { DEMO_PASSWORD, DEMO_USERS } from './demo-users.js';

export { DEMO_PASSWORD, DEMO_USERS };

/** Demo users, care relationships and conversations, only into an empty database. Returns whether it seeded. */
export async function seedDemo(db: Kysely<Database>, encryptor: Encryptor): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if ((await countUsers(trx)) > 0) return false;
    const passwordHash = await hashPassword(DEMO_PASSWORD);
    const ids: Record<string, string> = {};
    for (const u of DEMO_USERS) ids[u.key] = (await insertUser(trx, { email: u.email, passwordHash, role: u.role, displayName: u.displayName })).id;
    const id = (key: string): string => ids[key]!;
    await addCareRelationship(trx, id('drgrey'), id('alice'));
    await addCareRelationship(trx, id('drgrey'), id('bob'));
    await addCareRelationship(trx, id('drhouse'), id('bob'));
    await addCareRelationship(trx, id('drhouse'), id('carol'));
    const conversations: Array<{ members: string[]; title: string | null; lines: Array<[string, string]> }> = [
      {
        members: ['alice', 'drgrey'],
        title: null,
        lines: [
          ['alice', 'Hello doctor, the new dosage works well.'],
          ['drgrey', 'Good to hear. Let us talk on Friday.'],
        ],
      },
      { members: ['bob', 'drhouse'], title: null, lines: [['drhouse', 'Please send me your latest lab results.']] },
      { members: ['drgrey', 'drhouse', 'bob'], title: 'Bob: care team', lines: [['drgrey', "Shall we review Bob's case together?"]] },
    ];
    for (const c of conversations) {
      const conversation = await insertConversation(trx, {
        kind: c.members.length === 2 ? 'direct' : 'group',
        title: c.title,
        createdBy: id(c.members[0]!),
        memberIds: c.members.map(id),
      });
      for (const [sender, body] of c.lines) {
        const encrypted = encryptor.encrypt(body, `message:${conversation.id}`);
        await insertMessageOnce(trx, {
          conversationId: conversation.id,
          senderId: id(sender),
          clientId: crypto.randomUUID(),
          ciphertext: encrypted.ciphertext,
          keyId: encrypted.keyId,
          attachmentId: null,
        });
      }
      await trx.updateTable('conversations').set({ last_message_at: new Date() }).where('id', '=', conversation.id).execute();
    }
    return true;
  });
}
