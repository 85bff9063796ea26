// Schemas of the bodies of the session and admin accounts routes (protocol/dashboard.ts).
import * as z from 'zod';
import { ACCOUNT_ROLES, MIN_PASSWORD_LENGTH } from './dashboard';

export const signInBody = z.union([
  z.strictObject({ user: z.string().min(1).max(64), password: z.string().min(1).max(1024) }),
  z.strictObject({ token: z.string().min(1).max(256) }),
]);
export type SignInBody = z.output<typeof signInBody>;

const accountName = z.string().min(1).max(64);
/** Path parameters of the admin routes: /api/admin/users/:name, /api/admin/tokens/:id. */
export const userParams = z.object({ name: accountName });
export const tokenParams = z.object({ id: z.string().min(1).max(128) });
export const addUserBody = z.strictObject({
  name: accountName,
  role: z.enum(ACCOUNT_ROLES).default('user'),
  /** Omitted: the server generates one and returns it once. */
  password: z.string().min(MIN_PASSWORD_LENGTH, `passwords have at least ${MIN_PASSWORD_LENGTH} characters`).max(1024).optional(),
});
export const changeUserBody = z
  .strictObject({
    role: z.enum(ACCOUNT_ROLES).optional(),
    password: z.string().min(MIN_PASSWORD_LENGTH, `passwords have at least ${MIN_PASSWORD_LENGTH} characters`).max(1024).optional(),
    generatePassword: z.literal(true).optional(),
  })
  .refine((b) => b.role !== undefined || b.password !== undefined || b.generatePassword, 'give a role, a password or generatePassword: true');
export const createTokenBody = z.strictObject({
  name: accountName,
  role: z.enum(ACCOUNT_ROLES).default('user'),
  expiresInDays: z.number().positive().max(3650).optional(),
});

