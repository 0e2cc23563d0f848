import { randomBytes } from 'node:crypto';
import type { Role } from '../../accounts/account.schema.ts';
import { anonymous } from '../../accounts/actor.ts';
import { createApiToken } from '../../accounts/api-tokens.ts';
import { createUser } from '../../accounts/create-user.command.ts';
import { setRole } from '../../accounts/set-role.command.ts';
import type { TestApp } from './test-app.ts';

export interface Res<T = any> { status: number; headers: Headers; body: T; text: string }

/**
 * A browser-like HTTP client: keeps cookies, reads the CSRF token from pages, posts forms.
 * Redirects are not followed automatically so tests can assert them.
 */
export class WebClient {
  readonly base: string;
  cookies = new Map<string, string>();
  csrf: string | undefined;
  constructor(base: string) {
    this.base = base;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keepCookies(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<Res> {
    const res = await fetch(this.base + path, {
      method,
      redirect: 'manual',
      headers: { accept: 'text/html', cookie: this.cookieHeader(), ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    this.keepCookies(res.headers);
    const text = await res.text();
    let body: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
    const token = /name="_csrf" value="([^"]+)"/.exec(text);
    if (token) this.csrf = token[1];
    return { status: res.status, headers: res.headers, body, text };
  }

  get(path: string): Promise<Res> {
    return this.request('GET', path);
  }

  /** Posts a urlencoded form with the CSRF token last seen on a page (unless `_csrf` is given). */
  async form(path: string, fields: Record<string, string | string[]>): Promise<Res> {
    if (!this.csrf) await this.get('/login');
    const params = new URLSearchParams();
    if (!('_csrf' in fields)) params.append('_csrf', this.csrf!);
    for (const [k, v] of Object.entries(fields)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
    return this.request('POST', path, { body: params.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  /** JSON request with the session cookie and CSRF header, as the client bundle sends. */
  json(method: string, path: string, body?: unknown): Promise<Res> {
    return this.request(method, path, {
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(this.csrf ? { 'x-csrf-token': this.csrf } : {}) },
    });
  }
}

/** A JSON API client authenticated with a Bearer token (or none, for anonymous calls). */
export class ApiClient {
  readonly base: string;
  readonly token?: string;
  constructor(base: string, token?: string) {
    this.base = base;
    this.token = token;
  }

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
    const res = await fetch(this.base + '/api/v1' + path, {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Leave non-JSON bodies as text so the test can show them.
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }
  get(path: string) { return this.call('GET', path); }
  post(path: string, body?: unknown, headers?: Record<string, string>) { return this.call('POST', path, body, headers); }
  patch(path: string, body?: unknown) { return this.call('PATCH', path, body); }
  delete(path: string) { return this.call('DELETE', path); }
}

export interface TestUser { id: string; email: string; password: string; role: Role; displayName: string; api: ApiClient; token: string }

/**
 * Makes a user with the given role straight through the domain commands, plus an API client for them.
 * The first user of a database is an admin whatever is asked, so call `makeUser(app, 'admin')` first.
 */
export async function makeUser(app: TestApp, role: Role, name: string = role): Promise<TestUser> {
  const ctx = { db: app.deps.db, actor: anonymous, now: app.deps.now };
  const email = `${name}-${randomBytes(4).toString('hex')}@example.org`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const user = await createUser(ctx, { email, password, displayName: name });
  if (user.role !== role) await setRole(ctx, user.id, role);
  const { token } = await createApiToken(app.deps.db, user.id, 'test');
  return { id: user.id, email, password, role, displayName: name, api: new ApiClient(app.url, token), token };
}

/** A web client signed in as the user through the real sign-in form. */
export async function signedInWeb(app: TestApp, user: TestUser): Promise<WebClient> {
  const web = new WebClient(app.url);
  await web.get('/login');
  const res = await web.form('/login', { email: user.email, password: user.password });
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status} ${res.text.slice(0, 200)}`);
  await web.get('/account');
  return web;
}

/** The four actors every route is tested as. */
export async function makeActors(app: TestApp) {
  const admin = await makeUser(app, 'admin');
  const researcher = await makeUser(app, 'researcher');
  const contributor = await makeUser(app, 'contributor');
  const anon = new ApiClient(app.url);
  return { admin, researcher, contributor, anon };
}
