import { z } from 'zod';
import type { AdminUser, CareRelationship, CareTeam, Invitation } from '@telemed/sdk';
import { RoleSchema, same } from '../http/resource.schema.js';
import { dbText } from '../http/input.schema.js';

/** A user as admins see them: with whether the account is usable. */
const AdminUserShape = z
  .object({
    id: z.string(),
    email: z.string(),
    role: RoleSchema,
    displayName: z.string(),
    createdAt: z.string(),
    status: z.enum(['invited', 'active', 'disabled']).describe('invited: no password set yet; disabled: cannot sign in'),
    disabledAt: z.string().nullable(),
  })
  .meta({ id: 'AdminUser' });
export const AdminUserSchema = same<typeof AdminUserShape, AdminUser>(AdminUserShape, true);

const InvitationShape = z
  .object({
    purpose: z.enum(['invite', 'reset']),
    expiresAt: z.string(),
    mailed: z.boolean().describe('true when the link went out by e-mail'),
    url: z.string().optional().describe('the link, only when it could not be mailed (no SMTP, or sending failed): hand it over yourself'),
  })
  .meta({ id: 'Invitation' });
export const InvitationSchema = same<typeof InvitationShape, Invitation>(InvitationShape, true);

export const DisplayName = dbText({ min: 1, max: 100, trim: true });
export const Password = z.string().min(12, 'password: at least 12 characters').max(256);
export const InvitationToken = z.string().min(20).max(200);

const CareRelationshipShape = z
  .object({ doctorId: z.string(), doctorName: z.string(), patientId: z.string(), patientName: z.string(), createdAt: z.string() })
  .meta({ id: 'CareRelationship' });
export const CareRelationshipSchema = same<typeof CareRelationshipShape, CareRelationship>(CareRelationshipShape, true);

const Member = z.object({ id: z.string(), displayName: z.string() });
const CareTeamShape = z
  .object({ id: z.string(), name: z.string(), createdAt: z.string(), doctors: z.array(Member), patients: z.array(Member) })
  .meta({ id: 'CareTeam' });
export const CareTeamSchema = same<typeof CareTeamShape, CareTeam>(CareTeamShape, true);
