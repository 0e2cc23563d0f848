import type { Db } from '../../core/db.ts';
import { listVersionBehaviours } from '../behaviour.queries.ts';
import { versionDocument, type EthogramRow, type VersionRow } from '../version-document.ts';
import { exportBorisProject, type BorisProjectJson } from './boris-export.ts';
import { findBorisExtras } from './boris-extras.queries.ts';

/** A version as a BORIS project: its document, plus what an import from BORIS kept of the original file. */
export async function versionBorisProject(db: Db, ethogram: EthogramRow, version: VersionRow): Promise<BorisProjectJson> {
  const document = versionDocument(ethogram, version, await listVersionBehaviours(db, version.id));
  const extras = await findBorisExtras(db, ethogram.id, version.number);
  return exportBorisProject(document, { date: version.publishedAt ?? version.createdAt, extras });
}

/** The file name a BORIS download is saved under. */
export const borisFileName = (ethogram: Pick<EthogramRow, 'slug'>, version: Pick<VersionRow, 'number'>) => `${ethogram.slug}-v${version.number}.boris`;
