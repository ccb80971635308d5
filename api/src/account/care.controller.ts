import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { audit } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import { ApiError } from '../http/errors.js';
import { dbText, Uuid } from '../http/input.schema.js';
import type { RouteRegistry } from '../http/route.js';
import { addCareRelationship, findUsersByIds, listCareRelationships, removeCareRelationship } from '../user/user.repository.js';
import type { UserRow } from '../user/user.table.js';
import { CareRelationshipSchema, CareTeamSchema } from './account.schema.js';
import {
  addTeamMember,
  careTeamNameTaken,
  deleteCareTeam,
  insertCareTeam,
  listCareTeams,
  removeTeamMember,
  renameCareTeam,
  type CareTeamRecord,
} from './care-team.repository.js';

const TeamName = dbText({ min: 1, max: 100, trim: true });
const TeamId = z.object({ id: Uuid });

const toTeam = (t: CareTeamRecord): z.input<typeof CareTeamSchema> => ({ ...t, createdAt: t.createdAt.toISOString() });

/** The users by id, each of the role given; 422 naming what does not fit. */
async function requireRoles(db: Db, wanted: Array<{ id: string; role: 'doctor' | 'patient' | 'doctor or patient' }>): Promise<Map<string, UserRow>> {
  const rows = new Map(
    (
      await findUsersByIds(
        db,
        wanted.map((w) => w.id),
      )
    ).map((r) => [r.id, r]),
  );
  for (const w of wanted) {
    const row = rows.get(w.id);
    if (!row) throw new ApiError('NOT_FOUND', `no user ${w.id}`);
    const ok = w.role === 'doctor or patient' ? row.role !== 'admin' : row.role === w.role;
    if (!ok) throw new ApiError('VALIDATION_FAILED', `${row.display_name} is not a ${w.role} (role: ${row.role})`);
  }
  return rows;
}

async function requireTeam(db: Db, id: string): Promise<CareTeamRecord> {
  const [team] = await listCareTeams(db, id);
  if (!team) throw new ApiError('NOT_FOUND', 'no such care team');
  return team;
}

/**
 * Who sees whom (admins): direct care relationships between a doctor and a patient, and care teams
 * (every doctor of a team sees every patient of it). user.repository findContacts reads both.
 */
