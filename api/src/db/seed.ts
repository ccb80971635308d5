import type { Kysely } from 'kysely';
import type { Encryptor } from '../crypto/encryption.js';
import { hashPassword } from '../crypto/password.js';
import { addMembers, insertConversation } from '../conversation/conversation.repository.js';
import { insertMessageOnce } from '../message/message.repository.js';
import { addCareRelationship, countUsers, insertUser } from '../user/user.repository.js';
import type { Role } from '../user/user.table.js';
import type { Database } from './database.js';

export const DEMO_PASSWORD = 'telemed-demo';

export const DEMO_USERS: ReadonlyArray<{ key: string; email: string; role: Role; displayName: string }> = [
  { key: 'alice', email: 'alice@patients.demo', role: 'patient', displayName: 'Alice Patient' },
  { key: 'bob', email: 'bob@patients.demo', role: 'patient', displayName: 'Bob Patient' },
  { key: 'carol', email: 'carol@patients.demo', role: 'patient', displayName: 'Carol Patient' },
  { key: 'drgrey', email: 'grey@doctors.demo', role: 'doctor', displayName: 'Dr. Meredith Grey' },
  { key: 'drhouse', email: 'house@doctors.demo', role: 'doctor', displayName: 'Dr. Gregory House' },
  { key: 'admin', email: 'admin@telemed.demo', role: 'admin', displayName: 'Clinic Admin' },
];

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
      { members: ['alice', 'drgrey'], title: null, lines: [['alice', 'Hello doctor, the new dosage works well.'], ['drgrey', 'Good to hear. Let us talk on Friday.']] },
      { members: ['bob', 'drhouse'], title: null, lines: [['drhouse', 'Please send me your latest lab results.']] },
      { members: ['drgrey', 'drhouse', 'bob'], title: 'Bob: care team', lines: [['drgrey', 'Shall we review Bob\'s case together?']] },
    ];
    for (const c of conversations) {
      const conversation = await insertConversation(trx, { kind: c.members.length === 2 ? 'direct' : 'group', title: c.title, createdBy: id(c.members[0]!) });
      await addMembers(trx, conversation.id, c.members.map(id));
      for (const [sender, body] of c.lines) {
        const encrypted = encryptor.encrypt(body, `message:${conversation.id}`);
        await insertMessageOnce(trx, { conversationId: conversation.id, senderId: id(sender), clientId: crypto.randomUUID(), ciphertext: encrypted.ciphertext, keyId: encrypted.keyId, attachmentId: null });
      }
      await trx.updateTable('conversations').set({ last_message_at: new Date() }).where('id', '=', conversation.id).execute();
    }
    return true;
  });
}
