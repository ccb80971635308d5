import { z } from 'zod';
import { RoleSchema } from '../http/resource.schema.js';
import { dbText } from '../http/input.schema.js';

/** A user as admins see them: with whether the account is usable. */
export const AdminUserSchema = z
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
export type AdminUser = z.output<typeof AdminUserSchema>;

export const InvitationSchema = z
  .object({
    purpose: z.enum(['invite', 'reset']),
    expiresAt: z.string(),
    mailed: z.boolean().describe('true when the link went out by e-mail'),
    url: z.string().optional().describe('the link, only when it could not be mailed (no SMTP, or sending failed): hand it over yourself'),
  })
  .meta({ id: 'Invitation' });

export const DisplayName = dbText({ min: 1, max: 100, trim: true });
export const Password = z.string().min(12, 'password: at least 12 characters').max(256);
export const InvitationToken = z.string().min(20).max(200);

export const CareRelationshipSchema = z
  .object({ doctorId: z.string(), doctorName: z.string(), patientId: z.string(), patientName: z.string(), createdAt: z.string() })
  .meta({ id: 'CareRelationship' });

const Member = z.object({ id: z.string(), displayName: z.string() });
export const CareTeamSchema = z
  .object({ id: z.string(), name: z.string(), createdAt: z.string(), doctors: z.array(Member), patients: z.array(Member) })
  .meta({ id: 'CareTeam' });
