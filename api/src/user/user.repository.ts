import type { Db } from '../db/database.js';
import type { Role, UserRow } from './user.table.js';

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .executeTakeFirst();
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
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function listUsers(
  db: Db,
  options: { role?: Role | undefined; search?: string | undefined; limit: number; afterEmail?: string | undefined },
): Promise<UserRow[]> {
  let query = db.selectFrom('users').selectAll().orderBy('email').limit(options.limit);
  if (options.role) query = query.where('role', '=', options.role);
  if (options.search) {
    const pattern = `%${options.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([eb(eb.fn('lower', ['email']), 'like', pattern), eb(eb.fn('lower', ['display_name']), 'like', pattern)]));
  }
  if (options.afterEmail) query = query.where('email', '>', options.afterEmail);
  return query.execute();
}

export async function addCareRelationship(db: Db, doctorId: string, patientId: string): Promise<void> {
  await db
    .insertInto('care_relationships')
    .values({ doctor_id: doctorId, patient_id: patientId })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/**
 * The users `user` may call and message: a patient's doctors (direct care relationships and the
 * doctors of the patient's care teams); a doctor's patients (direct, and the patients of the
 * doctor's teams) and every doctor. Disabled accounts are nobody's contacts.
 */
export async function findContacts(db: Db, user: { id: string; role: Role }): Promise<UserRow[]> {
  if (user.role === 'patient') {
    return db
      .selectFrom('users')
      .selectAll()
      .where('role', '=', 'doctor')
      .where('disabled_at', 'is', null)
      .where((eb) =>
        eb.or([
          eb('id', 'in', eb.selectFrom('care_relationships').select('doctor_id').where('patient_id', '=', user.id)),
          eb(
            'id',
            'in',
            eb
              .selectFrom('care_team_doctors as d')
              .innerJoin('care_team_patients as p', 'p.team_id', 'd.team_id')
              .select('d.doctor_id')
              .where('p.patient_id', '=', user.id),
          ),
        ]),
      )
      .orderBy('display_name')
      .execute();
  }
  if (user.role === 'doctor') {
    return db
      .selectFrom('users')
      .selectAll()
      .where('disabled_at', 'is', null)
      .where((eb) =>
        eb.and([
          eb('id', '!=', user.id),
          eb.or([
            eb('role', '=', 'doctor'),
            eb.and([
              eb('role', '=', 'patient'),
              eb.or([
                eb('id', 'in', eb.selectFrom('care_relationships').select('patient_id').where('doctor_id', '=', user.id)),
                eb(
                  'id',
                  'in',
                  eb
                    .selectFrom('care_team_patients as p')
                    .innerJoin('care_team_doctors as d', 'd.team_id', 'p.team_id')
                    .select('p.patient_id')
                    .where('d.doctor_id', '=', user.id),
                ),
              ]),
            ]),
          ]),
        ]),
      )
      .orderBy('display_name')
      .execute();
  }
  return [];
}

/** Replaces a password hash; with `expected`, only while the stored hash is still that one. */
export async function setPasswordHash(db: Db, userId: string, passwordHash: string, expected?: string): Promise<boolean> {
  let query = db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId);
  if (expected !== undefined) query = query.where('password_hash', '=', expected);
  const result = await query.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function updateUser(db: Db, userId: string, patch: { displayName?: string | undefined; role?: Role | undefined }): Promise<UserRow | undefined> {
  return db
    .updateTable('users')
    .set({ ...(patch.displayName !== undefined ? { display_name: patch.displayName } : {}), ...(patch.role !== undefined ? { role: patch.role } : {}) })
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirst();
}

export async function setDisabled(db: Db, userId: string, disabled: boolean): Promise<UserRow | undefined> {
  return db
    .updateTable('users')
    .set({ disabled_at: disabled ? new Date() : null })
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirst();
}

export async function removeCareRelationship(db: Db, doctorId: string, patientId: string): Promise<boolean> {
  const result = await db.deleteFrom('care_relationships').where('doctor_id', '=', doctorId).where('patient_id', '=', patientId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Every direct care relationship, with both people's names. */
export async function listCareRelationships(
  db: Db,
  filter: { userId?: string | undefined },
): Promise<Array<{ doctor_id: string; patient_id: string; created_at: Date }>> {
  let query = db.selectFrom('care_relationships').select(['doctor_id', 'patient_id', 'created_at']).orderBy('created_at');
  if (filter.userId) query = query.where((eb) => eb.or([eb('doctor_id', '=', filter.userId!), eb('patient_id', '=', filter.userId!)]));
  return query.execute();
}

/** Whether a user has care relationships or team memberships (a role change would leave them meaningless). */
export async function hasCareLinks(db: Db, userId: string): Promise<boolean> {
  const row = await db
    .selectNoFrom((eb) =>
      eb
        .or([
          eb.exists(
            eb
              .selectFrom('care_relationships')
              .select('doctor_id')
              .where((w) => w.or([w('doctor_id', '=', userId), w('patient_id', '=', userId)])),
          ),
          eb.exists(eb.selectFrom('care_team_doctors').select('team_id').where('doctor_id', '=', userId)),
          eb.exists(eb.selectFrom('care_team_patients').select('team_id').where('patient_id', '=', userId)),
        ])
        .as('linked'),
    )
    .executeTakeFirstOrThrow();
  return row.linked === true;
}
