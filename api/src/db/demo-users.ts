import type { Role } from '../user/user.table.js';

// No imports with side effects: `npm start` reads this module to print the demo logins.
/** Every demo user's password (development mode only: production never seeds). */
export const DEMO_PASSWORD = 'telemed-demo';

export const DEMO_USERS = [
  { key: 'alice', email: 'alice@patients.demo', role: 'patient', displayName: 'Alice Patient' },
  { key: 'bob', email: 'bob@patients.demo', role: 'patient', displayName: 'Bob Patient' },
  { key: 'carol', email: 'carol@patients.demo', role: 'patient', displayName: 'Carol Patient' },
  { key: 'drgrey', email: 'grey@doctors.demo', role: 'doctor', displayName: 'Dr. Meredith Grey' },
  { key: 'drhouse', email: 'house@doctors.demo', role: 'doctor', displayName: 'Dr. Gregory House' },
  { key: 'admin', email: 'admin@telemed.demo', role: 'admin', displayName: 'Clinic Admin' },
] as const satisfies ReadonlyArray<{ key: string; email: string; role: Role; displayName: string }>;
