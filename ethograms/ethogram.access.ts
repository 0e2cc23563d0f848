import type { Actor } from '../accounts/actor.ts';
import type { Db } from '../core/db.ts';
import { notFound } from '../core/errors.ts';
import { can } from '../core/policy.ts';
import { findEthogramBySlug, findVersionByNumber, listEthogramVersions, type CountedVersion } from './ethogram.queries.ts';
import type { EthogramRow, VersionRow } from './version-document.ts';

/**
 * Loading with visibility: drafts exist only for those who may read them (researchers and admins); to anyone
 * else a draft, and an ethogram that has nothing but a draft, is "not found", never "forbidden".
 */

/** A version number from an address; anything but a positive integer names no version. */
export function parseVersionNumber(value: unknown): number {
  const text = String(value ?? '');
  if (!/^[1-9][0-9]{0,8}$/.test(text)) throw notFound('That ethogram version');
  return Number(text);
}

/** The ethogram and the versions the actor may see (newest first); 404 when it has none they may see. */
export async function loadVisibleEthogram(db: Db, actor: Actor, slug: string): Promise<{ ethogram: EthogramRow; versions: CountedVersion[] }> {
  const ethogram = await findEthogramBySlug(db, slug);
  if (!ethogram) throw notFound('That ethogram');
  const versions = (await listEthogramVersions(db, ethogram.id)).filter((v) => can(actor, 'ethogram.read', v));
  if (versions.length === 0) throw notFound('That ethogram');
  return { ethogram, versions };
}

/** One version the actor may see; 404 when it does not exist or is a draft they may not see. */
export async function loadVisibleVersion(db: Db, actor: Actor, slug: string, numberParam: unknown): Promise<{ ethogram: EthogramRow; version: VersionRow }> {
  const number = parseVersionNumber(numberParam);
  const ethogram = await findEthogramBySlug(db, slug);
  if (!ethogram) throw notFound('That ethogram');
  const version = await findVersionByNumber(db, ethogram.id, number);
  if (!version || !can(actor, 'ethogram.read', version)) throw notFound(`Version ${number} of ${slug}`);
  return { ethogram, version };
}