export function registerCareRoutes(api: RouteRegistry, app: AppContext): void {
  api.define({
    method: 'get',
    path: '/api/admin/care-relationships',
    tag: 'admin',
    access: ['admin'],
    summary: "Direct care relationships (doctor sees patient), all or one user's (admin)",
    query: z.object({ userId: Uuid.optional() }),
    response: z.object({ items: z.array(CareRelationshipSchema) }),
    handler: async ({ query }) => {
      const links = await listCareRelationships(app.db, { userId: query.userId });
      const names = new Map((await findUsersByIds(app.db, [...new Set(links.flatMap((l) => [l.doctor_id, l.patient_id]))])).map((u) => [u.id, u.display_name]));
      return {
        items: links.map((l) => ({
          doctorId: l.doctor_id,
          doctorName: names.get(l.doctor_id) ?? '',
          patientId: l.patient_id,
          patientName: names.get(l.patient_id) ?? '',
          createdAt: l.created_at.toISOString(),
        })),
      };
    },
  });

  api.define({
    method: 'post',
    path: '/api/admin/care-relationships',
    tag: 'admin',
    access: ['admin'],
    summary: 'Let a doctor see, call and message a patient (idempotent) (admin)',
    body: z.strictObject({ doctorId: Uuid, patientId: Uuid }),
    handler: async ({ ctx, user, body }) => {
      await app.db.transaction().execute(async (trx) => {
        await requireRoles(trx, [
          { id: body.doctorId, role: 'doctor' },
          { id: body.patientId, role: 'patient' },
        ]);
        await addCareRelationship(trx, body.doctorId, body.patientId);
        await audit(trx, ctx, user.id, 'link', 'care_relationship', [body.doctorId, body.patientId]);
      });
    },
  });

  api.define({
    method: 'delete',
    path: '/api/admin/care-relationships/:doctorId/:patientId',
    tag: 'admin',
    access: ['admin'],
    summary: 'End a direct care relationship (a shared care team still links them) (admin)',
    params: z.object({ doctorId: Uuid, patientId: Uuid }),
    handler: async ({ ctx, user, params }) => {
      await app.db.transaction().execute(async (trx) => {
        if (!(await removeCareRelationship(trx, params.doctorId, params.patientId))) throw new ApiError('NOT_FOUND', 'no such care relationship');
        await audit(trx, ctx, user.id, 'unlink', 'care_relationship', [params.doctorId, params.patientId]);
      });
    },
  });

  api.define({
    method: 'get',
    path: '/api/admin/care-teams',
    tag: 'admin',
    access: ['admin'],
    summary: 'Care teams with their doctors and patients, by name (admin)',
    response: z.object({ items: z.array(CareTeamSchema) }),
    handler: async () => ({ items: (await listCareTeams(app.db)).map(toTeam) }),
  });

  api.define({
    method: 'post',
    path: '/api/admin/care-teams',
    tag: 'admin',
    access: ['admin'],
    status: 201,
    summary: 'Create a care team (admin)',
    body: z.strictObject({ name: TeamName }),
    response: CareTeamSchema,
    handler: async ({ ctx, user, body }) =>
      app.db.transaction().execute(async (trx) => {
        if (await careTeamNameTaken(trx, body.name)) throw new ApiError('CONFLICT', 'a care team with that name exists');
        const team = await insertCareTeam(trx, body.name);
        await audit(trx, ctx, user.id, 'create', 'care_team', team.id);
        return toTeam(await requireTeam(trx, team.id));
      }),
  });

  api.define({
    method: 'patch',
    path: '/api/admin/care-teams/:id',
    tag: 'admin',
    access: ['admin'],
    summary: 'Rename a care team (admin)',
    params: TeamId,
    body: z.strictObject({ name: TeamName }),
    response: CareTeamSchema,
    handler: async ({ ctx, user, params, body }) =>
      app.db.transaction().execute(async (trx) => {
        if (await careTeamNameTaken(trx, body.name, params.id)) throw new ApiError('CONFLICT', 'a care team with that name exists');
        if (!(await renameCareTeam(trx, params.id, body.name))) throw new ApiError('NOT_FOUND', 'no such care team');
        await audit(trx, ctx, user.id, 'update', 'care_team', params.id);
        return toTeam(await requireTeam(trx, params.id));
      }),
  });

  api.define({
    method: 'delete',
    path: '/api/admin/care-teams/:id',
    tag: 'admin',
    access: ['admin'],
    summary: 'Delete a care team; its doctors no longer see its patients through it (admin)',
    params: TeamId,
    handler: async ({ ctx, user, params }) => {
      await app.db.transaction().execute(async (trx) => {
        if (!(await deleteCareTeam(trx, params.id))) throw new ApiError('NOT_FOUND', 'no such care team');
        await audit(trx, ctx, user.id, 'delete', 'care_team', params.id);
      });
    },
  });

  api.define({
    method: 'put',
    path: '/api/admin/care-teams/:id/members/:userId',
    tag: 'admin',
    access: ['admin'],
    summary: 'Add a doctor or a patient to a care team (idempotent) (admin)',
    params: z.object({ id: Uuid, userId: Uuid }),
    response: CareTeamSchema,
    handler: async ({ ctx, user, params }) =>
      app.db.transaction().execute(async (trx) => {
        await requireTeam(trx, params.id);
        const member = (await requireRoles(trx, [{ id: params.userId, role: 'doctor or patient' }])).get(params.userId)!;
        await addTeamMember(trx, params.id, { id: member.id, role: member.role as 'doctor' | 'patient' });
        await audit(trx, ctx, user.id, 'link', 'care_team', [params.id, params.userId]);
        return toTeam(await requireTeam(trx, params.id));
      }),
  });

  api.define({
    method: 'delete',
    path: '/api/admin/care-teams/:id/members/:userId',
    tag: 'admin',
    access: ['admin'],
    summary: 'Remove a doctor or a patient from a care team (admin)',
    params: z.object({ id: Uuid, userId: Uuid }),
    handler: async ({ ctx, user, params }) => {
      await app.db.transaction().execute(async (trx) => {
        if (!(await removeTeamMember(trx, params.id, params.userId))) throw new ApiError('NOT_FOUND', 'not a member of that care team');
        await audit(trx, ctx, user.id, 'unlink', 'care_team', [params.id, params.userId]);
      });
    },
  });
}
