import type { Db } from '../db/database.js';
import type { Role, UserRow } from './user.table.js';

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase())).executeTakeFirst();
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUsersByIds(db: Db, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('users').selectAll().where('id', 'in', ids).execute();
}

export async function insertUser(db: Db, user: { email: string; passwordHash: string; role: Role; displayName: string }): Promise<UserRow> {
  return db
    .insertInto('users')
    .values({ email: user.email, password_hash: user.passwordHash, role: user.role, display_name: user.displayName, disabled_at: null })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function countUsers(db: Db): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function listUsers(db: Db, options: { role?: Role | undefined; limit: number; afterEmail?: string | undefined }): Promise<UserRow[]> {
  let query = db.selectFrom('users').selectAll().orderBy('email').limit(options.limit);
  if (options.role) query = query.where('role', '=', options.role);
  if (options.afterEmail) query = query.where('email', '>', options.afterEmail);
  return query.execute();
}

export async function addCareRelationship(db: Db, doctorId: string, patientId: string): Promise<void> {
  await db.insertInto('care_relationships').values({ doctor_id: doctorId, patient_id: patientId }).onConflict((oc) => oc.doNothing()).execute();
}

/** The users `userId` may call and message: a patient's doctors; a doctor's patients and every doctor. */
export async function findContacts(db: Db, user: { id: string; role: Role }): Promise<UserRow[]> {
  if (user.role === 'patient') {
    return db.selectFrom('users').innerJoin('care_relationships as cr', 'cr.doctor_id', 'users.id').selectAll('users').where('cr.patient_id', '=', user.id).orderBy('display_name').execute();
  }
  if (user.role === 'doctor') {
    return db
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb.and([
        eb('id', '!=', user.id),
        eb.or([eb('role', '=', 'doctor'), eb('id', 'in', eb.selectFrom('care_relationships').select('patient_id').where('doctor_id', '=', user.id))]),
      ]))
      .orderBy('display_name')
      .execute();
  }
  return [];
}
