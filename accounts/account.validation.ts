import { z } from 'zod';
import { roles } from './account.schema.ts';

export const emailSchema = z
  .string()
  .trim()
  .max(254, 'Email must be at most 254 characters.')
  .email('Enter an email address such as ada@example.org.')
  .transform((e) => e.toLowerCase());
export const passwordSchema = z
  .string()
  .min(10, 'Use at least 10 characters for the password.')
  .max(200, 'Passwords are limited to 200 characters.');
export const displayNameSchema = z.string().trim().min(1, 'Enter a name to show beside your work.').max(100, 'Names are limited to 100 characters.');

export const signUpInput = z.object({ email: emailSchema, password: passwordSchema, displayName: displayNameSchema });
export const signInInput = z.object({ email: emailSchema, password: z.string().min(1, 'Enter your password.').max(200) });
export const roleSchema = z.enum(roles);
export const tokenNameSchema = z.string().trim().min(1, 'Name the token after the script that will use it.').max(100);
