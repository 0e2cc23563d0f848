import { existsSync } from 'node:fs';

/**
 * Whether an outside dependency of a test is present. On a developer's machine a missing one skips the test
 * with a one-line reason; under CI (CI=true) it is a failure, so CI always runs everything.
 * Returns the skip reason, or false when the dependency is there.
 */
export function requirement(name: string, present: boolean, howToGet: string): string | false {
  if (present) return false;
  const reason = `${name} is not available (${howToGet})`;
  if (process.env.CI === 'true') throw new Error(`CI requires ${reason}`);
  return reason;
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumSkip = () => requirement('Chromium', existsSync(CHROMIUM_PATH), `install Debian's chromium package or set CHROMIUM_PATH`);

export const postgresUrl = () => process.env.MENAGERIE_TEST_POSTGRES_URL ?? process.env.MENAGERIE_TEST_DATABASE_URL;

export const postgresSkip = () => requirement('A PostgreSQL server', !!postgresUrl(), 'set MENAGERIE_TEST_POSTGRES_URL=postgres://user@host:port/db');
