import type { Request, Response } from 'express';

/** Reads the request's cookies (a small parser: we only ever set simple token-like values). */
export function readCookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  const header = req.headers.cookie;
  if (!header) return out;
  for (const piece of header.split(';')) {
    const eq = piece.indexOf('=');
    if (eq < 0) continue;
    const name = piece.slice(0, eq).trim();
    const value = piece.slice(eq + 1).trim();
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      // A malformed cookie is treated as absent rather than failing the request.
    }
  }
  return out;
}

export interface CookieOptions { secure: boolean; maxAgeMs?: number; httpOnly?: boolean }

export function setCookie(res: Response, name: string, value: string, opts: CookieOptions): void {
  res.cookie(name, value, {
    httpOnly: opts.httpOnly ?? true,
    secure: opts.secure,
    sameSite: 'lax',
    path: '/',
    ...(opts.maxAgeMs !== undefined ? { maxAge: opts.maxAgeMs } : {}),
  });
}

export function clearCookie(res: Response, name: string, secure: boolean): void {
  res.clearCookie(name, { httpOnly: true, secure, sameSite: 'lax', path: '/' });
}

export const SESSION_COOKIE = 'mng_session';
export const ANON_COOKIE = 'mng_anon';
export const FLASH_COOKIE = 'mng_flash';
