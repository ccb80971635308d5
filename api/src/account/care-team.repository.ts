import { sql } from 'kysely';
import type { Db } from '../db/database.js';

export interface CareTeamRecord {
  id: string;
  name: string;
  createdAt: Date;
  doctors: Array<{ id: string; displayName: string }>;
  patients: Array<{ id: string; displayName: string }>;
}

export async function insertCareTeam(db: Db, name: string): Promise<{ id: string; name: string; created_at: Date }> {
  return db.insertInto('care_teams').values({ name }).returning(['id', 'name', 'created_at']).executeTakeFirstOrThrow();
}

export async function careTeamNameTaken(db: Db, name: string, exceptId?: string): Promise<boolean> {
  let query = db
    .selectFrom('care_teams')
    .select('id')
    .where(sql<string>`lower(name)`, '=', name.toLowerCase());
  if (exceptId) query = query.where('id', '!=', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

export async function renameCareTeam(db: Db, id: string, name: string): Promise<boolean> {
  const result = await db.updateTable('care_teams').set({ name }).where('id', '=', id).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Deletes a team; its memberships go with it (on delete cascade). */
export async function deleteCareTeam(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('care_teams').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function addTeamMember(db: Db, teamId: string, member: { id: string; role: 'doctor' | 'patient' }): Promise<void> {
  if (member.role === 'doctor')
    await db
      .insertInto('care_team_doctors')
      .values({ team_id: teamId, doctor_id: member.id })
      .onConflict((oc) => oc.doNothing())
      .execute();
  else
    await db
      .insertInto('care_team_patients')
      .values({ team_id: teamId, patient_id: member.id })
      .onConflict((oc) => oc.doNothing())
      .execute();
}

export async function removeTeamMember(db: Db, teamId: string, userId: string): Promise<boolean> {
  const doctors = await db.deleteFrom('care_team_doctors').where('team_id', '=', teamId).where('doctor_id', '=', userId).executeTakeFirst();
  const patients = await db.deleteFrom('care_team_patients').where('team_id', '=', teamId).where('patient_id', '=', userId).executeTakeFirst();
  return doctors.numDeletedRows + patients.numDeletedRows > 0n;
}

/** Teams (all, or one) with their members' names, by name. */
export async function listCareTeams(db: Db, teamId?: string): Promise<CareTeamRecord[]> {
  let teamsQuery = db.selectFrom('care_teams').select(['id', 'name', 'created_at']).orderBy('name');
  if (teamId) teamsQuery = teamsQuery.where('id', '=', teamId);
  const teams = await teamsQuery.execute();
  if (teams.length === 0) return [];
  const ids = teams.map((t) => t.id);
  const doctors = await db
    .selectFrom('care_team_doctors as m')
    .innerJoin('users as u', 'u.id', 'm.doctor_id')
    .select(['m.team_id', 'u.id', 'u.display_name'])
    .where('m.team_id', 'in', ids)
    .orderBy('u.display_name')
    .execute();
  const patients = await db
    .selectFrom('care_team_patients as m')
    .innerJoin('users as u', 'u.id', 'm.patient_id')
    .select(['m.team_id', 'u.id', 'u.display_name'])
    .where('m.team_id', 'in', ids)
    .orderBy('u.display_name')
    .execute();
  return teams.map((t) => ({
    id: t.id,
    name: t.name,
    createdAt: t.created_at,
    doctors: doctors.filter((d) => d.team_id === t.id).map((d) => ({ id: d.id, displayName: d.display_name })),
    patients: patients.filter((p) => p.team_id === t.id).map((p) => ({ id: p.id, displayName: p.display_name })),
  }));
}
